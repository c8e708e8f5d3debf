//! Read caches for the hot browsing and streaming paths. The catalog changes only through scans
//! and uploads, which bump a generation counter; a cached entry from an older generation is a
//! miss. So a cache never serves data older than the last write in this process, and needs no
//! invalidation lists. Entries also expire after [`MAX_AGE`], which bounds staleness after a write
//! by another process (`beatstream scan`, another instance on the same database).

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an entry may be served without a write in this process.
pub const MAX_AGE: Duration = Duration::from_secs(10);

/// The catalog's write generation, shared by writers and caches.
#[derive(Clone, Default, Debug)]
pub struct Generation(Arc<AtomicU64>);

impl Generation {
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// A bounded cache whose entries are valid for the generation they were made in.
pub struct GenerationCache<K, V> {
    generation: Generation,
    entries: quick_cache::sync::Cache<K, (u64, Instant, V)>,
}

impl<K: Eq + Hash + Clone, V: Clone> GenerationCache<K, V> {
    pub fn new(generation: Generation, capacity: usize) -> Self {
        GenerationCache {
            generation,
            entries: quick_cache::sync::Cache::new(capacity),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let (made, at, value) = self.entries.get(key)?;
        (made == self.generation.current() && at.elapsed() < MAX_AGE).then_some(value)
    }

    /// Stores `value`, made while the generation was `made`.
    pub fn insert(&self, key: K, made: u64, value: V) {
        if made == self.generation.current() {
            self.entries.insert(key, (made, Instant::now(), value));
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation.current()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_makes_every_entry_stale() {
        let generation = Generation::default();
        let cache = GenerationCache::new(generation.clone(), 10);
        let made = cache.generation();
        cache.insert("k", made, 1);
        assert_eq!(cache.get(&"k"), Some(1));
        generation.bump();
        assert_eq!(cache.get(&"k"), None);
        cache.insert("k", made, 2);
        assert_eq!(
            cache.get(&"k"),
            None,
            "a value made before the write is not stored"
        );
    }
}
