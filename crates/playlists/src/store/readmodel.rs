//! The read models: catalog tracks and account names, as events (and the track directory)
//! describe them.

use beatstream_events::catalog::TrackSummary;
use sqlx::{AnyConnection, Row};

use super::{track_from_row, PlaylistsStore, TRACK_COLUMNS};
use crate::m3u::fold;
use crate::model::{TrackInfo, UserRef};

fn file_name_key(path: &str) -> String {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name.to_lowercase()
}

impl PlaylistsStore {
    /// The id of the last catalog event applied to a track ("" if none or unknown).
    async fn last_event(
        conn: &mut AnyConnection,
        track_id: &str,
    ) -> Result<Option<(String, i64)>, sqlx::Error> {
        sqlx::query("SELECT event_id, duration_ms FROM tracks WHERE id = $1")
            .bind(track_id)
            .fetch_optional(conn)
            .await?
            .map(|row| Ok((row.try_get("event_id")?, row.try_get("duration_ms")?)))
            .transpose()
    }

    /// Inserts or refreshes a track, available, as of catalog event `event_id` (event ids are
    /// time-ordered; "" for what the catalog answered directly). An event older than the last
    /// one applied to the track changes nothing: events of different topics may arrive out of
    /// order. A new duration refreshes the durations of the playlists that hold the track.
    pub async fn upsert_track(
        conn: &mut AnyConnection,
        track: &TrackSummary,
        event_id: &str,
    ) -> Result<(), sqlx::Error> {
        let last = Self::last_event(conn, &track.track_id).await?;
        if last
            .as_ref()
            .is_some_and(|(last, _)| !event_id.is_empty() && last.as_str() > event_id)
        {
            return Ok(());
        }
        let old_duration = last.map(|(_, duration)| duration);
        let artists = serde_json::to_string(&track.artists).unwrap_or_else(|_| "[]".into());
        let genres = serde_json::to_string(&track.genres).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO tracks (id, title, title_key, artists, album_id, album_title, genres, year, \
             track_number, disc_number, duration_ms, format, bitrate_kbps, path, file_name, available, event_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16) \
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, title_key = excluded.title_key, \
             artists = excluded.artists, album_id = excluded.album_id, album_title = excluded.album_title, \
             genres = excluded.genres, year = excluded.year, track_number = excluded.track_number, \
             disc_number = excluded.disc_number, duration_ms = excluded.duration_ms, format = excluded.format, \
             bitrate_kbps = excluded.bitrate_kbps, path = excluded.path, file_name = excluded.file_name, \
             available = 1, event_id = CASE WHEN excluded.event_id = '' THEN tracks.event_id ELSE excluded.event_id END",
        )
        .bind(&track.track_id)
        .bind(&track.title)
        .bind(fold(&track.title))
        .bind(artists)
        .bind(&track.album.id)
        .bind(&track.album.name)
        .bind(genres)
        .bind(track.year)
        .bind(track.track_number)
        .bind(track.disc_number)
        .bind(track.duration_ms)
        .bind(&track.format)
        .bind(track.bitrate_kbps)
        .bind(&track.path)
        .bind(file_name_key(&track.path))
        .bind(event_id)
        .execute(&mut *conn)
        .await?;
        if old_duration.is_some_and(|old| old != track.duration_ms) {
            sqlx::query(
                "UPDATE playlists SET duration_ms = CAST((SELECT COALESCE(SUM(t.duration_ms), 0) \
                 FROM playlist_entries e JOIN tracks t ON t.id = e.track_id WHERE e.playlist_id = playlists.id) AS BIGINT) \
                 WHERE id IN (SELECT playlist_id FROM playlist_entries WHERE track_id = $1)",
            )
            .bind(&track.track_id)
            .execute(conn)
            .await?;
        }
        Ok(())
    }

    /// Whether any playlist holds the track.
    pub async fn in_a_playlist(
        conn: &mut AnyConnection,
        track_id: &str,
    ) -> Result<bool, sqlx::Error> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM playlist_entries WHERE track_id = $1 LIMIT 1")
                .bind(track_id)
                .fetch_optional(conn)
                .await?
                .is_some(),
        )
    }

    /// Marks a track unavailable (the catalog removed it, by event `event_id`); it stays in
    /// playlists and likes. Ignored if a later event was applied already.
    pub async fn mark_unavailable(
        conn: &mut AnyConnection,
        track_id: &str,
        event_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE tracks SET available = 0, event_id = $2 WHERE id = $1 AND event_id <= $2",
        )
        .bind(track_id)
        .bind(event_id)
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn count_tracks(&self) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT COUNT(*) AS n FROM tracks")
            .fetch_one(self.db.pool())
            .await?
            .try_get("n")
    }

    /// Records (or renames) an account.
    pub async fn upsert_user(conn: &mut AnyConnection, user: &UserRef) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO users (id, username) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET username = excluded.username",
        )
        .bind(user.id.as_str())
        .bind(&user.username)
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn user(conn: &mut AnyConnection, id: &str) -> Result<Option<UserRef>, sqlx::Error> {
        let row = sqlx::query("SELECT id, username FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
        row.map(|row| {
            Ok(super::user_ref(
                row.try_get("id")?,
                row.try_get("username")?,
            ))
        })
        .transpose()
    }

    /// Available tracks whose file is named `file_name` (any case).
    pub async fn tracks_named(
        conn: &mut AnyConnection,
        file_name: &str,
    ) -> Result<Vec<TrackInfo>, sqlx::Error> {
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM tracks t WHERE t.file_name = $1 AND t.available = 1"
        );
        let rows = sqlx::query(&sql)
            .bind(file_name.to_lowercase())
            .fetch_all(conn)
            .await?;
        rows.iter().map(|row| track_from_row(row, "")).collect()
    }

    /// Available tracks whose folded title is `title_key`.
    pub async fn tracks_titled(
        conn: &mut AnyConnection,
        title_key: &str,
    ) -> Result<Vec<TrackInfo>, sqlx::Error> {
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM tracks t WHERE t.title_key = $1 AND t.available = 1"
        );
        let rows = sqlx::query(&sql).bind(title_key).fetch_all(conn).await?;
        rows.iter().map(|row| track_from_row(row, "")).collect()
    }
}
