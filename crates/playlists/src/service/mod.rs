//! The playlists service's use cases: playlists ([`playlists`]), likes and plays ([`library`]),
//! and keeping the read models from events ([`readmodel`]).

mod append;
mod library;
mod marks;
mod now_playing;
mod playlists;
mod readmodel;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use beatstream_db::jobs;
use beatstream_events::outbox::OutboxWaker;

use crate::documents::Documents;
use crate::error::PlaylistsError;
use crate::model::TrackInfo;
use crate::store::PlaylistsStore;
use beatstream_events::directory::TrackDirectory;

pub use library::{counts_as_play, MAX_PLAYED_MS};
pub use playlists::{
    MAX_DESCRIPTION_CHARS, MAX_ITEMS_PER_REQUEST, MAX_NAME_CHARS, MAX_PLAYLIST_TRACKS,
};

/// Whether `id` could be an id at all: ids are short and printable. Anything else (a NUL byte
/// from `%00` in a path, say, which PostgreSQL refuses in text) names nothing.
pub fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 200 && !id.chars().any(char::is_control)
}

/// The consumer group this service reads events as.
pub const CONSUMER: &str = "playlists";

/// The service. Cloned for every request (axum hands each handler its own state), so its
/// parts sit behind one `Arc`: a clone is one reference count, not one per part.
#[derive(Clone)]
pub struct PlaylistsService(Arc<Parts>);

/// What every clone of [`PlaylistsService`] shares.
pub struct Parts {
    store: PlaylistsStore,
    waker: OutboxWaker,
    directory: Arc<dyn TrackDirectory>,
    documents: Documents,
    appends: append::Appends,
    /// Available tracks recently added or played, by id.
    hot_tracks: quick_cache::sync::Cache<String, TrackInfo>,
    /// Counts applied track events, so a read that raced one is not kept in `hot_tracks`.
    track_events: AtomicU64,
}

impl std::ops::Deref for PlaylistsService {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl PlaylistsService {
    pub fn new(
        store: PlaylistsStore,
        waker: OutboxWaker,
        directory: Arc<dyn TrackDirectory>,
    ) -> Self {
        PlaylistsService(Arc::new(Parts {
            store,
            waker,
            directory,
            documents: Documents::default(),
            appends: append::Appends::default(),
            hot_tracks: quick_cache::sync::Cache::new(10_000),
            track_events: AtomicU64::default(),
        }))
    }

    /// Renderings of whole playlists, per version.
    pub fn documents(&self) -> &Documents {
        &self.documents
    }

    pub fn store(&self) -> &PlaylistsStore {
        &self.store
    }

    /// The tracks among `ids`, from the read model or, for ones it has not heard of yet, from the
    /// catalog (which the read model then keeps). Unknown ids are left out.
    async fn resolve_tracks(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, TrackInfo>, PlaylistsError> {
        let mut distinct: Vec<String> = ids.iter().filter(|id| plausible_id(id)).cloned().collect();
        distinct.sort_unstable();
        distinct.dedup();
        // Hot tracks from memory (a track event drops its entry), the rest from the read model.
        let mut known: HashMap<String, TrackInfo> = HashMap::with_capacity(distinct.len());
        let mut unread = Vec::new();
        for id in distinct.iter() {
            match self.hot_tracks.get(id) {
                Some(track) => {
                    known.insert(id.clone(), track);
                }
                None => unread.push(id.clone()),
            }
        }
        if !unread.is_empty() {
            let generation = self.track_events.load(Ordering::Acquire);
            let mut conn = self.store.db().pool().acquire().await?;
            let read = crate::store::tracks_by_id(&mut conn, &unread).await?;
            drop(conn);
            // Kept only if no track event landed meanwhile (it may have changed what was read).
            if unread.len() <= 100 && self.track_events.load(Ordering::Acquire) == generation {
                for track in read.values().filter(|t| t.available) {
                    self.hot_tracks.insert(track.id.clone(), track.clone());
                }
            }
            known.extend(read);
        }
        let missing: Vec<String> = distinct
            .into_iter()
            .filter(|id| known.get(id).is_none_or(|t| !t.available))
            .collect();
        if missing.is_empty() {
            return Ok(known);
        }
        let found = self
            .directory
            .tracks(&missing)
            .await
            .map_err(PlaylistsError::Directory)?;
        if !found.is_empty() {
            let mut tx = self.store.db().begin_write().await?;
            for summary in &found {
                PlaylistsStore::upsert_track(&mut tx, summary, "").await?;
            }
            let ids: Vec<String> = found.iter().map(|s| s.track_id.clone()).collect();
            known.extend(crate::store::tracks_by_id(&mut tx, &ids).await?);
            tx.commit().await?;
            // A track that came back may show in renderings of playlists.
            self.documents.invalidate_all();
        }
        Ok(known)
    }

    /// Fills the track read model from the catalog, once: for a catalog that existed before
    /// this service, whose events went by before it listened. Events that arrive meanwhile are
    /// newer and win (see `upsert_track`). A fill that stops halfway runs again at the next
    /// start. Returns how many tracks it wrote (0 once done).
    pub async fn backfill_tracks(&self) -> Result<u64, PlaylistsError> {
        const JOB: &str = "tracks from the catalog";
        if jobs::is_done(self.store.db().pool(), JOB).await? {
            return Ok(0);
        }
        let mut after = String::new();
        let mut added = 0;
        loop {
            let page = self
                .directory
                .page(&after, 500)
                .await
                .map_err(PlaylistsError::Directory)?;
            let Some(last) = page.last() else { break };
            after = last.track_id.clone();
            let mut tx = self.store.db().begin_write().await?;
            for summary in &page {
                PlaylistsStore::upsert_track(&mut tx, summary, "").await?;
            }
            tx.commit().await?;
            added += page.len() as u64;
        }
        let mut tx = self.store.db().begin_write().await?;
        jobs::mark_done(&mut tx, JOB, beatstream_core::Timestamp::now().millis()).await?;
        tx.commit().await?;
        Ok(added)
    }
}
