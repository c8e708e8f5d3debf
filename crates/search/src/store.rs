//! The search service's tables: read models of catalog tracks, plays and playlists as events
//! describe them, and `index_changes`, the ordered list of entries the index must rebuild.
//! Every write that changes what an entry shows appends to `index_changes` in the same
//! transaction, so the index can always catch up from the last change it applied.

use beatstream_core::Timestamp;
use beatstream_db::{value_rows, Db};
use beatstream_events::catalog::TrackSummary;
use beatstream_events::playlists::PlaylistChanged;
use sqlx::{AnyConnection, Row};

use crate::documents::artists_of;
use crate::schema::Kind;

/// Every transaction that appends to `index_changes` takes this lock, so on PostgreSQL
/// changes commit in the order of their sequence numbers and the index never skips one.
pub const CHANGES_LOCK: &str = "search.index_changes";

#[derive(Clone)]
pub struct SearchStore {
    db: Db,
}

/// One entry of the index to rebuild.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocRef {
    pub kind: Kind,
    pub id: String,
}

impl DocRef {
    pub fn new(kind: Kind, id: impl Into<String>) -> Self {
        Self {
            kind,
            id: id.into(),
        }
    }
}

fn refs_of_track(track: &TrackSummary, out: &mut Vec<DocRef>) {
    out.push(DocRef::new(Kind::Track, &track.track_id));
    if !track.album.id.is_empty() {
        out.push(DocRef::new(Kind::Album, &track.album.id));
    }
    for artist in artists_of(track) {
        out.push(DocRef::new(Kind::Artist, &artist.id));
    }
}

fn decode_track(summary: &str) -> Option<TrackSummary> {
    serde_json::from_str(summary).ok()
}

/// Rows of `summary` and `plays`; an unreadable summary is logged and skipped.
fn decode_rows(rows: &[sqlx::any::AnyRow]) -> Result<Vec<(TrackSummary, u64)>, sqlx::Error> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let summary: String = row.try_get("summary")?;
        match decode_track(&summary) {
            Some(track) => {
                let plays: i64 = row.try_get("plays")?;
                out.push((track, plays.max(0) as u64));
            }
            None => tracing::warn!("search: unreadable track summary skipped"),
        }
    }
    Ok(out)
}

