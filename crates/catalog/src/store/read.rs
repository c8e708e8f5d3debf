//! Reads: artists, albums, tracks and genres for browsing, streaming and covers.

use std::collections::HashMap;

use beatstream_core::{Page, Timestamp};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{placeholders, CatalogStore};
use crate::format::AudioFormat;
use crate::model::{Album, AlbumRef, AlbumSort, Artist, ArtistRef, Genre, Track};

/// Filters of the album list.
#[derive(Debug, Clone, Default)]
pub struct AlbumFilter {
    pub genre: Option<String>,
    pub artist_id: Option<String>,
    /// Years, both ends included; an album without a year is outside any range.
    pub from_year: Option<i64>,
    pub to_year: Option<i64>,
}

/// The live albums `filter` lets through, as a query to add an order and a limit to.
fn albums_matching(filter: &AlbumFilter) -> Sql {
    let mut sql = Sql::new(&format!(
        "SELECT {ALBUM_COLUMNS} FROM albums a WHERE a.track_count > 0"
    ));
    if let Some(genre) = &filter.genre {
        let g = sql.arg(Arg::Text(genre.to_lowercase()));
        sql.push(&format!(
            " AND a.id IN (SELECT t.album_id FROM tracks t JOIN track_genres g ON g.track_id = t.id \
             WHERE LOWER(g.genre) = {g} AND t.removed_at IS NULL)"
        ));
    }
    if let Some(artist_id) = &filter.artist_id {
        let ar = sql.arg(Arg::Text(artist_id.clone()));
        sql.push(&format!(
            " AND a.id IN (SELECT album_id FROM album_artists WHERE artist_id = {ar})"
        ));
    }
    sql.year_range("a.year", filter.from_year, filter.to_year);
    sql
}

/// Filters of the track list.
#[derive(Debug, Clone, Default)]
pub struct TrackFilter {
    pub album_id: Option<String>,
    pub artist_id: Option<String>,
    pub genre: Option<String>,
}

/// Cursor keys are two parts, joined by a separator no tag value contains after cleaning.
const KEY_SEP: char = '\u{1f}';

pub fn cursor_key(a: &str, b: &str) -> String {
    format!("{a}{KEY_SEP}{b}")
}

fn split_cursor(key: &str) -> Option<(String, String)> {
    key.split_once(KEY_SEP)
        .map(|(a, b)| (a.to_string(), b.to_string()))
}

/// A query under construction: SQL text plus its arguments, numbered as they are added.
struct Sql {
    text: String,
    args: Vec<Arg>,
}

enum Arg {
    Text(String),
    Int(i64),
}

