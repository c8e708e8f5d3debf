//! Offline evaluation: split each listener's interactions by time (train on the earlier ones,
//! test on their later items), then score ranked lists with NDCG@10, Recall@50 and catalog
//! coverage. Used by the `rec-eval` bench binary; the same code scores every model and the
//! outside reference, so their figures compare.

use std::collections::HashSet;

use crate::sparse::Csr;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interaction {
    pub user: u32,
    pub item: u32,
    /// How strong the signal is (1 for a plain positive).
    pub value: f32,
    /// When it happened (any monotonic unit).
    pub at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Split {
    pub train: Vec<Interaction>,
    /// Each test listener's later items that were not already in their training history.
    pub test: Vec<(u32, Vec<u32>)>,
}

/// Per listener with at least `min_items` distinct items: the last `test_fraction` of their
/// items by time (at least one) are held out; everything else, and every other listener,
/// trains.
pub fn split_by_time(interactions: &[Interaction], test_fraction: f64, min_items: usize) -> Split {
    let mut by_user: std::collections::BTreeMap<u32, Vec<Interaction>> = Default::default();
    for i in interactions {
        by_user.entry(i.user).or_default().push(*i);
    }
    let mut split = Split::default();
    for (user, mut list) in by_user {
        list.sort_by_key(|i| (i.at, i.item));
        let distinct: HashSet<u32> = list.iter().map(|i| i.item).collect();
        if distinct.len() < min_items {
            split.train.extend(list);
            continue;
        }
        let held = ((list.len() as f64 * test_fraction).round() as usize).clamp(1, list.len() - 1);
        let (train, test) = list.split_at(list.len() - held);
        let seen: HashSet<u32> = train.iter().map(|i| i.item).collect();
        let mut later: Vec<u32> = Vec::new();
        for i in test {
            if !seen.contains(&i.item) && !later.contains(&i.item) {
                later.push(i.item);
            }
        }
        split.train.extend_from_slice(train);
        if !later.is_empty() {
            split.test.push((user, later));
        }
    }
    split
}

/// Listeners by items, summing repeated interactions.
pub fn user_items(train: &[Interaction], users: usize, items: usize) -> Csr {
    let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); users];
    for i in train {
        rows[i.user as usize].push((i.item, i.value));
    }
    Csr::from_rows(rows, items)
}

/// NDCG@k with binary relevance: the list's discounted gain over the best possible.
pub fn ndcg_at(ranked: &[u32], relevant: &HashSet<u32>, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, item)| relevant.contains(item))
        .map(|(rank, _)| 1.0 / ((rank + 2) as f64).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(k))
        .map(|rank| 1.0 / ((rank + 2) as f64).log2())
        .sum();
    if ideal > 0.0 {
        dcg / ideal
    } else {
        0.0
    }
}

/// Recall@k: the share of the relevant items found in the first k.
pub fn recall_at(ranked: &[u32], relevant: &HashSet<u32>, k: usize) -> f64 {
    if relevant.is_empty() {
        return 0.0;
    }
    let found = ranked
        .iter()
        .take(k)
        .filter(|i| relevant.contains(i))
        .count();
    found as f64 / relevant.len() as f64
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    pub ndcg_at_10: f64,
    pub recall_at_50: f64,
    /// Distinct items in all the top-10 lists over the catalog's size.
    pub coverage_at_10: f64,
    pub users: usize,
}

/// Scores each test listener's ranked list (`lists[n]` for `split.test[n]`).
pub fn score(split: &Split, lists: &[Vec<u32>], catalog_size: usize) -> Scores {
    let mut scores = Scores::default();
    let mut shown: HashSet<u32> = HashSet::new();
    for ((_, later), ranked) in split.test.iter().zip(lists) {
        let relevant: HashSet<u32> = later.iter().copied().collect();
        scores.ndcg_at_10 += ndcg_at(ranked, &relevant, 10);
        scores.recall_at_50 += recall_at(ranked, &relevant, 50);
        shown.extend(ranked.iter().take(10));
        scores.users += 1;
    }
    if scores.users > 0 {
        scores.ndcg_at_10 /= scores.users as f64;
        scores.recall_at_50 /= scores.users as f64;
    }
    if catalog_size > 0 {
        scores.coverage_at_10 = shown.len() as f64 / catalog_size as f64;
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(user: u32, item: u32, at: i64) -> Interaction {
        Interaction {
            user,
            item,
            value: 1.0,
            at,
        }
    }

    #[test]
    fn holds_out_each_listeners_latest_items() {
        let data = vec![
            i(0, 1, 10),
            i(0, 2, 20),
            i(0, 3, 30),
            i(0, 4, 40),
            i(0, 5, 50),
            // A re-listen of a training item is not a test item.
            i(0, 1, 60),
            i(1, 9, 5),
        ];
        let split = split_by_time(&data, 0.34, 3);
        assert_eq!(split.test, vec![(0, vec![5])]);
        assert_eq!(split.train.len(), 5);
        assert!(split.train.iter().any(|x| x.user == 1));
    }

    #[test]
    fn metrics_match_hand_computed_values() {
        let relevant: HashSet<u32> = [1, 2].into();
        assert!((ndcg_at(&[1, 2, 3], &relevant, 10) - 1.0).abs() < 1e-9);
        let expected = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at(&[3, 1], &relevant, 10) - expected).abs() < 1e-9);
        assert_eq!(recall_at(&[3, 1], &relevant, 50), 0.5);
        assert_eq!(ndcg_at(&[3], &HashSet::new(), 10), 0.0);
        let split = Split {
            train: vec![],
            test: vec![(0, vec![1, 2]), (1, vec![7])],
        };
        let s = score(&split, &[vec![1, 2], vec![3]], 10);
        assert!((s.ndcg_at_10 - 0.5).abs() < 1e-9);
        assert_eq!(s.coverage_at_10, 0.3);
    }
}
