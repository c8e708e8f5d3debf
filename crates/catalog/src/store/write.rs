//! Writes: what a scan or an upload changes, and the bookkeeping after a scan.

use beatstream_core::Timestamp;
use sqlx::{AnyConnection, Row};

use super::{placeholders, CatalogStore};
use crate::tags::FileTags;

/// A file the catalog already knows.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedFile {
    pub id: String,
    pub library: String,
    pub path: String,
    pub size: i64,
    pub mtime: i64,
    pub removed: bool,
    pub title: String,
    pub duration_ms: i64,
}

/// One track to insert or update, with its resolved album and artists.
#[derive(Debug, Clone)]
pub struct TrackWrite {
    pub id: String,
    pub library: String,
    pub path: String,
    pub size: i64,
    pub mtime: i64,
    pub title: String,
    pub album_id: String,
    pub album_title: String,
    pub album_artists: Vec<(String, String)>,
    pub artists: Vec<(String, String)>,
    pub compilation: bool,
    pub tags: FileTags,
    pub format: String,
}

impl CatalogStore {
    pub async fn file_index(&self) -> Result<Vec<IndexedFile>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, library, path, size, mtime, removed_at, title, duration_ms FROM tracks",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(IndexedFile {
                    id: row.try_get("id")?,
                    library: row.try_get("library")?,
                    path: row.try_get("path")?,
                    size: row.try_get("size")?,
                    mtime: row.try_get("mtime")?,
                    removed: row.try_get::<Option<i64>, _>("removed_at")?.is_some(),
                    title: row.try_get("title")?,
                    duration_ms: row.try_get("duration_ms")?,
                })
            })
            .collect()
    }

    /// Inserts or updates one track with its artists, album and genres. A removed track that
    /// comes back is live again.
    pub async fn write_track(
        conn: &mut AnyConnection,
        t: &TrackWrite,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        for (id, name) in t.artists.iter().chain(t.album_artists.iter()) {
            sqlx::query(
                "INSERT INTO artists (id, name, sort_name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(name)
            .bind(crate::model::sort_key(name))
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query(
            "INSERT INTO albums (id, title, sort_title, year, mb_album_id, compilation, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&t.album_id)
        .bind(&t.album_title)
        .bind(crate::model::sort_key(&t.album_title))
        .bind(t.tags.year)
        .bind(t.tags.mb_album_id.clone())
        .bind(i64::from(t.compilation))
        .bind(now.millis())
        .execute(&mut *conn)
        .await?;
        for (position, (artist_id, _)) in t.album_artists.iter().enumerate() {
            sqlx::query(
                "INSERT INTO album_artists (album_id, artist_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(&t.album_id)
            .bind(artist_id)
            .bind(position as i64)
            .execute(&mut *conn)
            .await?;
        }
        let tags = &t.tags;
        sqlx::query(
            "INSERT INTO tracks (id, library, path, size, mtime, title, sort_title, album_id, track_number, \
             disc_number, year, date, duration_ms, bitrate_kbps, sample_rate, channels, format, mb_recording_id, \
             mb_track_id, rg_track_gain, rg_track_peak, rg_album_gain, rg_album_peak, lyrics, created_at, \
             updated_at, removed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
             $21, $22, $23, $24, $25, $25, NULL) \
             ON CONFLICT (id) DO UPDATE SET library = excluded.library, path = excluded.path, size = excluded.size, \
             mtime = excluded.mtime, title = excluded.title, sort_title = excluded.sort_title, \
             album_id = excluded.album_id, track_number = excluded.track_number, disc_number = excluded.disc_number, \
             year = excluded.year, date = excluded.date, duration_ms = excluded.duration_ms, \
             bitrate_kbps = excluded.bitrate_kbps, sample_rate = excluded.sample_rate, channels = excluded.channels, \
             format = excluded.format, mb_recording_id = excluded.mb_recording_id, mb_track_id = excluded.mb_track_id, \
             rg_track_gain = excluded.rg_track_gain, rg_track_peak = excluded.rg_track_peak, \
             rg_album_gain = excluded.rg_album_gain, rg_album_peak = excluded.rg_album_peak, lyrics = excluded.lyrics, \
             updated_at = excluded.updated_at, removed_at = NULL",
        )
        .bind(&t.id)
        .bind(&t.library)
        .bind(&t.path)
        .bind(t.size)
        .bind(t.mtime)
        .bind(&t.title)
        .bind(crate::model::sort_key(&t.title))
        .bind(&t.album_id)
        .bind(tags.track_number)
        .bind(tags.disc_number)
        .bind(tags.year)
        .bind(tags.date.clone())
        .bind(tags.duration_ms)
        .bind(tags.bitrate_kbps)
        .bind(tags.sample_rate)
        .bind(tags.channels)
        .bind(&t.format)
        .bind(tags.mb_recording_id.clone())
        .bind(tags.mb_track_id.clone())
        .bind(tags.rg_track_gain.map(centi))
        .bind(tags.rg_track_peak.map(micro))
        .bind(tags.rg_album_gain.map(centi))
        .bind(tags.rg_album_peak.map(micro))
        .bind(tags.lyrics.clone())
        .bind(now.millis())
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM track_artists WHERE track_id = $1")
            .bind(&t.id)
            .execute(&mut *conn)
            .await?;
        for (position, (artist_id, _)) in t.artists.iter().enumerate() {
            sqlx::query(
                "INSERT INTO track_artists (track_id, artist_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(&t.id)
            .bind(artist_id)
            .bind(position as i64)
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query("DELETE FROM track_genres WHERE track_id = $1")
            .bind(&t.id)
            .execute(&mut *conn)
            .await?;
        for (position, genre) in tags.genres.iter().enumerate() {
            sqlx::query(
                "INSERT INTO track_genres (track_id, genre, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(&t.id)
            .bind(genre)
            .bind(position as i64)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Marks tracks removed (kept, so a file that comes back gets its old id).
    pub async fn mark_removed(
        conn: &mut AnyConnection,
        ids: &[String],
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        for chunk in ids.chunks(500) {
            let sql = format!(
                "UPDATE tracks SET removed_at = $1 WHERE removed_at IS NULL AND id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(now.millis());
            for id in chunk {
                query = query.bind(id);
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// After a scan: recounts albums and artists, drops those left without live tracks, and
    /// gives each album the earliest year of its tracks.
    pub async fn refresh_aggregates(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        for sql in [
            "UPDATE albums SET \
               track_count = (SELECT COUNT(*) FROM tracks t WHERE t.album_id = albums.id AND t.removed_at IS NULL), \
               duration_ms = COALESCE((SELECT CAST(SUM(t.duration_ms) AS BIGINT) FROM tracks t \
                                       WHERE t.album_id = albums.id AND t.removed_at IS NULL), 0), \
               year = (SELECT MIN(t.year) FROM tracks t WHERE t.album_id = albums.id AND t.removed_at IS NULL)",
            "DELETE FROM album_artists WHERE album_id IN (SELECT id FROM albums WHERE track_count = 0)",
            "DELETE FROM albums WHERE track_count = 0",
            "UPDATE artists SET \
               track_count = (SELECT COUNT(*) FROM track_artists ta JOIN tracks t ON t.id = ta.track_id \
                              WHERE ta.artist_id = artists.id AND t.removed_at IS NULL), \
               album_count = (SELECT COUNT(*) FROM album_artists aa WHERE aa.artist_id = artists.id)",
            "DELETE FROM artists WHERE track_count = 0 AND album_count = 0",
        ] {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await
    }

    /// Albums whose cover should be looked for: none yet, or touched by this scan.
    pub async fn albums_for_cover_search(
        &self,
        touched: &[String],
    ) -> Result<Vec<String>, sqlx::Error> {
        let mut ids: Vec<String> = sqlx::query(
            "SELECT id FROM albums WHERE cover_path IS NULL AND cover_track_id IS NULL",
        )
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(|row| row.try_get("id"))
        .collect::<Result<_, _>>()?;
        for id in touched {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        Ok(ids)
    }

    /// Live tracks of an album as (id, library, path), in disc/track order.
    pub async fn album_files(
        &self,
        album_id: &str,
    ) -> Result<Vec<(String, String, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, library, path FROM tracks WHERE album_id = $1 AND removed_at IS NULL \
             ORDER BY disc_number, track_number, sort_title",
        )
        .bind(album_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("id")?,
                    row.try_get("library")?,
                    row.try_get("path")?,
                ))
            })
            .collect()
    }

    pub async fn set_cover(
        &self,
        album_id: &str,
        cover_path: Option<&str>,
        cover_track_id: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE albums SET cover_path = $1, cover_track_id = $2 WHERE id = $3")
            .bind(cover_path.map(str::to_string))
            .bind(cover_track_id.map(str::to_string))
            .bind(album_id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}

/// Gains are stored in hundredths of a dB.
fn centi(db: f64) -> i64 {
    (db * 100.0).round() as i64
}

/// Peaks are stored in millionths of full scale.
fn micro(peak: f64) -> i64 {
    (peak * 1_000_000.0).round() as i64
}
