//! The playlists service's use cases: playlists ([`playlists`]), likes and plays ([`library`]),
//! and keeping the read models from events ([`readmodel`]).

mod library;
mod playlists;
mod readmodel;

use std::collections::HashMap;
use std::sync::Arc;

use beatstream_events::outbox::OutboxWaker;

use crate::directory::TrackDirectory;
use crate::documents::Documents;
use crate::error::PlaylistsError;
use crate::model::TrackInfo;
use crate::store::PlaylistsStore;

pub use library::{counts_as_play, MAX_PLAYED_MS};
pub use playlists::{
    MAX_DESCRIPTION_CHARS, MAX_ITEMS_PER_REQUEST, MAX_NAME_CHARS, MAX_PLAYLIST_TRACKS,
};

/// The consumer group this service reads events as.
pub const CONSUMER: &str = "playlists";

#[derive(Clone)]
pub struct PlaylistsService {
    store: PlaylistsStore,
    waker: OutboxWaker,
    directory: Arc<dyn TrackDirectory>,
    documents: Arc<Documents>,
}

impl PlaylistsService {
    pub fn new(
        store: PlaylistsStore,
        waker: OutboxWaker,
        directory: Arc<dyn TrackDirectory>,
    ) -> Self {
        PlaylistsService {
            store,
            waker,
            directory,
            documents: Arc::new(Documents::default()),
        }
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
        let mut distinct: Vec<String> = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let mut conn = self.store.db().pool().acquire().await?;
        let mut known = crate::store::tracks_by_id(&mut conn, &distinct).await?;
        drop(conn);
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
                PlaylistsStore::upsert_track(&mut tx, summary).await?;
            }
            let ids: Vec<String> = found.iter().map(|s| s.track_id.clone()).collect();
            known.extend(crate::store::tracks_by_id(&mut tx, &ids).await?);
            tx.commit().await?;
        }
        Ok(known)
    }

    /// Fills an empty track read model from the catalog: for a catalog that existed before this
    /// service, whose events went by before it listened. Returns how many tracks it added.
    pub async fn backfill_tracks(&self) -> Result<u64, PlaylistsError> {
        if self.store.count_tracks().await? > 0 {
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
                PlaylistsStore::upsert_track(&mut tx, summary).await?;
            }
            tx.commit().await?;
            added += page.len() as u64;
        }
        Ok(added)
    }
}
