//! Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren and Volinsky,
//! "Collaborative Filtering for Implicit Feedback Datasets", 2008), with nalgebra for the small
//! dense algebra: each user's (and item's) vector is the exact solution of a regularised,
//! confidence-weighted least-squares problem, solved by Cholesky factorisation.
//!
//! A user's vector is never stored for serving: [`Als::fold_in`] solves it from their history
//! at request time against the trained item vectors, so a new play or like counts at once.

use nalgebra::{Cholesky, DMatrix, DVector, DVectorView};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::sparse::Csr;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlsParams {
    pub factors: usize,
    pub regularization: f32,
    /// Confidence in an observed interaction: `1 + alpha * value`.
    pub alpha: f32,
    pub iterations: usize,
    pub seed: u64,
    pub threads: usize,
}

impl Default for AlsParams {
    fn default() -> Self {
        AlsParams {
            // Chosen on a validation split of MovieLens-100K (`rec-eval movielens --tune`).
            factors: 128,
            regularization: 30.0,
            alpha: 20.0,
            iterations: 10,
            seed: 42,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Trained item vectors and what a fold-in needs.
#[derive(Debug, Clone)]
pub struct Als {
    params: AlsParams,
    items: Vec<f32>,
    item_norms: Vec<f32>,
    /// `Yᵀ Y` of the item vectors.
    gram: DMatrix<f32>,
}

/// The trained model and the users' vectors as of training (for evaluation).
pub struct Trained {
    pub als: Als,
    pub users: Vec<f32>,
}

impl Als {
    /// Trains on `user_items` (users by items; values are interaction strengths).
    pub fn train(user_items: &Csr, params: AlsParams) -> Trained {
        let f = params.factors;
        let item_users = user_items.transpose();
        let mut rng = StdRng::seed_from_u64(params.seed);
        let mut init =
            |n: usize| -> Vec<f32> { (0..n * f).map(|_| rng.gen::<f32>() * 0.01).collect() };
        let mut users = init(user_items.rows());
        let mut items = init(user_items.columns());
        for _ in 0..params.iterations {
            let gram = gram_of(&items, f);
            solve_all(user_items, &items, &gram, &mut users, &params);
            let gram = gram_of(&users, f);
            solve_all(&item_users, &users, &gram, &mut items, &params);
        }
        let gram = gram_of(&items, f);
        let item_norms = items
            .chunks_exact(f.max(1))
            .map(|v| dot(v, v).sqrt())
            .collect();
        Trained {
            als: Als {
                params,
                items,
                item_norms,
                gram,
            },
            users,
        }
    }

    pub fn items(&self) -> usize {
        self.item_norms.len()
    }

    pub fn item(&self, item: u32) -> &[f32] {
        let f = self.params.factors;
        let at = item as usize * f;
        &self.items[at..at + f]
    }

    /// A user's vector from their history `(item, strength)`: the same solve as in training.
    /// Items the model has not seen are ignored.
    pub fn fold_in(&self, history: &[(u32, f32)]) -> Vec<f32> {
        let known: Vec<(u32, f32)> = history
            .iter()
            .copied()
            .filter(|(item, _)| (*item as usize) < self.items())
            .collect();
        let (cols, vals): (Vec<u32>, Vec<f32>) = known.into_iter().unzip();
        let mut out = vec![0.0; self.params.factors];
        if !cols.is_empty() {
            let mut work = Work::new(self.params.factors);
            solve_one(
                &cols,
                &vals,
                &self.items,
                &self.gram,
                &self.params,
                &mut work,
                &mut out,
            );
        }
        out
    }

    /// The predicted preference of the user for every item, into `out`.
    pub fn score_all(&self, user: &[f32], out: &mut Vec<f32>) {
        out.clear();
        out.extend(
            self.items
                .chunks_exact(self.params.factors.max(1))
                .map(|item| dot(user, item)),
        );
    }

    /// Cosine similarity of `item` to every item, into `out` (0 for items without a vector).
    pub fn similarities(&self, item: u32, out: &mut Vec<f32>) {
        let norm = self.item_norms[item as usize];
        self.score_all(self.item(item), out);
        for (score, other) in out.iter_mut().zip(&self.item_norms) {
            let d = norm * other;
            *score = if d > f32::EPSILON { *score / d } else { 0.0 };
        }
    }

    /// Cosine similarity of two items' vectors (0 when either has none).
    pub fn similarity(&self, a: u32, b: u32) -> f32 {
        let (na, nb) = (self.item_norms[a as usize], self.item_norms[b as usize]);
        if na <= f32::EPSILON || nb <= f32::EPSILON {
            return 0.0;
        }
        dot(self.item(a), self.item(b)) / (na * nb)
    }

    pub fn has_vector(&self, item: u32) -> bool {
        self.item_norms
            .get(item as usize)
            .is_some_and(|n| *n > f32::EPSILON)
    }
}

/// A dot product in eight lanes, which the compiler turns into vector instructions.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((lane, x), y) in lanes.iter_mut().zip(x).zip(y) {
            *lane += x * y;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

fn gram_of(factors: &[f32], f: usize) -> DMatrix<f32> {
    let rows = factors.len() / f.max(1);
    let m = DMatrix::from_row_slice(rows, f, factors);
    m.transpose() * &m
}

struct Work {
    a: DMatrix<f32>,
    b: DVector<f32>,
}

impl Work {
    fn new(f: usize) -> Self {
        Work {
            a: DMatrix::zeros(f, f),
            b: DVector::zeros(f),
        }
    }
}

/// Solves every row of `rows` against the fixed side, in parallel over threads.
fn solve_all(rows: &Csr, fixed: &[f32], gram: &DMatrix<f32>, out: &mut [f32], params: &AlsParams) {
    let f = params.factors;
    let n = rows.rows();
    if n == 0 {
        return;
    }
    let threads = params.threads.clamp(1, n);
    let per_thread = n.div_ceil(threads);
    std::thread::scope(|scope| {
        for (chunk_index, chunk) in out.chunks_mut(per_thread * f).enumerate() {
            scope.spawn(move || {
                let mut work = Work::new(f);
                let first = chunk_index * per_thread;
                for (offset, target) in chunk.chunks_exact_mut(f).enumerate() {
                    let (cols, vals) = rows.row(first + offset);
                    if cols.is_empty() {
                        target.fill(0.0);
                        continue;
                    }
                    solve_one(cols, vals, fixed, gram, params, &mut work, target);
                }
            });
        }
    });
}

/// `x = (G + λI + Σ (c−1) y yᵀ)⁻¹ Σ c y` with `c = 1 + α·value`.
fn solve_one(
    cols: &[u32],
    vals: &[f32],
    fixed: &[f32],
    gram: &DMatrix<f32>,
    params: &AlsParams,
    work: &mut Work,
    out: &mut [f32],
) {
    let f = params.factors;
    work.a.copy_from(gram);
    for d in 0..f {
        work.a[(d, d)] += params.regularization;
    }
    work.b.fill(0.0);
    for (&col, &value) in cols.iter().zip(vals) {
        let at = col as usize * f;
        let y = DVectorView::from_slice(&fixed[at..at + f], f);
        let confidence = 1.0 + params.alpha * value;
        work.a.syger(confidence - 1.0, &y, &y, 1.0);
        work.b.axpy(confidence, &y, 1.0);
    }
    match Cholesky::new(work.a.clone()) {
        Some(cholesky) => {
            let x = cholesky.solve(&work.b);
            out.copy_from_slice(x.as_slice());
        }
        // Not positive definite (only with a zero regularisation): leave the vector empty.
        None => out.fill(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two groups of users, each playing its own half of the items: the model must score a
    /// user's unplayed items of their group above the other group's.
    #[test]
    fn learns_two_taste_groups() {
        let mut rows = Vec::new();
        for user in 0..20u32 {
            let group = user % 2;
            // Each user misses one item of their group, a different one per user.
            let missing = group * 5 + (user / 2) % 5;
            let row: Vec<(u32, f32)> = (0..5)
                .map(|i| group * 5 + i)
                .filter(|&i| i != missing)
                .map(|i| (i, 1.0))
                .collect();
            rows.push(row);
        }
        let m = Csr::from_rows(rows, 10);
        let params = AlsParams {
            factors: 4,
            regularization: 0.1,
            alpha: 2.0,
            iterations: 10,
            threads: 2,
            ..AlsParams::default()
        };
        let trained = Als::train(&m, params);
        let als = trained.als;
        // User 0 (group 0) misses item 0.
        let user = als.fold_in(&[(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)]);
        let mut scores = Vec::new();
        als.score_all(&user, &mut scores);
        let best_other = scores[5..].iter().copied().fold(f32::MIN, f32::max);
        assert!(scores[0] > best_other, "{scores:?}");
        assert!(als.similarity(0, 1) > als.similarity(0, 6));
        let mut all = Vec::new();
        als.similarities(0, &mut all);
        assert!((all[6] - als.similarity(0, 6)).abs() < 1e-5);
        assert!((all[0] - 1.0).abs() < 1e-4);
        for (i, score) in scores.iter().enumerate() {
            assert!((score - dot(&user, als.item(i as u32))).abs() < 1e-5);
        }
        assert!(als.fold_in(&[]).iter().all(|x| *x == 0.0));
    }
}
