//! The search service's use cases: answering queries ([`SearchService::search`]), following
//! events into the read models ([`events`]), and keeping the index in step with them
//! ([`indexer`]).

mod events;
pub use events::TOPICS;
mod indexer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use beatstream_events::directory::TrackDirectory;
use tokio::sync::Notify;

use crate::error::SearchError;
use crate::index::IndexSet;
use crate::query::{self, ParsedQuery};
use crate::schema::Kind;
use crate::searcher::{self, Hit, Viewer};
use crate::store::SearchStore;

pub use indexer::IndexerHandle;

/// The consumer group this service reads events as.
pub const CONSUMER: &str = "search";

/// Entries per kind when the caller does not say, and at most.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

#[derive(Clone)]
pub struct SearchService {
    inner: Arc<Inner>,
}

struct Inner {
    store: SearchStore,
    index: IndexSet,
    directory: Arc<dyn TrackDirectory>,
    /// Rung after each change recorded for the index.
    changed: Notify,
    rebuild_requested: AtomicBool,
    rebuilding: AtomicBool,
    /// The last change the index in use reflects.
    applied: AtomicI64,
    /// The indexer's writer; one round of indexing at a time.
    writer: tokio::sync::Mutex<Option<indexer::LiveWriter>>,
}

/// Results per kind, best first.
#[derive(Debug, Default)]
pub struct SearchResults {
    pub kinds: Vec<(Kind, Vec<Hit>)>,
}

impl SearchResults {
    /// The single best hit: the best-ranked first hit of any kind; on a tie an artist before an
    /// album, before a track, before a playlist (asking for an artist's name finds the artist).
    pub fn top(&self) -> Option<&Hit> {
        let mut best: Option<&Hit> = None;
        for kind in [Kind::Artist, Kind::Album, Kind::Track, Kind::Playlist] {
            let Some((_, hits)) = self.kinds.iter().find(|(k, _)| *k == kind) else {
                continue;
            };
            if let Some(hit) = hits.first() {
                if best.is_none_or(|b| (hit.score, hit.plays) > (b.score, b.plays)) {
                    best = Some(hit);
                }
            }
        }
        best
    }
}

/// Where the index stands, for operators.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IndexStatus {
    /// "ready", "building" (a rebuild runs; the previous index answers), or "missing".
    pub state: &'static str,
    pub documents: u64,
    pub schema_version: u32,
    /// Changes recorded but not yet searchable.
    pub pending_changes: i64,
}

impl SearchService {
    /// Opens the index in `dir` (creating the folder). The index is kept current by
    /// [`SearchService::spawn_indexer`].
    pub fn open(
        store: SearchStore,
        dir: PathBuf,
        directory: Arc<dyn TrackDirectory>,
    ) -> Result<SearchService, SearchError> {
        let index = IndexSet::open(dir)?;
        let applied = index.current().map_or(0, |g| g.payload.applied);
        Ok(SearchService {
            inner: Arc::new(Inner {
                store,
                index,
                directory,
                changed: Notify::new(),
                rebuild_requested: AtomicBool::new(false),
                rebuilding: AtomicBool::new(false),
                applied: AtomicI64::new(applied),
                writer: tokio::sync::Mutex::new(None),
            }),
        })
    }

    pub fn store(&self) -> &SearchStore {
        &self.inner.store
    }

    /// Searches the kinds asked for. `types` empty means all of them.
    pub fn search(
        &self,
        q: &str,
        types: &[Kind],
        limit: usize,
        user_id: &str,
    ) -> Result<SearchResults, SearchError> {
        let parsed: ParsedQuery = query::parse(q).map_err(|_| SearchError::QueryTooLong)?;
        let kinds: &[Kind] = if types.is_empty() { &Kind::ALL } else { types };
        let results = match self.inner.index.current() {
            Some(generation) => SearchResults {
                kinds: searcher::search(
                    &generation,
                    kinds,
                    &parsed,
                    &Viewer { user_id },
                    limit.clamp(1, MAX_LIMIT),
                )?,
            },
            None => SearchResults {
                kinds: kinds.iter().map(|&k| (k, Vec::new())).collect(),
            },
        };
        Ok(results)
    }

    /// Rebuilds the index from the read models (filling them from the catalog first), in the
    /// background; the current index answers until the new one is ready.
    pub fn request_rebuild(&self) {
        self.inner.rebuild_requested.store(true, Ordering::Release);
        self.inner.changed.notify_one();
    }

    pub async fn status(&self) -> Result<IndexStatus, SearchError> {
        let last = self.inner.store.last_change().await?;
        let applied = self.inner.applied.load(Ordering::Acquire);
        let current = self.inner.index.current();
        let state = if self.inner.rebuilding.load(Ordering::Acquire)
            || self.inner.rebuild_requested.load(Ordering::Acquire)
        {
            "building"
        } else if current.is_some() {
            "ready"
        } else {
            "missing"
        };
        Ok(IndexStatus {
            state,
            documents: current
                .as_ref()
                .map_or(0, |g| g.reader.searcher().num_docs()),
            schema_version: current.as_ref().map_or(0, |g| g.payload.schema),
            pending_changes: (last - applied).max(0),
        })
    }
}
