//! Following events: each is applied once (the inbox), in one transaction with the read model
//! change and the index changes it implies; the indexer is woken after the commit.

use std::collections::HashMap;

use beatstream_events::catalog::{TrackAdded, TrackRemoved, TrackUpdated};
use beatstream_events::library::TrackPlayed;
use beatstream_events::playlists::{PlaylistChanged, PlaylistDeleted};
use beatstream_events::{inbox, Envelope, Event};

use super::{SearchService, CONSUMER};
use crate::error::SearchError;
use crate::store::{DocRef, SearchStore, CHANGES_LOCK};
use sqlx::AnyConnection;

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
    /// Applies one event (see [`SearchService::apply_events`]).
    pub async fn apply_event(&self, envelope: &Envelope) -> Result<(), SearchError> {
        self.apply_events(std::slice::from_ref(envelope)).await
    }

    /// Applies events in order, in one transaction: all of them or none. An event already
    /// applied is skipped; unknown topics and undecodable payloads are logged and skipped, as
    /// retrying cannot fix them.
    pub async fn apply_events(&self, envelopes: &[Envelope]) -> Result<(), SearchError> {
        let mut tx = self.inner.store.db().begin_serialized(CHANGES_LOCK).await?;
        let mut changes = Vec::new();
        let ids: Vec<&str> = envelopes.iter().map(|e| e.id.as_str()).collect();
        let mut first = inbox::first_deliveries(&mut tx, CONSUMER, &ids).await?;
        // A playlist change carries the whole playlist: of a run of them, each playlist's newest
        // is the one to record. They wait until an event of another topic comes.
        let mut playlists: HashMap<String, PlaylistChanged> = HashMap::new();
        for envelope in envelopes {
            if !first.remove(&envelope.id) {
                continue;
            }
            if envelope.topic == PlaylistChanged::TOPIC {
                match envelope.decode::<PlaylistChanged>() {
                    Ok(change) => keep_newest(&mut playlists, change),
                    Err(e) => changes.extend(skip(envelope, &e)),
                }
                continue;
            }
            changes.extend(record_newest(&mut tx, &mut playlists).await?);
            changes.extend(apply(&mut tx, envelope).await?);
        }
        changes.extend(record_newest(&mut tx, &mut playlists).await?);
        SearchStore::push_changes(&mut tx, &changes).await?;
        tx.commit().await?;
        if !changes.is_empty() {
            self.inner.changed.notify_one();
        }
        Ok(())
    }
}

/// Records the playlist changes kept so far (see [`keep_newest`]) and empties the map.
async fn record_newest(
    conn: &mut AnyConnection,
    playlists: &mut HashMap<String, PlaylistChanged>,
) -> Result<Vec<DocRef>, SearchError> {
    let newest: Vec<PlaylistChanged> = playlists.drain().map(|(_, p)| p).collect();
    Ok(SearchStore::upsert_playlists(conn, &newest).await?)
}

/// The read model change one event makes, and the index entries it touches. Playlist changes
/// do not come here: [`SearchService::apply_events`] gathers them.
async fn apply(conn: &mut AnyConnection, envelope: &Envelope) -> Result<Vec<DocRef>, SearchError> {
    Ok(match envelope.topic.as_str() {
        TrackAdded::TOPIC => match envelope.decode::<TrackAdded>() {
            Ok(e) => SearchStore::upsert_track(conn, &e.track, &envelope.id).await?,
            Err(e) => skip(envelope, &e),
        },
        TrackUpdated::TOPIC => match envelope.decode::<TrackUpdated>() {
            Ok(e) => SearchStore::upsert_track(conn, &e.track, &envelope.id).await?,
            Err(e) => skip(envelope, &e),
        },
        TrackRemoved::TOPIC => match envelope.decode::<TrackRemoved>() {
            Ok(e) => SearchStore::remove_track(conn, &e.track_id, &envelope.id).await?,
            Err(e) => skip(envelope, &e),
        },
        TrackPlayed::TOPIC => match envelope.decode::<TrackPlayed>() {
            Ok(e) if e.skipped => Vec::new(),
            Ok(e) => SearchStore::add_play(conn, &e.track_id).await?,
            Err(e) => skip(envelope, &e),
        },
        PlaylistDeleted::TOPIC => match envelope.decode::<PlaylistDeleted>() {
            Ok(e) => SearchStore::delete_playlist(conn, &e.playlist_id).await?,
            Err(e) => skip(envelope, &e),
        },
        other => {
            tracing::warn!(
                topic = other,
                "search: ignoring an event of an unexpected topic"
            );
            Vec::new()
        }
    })
}

/// Keeps `change` unless a newer change of its playlist is kept already.
fn keep_newest(playlists: &mut HashMap<String, PlaylistChanged>, change: PlaylistChanged) {
    match playlists.get(&change.playlist_id) {
        Some(kept) if kept.version >= change.version => {}
        _ => {
            playlists.insert(change.playlist_id.clone(), change);
        }
    }
}

fn skip(envelope: &Envelope, error: &dyn std::fmt::Display) -> Vec<DocRef> {
    tracing::warn!(
        topic = %envelope.topic,
        event_id = %envelope.id,
        error = %error,
        "search: skipping an event it cannot read"
    );
    Vec::new()
}