impl SearchStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The track's row: its last event id and what it said, if any.
    async fn track_row(
        conn: &mut AnyConnection,
        track_id: &str,
    ) -> Result<Option<(String, Option<TrackSummary>)>, sqlx::Error> {
        let row = sqlx::query("SELECT event_id, summary, removed FROM tracks WHERE id = $1")
            .bind(track_id)
            .fetch_optional(conn)
            .await?;
        row.map(|row| {
            let removed: i64 = row.try_get("removed")?;
            let summary: String = row.try_get("summary")?;
            let summary = if removed == 0 {
                decode_track(&summary)
            } else {
                None
            };
            Ok((row.try_get("event_id")?, summary))
        })
        .transpose()
    }

    /// Records a track as of catalog event `event_id` ("" for what the catalog answered
    /// directly, which never replaces what an event said). Returns the entries it changes:
    /// the track, its album and artists, before and after. An event older than the last one
    /// applied to the track changes nothing (topics may arrive out of order).
    pub async fn upsert_track(
        conn: &mut AnyConnection,
        track: &TrackSummary,
        event_id: &str,
    ) -> Result<Vec<DocRef>, sqlx::Error> {
        let existing = Self::track_row(conn, &track.track_id).await?;
        let mut changed = Vec::new();
        let summary = serde_json::to_string(track).unwrap_or_default();
        if let Some((last, before)) = &existing {
            if event_id.is_empty() || last.as_str() > event_id {
                return Ok(changed);
            }
            if let Some(before) = before {
                // The same track as recorded (the first scan's events arriving after a rebuild
                // filled the model from the catalog): only the event id moves on, and the
                // index has nothing to do.
                if serde_json::to_string(before).unwrap_or_default() == summary {
                    sqlx::query("UPDATE tracks SET event_id = $1 WHERE id = $2")
                        .bind(event_id)
                        .bind(&track.track_id)
                        .execute(&mut *conn)
                        .await?;
                    return Ok(changed);
                }
                refs_of_track(before, &mut changed);
            }
        }
        sqlx::query(
            "INSERT INTO tracks (id, event_id, album_id, summary, removed) VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT (id) DO UPDATE SET event_id = excluded.event_id, album_id = excluded.album_id, \
             summary = excluded.summary, removed = 0",
        )
        .bind(&track.track_id)
        .bind(event_id)
        .bind(&track.album.id)
        .bind(&summary)
        .execute(&mut *conn)
        .await?;
        Self::set_track_artists(conn, track).await?;
        refs_of_track(track, &mut changed);
        Ok(changed)
    }

    async fn set_track_artists(
        conn: &mut AnyConnection,
        track: &TrackSummary,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM track_artists WHERE track_id = $1")
            .bind(&track.track_id)
            .execute(&mut *conn)
            .await?;
        let artists = artists_of(track);
        if artists.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO track_artists (artist_id, track_id) VALUES {}",
            value_rows(conn, artists.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for artist in artists {
            query = query.bind(&artist.id).bind(&track.track_id);
        }
        query.execute(conn).await?;
        Ok(())
    }

    /// Marks a track removed as of `event_id` (remembering the removal even for a track not
    /// heard of yet, so an older "added" arriving late does not bring it back).
    pub async fn remove_track(
        conn: &mut AnyConnection,
        track_id: &str,
        event_id: &str,
    ) -> Result<Vec<DocRef>, sqlx::Error> {
        let mut changed = Vec::new();
        match Self::track_row(conn, track_id).await? {
            Some((last, _)) if last.as_str() > event_id => return Ok(changed),
            Some((_, before)) => {
                match before {
                    Some(before) => refs_of_track(&before, &mut changed),
                    None => changed.push(DocRef::new(Kind::Track, track_id)),
                }
                sqlx::query("UPDATE tracks SET removed = 1, event_id = $2 WHERE id = $1")
                    .bind(track_id)
                    .bind(event_id)
                    .execute(&mut *conn)
                    .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO tracks (id, event_id, album_id, summary, removed) VALUES ($1, $2, '', '', 1)",
                )
                .bind(track_id)
                .bind(event_id)
                .execute(&mut *conn)
                .await?;
                changed.push(DocRef::new(Kind::Track, track_id));
            }
        }
        sqlx::query("DELETE FROM track_artists WHERE track_id = $1")
            .bind(track_id)
            .execute(conn)
            .await?;
        Ok(changed)
    }

    /// Counts one play of a track; its entries (track, album, artists) rank by plays.
    pub async fn add_play(
        conn: &mut AnyConnection,
        track_id: &str,
    ) -> Result<Vec<DocRef>, sqlx::Error> {
        sqlx::query(
            "INSERT INTO track_plays (track_id, plays) VALUES ($1, 1) \
             ON CONFLICT (track_id) DO UPDATE SET plays = track_plays.plays + 1",
        )
        .bind(track_id)
        .execute(&mut *conn)
        .await?;
        let mut changed = Vec::new();
        if let Some((_, Some(track))) = Self::track_row(conn, track_id).await? {
            refs_of_track(&track, &mut changed);
        }
        Ok(changed)
    }

    /// Records playlists (distinct) as their events describe them, unless a later version (or
    /// the deletion) of one is already known; 200 a statement. Returns the entries to rebuild.
    pub async fn upsert_playlists(
        conn: &mut AnyConnection,
        playlists: &[PlaylistChanged],
    ) -> Result<Vec<DocRef>, sqlx::Error> {
        let mut changed = Vec::new();
        for chunk in playlists.chunks(200) {
            let sql = format!(
                "INSERT INTO playlists (id, version, summary, deleted) VALUES {} \
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version, summary = excluded.summary \
                 WHERE playlists.deleted = 0 AND playlists.version < excluded.version \
                 RETURNING id",
                value_rows(conn, chunk.len(), 4)
            );
            let mut query = sqlx::query(&sql);
            for playlist in chunk {
                let summary = serde_json::to_string(playlist).unwrap_or_default();
                query = query
                    .bind(&playlist.playlist_id)
                    .bind(playlist.version)
                    .bind(summary)
                    .bind(0_i64);
            }
            for row in query.fetch_all(&mut *conn).await? {
                let id: String = row.try_get("id")?;
                changed.push(DocRef::new(Kind::Playlist, &id));
            }
        }
        Ok(changed)
    }

    pub async fn delete_playlist(
        conn: &mut AnyConnection,
        playlist_id: &str,
    ) -> Result<Vec<DocRef>, sqlx::Error> {
        sqlx::query(
            "INSERT INTO playlists (id, version, summary, deleted) VALUES ($1, 0, '', 1) \
             ON CONFLICT (id) DO UPDATE SET deleted = 1, summary = ''",
        )
        .bind(playlist_id)
        .execute(conn)
        .await?;
        Ok(vec![DocRef::new(Kind::Playlist, playlist_id)])
    }

    /// Appends entries to rebuild, each once.
    pub async fn push_changes(
        conn: &mut AnyConnection,
        changes: &[DocRef],
    ) -> Result<(), sqlx::Error> {
        let mut unique: Vec<&DocRef> = Vec::with_capacity(changes.len());
        for change in changes {
            if !unique.contains(&change) {
                unique.push(change);
            }
        }
        for chunk in unique.chunks(200) {
            let sql = format!(
                "INSERT INTO index_changes (kind, doc_id) VALUES {}",
                value_rows(conn, chunk.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for change in chunk {
                query = query.bind(change.kind.as_str()).bind(&change.id);
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Up to `limit` changes after `after`, in order.
    pub async fn changes_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, DocRef)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT seq, kind, doc_id FROM index_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let kind: String = row.try_get("kind")?;
            if let Some(kind) = Kind::parse(&kind) {
                out.push((
                    row.try_get("seq")?,
                    DocRef::new(kind, row.try_get::<String, _>("doc_id")?),
                ));
            }
        }
        Ok(out)
    }

    /// The last change recorded (0 if none).
    pub async fn last_change(&self) -> Result<i64, sqlx::Error> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM index_changes")
            .fetch_one(self.db.pool())
            .await?;
        row.try_get("seq")
    }

    /// Forgets changes up to `seq`, once every index that needs them has applied them.
    pub async fn prune_changes(&self, upto: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        sqlx::query("DELETE FROM index_changes WHERE seq <= $1")
            .bind(upto)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    async fn plays_of(conn: &mut AnyConnection, track_id: &str) -> Result<u64, sqlx::Error> {
        let row = sqlx::query("SELECT plays FROM track_plays WHERE track_id = $1")
            .bind(track_id)
            .fetch_optional(conn)
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64, _>("plays")?.max(0) as u64,
            None => 0,
        })
    }

    /// A live track with its plays.
    pub async fn track(&self, id: &str) -> Result<Option<(TrackSummary, u64)>, sqlx::Error> {
        let mut conn = self.db.pool().acquire().await?;
        match Self::track_row(&mut conn, id).await? {
            Some((_, Some(track))) => {
                let plays = Self::plays_of(&mut conn, id).await?;
                Ok(Some((track, plays)))
            }
            _ => Ok(None),
        }
    }

    async fn tracks_where(
        &self,
        sql: &str,
        id: &str,
    ) -> Result<Vec<(TrackSummary, u64)>, sqlx::Error> {
        let rows = sqlx::query(sql).bind(id).fetch_all(self.db.pool()).await?;
        decode_rows(&rows)
    }

    /// The live tracks of an album, with their plays.
    pub async fn album_tracks(
        &self,
        album_id: &str,
    ) -> Result<Vec<(TrackSummary, u64)>, sqlx::Error> {
        self.tracks_where(
            "SELECT t.summary, COALESCE(p.plays, 0) AS plays FROM tracks t \
             LEFT JOIN track_plays p ON p.track_id = t.id \
             WHERE t.album_id = $1 AND t.removed = 0",
            album_id,
        )
        .await
    }

    /// The live tracks that name an artist, with their plays.
    pub async fn artist_tracks(
        &self,
        artist_id: &str,
    ) -> Result<Vec<(TrackSummary, u64)>, sqlx::Error> {
        self.tracks_where(
            "SELECT t.summary, COALESCE(p.plays, 0) AS plays FROM track_artists a \
             JOIN tracks t ON t.id = a.track_id \
             LEFT JOIN track_plays p ON p.track_id = t.id \
             WHERE a.artist_id = $1 AND t.removed = 0",
            artist_id,
        )
        .await
    }

    /// Up to `limit` live tracks after id `after`, in id order, with their plays, and the id
    /// to continue after (`None` at the end).
    pub async fn tracks_page(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<(Vec<(TrackSummary, u64)>, Option<String>), sqlx::Error> {
        let rows = sqlx::query(
            "SELECT t.id, t.summary, COALESCE(p.plays, 0) AS plays FROM tracks t \
             LEFT JOIN track_plays p ON p.track_id = t.id \
             WHERE t.id > $1 AND t.removed = 0 ORDER BY t.id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        let next = match rows.last() {
            Some(row) => Some(row.try_get("id")?),
            None => None,
        };
        Ok((decode_rows(&rows)?, next))
    }

    pub async fn playlist(&self, id: &str) -> Result<Option<PlaylistChanged>, sqlx::Error> {
        let row = sqlx::query("SELECT summary FROM playlists WHERE id = $1 AND deleted = 0")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(match row {
            Some(row) => serde_json::from_str(&row.try_get::<String, _>("summary")?).ok(),
            None => None,
        })
    }

    /// Up to `limit` live playlists after id `after`, in id order.
    pub async fn playlists_page(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<PlaylistChanged>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT summary FROM playlists WHERE id > $1 AND deleted = 0 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let summary: String = row.try_get("summary")?;
            if let Ok(playlist) = serde_json::from_str(&summary) {
                out.push(playlist);
            }
        }
        Ok(out)
    }

    /// Asks whoever holds the index (a running server) to rebuild it.
    pub async fn request_reindex(&self, id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        sqlx::query("INSERT INTO reindex_requests (id, requested_at) VALUES ($1, $2)")
            .bind(id)
            .bind(Timestamp::now().millis())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Requests not finished yet.
    pub async fn pending_reindex(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query("SELECT id FROM reindex_requests WHERE finished_at IS NULL")
            .fetch_all(self.db.pool())
            .await?
            .into_iter()
            .map(|row| row.try_get("id"))
            .collect()
    }

    pub async fn finish_reindex(&self, ids: &[String], documents: u64) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        for id in ids {
            sqlx::query(
                "UPDATE reindex_requests SET finished_at = $2, documents = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(Timestamp::now().millis())
            .bind(documents as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// `Some(documents)` once the request is done.
    pub async fn reindex_result(&self, id: &str) -> Result<Option<u64>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT documents FROM reindex_requests WHERE id = $1 AND finished_at IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(match row {
            Some(row) => Some(
                row.try_get::<Option<i64>, _>("documents")?
                    .unwrap_or(0)
                    .max(0) as u64,
            ),
            None => None,
        })
    }
}
