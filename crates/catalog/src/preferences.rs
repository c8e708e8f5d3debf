//! What the catalog knows of listeners: their streaming quality, learnt from the users
//! service's `users.preferences.changed` events (consumer group `catalog`), never by reading the
//! users service's tables. It picks the bitrate of a transcode the client left unspecified.

use beatstream_core::Timestamp;
use beatstream_events::users::PreferencesChanged;
use beatstream_events::{inbox, Envelope};
use sqlx::Row;

use crate::error::CatalogError;
use crate::store::CatalogStore;

pub const CONSUMER: &str = "catalog";

/// The transcode bitrate (kbps) for a streaming quality; `None` for lossless, where the cap is
/// only what the client asks.
pub fn bitrate_for(quality: &str) -> Option<u32> {
    match quality {
        "low" => Some(96),
        "normal" => Some(160),
        "high" => Some(256),
        _ => None,
    }
}

impl CatalogStore {
    /// Consumer of `users.preferences.changed`. Idempotent.
    pub async fn apply_preferences_changed(&self, envelope: &Envelope) -> Result<(), CatalogError> {
        let change: PreferencesChanged = match envelope.decode() {
            Ok(change) => change,
            Err(e) => {
                tracing::error!(event_id = %envelope.id, error = %e, "skipping an undecodable event");
                return Ok(());
            }
        };
        let mut tx = self.db().begin_write().await?;
        if !inbox::first_delivery(&mut tx, CONSUMER, &envelope.id).await? {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO listener_preferences (user_id, streaming_quality, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET streaming_quality = excluded.streaming_quality, \
             updated_at = excluded.updated_at",
        )
        .bind(change.user_id.as_str())
        .bind(&change.streaming_quality)
        .bind(Timestamp::now().millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The listener's streaming quality, if they ever set one.
    pub async fn streaming_quality(&self, user_id: &str) -> Result<Option<String>, sqlx::Error> {
        let row =
            sqlx::query("SELECT streaming_quality FROM listener_preferences WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(self.db().pool())
                .await?;
        row.map(|r| r.try_get("streaming_quality")).transpose()
    }
}
