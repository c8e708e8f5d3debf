//! Following events: each is applied once (the inbox), in one transaction with the read model
//! change and the index changes it implies; the indexer is woken after the commit.

use beatstream_events::catalog::{TrackAdded, TrackRemoved, TrackUpdated};
use beatstream_events::library::TrackPlayed;
use beatstream_events::playlists::{PlaylistChanged, PlaylistDeleted};
use beatstream_events::{inbox, Envelope, Event};

use super::{SearchService, CONSUMER};
use crate::error::SearchError;
use crate::store::{SearchStore, CHANGES_LOCK};

/// The topics this service follows.
pub const TOPICS: [&str; 6] = [
    TrackAdded::TOPIC,
    TrackUpdated::TOPIC,
    TrackRemoved::TOPIC,
    TrackPlayed::TOPIC,
    PlaylistChanged::TOPIC,
    PlaylistDeleted::TOPIC,
];

impl SearchService {
    /// Applies one event. Unknown topics and undecodable payloads are logged and skipped:
    /// retrying cannot fix them.
    pub async fn apply_event(&self, envelope: &Envelope) -> Result<(), SearchError> {
        let store = &self.inner.store;
        let mut tx = store.db().begin_serialized(CHANGES_LOCK).await?;
        if !inbox::first_delivery(&mut tx, CONSUMER, &envelope.id).await? {
            return Ok(());
        }
        let changes = match envelope.topic.as_str() {
            TrackAdded::TOPIC => match envelope.decode::<TrackAdded>() {
                Ok(e) => SearchStore::upsert_track(&mut tx, &e.track, &envelope.id).await?,
                Err(e) => return skip(envelope, &e),
            },
            TrackUpdated::TOPIC => match envelope.decode::<TrackUpdated>() {
                Ok(e) => SearchStore::upsert_track(&mut tx, &e.track, &envelope.id).await?,
                Err(e) => return skip(envelope, &e),
            },
            TrackRemoved::TOPIC => match envelope.decode::<TrackRemoved>() {
                Ok(e) => SearchStore::remove_track(&mut tx, &e.track_id, &envelope.id).await?,
                Err(e) => return skip(envelope, &e),
            },
            TrackPlayed::TOPIC => match envelope.decode::<TrackPlayed>() {
                Ok(e) if e.skipped => Vec::new(),
                Ok(e) => SearchStore::add_play(&mut tx, &e.track_id).await?,
                Err(e) => return skip(envelope, &e),
            },
            PlaylistChanged::TOPIC => match envelope.decode::<PlaylistChanged>() {
                Ok(e) => SearchStore::upsert_playlist(&mut tx, &e).await?,
                Err(e) => return skip(envelope, &e),
            },
            PlaylistDeleted::TOPIC => match envelope.decode::<PlaylistDeleted>() {
                Ok(e) => SearchStore::delete_playlist(&mut tx, &e.playlist_id).await?,
                Err(e) => return skip(envelope, &e),
            },
            other => {
                tracing::warn!(
                    topic = other,
                    "search: ignoring an event of an unexpected topic"
                );
                Vec::new()
            }
        };
        SearchStore::push_changes(&mut tx, &changes).await?;
        tx.commit().await?;
        if !changes.is_empty() {
            self.inner.changed.notify_one();
        }
        Ok(())
    }
}

fn skip(envelope: &Envelope, error: &dyn std::fmt::Display) -> Result<(), SearchError> {
    tracing::warn!(
        topic = %envelope.topic,
        event_id = %envelope.id,
        error = %error,
        "search: skipping an event it cannot read"
    );
    Ok(())
}
