//! The saved play queue: the tracks a listener was playing, which one and where, saved by one
//! device (a Subsonic app's `savePlayQueue`) for another to pick up. One per user.

use beatstream_core::{Caller, Timestamp};
use sqlx::Row;

use crate::error::UsersError;
use crate::service::UsersService;

/// Longest queue kept.
pub const MAX_TRACKS: usize = 10_000;
const NAME_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlayQueue {
    pub track_ids: Vec<String>,
    pub current_index: Option<usize>,
    pub position_ms: i64,
    pub changed_by: String,
    /// `None` until something was saved.
    pub updated_at: Option<Timestamp>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> UsersError {
    UsersError::Invalid {
        field,
        reason: reason.into(),
    }
}

impl PlayQueue {
    fn validate(&self) -> Result<(), UsersError> {
        if self.track_ids.len() > MAX_TRACKS {
            return Err(invalid("track_ids", format!("at most {MAX_TRACKS} tracks")));
        }
        if self
            .track_ids
            .iter()
            .any(|id| id.is_empty() || id.len() > 100)
        {
            return Err(invalid("track_ids", "each id must be 1 to 100 characters"));
        }
        if let Some(i) = self.current_index {
            if i >= self.track_ids.len() {
                return Err(invalid(
                    "current_index",
                    format!(
                        "must be below the number of tracks ({})",
                        self.track_ids.len()
                    ),
                ));
            }
        }
        if self.position_ms < 0 {
            return Err(invalid("position_ms", "must not be negative"));
        }
        if self.changed_by.chars().count() > NAME_MAX
            || self.changed_by.chars().any(char::is_control)
        {
            return Err(invalid(
                "changed_by",
                format!("at most {NAME_MAX} printable characters"),
            ));
        }
        Ok(())
    }
}

impl UsersService {
    pub async fn play_queue(&self, caller: &Caller) -> Result<PlayQueue, UsersError> {
        let row = sqlx::query(
            "SELECT track_ids, current_index, position_ms, changed_by, updated_at \
             FROM play_queues WHERE user_id = $1",
        )
        .bind(caller.user_id.as_str())
        .fetch_optional(self.store().db().pool())
        .await?;
        let Some(row) = row else {
            return Ok(PlayQueue::default());
        };
        let ids: String = row.try_get("track_ids")?;
        Ok(PlayQueue {
            track_ids: serde_json::from_str(&ids).unwrap_or_default(),
            current_index: row
                .try_get::<Option<i64>, _>("current_index")?
                .map(|i| i as usize),
            position_ms: row.try_get("position_ms")?,
            changed_by: row.try_get("changed_by")?,
            updated_at: Some(Timestamp::from_millis(row.try_get("updated_at")?)),
        })
    }

    /// Replaces the caller's play queue; bad input changes nothing.
    pub async fn save_play_queue(
        &self,
        caller: &Caller,
        mut queue: PlayQueue,
    ) -> Result<PlayQueue, UsersError> {
        queue.validate()?;
        let now = Timestamp::now();
        let ids = serde_json::to_string(&queue.track_ids)
            .map_err(|e| invalid("track_ids", e.to_string()))?;
        self.store().db().execute_write(sqlx::query(
            "INSERT INTO play_queues (user_id, track_ids, current_index, position_ms, changed_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id) DO UPDATE SET track_ids = excluded.track_ids, \
             current_index = excluded.current_index, position_ms = excluded.position_ms, \
             changed_by = excluded.changed_by, updated_at = excluded.updated_at",
        )
        .bind(caller.user_id.as_str())
        .bind(ids)
        .bind(queue.current_index.map(|i| i as i64))
        .bind(queue.position_ms)
        .bind(&queue.changed_by)
        .bind(now.millis())
        )
        .await?;
        queue.updated_at = Some(now);
        Ok(queue)
    }
}
