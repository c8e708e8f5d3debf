//! A compressed sparse row matrix of `f32`: users (or playlists) by items, the one shape every
//! model here trains on.

/// Rows of `(column, value)` pairs, stored contiguously.
#[derive(Debug, Clone, Default)]
pub struct Csr {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
    columns: usize,
}

impl Csr {
    /// Builds a matrix from rows; pairs with the same column in one row are summed.
    pub fn from_rows(rows: impl IntoIterator<Item = Vec<(u32, f32)>>, columns: usize) -> Self {
        let mut csr = Csr {
            indptr: vec![0],
            columns,
            ..Csr::default()
        };
        for mut row in rows {
            row.sort_unstable_by_key(|(c, _)| *c);
            let start = csr.indices.len();
            for (column, value) in row {
                debug_assert!((column as usize) < columns);
                if csr.indices.len() > start && csr.indices.last() == Some(&column) {
                    if let Some(last) = csr.values.last_mut() {
                        *last += value;
                    }
                } else {
                    csr.indices.push(column);
                    csr.values.push(value);
                }
            }
            csr.indptr.push(csr.indices.len());
        }
        csr
    }

    /// A matrix with no rows.
    pub fn default_with_columns(columns: usize) -> Self {
        Csr {
            indptr: vec![0],
            columns,
            ..Csr::default()
        }
    }

    pub fn rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    pub fn columns(&self) -> usize {
        self.columns
    }

    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    pub fn row(&self, row: usize) -> (&[u32], &[f32]) {
        let (start, end) = (self.indptr[row], self.indptr[row + 1]);
        (&self.indices[start..end], &self.values[start..end])
    }

    /// The same entries, columns as rows.
    pub fn transpose(&self) -> Csr {
        let mut counts = vec![0usize; self.columns + 1];
        for &c in &self.indices {
            counts[c as usize + 1] += 1;
        }
        for i in 0..self.columns {
            counts[i + 1] += counts[i];
        }
        let indptr = counts.clone();
        let mut next = counts;
        let mut indices = vec![0u32; self.nnz()];
        let mut values = vec![0f32; self.nnz()];
        for row in 0..self.rows() {
            let (cols, vals) = self.row(row);
            for (&c, &v) in cols.iter().zip(vals) {
                let at = next[c as usize];
                indices[at] = row as u32;
                values[at] = v;
                next[c as usize] += 1;
            }
        }
        Csr {
            indptr,
            indices,
            values,
            columns: self.rows(),
        }
    }

    /// Number of entries in each column.
    pub fn column_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.columns];
        for &c in &self.indices {
            counts[c as usize] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_duplicates_and_transposes() {
        let m = Csr::from_rows(
            vec![vec![(2, 1.0), (0, 2.0), (2, 3.0)], vec![], vec![(1, 5.0)]],
            3,
        );
        assert_eq!(m.row(0), (&[0u32, 2][..], &[2.0f32, 4.0][..]));
        assert_eq!(m.row(1).0.len(), 0);
        let t = m.transpose();
        assert_eq!(t.rows(), 3);
        assert_eq!(t.row(2), (&[0u32][..], &[4.0f32][..]));
        assert_eq!(t.row(1), (&[2u32][..], &[5.0f32][..]));
        assert_eq!(m.column_counts(), vec![1, 1, 1]);
    }
}