impl Sql {
    fn new(text: &str) -> Self {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Adds an argument and returns its placeholder.
    fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// `AND column >= from AND column <= to`, for the ends given (a row without a year is
    /// outside any range).
    fn year_range(&mut self, column: &str, from: Option<i64>, to: Option<i64>) {
        for (end, op) in [(from, ">="), (to, "<=")] {
            if let Some(year) = end {
                let p = self.arg(Arg::Int(year));
                self.push(&format!(" AND {column} {op} {p}"));
            }
        }
    }

    async fn fetch_all(self, store: &CatalogStore) -> Result<Vec<AnyRow>, sqlx::Error> {
        let mut query = sqlx::query(&self.text);
        for arg in self.args {
            query = match arg {
                Arg::Text(s) => query.bind(s),
                Arg::Int(i) => query.bind(i),
            };
        }
        query.fetch_all(store.db.pool()).await
    }
}

const TRACK_COLUMNS: &str = "t.id, t.title, t.album_id, a.title AS album_title, t.track_number, t.disc_number, \
    t.year, t.duration_ms, t.bitrate_kbps, t.sample_rate, t.channels, t.format, t.size, t.mtime, \
    t.mb_recording_id, t.rg_track_gain, t.rg_album_gain, t.lyrics IS NOT NULL AS has_lyrics, t.created_at";

const ALBUM_COLUMNS: &str =
    "a.id, a.title, a.year, a.track_count, a.duration_ms, a.compilation, a.mb_album_id, \
    a.cover_path, a.cover_track_id, a.created_at, a.sort_title";

impl CatalogStore {
    pub async fn list_artists(&self, page: &Page) -> Result<Vec<(Artist, String)>, sqlx::Error> {
        let mut sql = Sql::new(
            "SELECT id, name, sort_name, album_count, track_count, mb_artist_id FROM artists",
        );
        if let Some((sort, id)) = page.after.as_deref().and_then(split_cursor) {
            let (s, i) = (sql.arg(Arg::Text(sort)), sql.arg(Arg::Text(id)));
            sql.push(&format!(" WHERE (sort_name, id) > ({s}, {i})"));
        }
        let limit = sql.arg(Arg::Int(i64::from(page.limit) + 1));
        sql.push(&format!(" ORDER BY sort_name, id LIMIT {limit}"));
        let rows = sql.fetch_all(self).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    artist_from_row(row)?,
                    cursor_key(
                        &row.try_get::<String, _>("sort_name")?,
                        &row.try_get::<String, _>("id")?,
                    ),
                ))
            })
            .collect()
    }

    pub async fn artist(&self, id: &str) -> Result<Option<Artist>, sqlx::Error> {
        sqlx::query(
            "SELECT id, name, album_count, track_count, mb_artist_id FROM artists WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?
        .as_ref()
        .map(artist_from_row)
        .transpose()
    }

    pub async fn list_albums(
        &self,
        sort: AlbumSort,
        filter: &AlbumFilter,
        page: &Page,
    ) -> Result<Vec<(Album, String)>, sqlx::Error> {
        let mut sql = albums_matching(filter);
        let cursor = page.after.as_deref().and_then(split_cursor);
        let order = match sort {
            AlbumSort::Name => {
                if let Some((sort_title, id)) = cursor {
                    let (s, i) = (sql.arg(Arg::Text(sort_title)), sql.arg(Arg::Text(id)));
                    sql.push(&format!(" AND (a.sort_title, a.id) > ({s}, {i})"));
                }
                "a.sort_title, a.id"
            }
            AlbumSort::Newest => {
                if let Some((created, id)) = cursor {
                    let created = created.parse::<i64>().unwrap_or(i64::MAX);
                    let (c, i) = (sql.arg(Arg::Int(created)), sql.arg(Arg::Text(id)));
                    sql.push(&format!(" AND (a.created_at, a.id) < ({c}, {i})"));
                }
                "a.created_at DESC, a.id DESC"
            }
            AlbumSort::Year => {
                if let Some((year, id)) = cursor {
                    let year = year.parse::<i64>().unwrap_or(0);
                    let (y, i) = (sql.arg(Arg::Int(year)), sql.arg(Arg::Text(id)));
                    sql.push(&format!(
                        " AND (COALESCE(a.year, 99999), a.id) > ({y}, {i})"
                    ));
                }
                "COALESCE(a.year, 99999), a.id"
            }
        };
        let limit = sql.arg(Arg::Int(i64::from(page.limit) + 1));
        sql.push(&format!(" ORDER BY {order} LIMIT {limit}"));
        let rows = sql.fetch_all(self).await?;
        let mut albums = Vec::with_capacity(rows.len());
        for row in &rows {
            let album = album_from_row(row)?;
            let key = match sort {
                AlbumSort::Name => cursor_key(&row.try_get::<String, _>("sort_title")?, &album.id),
                AlbumSort::Newest => cursor_key(&album.created_at.millis().to_string(), &album.id),
                AlbumSort::Year => cursor_key(&album.year.unwrap_or(99999).to_string(), &album.id),
            };
            albums.push((album, key));
        }
        self.fill_album_details(&mut albums).await?;
        Ok(albums)
    }

    /// Up to `limit` albums in random order, of those `filter` lets through.
    pub async fn random_albums(
        &self,
        filter: &AlbumFilter,
        limit: u32,
    ) -> Result<Vec<Album>, sqlx::Error> {
        let mut sql = albums_matching(filter);
        let limit = sql.arg(Arg::Int(i64::from(limit)));
        sql.push(&format!(" ORDER BY RANDOM() LIMIT {limit}"));
        let rows = sql.fetch_all(self).await?;
        let mut albums = Vec::with_capacity(rows.len());
        for row in &rows {
            albums.push((album_from_row(row)?, String::new()));
        }
        self.fill_album_details(&mut albums).await?;
        Ok(albums.into_iter().map(|(album, _)| album).collect())
    }

    pub async fn album(&self, id: &str) -> Result<Option<Album>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {ALBUM_COLUMNS} FROM albums a WHERE a.id = $1 AND a.track_count > 0"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut albums = vec![(album_from_row(&row)?, String::new())];
        self.fill_album_details(&mut albums).await?;
        Ok(albums.pop().map(|(album, _)| album))
    }

    async fn fill_album_details(&self, albums: &mut [(Album, String)]) -> Result<(), sqlx::Error> {
        let ids: Vec<String> = albums.iter().map(|(a, _)| a.id.clone()).collect();
        let artists = self.refs_for("album_artists", "album_id", &ids).await?;
        let genres = self.album_genres(&ids).await?;
        for (album, _) in albums.iter_mut() {
            album.artists = artists.get(&album.id).cloned().unwrap_or_default();
            album.genres = genres.get(&album.id).cloned().unwrap_or_default();
        }
        Ok(())
    }

    /// Rows of `sql` (whose `{ids}` is replaced by an `IN` list) for `ids`, a few hundred at a
    /// time, grouped by the column `owner`, each row mapped by `item`.
    async fn grouped<T>(
        &self,
        sql: &str,
        ids: &[String],
        item: impl Fn(&AnyRow) -> Result<T, sqlx::Error>,
    ) -> Result<HashMap<String, Vec<T>>, sqlx::Error> {
        let mut out: HashMap<String, Vec<T>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let sql = sql.replace("{ids}", &placeholders(1, chunk.len()));
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(self.db.pool()).await? {
                out.entry(row.try_get("owner")?)
                    .or_default()
                    .push(item(&row)?);
            }
        }
        Ok(out)
    }

    /// Artist refs of each owner id, in position order, from `album_artists` or `track_artists`.
    async fn refs_for(
        &self,
        table: &str,
        owner: &str,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<ArtistRef>>, sqlx::Error> {
        let sql = format!(
            "SELECT x.{owner} AS owner, ar.id, ar.name FROM {table} x JOIN artists ar ON ar.id = x.artist_id \
             WHERE x.{owner} IN ({{ids}}) ORDER BY x.{owner}, x.position"
        );
        self.grouped(&sql, ids, |row| {
            Ok(ArtistRef {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
            })
        })
        .await
    }

    async fn album_genres(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<String>>, sqlx::Error> {
        let sql = "SELECT DISTINCT t.album_id AS owner, g.genre FROM tracks t JOIN track_genres g ON g.track_id = t.id \
                   WHERE t.removed_at IS NULL AND t.album_id IN ({ids}) ORDER BY t.album_id, g.genre";
        self.grouped(sql, ids, |row| row.try_get("genre")).await
    }

    async fn track_genres(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<String>>, sqlx::Error> {
        let sql = "SELECT track_id AS owner, genre FROM track_genres WHERE track_id IN ({ids}) ORDER BY track_id, position";
        self.grouped(sql, ids, |row| row.try_get("genre")).await
    }

    /// Up to `limit` live tracks in random order, of a genre and within years when given (a
    /// year range leaves out tracks without a year).
    pub async fn random_tracks(
        &self,
        genre: Option<&str>,
        years: (Option<i64>, Option<i64>),
        limit: u32,
    ) -> Result<Vec<Track>, sqlx::Error> {
        let mut sql = Sql::new(&format!(
            "SELECT {TRACK_COLUMNS}, t.sort_title FROM tracks t JOIN albums a ON a.id = t.album_id WHERE t.removed_at IS NULL"
        ));
        if let Some(genre) = genre {
            let p = sql.arg(Arg::Text(genre.to_lowercase()));
            sql.push(&format!(
                " AND t.id IN (SELECT track_id FROM track_genres WHERE LOWER(genre) = {p})"
            ));
        }
        sql.year_range("t.year", years.0, years.1);
        let limit = sql.arg(Arg::Int(i64::from(limit)));
        sql.push(&format!(" ORDER BY RANDOM() LIMIT {limit}"));
        let rows = sql.fetch_all(self).await?;
        let mut tracks = Vec::with_capacity(rows.len());
        for row in &rows {
            tracks.push((track_from_row(row)?, String::new()));
        }
        self.fill_track_details(&mut tracks).await?;
        Ok(tracks.into_iter().map(|(track, _)| track).collect())
    }

    pub async fn list_tracks(
        &self,
        filter: &TrackFilter,
        page: &Page,
    ) -> Result<Vec<(Track, String)>, sqlx::Error> {
        let mut sql = Sql::new(&format!(
            "SELECT {TRACK_COLUMNS}, t.sort_title FROM tracks t JOIN albums a ON a.id = t.album_id WHERE t.removed_at IS NULL"
        ));
        if let Some(album_id) = &filter.album_id {
            let p = sql.arg(Arg::Text(album_id.clone()));
            sql.push(&format!(" AND t.album_id = {p}"));
        }
        if let Some(artist_id) = &filter.artist_id {
            let p = sql.arg(Arg::Text(artist_id.clone()));
            sql.push(&format!(
                " AND t.id IN (SELECT track_id FROM track_artists WHERE artist_id = {p})"
            ));
        }
        if let Some(genre) = &filter.genre {
            let p = sql.arg(Arg::Text(genre.to_lowercase()));
            sql.push(&format!(
                " AND t.id IN (SELECT track_id FROM track_genres WHERE LOWER(genre) = {p})"
            ));
        }
        if let Some((sort_title, id)) = page.after.as_deref().and_then(split_cursor) {
            let (s, i) = (sql.arg(Arg::Text(sort_title)), sql.arg(Arg::Text(id)));
            sql.push(&format!(" AND (t.sort_title, t.id) > ({s}, {i})"));
        }
        let limit = sql.arg(Arg::Int(i64::from(page.limit) + 1));
        sql.push(&format!(" ORDER BY t.sort_title, t.id LIMIT {limit}"));
        let rows = sql.fetch_all(self).await?;
        let mut tracks = Vec::with_capacity(rows.len());
        for row in &rows {
            let track = track_from_row(row)?;
            let key = cursor_key(&row.try_get::<String, _>("sort_title")?, &track.id);
            tracks.push((track, key));
        }
        self.fill_track_details(&mut tracks).await?;
        Ok(tracks)
    }

    /// An album's live tracks in disc and track order.
    pub async fn album_tracks(&self, album_id: &str) -> Result<Vec<Track>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {TRACK_COLUMNS} FROM tracks t JOIN albums a ON a.id = t.album_id \
             WHERE t.album_id = $1 AND t.removed_at IS NULL \
             ORDER BY COALESCE(t.disc_number, 1), COALESCE(t.track_number, 100000), t.sort_title, t.id"
        ))
        .bind(album_id)
        .fetch_all(self.db.pool())
        .await?;
        let mut tracks: Vec<(Track, String)> = rows
            .iter()
            .map(|r| Ok((track_from_row(r)?, String::new())))
            .collect::<Result<_, sqlx::Error>>()?;
        self.fill_track_details(&mut tracks).await?;
        Ok(tracks.into_iter().map(|(t, _)| t).collect())
    }

    /// One track, live or not (a removed track is still known, for its id's sake).
    pub async fn track(&self, id: &str) -> Result<Option<(Track, bool)>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {TRACK_COLUMNS}, t.removed_at FROM tracks t JOIN albums a ON a.id = t.album_id WHERE t.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let removed = row.try_get::<Option<i64>, _>("removed_at")?.is_some();
        let mut tracks = vec![(track_from_row(&row)?, String::new())];
        self.fill_track_details(&mut tracks).await?;
        Ok(tracks.pop().map(|(t, _)| (t, removed)))
    }

    /// Live tracks with their relative paths, for other services' read models: the ones among
    /// `ids` (any order), or else up to `limit` in id order after `after`.
    pub async fn live_tracks_with_paths(
        &self,
        ids: Option<&[String]>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<(Track, String)>, sqlx::Error> {
        let mut rows = Vec::new();
        match ids {
            Some(ids) => {
                for chunk in ids.chunks(500) {
                    let sql = format!(
                        "SELECT {TRACK_COLUMNS}, t.path FROM tracks t JOIN albums a ON a.id = t.album_id \
                         WHERE t.removed_at IS NULL AND t.id IN ({})",
                        placeholders(1, chunk.len())
                    );
                    let mut query = sqlx::query(&sql);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    rows.extend(query.fetch_all(self.db.pool()).await?);
                }
            }
            None => {
                rows = sqlx::query(&format!(
                    "SELECT {TRACK_COLUMNS}, t.path FROM tracks t JOIN albums a ON a.id = t.album_id \
                     WHERE t.removed_at IS NULL AND t.id > $1 ORDER BY t.id LIMIT $2"
                ))
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(self.db.pool())
                .await?;
            }
        }
        let mut tracks = rows
            .iter()
            .map(|row| Ok((track_from_row(row)?, row.try_get("path")?)))
            .collect::<Result<Vec<(Track, String)>, sqlx::Error>>()?;
        self.fill_track_details(&mut tracks).await?;
        Ok(tracks)
    }

    async fn fill_track_details(&self, tracks: &mut [(Track, String)]) -> Result<(), sqlx::Error> {
        let ids: Vec<String> = tracks.iter().map(|(t, _)| t.id.clone()).collect();
        let album_ids: Vec<String> = tracks.iter().map(|(t, _)| t.album.id.clone()).collect();
        let artists = self.refs_for("track_artists", "track_id", &ids).await?;
        let album_artists = self
            .refs_for("album_artists", "album_id", &album_ids)
            .await?;
        let genres = self.track_genres(&ids).await?;
        for (track, _) in tracks.iter_mut() {
            track.artists = artists.get(&track.id).cloned().unwrap_or_default();
            track.album_artists = album_artists
                .get(&track.album.id)
                .cloned()
                .unwrap_or_default();
            track.genres = genres.get(&track.id).cloned().unwrap_or_default();
        }
        Ok(())
    }

    /// Where a live track's bytes are: (library, path, format, size, mtime).
    pub async fn track_location(
        &self,
        id: &str,
    ) -> Result<Option<(String, String, String, i64, i64)>, sqlx::Error> {
        let row = sqlx::query("SELECT library, path, format, size, mtime FROM tracks WHERE id = $1 AND removed_at IS NULL")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(|row| {
            Ok((
                row.try_get("library")?,
                row.try_get("path")?,
                row.try_get("format")?,
                row.try_get("size")?,
                row.try_get("mtime")?,
            ))
        })
        .transpose()
    }

    pub async fn track_lyrics(&self, id: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT lyrics FROM tracks WHERE id = $1 AND removed_at IS NULL")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.and_then(|r| r.try_get::<Option<String>, _>("lyrics").ok().flatten()))
    }

    /// An album's cover source: (folder image path, track with a picture).
    pub async fn album_cover(
        &self,
        id: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>, sqlx::Error> {
        let row = sqlx::query("SELECT cover_path, cover_track_id FROM albums WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(|row| Ok((row.try_get("cover_path")?, row.try_get("cover_track_id")?)))
            .transpose()
    }

    pub async fn list_genres(&self) -> Result<Vec<Genre>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT MIN(g.genre) AS name, COUNT(*) AS n, COUNT(DISTINCT t.album_id) AS albums \
             FROM track_genres g JOIN tracks t ON t.id = g.track_id \
             WHERE t.removed_at IS NULL GROUP BY LOWER(g.genre) ORDER BY LOWER(g.genre)",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Genre {
                    name: row.try_get("name")?,
                    track_count: row.try_get("n")?,
                    album_count: row.try_get("albums")?,
                })
            })
            .collect()
    }
}

