//! Likes and plays.

use beatstream_core::{Page, Timestamp, UserId};
use sqlx::{AnyConnection, Row};

use super::{millis, track_from_row, PlaylistsStore, TRACK_COLUMNS};
use crate::model::{Like, Play};

/// Which plays the history lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryFilter {
    Plays,
    PlaysAndSkips,
}

/// Cursors of newest-first lists: the time and the id of the last item. One that is not ours
/// starts from the top (the id part of a cursor is compared, never trusted).
pub(super) fn split_cursor(after: &Option<String>) -> (i64, String) {
    after
        .as_deref()
        .and_then(|key| key.split_once('/'))
        .and_then(|(at, id)| Some((at.parse().ok()?, id.to_string())))
        .filter(|(_, id): &(i64, String)| !id.chars().any(char::is_control))
        .unwrap_or((i64::MAX, String::new()))
}

pub fn cursor_key(at: Timestamp, id: &str) -> String {
    format!("{}/{id}", at.millis())
}

impl PlaylistsStore {
    /// Likes a track; false if it was liked already.
    pub async fn like(
        conn: &mut AnyConnection,
        user: &UserId,
        track_id: &str,
        at: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "INSERT INTO likes (user_id, track_id, liked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(user.as_str())
        .bind(track_id)
        .bind(at.millis())
        .execute(conn)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Unlikes a track; false if it was not liked.
    pub async fn unlike(
        conn: &mut AnyConnection,
        user: &UserId,
        track_id: &str,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("DELETE FROM likes WHERE user_id = $1 AND track_id = $2")
            .bind(user.as_str())
            .bind(track_id)
            .execute(conn)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Likes newest first, `limit + 1` of them.
    pub async fn likes(&self, user: &UserId, page: &Page) -> Result<Vec<Like>, sqlx::Error> {
        let (before_at, before_id) = split_cursor(&page.after);
        let sql = format!(
            "SELECT l.track_id, l.liked_at, {TRACK_COLUMNS} FROM likes l LEFT JOIN tracks t ON t.id = l.track_id \
             WHERE l.user_id = $1 AND (l.liked_at < $2 OR (l.liked_at = $2 AND l.track_id < $3)) \
             ORDER BY l.liked_at DESC, l.track_id DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(user.as_str())
            .bind(before_at)
            .bind(before_id.clone())
            .bind(i64::from(page.limit) + 1)
            .fetch_all(self.db.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let track_id: String = row.try_get("track_id")?;
                Ok(Like {
                    track: track_from_row(row, &track_id)?,
                    liked_at: millis(row, "liked_at")?,
                })
            })
            .collect()
    }

    pub async fn insert_play(
        conn: &mut AnyConnection,
        user: &UserId,
        play: &Play,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO plays (id, user_id, track_id, played_ms, played_at, skipped) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&play.id)
        .bind(user.as_str())
        .bind(&play.track.id)
        .bind(play.played_ms)
        .bind(play.played_at.millis())
        .bind(i64::from(play.skipped))
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Plays newest first, `limit + 1` of them.
    pub async fn history(
        &self,
        user: &UserId,
        filter: HistoryFilter,
        page: &Page,
    ) -> Result<Vec<Play>, sqlx::Error> {
        let (before_at, before_id) = split_cursor(&page.after);
        let skips = match filter {
            HistoryFilter::Plays => "AND p.skipped = 0",
            HistoryFilter::PlaysAndSkips => "",
        };
        let sql = format!(
            "SELECT p.id, p.track_id, p.played_ms, p.played_at, p.skipped, {TRACK_COLUMNS} \
             FROM plays p LEFT JOIN tracks t ON t.id = p.track_id \
             WHERE p.user_id = $1 {skips} AND (p.played_at < $2 OR (p.played_at = $2 AND p.id < $3)) \
             ORDER BY p.played_at DESC, p.id DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(user.as_str())
            .bind(before_at)
            .bind(before_id.clone())
            .bind(i64::from(page.limit) + 1)
            .fetch_all(self.db.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let track_id: String = row.try_get("track_id")?;
                Ok(Play {
                    id: row.try_get("id")?,
                    track: track_from_row(row, &track_id)?,
                    played_ms: row.try_get("played_ms")?,
                    played_at: millis(row, "played_at")?,
                    skipped: row.try_get::<i64, _>("skipped")? != 0,
                })
            })
            .collect()
    }
}
