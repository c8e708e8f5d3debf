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

/// Artists and albums already written in this run.
#[derive(Debug, Default)]
pub struct WriteCache {
    artists: std::collections::HashSet<String>,
    albums: std::collections::HashSet<String>,
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

    /// Inserts or updates tracks with their artists, albums and genres, a few statements per
    /// few hundred tracks. A removed track that comes back is live again. `written` remembers
    /// the artists and albums already written in this run, so a scan writes each once; a track
    /// marked fresh is new, with no old artists or genres to replace.
    pub async fn write_tracks(
        conn: &mut AnyConnection,
        tracks: &[(TrackWrite, bool)],
        now: Timestamp,
        written: &mut WriteCache,
    ) -> Result<(), sqlx::Error> {
        let mut artists = Rows::new(
            "INSERT INTO artists (id, name, sort_name) VALUES",
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, sort_name = excluded.sort_name",
        );
        let mut albums = Rows::new(
            "INSERT INTO albums (id, title, sort_title, year, mb_album_id, compilation, created_at) VALUES",
            // The id comes from the normalized identity: a retag that changes only the title's
            // case or the compilation flag keeps the album and shows the new spelling.
            "ON CONFLICT (id) DO UPDATE SET title = excluded.title, sort_title = excluded.sort_title, \
             compilation = excluded.compilation, mb_album_id = COALESCE(excluded.mb_album_id, albums.mb_album_id)",
        );
        let mut album_artists = Rows::new(
            "INSERT INTO album_artists (album_id, artist_id, position) VALUES",
            "ON CONFLICT DO NOTHING",
        );
        let mut rows = Rows::new(
            "INSERT INTO tracks (id, library, path, size, mtime, title, sort_title, album_id, track_number, \
             disc_number, year, date, duration_ms, bitrate_kbps, sample_rate, channels, format, mb_recording_id, \
             mb_track_id, rg_track_gain, rg_track_peak, rg_album_gain, rg_album_peak, lyrics, created_at, \
             updated_at) VALUES",
            "ON CONFLICT (id) DO UPDATE SET library = excluded.library, path = excluded.path, size = excluded.size, \
             mtime = excluded.mtime, title = excluded.title, sort_title = excluded.sort_title, \
             album_id = excluded.album_id, track_number = excluded.track_number, disc_number = excluded.disc_number, \
             year = excluded.year, date = excluded.date, duration_ms = excluded.duration_ms, \
             bitrate_kbps = excluded.bitrate_kbps, sample_rate = excluded.sample_rate, channels = excluded.channels, \
             format = excluded.format, mb_recording_id = excluded.mb_recording_id, mb_track_id = excluded.mb_track_id, \
             rg_track_gain = excluded.rg_track_gain, rg_track_peak = excluded.rg_track_peak, \
             rg_album_gain = excluded.rg_album_gain, rg_album_peak = excluded.rg_album_peak, lyrics = excluded.lyrics, \
             updated_at = excluded.updated_at, removed_at = NULL",
        );
        let mut track_artists = Rows::new(
            "INSERT INTO track_artists (track_id, artist_id, position) VALUES",
            "ON CONFLICT DO NOTHING",
        );
        let mut track_genres = Rows::new(
            "INSERT INTO track_genres (track_id, genre, position) VALUES",
            "ON CONFLICT DO NOTHING",
        );
        let mut replaced: Vec<String> = Vec::new();
        for (t, fresh) in tracks {
            for (id, name) in t.artists.iter().chain(t.album_artists.iter()) {
                if written.artists.insert(id.clone()) {
                    artists.push(vec![
                        text(id),
                        text(name),
                        text(&crate::model::sort_key(name)),
                    ]);
                }
            }
            if written.albums.insert(t.album_id.clone()) {
                albums.push(vec![
                    text(&t.album_id),
                    text(&t.album_title),
                    text(&crate::model::sort_key(&t.album_title)),
                    Value::Int(t.tags.year),
                    Value::Text(t.tags.mb_album_id.clone()),
                    Value::Int(Some(i64::from(t.compilation))),
                    Value::Int(Some(now.millis())),
                ]);
                for (position, (artist_id, _)) in t.album_artists.iter().enumerate() {
                    album_artists.push(vec![
                        text(&t.album_id),
                        text(artist_id),
                        Value::Int(Some(position as i64)),
                    ]);
                }
            }
            let tags = &t.tags;
            rows.push(vec![
                text(&t.id),
                text(&t.library),
                text(&t.path),
                Value::Int(Some(t.size)),
                Value::Int(Some(t.mtime)),
                text(&t.title),
                text(&crate::model::sort_key(&t.title)),
                text(&t.album_id),
                Value::Int(tags.track_number),
                Value::Int(tags.disc_number),
                Value::Int(tags.year),
                Value::Text(tags.date.clone()),
                Value::Int(Some(tags.duration_ms)),
                Value::Int(tags.bitrate_kbps),
                Value::Int(tags.sample_rate),
                Value::Int(tags.channels),
                text(&t.format),
                Value::Text(tags.mb_recording_id.clone()),
                Value::Text(tags.mb_track_id.clone()),
                Value::Int(tags.rg_track_gain.map(centi)),
                Value::Int(tags.rg_track_peak.map(micro)),
                Value::Int(tags.rg_album_gain.map(centi)),
                Value::Int(tags.rg_album_peak.map(micro)),
                Value::Text(tags.lyrics.clone()),
                Value::Int(Some(now.millis())),
                Value::Int(Some(now.millis())),
            ]);
            if !fresh {
                replaced.push(t.id.clone());
            }
            for (position, (artist_id, _)) in t.artists.iter().enumerate() {
                track_artists.push(vec![
                    text(&t.id),
                    text(artist_id),
                    Value::Int(Some(position as i64)),
                ]);
            }
            for (position, genre) in tags.genres.iter().enumerate() {
                track_genres.push(vec![
                    text(&t.id),
                    text(genre),
                    Value::Int(Some(position as i64)),
                ]);
            }
        }
        artists.execute(conn).await?;
        albums.execute(conn).await?;
        album_artists.execute(conn).await?;
        rows.execute(conn).await?;
        for table in ["track_artists", "track_genres"] {
            for chunk in replaced.chunks(500) {
                let sql = format!(
                    "DELETE FROM {table} WHERE track_id IN ({})",
                    placeholders(1, chunk.len())
                );
                let mut query = sqlx::query(&sql);
                for id in chunk {
                    query = query.bind(id);
                }
                query.execute(&mut *conn).await?;
            }
        }
        track_artists.execute(conn).await?;
        track_genres.execute(conn).await?;
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
    /// gives each album the earliest year of its tracks. Counted in one pass per table (an
    /// artist's live tracks as all its tracks less its removed ones, which are few: joining
    /// every credit to its track cost more than the rest together), and only rows whose
    /// figures changed are written: an unchanged rescan writes nothing.
    pub async fn refresh_aggregates(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        for sql in [
            "UPDATE albums SET track_count = s.tracks, duration_ms = s.duration_ms, year = s.year \
             FROM (SELECT a.id AS id, COUNT(t.id) AS tracks, \
                          COALESCE(CAST(SUM(t.duration_ms) AS BIGINT), 0) AS duration_ms, \
                          MIN(t.year) AS year \
                   FROM albums a LEFT JOIN tracks t ON t.album_id = a.id AND t.removed_at IS NULL \
                   GROUP BY a.id) AS s \
             WHERE albums.id = s.id AND (albums.track_count IS DISTINCT FROM s.tracks \
               OR albums.duration_ms IS DISTINCT FROM s.duration_ms OR albums.year IS DISTINCT FROM s.year)",
            "DELETE FROM album_artists WHERE album_id IN (SELECT id FROM albums WHERE track_count = 0)",
            "DELETE FROM albums WHERE track_count = 0",
            "UPDATE artists SET track_count = s.tracks, album_count = s.albums \
             FROM (SELECT ar.id AS id, COALESCE(every.n, 0) - COALESCE(gone.n, 0) AS tracks, \
                          COALESCE(ac.n, 0) AS albums \
                   FROM artists ar \
                   LEFT JOIN (SELECT artist_id AS id, COUNT(*) AS n FROM track_artists \
                              GROUP BY artist_id) AS every ON every.id = ar.id \
                   LEFT JOIN (SELECT artist_id AS id, COUNT(*) AS n FROM track_artists \
                              WHERE track_id IN (SELECT id FROM tracks WHERE removed_at IS NOT NULL) \
                              GROUP BY artist_id) AS gone ON gone.id = ar.id \
                   LEFT JOIN (SELECT artist_id AS id, COUNT(*) AS n FROM album_artists \
                              GROUP BY artist_id) AS ac ON ac.id = ar.id) AS s \
             WHERE artists.id = s.id AND (artists.track_count IS DISTINCT FROM s.tracks \
               OR artists.album_count IS DISTINCT FROM s.albums)",
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
        let listed: std::collections::HashSet<String> = ids.iter().cloned().collect();
        ids.extend(touched.iter().filter(|id| !listed.contains(*id)).cloned());
        Ok(ids)
    }

    /// The folders of the given albums' live tracks, as (library, folder relative to it,
    /// ending in `/` or empty), per album.
    pub async fn album_folders_of(
        &self,
        album_ids: &[String],
    ) -> Result<Vec<(String, Vec<(String, String)>)>, sqlx::Error> {
        let mut by_album: std::collections::BTreeMap<String, Vec<(String, String)>> =
            Default::default();
        for chunk in album_ids.chunks(500) {
            // The folder is cut from the path here: in SQL (rtrim with the path's own
            // characters) it cost SQLite more than reading every path.
            let sql = format!(
                "SELECT album_id, library, path FROM tracks \
                 WHERE removed_at IS NULL AND album_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(self.db.pool()).await? {
                let path: String = row.try_get("path")?;
                let folder = path.rfind('/').map_or("", |slash| &path[..=slash]);
                let library: String = row.try_get("library")?;
                let folders = by_album.entry(row.try_get("album_id")?).or_default();
                if !folders.iter().any(|(l, f)| *l == library && f == folder) {
                    folders.push((library, folder.to_string()));
                }
            }
        }
        for folders in by_album.values_mut() {
            folders.sort();
        }
        Ok(by_album.into_iter().collect())
    }

    /// Live tracks of the given albums as (id, library, path), in disc/track order.
    pub async fn album_files_of(
        &self,
        album_ids: &[String],
    ) -> Result<Vec<(String, Vec<(String, String, String)>)>, sqlx::Error> {
        let mut by_album: std::collections::BTreeMap<String, Vec<(String, String, String)>> =
            Default::default();
        for chunk in album_ids.chunks(500) {
            let sql = format!(
                "SELECT album_id, id, library, path FROM tracks WHERE removed_at IS NULL AND album_id IN ({}) \
                 ORDER BY album_id, COALESCE(disc_number, 1), COALESCE(track_number, 100000), sort_title",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(self.db.pool()).await? {
                by_album.entry(row.try_get("album_id")?).or_default().push((
                    row.try_get("id")?,
                    row.try_get("library")?,
                    row.try_get("path")?,
                ));
            }
        }
        Ok(by_album.into_iter().collect())
    }

    /// Sets each album's cover (folder image, track with a picture), in one transaction, a
    /// statement per thousand albums.
    pub async fn set_covers(
        &self,
        covers: &[(String, Option<String>, Option<String>)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        for chunk in covers.chunks(1000) {
            // Both backends name a VALUES list's columns column1, column2, ...
            let sql = format!(
                "UPDATE albums SET cover_path = v.column2, cover_track_id = v.column3 \
                 FROM (VALUES {}) AS v WHERE albums.id = v.column1",
                beatstream_db::value_rows(&tx, chunk.len(), 3)
            );
            let mut query = sqlx::query(&sql);
            for (album_id, cover_path, cover_track_id) in chunk {
                query = query
                    .bind(album_id)
                    .bind(cover_path.clone())
                    .bind(cover_track_id.clone());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await
    }
}

/// A value bound into a multi-row statement.
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

fn text(value: &str) -> Value {
    Value::Text(Some(value.to_string()))
}

/// Rows of one multi-row `INSERT`, sent a few hundred at a time (within both backends'
/// parameter limits).
struct Rows {
    head: &'static str,
    tail: &'static str,
    rows: Vec<Vec<Value>>,
}

const MAX_PARAMETERS: usize = 30_000;

impl Rows {
    fn new(head: &'static str, tail: &'static str) -> Self {
        Rows {
            head,
            tail,
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    async fn execute(self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        let Some(width) = self.rows.first().map(Vec::len) else {
            return Ok(());
        };
        for chunk in self.rows.chunks((MAX_PARAMETERS / width).max(1)) {
            let values = beatstream_db::value_rows(conn, chunk.len(), width);
            let sql = format!("{} {} {}", self.head, values, self.tail);
            let mut query = sqlx::query(&sql);
            for value in chunk.iter().flatten() {
                query = match value {
                    Value::Text(v) => query.bind(v.clone()),
                    Value::Int(v) => query.bind(*v),
                };
            }
            query.execute(&mut *conn).await?;
        }
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
