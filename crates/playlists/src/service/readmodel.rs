//! Keeping the read models from events: catalog tracks and account names. Each handler applies
//! its event once (the inbox) in the same transaction as its effect.

use beatstream_events::auth::UserCreated;
use beatstream_events::catalog::{TrackAdded, TrackRemoved, TrackUpdated};
use beatstream_events::{inbox, Envelope, Event};

use super::{PlaylistsService, CONSUMER};
use crate::error::PlaylistsError;
use crate::model::UserRef;
use crate::store::PlaylistsStore;

impl PlaylistsService {
    /// Applies one event this service consumes. Unknown topics and undecodable payloads are
    /// logged and skipped: retrying cannot fix them.
    pub async fn apply_event(&self, envelope: &Envelope) -> Result<(), PlaylistsError> {
        let mut tx = self.store.db().begin_write().await?;
        if !inbox::first_delivery(&mut tx, CONSUMER, &envelope.id).await? {
            return Ok(());
        }
        let decoded = match envelope.topic.as_str() {
            TrackAdded::TOPIC => envelope.decode::<TrackAdded>().map(|e| Some(e.track)),
            TrackUpdated::TOPIC => envelope.decode::<TrackUpdated>().map(|e| Some(e.track)),
            _ => Ok(None),
        };
        // The track whose change playlists show, if any.
        let changed_track = match decoded {
            Ok(Some(track)) => {
                PlaylistsStore::upsert_track(&mut tx, &track, &envelope.id).await?;
                Some(track.track_id)
            }
            Ok(None) => match envelope.topic.as_str() {
                TrackRemoved::TOPIC => match envelope.decode::<TrackRemoved>() {
                    Ok(removed) => {
                        PlaylistsStore::mark_unavailable(&mut tx, &removed.track_id, &envelope.id)
                            .await?;
                        Some(removed.track_id)
                    }
                    Err(e) => return skip(envelope, &e),
                },
                UserCreated::TOPIC => match envelope.decode::<UserCreated>() {
                    Ok(created) => {
                        let user = UserRef {
                            id: created.user_id,
                            username: created.username,
                        };
                        PlaylistsStore::upsert_user(&mut tx, &user).await?;
                        // Renderings may show this name (an account created again, or an
                        // event late for a user who already acted).
                        self.documents.invalidate_all();
                        None
                    }
                    Err(e) => return skip(envelope, &e),
                },
                other => {
                    tracing::warn!(topic = other, "ignoring an event of an unexpected topic");
                    None
                }
            },
            Err(e) => return skip(envelope, &e),
        };
        let stale = match &changed_track {
            Some(track_id) => PlaylistsStore::in_a_playlist(&mut tx, track_id).await?,
            None => false,
        };
        tx.commit().await?;
        if let Some(track_id) = &changed_track {
            self.track_events
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            self.hot_tracks.remove(track_id);
        }
        if stale {
            // Renderings of playlists show their tracks.
            self.documents.invalidate_all();
        }
        Ok(())
    }
}

fn skip(envelope: &Envelope, error: &dyn std::fmt::Display) -> Result<(), PlaylistsError> {
    tracing::error!(event_id = %envelope.id, topic = %envelope.topic, error = %error, "skipping an undecodable event");
    Ok(())
}
