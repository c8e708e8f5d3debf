//! Keeping the read models from events: catalog tracks and account names. Each handler applies
//! its event once (the inbox) in the same transaction as its effect.

use beatstream_events::auth::UserCreated;
use beatstream_events::catalog::{TrackAdded, TrackRemoved, TrackUpdated};
use beatstream_events::{inbox, Envelope, Event};
use sqlx::AnyConnection;

use super::{PlaylistsService, CONSUMER};
use crate::error::PlaylistsError;
use crate::model::UserRef;
use crate::store::PlaylistsStore;

impl PlaylistsService {
    /// Applies one event this service consumes (see [`PlaylistsService::apply_events`]).
    pub async fn apply_event(&self, envelope: &Envelope) -> Result<(), PlaylistsError> {
        self.apply_events(std::slice::from_ref(envelope)).await
    }

    /// Applies events in order, in one transaction: all of them or none. An event already
    /// applied is skipped; unknown topics and undecodable payloads are logged and skipped, as
    /// retrying cannot fix them.
    pub async fn apply_events(&self, envelopes: &[Envelope]) -> Result<(), PlaylistsError> {
        let mut tx = self.store.db().begin_write().await?;
        let mut changed_tracks = Vec::new();
        let mut stale = false;
        let ids: Vec<&str> = envelopes.iter().map(|e| e.id.as_str()).collect();
        let mut first = inbox::first_deliveries(&mut tx, CONSUMER, &ids).await?;
        for envelope in envelopes {
            if !first.remove(&envelope.id) {
                continue;
            }
            match apply(&mut tx, envelope).await? {
                Applied::Track(track_id) => {
                    stale = stale || PlaylistsStore::in_a_playlist(&mut tx, &track_id).await?;
                    changed_tracks.push(track_id);
                }
                // Renderings may show this name (an account created again, or an event late
                // for a user who already acted).
                Applied::User => stale = true,
                Applied::Nothing => {}
            }
        }
        tx.commit().await?;
        for track_id in &changed_tracks {
            self.track_events
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            self.hot_tracks.remove(track_id);
        }
        if stale {
            // Renderings of playlists show their tracks and their people.
            self.documents.invalidate_all();
        }
        Ok(())
    }
}

/// What an event changed that playlists show.
enum Applied {
    Track(String),
    User,
    Nothing,
}

async fn apply(tx: &mut AnyConnection, envelope: &Envelope) -> Result<Applied, PlaylistsError> {
    let decoded = match envelope.topic.as_str() {
        TrackAdded::TOPIC => envelope.decode::<TrackAdded>().map(|e| Some(e.track)),
        TrackUpdated::TOPIC => envelope.decode::<TrackUpdated>().map(|e| Some(e.track)),
        _ => Ok(None),
    };
    Ok(match decoded {
        Ok(Some(track)) => {
            PlaylistsStore::upsert_track(tx, &track, &envelope.id).await?;
            Applied::Track(track.track_id)
        }
        Ok(None) => match envelope.topic.as_str() {
            TrackRemoved::TOPIC => match envelope.decode::<TrackRemoved>() {
                Ok(removed) => {
                    PlaylistsStore::mark_unavailable(tx, &removed.track_id, &envelope.id).await?;
                    Applied::Track(removed.track_id)
                }
                Err(e) => skip(envelope, &e),
            },
            UserCreated::TOPIC => match envelope.decode::<UserCreated>() {
                Ok(created) => {
                    let user = UserRef {
                        id: created.user_id,
                        username: created.username,
                    };
                    PlaylistsStore::upsert_user(tx, &user).await?;
                    Applied::User
                }
                Err(e) => skip(envelope, &e),
            },
            other => {
                tracing::warn!(topic = other, "ignoring an event of an unexpected topic");
                Applied::Nothing
            }
        },
        Err(e) => skip(envelope, &e),
    })
}

fn skip(envelope: &Envelope, error: &dyn std::fmt::Display) -> Applied {
    tracing::error!(event_id = %envelope.id, topic = %envelope.topic, error = %error, "skipping an undecodable event");
    Applied::Nothing
}