fn artist_from_row(row: &AnyRow) -> Result<Artist, sqlx::Error> {
    Ok(Artist {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        album_count: row.try_get("album_count")?,
        track_count: row.try_get("track_count")?,
        mb_artist_id: row.try_get("mb_artist_id")?,
    })
}

fn album_from_row(row: &AnyRow) -> Result<Album, sqlx::Error> {
    let cover_path: Option<String> = row.try_get("cover_path")?;
    let cover_track: Option<String> = row.try_get("cover_track_id")?;
    Ok(Album {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        artists: Vec::new(),
        year: row.try_get("year")?,
        genres: Vec::new(),
        track_count: row.try_get("track_count")?,
        duration_ms: row.try_get("duration_ms")?,
        compilation: row.try_get::<i64, _>("compilation")? != 0,
        mb_album_id: row.try_get("mb_album_id")?,
        has_cover: cover_path.is_some() || cover_track.is_some(),
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
    })
}

fn track_from_row(row: &AnyRow) -> Result<Track, sqlx::Error> {
    let format: String = row.try_get("format")?;
    Ok(Track {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        artists: Vec::new(),
        album: AlbumRef {
            id: row.try_get("album_id")?,
            title: row.try_get("album_title")?,
        },
        album_artists: Vec::new(),
        track_number: row.try_get("track_number")?,
        disc_number: row.try_get("disc_number")?,
        year: row.try_get("year")?,
        genres: Vec::new(),
        duration_ms: row.try_get("duration_ms")?,
        bitrate_kbps: row.try_get("bitrate_kbps")?,
        sample_rate: row.try_get("sample_rate")?,
        channels: row.try_get("channels")?,
        format: AudioFormat::parse(&format).unwrap_or(AudioFormat::Mp3),
        size: row.try_get("size")?,
        mtime: row.try_get("mtime")?,
        mb_recording_id: row.try_get("mb_recording_id")?,
        rg_track_gain: row
            .try_get::<Option<i64>, _>("rg_track_gain")?
            .map(|c| c as f64 / 100.0),
        rg_album_gain: row
            .try_get::<Option<i64>, _>("rg_album_gain")?
            .map(|c| c as f64 / 100.0),
        has_lyrics: row
            .try_get::<bool, _>("has_lyrics")
            .or_else(|_| row.try_get::<i64, _>("has_lyrics").map(|v| v != 0))?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
    })
}
