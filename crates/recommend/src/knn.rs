//! Item-item similarity: two tracks are alike when the same listeners play them and the same
//! (public) playlists hold them. Cosine similarity over "baskets" (a listener's history, a
//! playlist), shrunk towards zero for items seen together only a few times; each item keeps
//! its `k` nearest neighbours.

use crate::sparse::Csr;

#[derive(Debug, Clone, Copy)]
pub struct KnnParams {
    pub neighbors: usize,
    /// Added to the denominator: pairs seen together rarely count less.
    pub shrink: f32,
    /// A basket longer than this counts only its first entries (bounds the pairs per basket).
    pub max_basket: usize,
    pub threads: usize,
}

impl Default for KnnParams {
    fn default() -> Self {
        KnnParams {
            neighbors: 100,
            shrink: 10.0,
            max_basket: 500,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Each item's nearest neighbours, most similar first.
#[derive(Debug, Clone, Default)]
pub struct Neighbors {
    indptr: Vec<usize>,
    items: Vec<u32>,
    similarities: Vec<f32>,
}

impl Neighbors {
    /// From baskets by items; values weight an item in its basket.
    pub fn build(baskets: &Csr, params: KnnParams) -> Neighbors {
        let n = baskets.columns();
        let capped = Csr::from_rows(
            (0..baskets.rows()).map(|b| {
                let (cols, vals) = baskets.row(b);
                cols.iter()
                    .copied()
                    .zip(vals.iter().copied())
                    .take(params.max_basket)
                    .collect()
            }),
            n,
        );
        let item_baskets = capped.transpose();
        let norms: Vec<f32> = (0..n)
            .map(|i| {
                item_baskets
                    .row(i)
                    .1
                    .iter()
                    .map(|v| v * v)
                    .sum::<f32>()
                    .sqrt()
            })
            .collect();
        let threads = params.threads.clamp(1, n.max(1));
        let per_thread = n.div_ceil(threads).max(1);
        let mut parts: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        std::thread::scope(|scope| {
            for (chunk_index, chunk) in parts.chunks_mut(per_thread).enumerate() {
                let (capped, item_baskets, norms) = (&capped, &item_baskets, &norms);
                scope.spawn(move || {
                    let mut acc = vec![0f32; n];
                    let mut touched: Vec<u32> = Vec::new();
                    for (offset, out) in chunk.iter_mut().enumerate() {
                        let item = chunk_index * per_thread + offset;
                        let (baskets_of_item, weights) = item_baskets.row(item);
                        for (&basket, &wi) in baskets_of_item.iter().zip(weights) {
                            let (others, wo) = capped.row(basket as usize);
                            for (&other, &wj) in others.iter().zip(wo) {
                                if other as usize == item {
                                    continue;
                                }
                                if acc[other as usize] == 0.0 {
                                    touched.push(other);
                                }
                                acc[other as usize] += wi * wj;
                            }
                        }
                        let mut sims: Vec<(u32, f32)> = touched
                            .drain(..)
                            .map(|other| {
                                let co = std::mem::take(&mut acc[other as usize]);
                                let denominator =
                                    norms[item] * norms[other as usize] + params.shrink;
                                (other, co / denominator)
                            })
                            .filter(|(_, s)| *s > 0.0)
                            .collect();
                        top_k(&mut sims, params.neighbors);
                        *out = sims;
                    }
                });
            }
        });
        let mut neighbors = Neighbors {
            indptr: vec![0],
            ..Neighbors::default()
        };
        for list in parts {
            for (item, sim) in list {
                neighbors.items.push(item);
                neighbors.similarities.push(sim);
            }
            neighbors.indptr.push(neighbors.items.len());
        }
        neighbors
    }

    /// The neighbours of `item`, most similar first (none for an unknown item).
    pub fn of(&self, item: u32) -> impl Iterator<Item = (u32, f32)> + '_ {
        let i = item as usize;
        let (start, end) = if i + 1 < self.indptr.len() {
            (self.indptr[i], self.indptr[i + 1])
        } else {
            (0, 0)
        };
        self.items[start..end]
            .iter()
            .copied()
            .zip(self.similarities[start..end].iter().copied())
    }

    pub fn pairs(&self) -> usize {
        self.items.len()
    }
}

/// Keeps the `k` highest-scored entries, highest first.
pub fn top_k(entries: &mut Vec<(u32, f32)>, k: usize) {
    if entries.len() > k {
        entries.select_nth_unstable_by(k, |a, b| b.1.total_cmp(&a.1));
        entries.truncate(k);
    }
    entries.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_played_together_are_neighbours() {
        let baskets = Csr::from_rows(
            vec![
                vec![(0, 1.0), (1, 1.0)],
                vec![(0, 1.0), (1, 1.0), (2, 1.0)],
                vec![(2, 1.0), (3, 1.0)],
                vec![(0, 1.0), (1, 1.0)],
            ],
            5,
        );
        let n = Neighbors::build(
            &baskets,
            KnnParams {
                shrink: 0.0,
                threads: 2,
                ..KnnParams::default()
            },
        );
        let of0: Vec<_> = n.of(0).collect();
        assert_eq!(of0[0].0, 1);
        assert!(of0.iter().all(|(i, _)| *i != 3 && *i != 0));
        assert_eq!(n.of(4).count(), 0);
        assert_eq!(n.of(99).count(), 0);
        let mut v = vec![(1, 0.5), (2, 0.9), (3, 0.1)];
        top_k(&mut v, 2);
        assert_eq!(v, vec![(2, 0.9), (1, 0.5)]);
    }
}
