//! The playlists service's tables. SQL is written once for SQLite and PostgreSQL (see the db
//! crate): integers for times and booleans, `$N` placeholders except in many-row statements.

mod library;
mod marks;
mod playlists;
mod readmodel;

use std::collections::HashMap;

use beatstream_core::{Timestamp, UserId};
use beatstream_db::{placeholders, Backend, Db};
use beatstream_events::catalog::NamedRef;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::model::{TrackInfo, UserRef};

pub use library::{cursor_key, HistoryFilter};
pub use marks::MarksOf;

#[derive(Clone)]
pub struct PlaylistsStore {
    db: Db,
}

impl PlaylistsStore {
    pub fn new(db: Db) -> Self {
        PlaylistsStore { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// A read-only transaction that sees one snapshot across its statements (a playlist and its
    /// entries at the same version).
    pub async fn begin_snapshot(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        if self.db.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }
}

/// Columns of a joined `tracks t` row, read by [`track_from_row`].
pub(crate) const TRACK_COLUMNS: &str = "t.id AS t_id, t.title AS t_title, t.artists AS t_artists, \
    t.album_id AS t_album_id, t.album_title AS t_album_title, t.genres AS t_genres, t.year AS t_year, \
    t.track_number AS t_track_number, t.disc_number AS t_disc_number, t.duration_ms AS t_duration_ms, \
    t.format AS t_format, t.bitrate_kbps AS t_bitrate_kbps, t.path AS t_path, t.available AS t_available";

/// A track from a row with [`TRACK_COLUMNS`]; `id` names it when the read model lacks it (a
/// LEFT JOIN that found nothing), as an unavailable track.
pub(crate) fn track_from_row(row: &AnyRow, id: &str) -> Result<TrackInfo, sqlx::Error> {
    let Some(title) = row.try_get::<Option<String>, _>("t_title")? else {
        return Ok(unknown_track(id));
    };
    let artists: String = row.try_get("t_artists")?;
    let genres: String = row.try_get("t_genres")?;
    Ok(TrackInfo {
        id: row.try_get("t_id")?,
        title,
        artists: serde_json::from_str(&artists).unwrap_or_default(),
        album: NamedRef {
            id: row.try_get("t_album_id")?,
            name: row.try_get("t_album_title")?,
        },
        genres: serde_json::from_str(&genres).unwrap_or_default(),
        year: row.try_get("t_year")?,
        track_number: row.try_get("t_track_number")?,
        disc_number: row.try_get("t_disc_number")?,
        duration_ms: row.try_get("t_duration_ms")?,
        format: row.try_get("t_format")?,
        bitrate_kbps: row.try_get("t_bitrate_kbps")?,
        path: row.try_get("t_path")?,
        available: row.try_get::<i64, _>("t_available")? != 0,
    })
}

fn unknown_track(id: &str) -> TrackInfo {
    TrackInfo {
        id: id.to_string(),
        title: String::new(),
        artists: Vec::new(),
        album: NamedRef {
            id: String::new(),
            name: String::new(),
        },
        genres: Vec::new(),
        year: None,
        track_number: None,
        disc_number: None,
        duration_ms: 0,
        format: String::new(),
        bitrate_kbps: None,
        path: String::new(),
        available: false,
    }
}

/// A user from a `LEFT JOIN users` column pair.
pub(crate) fn user_ref(id: String, username: Option<String>) -> UserRef {
    UserRef {
        id: UserId(id),
        username: username.unwrap_or_else(|| "unknown".into()),
    }
}

/// Rows of a many-row statement per chunk: SQLite allows 32,766 parameters per statement.
pub(crate) const ROWS_PER_STATEMENT: usize = 1000;

/// Known tracks among `ids`, by id.
pub(crate) async fn tracks_by_id(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<HashMap<String, TrackInfo>, sqlx::Error> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT {TRACK_COLUMNS} FROM tracks t WHERE t.id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let track = track_from_row(&row, "")?;
            out.insert(track.id.clone(), track);
        }
    }
    Ok(out)
}

pub(crate) fn millis(row: &AnyRow, column: &str) -> Result<Timestamp, sqlx::Error> {
    Ok(Timestamp::from_millis(row.try_get(column)?))
}
