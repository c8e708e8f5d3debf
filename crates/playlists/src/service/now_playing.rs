//! What is playing now, as players report it (Subsonic's `scrobble` with `submission=false`):
//! one entry per listener and player, kept 15 minutes, listed for everyone as Subsonic's
//! `getNowPlaying` does.

use beatstream_core::{Caller, Timestamp};
use sqlx::Row;

use super::PlaylistsService;
use crate::error::{invalid, PlaylistsError};
use crate::model::{NowPlaying, TrackInfo};

/// How long a report stands.
pub const NOW_PLAYING_MS: i64 = 15 * 60 * 1000;
const PLAYER_MAX: usize = 100;

impl PlaylistsService {
    /// `caller`'s `player` plays `track_id` now.
    pub async fn report_now_playing(
        &self,
        caller: &Caller,
        track_id: &str,
        player: &str,
    ) -> Result<(), PlaylistsError> {
        let player = player.trim();
        if player.is_empty()
            || player.chars().count() > PLAYER_MAX
            || player.chars().any(char::is_control)
        {
            return Err(invalid(
                "player",
                format!("must be 1 to {PLAYER_MAX} printable characters"),
            ));
        }
        self.known_track_title(track_id).await?;
        let now = Timestamp::now().millis();
        let db = self.store.db();
        // One turn for both statements.
        let _turn = db.write_turn().await;
        sqlx::query("DELETE FROM now_playing WHERE since < $1")
            .bind(now - NOW_PLAYING_MS)
            .execute(db.pool())
            .await?;
        sqlx::query(
            "INSERT INTO now_playing (user_id, player, track_id, since) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, player) DO UPDATE SET track_id = excluded.track_id, since = excluded.since",
        )
        .bind(caller.user_id.as_str())
        .bind(player)
        .bind(track_id)
        .bind(now)
        .execute(db.pool())
        .await?;
        Ok(())
    }

    /// Everyone's players that reported in the last 15 minutes, newest first.
    pub async fn now_playing(&self) -> Result<Vec<NowPlaying>, PlaylistsError> {
        let since = Timestamp::now().millis() - NOW_PLAYING_MS;
        let rows = sqlx::query(
            "SELECT n.user_id, u.username, n.player, n.track_id, n.since FROM now_playing n \
             LEFT JOIN users u ON u.id = n.user_id WHERE n.since >= $1 ORDER BY n.since DESC LIMIT 200",
        )
        .bind(since)
        .fetch_all(self.store.db().pool())
        .await?;
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>("track_id"))
            .collect::<Result<_, _>>()?;
        let tracks = self.resolve_tracks(&ids).await?;
        let mut out = Vec::new();
        for row in rows {
            let track_id: String = row.try_get("track_id")?;
            let Some(track): Option<TrackInfo> = tracks.get(&track_id).cloned() else {
                continue;
            };
            out.push(NowPlaying {
                user_id: row.try_get("user_id")?,
                username: row
                    .try_get::<Option<String>, _>("username")?
                    .unwrap_or_default(),
                player: row.try_get("player")?,
                track,
                since: Timestamp::from_millis(row.try_get("since")?),
            });
        }
        Ok(out)
    }
}
