//! Rendered playlists: the JSON of a whole playlist (and its gzip), kept per version so that a
//! 10,000-track playlist is rendered once per change, not once per load. An entry also goes
//! stale when the track read model changes (a generation counter) and after a few seconds (for
//! changes applied by another instance of this service).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::OptionsBuilder;
use quick_cache::Weighter;

const TIME_TO_LIVE: Duration = Duration::from_secs(10);
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// One rendering of a playlist.
pub struct Document {
    /// The version rendered (a change may have landed between the caller's check and the
    /// rendering: this is the one the bytes show).
    pub version: i64,
    pub json: Bytes,
    /// Empty if compressing failed.
    pub gzip: Bytes,
    built: Instant,
}

type Key = (String, i64, u64);

#[derive(Clone)]
struct BySize;

impl Weighter<Key, Arc<Document>> for BySize {
    fn weight(&self, _key: &Key, value: &Arc<Document>) -> u64 {
        (value.json.len() + value.gzip.len()) as u64 + 1
    }
}

pub struct Documents {
    cache: Cache<Key, Arc<Document>, BySize>,
    generation: AtomicU64,
}

impl Default for Documents {
    fn default() -> Self {
        Documents {
            cache: single_shard().unwrap_or_else(|| Cache::with_weighter(64, MAX_BYTES, BySize)),
            generation: AtomicU64::new(0),
        }
    }
}

/// One shard: a shard holds a share of the weight, and a large playlist's rendering must fit
/// in one.
fn single_shard() -> Option<Cache<Key, Arc<Document>, BySize>> {
    let options = OptionsBuilder::new()
        .shards(1)
        .estimated_items_capacity(64)
        .weight_capacity(MAX_BYTES)
        .build()
        .ok()?;
    Some(Cache::with_options(
        options,
        BySize,
        Default::default(),
        Default::default(),
    ))
}

impl Documents {
    /// Something every rendering shows changed (a track, a user name): drop them all.
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// The rendering of playlist `id` at `version`, built by `render` (the version it rendered
    /// and its JSON) on a miss.
    /// Concurrent misses of one key wait for a single rendering.
    pub async fn get_or_render<F, Fut, E>(
        &self,
        id: &str,
        version: i64,
        render: F,
    ) -> Result<Arc<Document>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(i64, Vec<u8>), E>>,
    {
        let key = (
            id.to_string(),
            version,
            self.generation.load(Ordering::Relaxed),
        );
        if let Some(document) = self.cache.get(&key) {
            if document.built.elapsed() < TIME_TO_LIVE {
                return Ok(document);
            }
            self.cache.remove(&key);
        }
        let guard = match self.cache.get_value_or_guard_async(&key).await {
            Ok(document) => return Ok(document),
            Err(guard) => guard,
        };
        let (rendered, json) = render().await?;
        let json = Bytes::from(json);
        let to_compress = json.clone();
        // A failed compression only means no gzip for this rendering.
        let gzip = tokio::task::spawn_blocking(move || gzip(&to_compress))
            .await
            .unwrap_or_default();
        let document = Arc::new(Document {
            version: rendered,
            json,
            gzip: Bytes::from(gzip),
            built: Instant::now(),
        });
        let _ = guard.insert(document.clone());
        Ok(document)
    }
}

fn gzip(json: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(json.len() / 8),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail; if it did, the rendering goes without gzip.
    encoder
        .write_all(json)
        .and_then(|()| encoder.finish())
        .unwrap_or_default()
}
