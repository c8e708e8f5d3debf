//! Playlists, their collaborators and their entries.

use std::collections::HashMap;

use beatstream_core::{Page, Timestamp, UserId};
use beatstream_db::{fetch_all_in, placeholders, value_rows, Backend};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{millis, track_from_row, user_ref, PlaylistsStore, ROWS_PER_STATEMENT, TRACK_COLUMNS};
use crate::model::{Entry, Playlist, UserRef};

const PLAYLIST_COLUMNS: &str =
    "p.id, p.owner_id, o.username AS owner_name, p.name, p.description, \
    p.public, p.collaborative, p.track_count, p.duration_ms, p.version, p.created_at, p.updated_at";

fn playlist_from_row(row: &AnyRow) -> Result<Playlist, sqlx::Error> {
    Ok(Playlist {
        id: row.try_get("id")?,
        owner: user_ref(row.try_get("owner_id")?, row.try_get("owner_name")?),
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        public: row.try_get::<i64, _>("public")? != 0,
        collaborative: row.try_get::<i64, _>("collaborative")? != 0,
        collaborators: Vec::new(),
        track_count: row.try_get("track_count")?,
        duration_ms: row.try_get("duration_ms")?,
        version: row.try_get("version")?,
        created_at: millis(row, "created_at")?,
        updated_at: millis(row, "updated_at")?,
    })
}

impl PlaylistsStore {
    pub async fn insert_playlist(
        conn: &mut AnyConnection,
        p: &Playlist,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO playlists (id, owner_id, name, description, public, collaborative, track_count, \
             duration_ms, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&p.id)
        .bind(p.owner.id.as_str())
        .bind(&p.name)
        .bind(&p.description)
        .bind(i64::from(p.public))
        .bind(i64::from(p.collaborative))
        .bind(p.track_count)
        .bind(p.duration_ms)
        .bind(p.version)
        .bind(p.created_at.millis())
        .bind(p.updated_at.millis())
        .execute(conn)
        .await?;
        Ok(())
    }

    /// A playlist with its collaborators.
    pub async fn playlist(
        conn: &mut AnyConnection,
        id: &str,
    ) -> Result<Option<Playlist>, sqlx::Error> {
        Ok(Self::playlists_by_id(conn, &[id]).await?.remove(id))
    }

    /// The playlists of `ids` that exist, with their collaborators, by id.
    pub async fn playlists_by_id<I: AsRef<str>>(
        conn: &mut AnyConnection,
        ids: &[I],
    ) -> Result<HashMap<String, Playlist>, sqlx::Error> {
        let sql = format!(
            "SELECT {PLAYLIST_COLUMNS} FROM playlists p LEFT JOIN users o ON o.id = p.owner_id \
             WHERE p.id IN ({{ids}})"
        );
        let mut out = HashMap::with_capacity(ids.len());
        for row in fetch_all_in(conn, &sql, ids).await? {
            let playlist = playlist_from_row(&row)?;
            out.insert(playlist.id.clone(), playlist);
        }
        let found: Vec<String> = out.keys().cloned().collect();
        for (id, collaborators) in Self::collaborators(conn, &found).await? {
            if let Some(playlist) = out.get_mut(&id) {
                playlist.collaborators = collaborators;
            }
        }
        Ok(out)
    }

    /// The collaborators of each of `ids`, in the order they were added.
    async fn collaborators(
        conn: &mut AnyConnection,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<UserRef>>, sqlx::Error> {
        let sql = "SELECT c.playlist_id, c.user_id, u.username FROM playlist_collaborators c \
                   LEFT JOIN users u ON u.id = c.user_id WHERE c.playlist_id IN ({ids}) \
                   ORDER BY c.playlist_id, c.added_at, c.user_id";
        let mut out: HashMap<String, Vec<UserRef>> = HashMap::new();
        for row in fetch_all_in(conn, sql, ids).await? {
            out.entry(row.try_get("playlist_id")?)
                .or_default()
                .push(user_ref(row.try_get("user_id")?, row.try_get("username")?));
        }
        Ok(out)
    }

    /// Takes the playlist for a change, until the transaction ends, so edits of one playlist
    /// queue up. SQLite's write transactions already run one at a time; PostgreSQL locks the
    /// row.
    pub async fn lock_playlist(
        conn: &mut AnyConnection,
        backend: Backend,
        id: &str,
    ) -> Result<(), sqlx::Error> {
        Self::lock_playlists(conn, backend, &[id]).await
    }

    /// [`PlaylistsStore::lock_playlist`] for several playlists, in id order (`ids` sorted), so
    /// that two transactions taking some of the same never wait for each other in a cycle.
    pub async fn lock_playlists<I: AsRef<str>>(
        conn: &mut AnyConnection,
        backend: Backend,
        ids: &[I],
    ) -> Result<(), sqlx::Error> {
        if backend != Backend::Postgres {
            return Ok(());
        }
        debug_assert!(ids.windows(2).all(|w| w[0].as_ref() < w[1].as_ref()));
        let sql = "SELECT id FROM playlists WHERE id IN ({ids}) ORDER BY id FOR UPDATE";
        fetch_all_in(conn, sql, ids).await?;
        Ok(())
    }

    /// Writes the counts, version and time of the change of several playlists at once.
    pub async fn update_playlist_counts(
        conn: &mut AnyConnection,
        playlists: &[&Playlist],
    ) -> Result<(), sqlx::Error> {
        for chunk in playlists.chunks(ROWS_PER_STATEMENT / 5) {
            // VALUES names its columns column1, column2, ... in SQLite and PostgreSQL alike.
            let sql = format!(
                "UPDATE playlists SET track_count = v.column2, duration_ms = v.column3, \
                 version = v.column4, updated_at = v.column5 \
                 FROM (VALUES {}) AS v WHERE playlists.id = v.column1",
                value_rows(conn, chunk.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for p in chunk {
                query = query
                    .bind(&p.id)
                    .bind(p.track_count)
                    .bind(p.duration_ms)
                    .bind(p.version)
                    .bind(p.updated_at.millis());
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Writes name, description, flags, counts, version and time of the change.
    pub async fn update_playlist(
        conn: &mut AnyConnection,
        p: &Playlist,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE playlists SET name = $1, description = $2, public = $3, collaborative = $4, \
             track_count = $5, duration_ms = $6, version = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(&p.name)
        .bind(&p.description)
        .bind(i64::from(p.public))
        .bind(i64::from(p.collaborative))
        .bind(p.track_count)
        .bind(p.duration_ms)
        .bind(p.version)
        .bind(p.updated_at.millis())
        .bind(&p.id)
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn delete_playlist(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
        for sql in [
            "DELETE FROM playlist_entries WHERE playlist_id = $1",
            "DELETE FROM playlist_collaborators WHERE playlist_id = $1",
            "DELETE FROM playlists WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *conn).await?;
        }
        Ok(())
    }

    pub async fn add_collaborator(
        conn: &mut AnyConnection,
        playlist_id: &str,
        user: &UserId,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO playlist_collaborators (playlist_id, user_id, added_at) VALUES ($1, $2, $3)",
        )
        .bind(playlist_id)
        .bind(user.as_str())
        .bind(now.millis())
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn remove_collaborator(
        conn: &mut AnyConnection,
        playlist_id: &str,
        user: &UserId,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM playlist_collaborators WHERE playlist_id = $1 AND user_id = $2")
            .bind(playlist_id)
            .bind(user.as_str())
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Playlists `user` owns or collaborates on, in creation order, `limit + 1` of them.
    /// Playlists `user` owns or collaborates on, and with `with_public` everyone's public ones.
    pub async fn playlists_of(
        conn: &mut AnyConnection,
        user: &UserId,
        with_public: bool,
        page: &Page,
    ) -> Result<Vec<Playlist>, sqlx::Error> {
        let sql = format!(
            "SELECT {PLAYLIST_COLUMNS} FROM playlists p LEFT JOIN users o ON o.id = p.owner_id \
             WHERE (p.owner_id = $1 OR p.id IN (SELECT playlist_id FROM playlist_collaborators WHERE user_id = $1) \
             OR (p.public = 1 AND $4 = 1)) \
             AND p.id > $2 ORDER BY p.id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(user.as_str())
            .bind(page.after.clone().unwrap_or_default())
            .bind(i64::from(page.limit) + 1)
            .bind(i64::from(with_public))
            .fetch_all(&mut *conn)
            .await?;
        let mut playlists = rows
            .iter()
            .map(playlist_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<String> = playlists.iter().map(|p| p.id.clone()).collect();
        let mut collaborators = Self::collaborators(conn, &ids).await?;
        for playlist in &mut playlists {
            playlist.collaborators = collaborators.remove(&playlist.id).unwrap_or_default();
        }
        Ok(playlists)
    }

    /// A run of a playlist's entries in position order, with their tracks.
    pub async fn entries(
        conn: &mut AnyConnection,
        playlist_id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Entry>, sqlx::Error> {
        let sql = format!(
            "SELECT e.position, e.track_id, e.added_by, e.added_at, u.username AS added_by_name, {TRACK_COLUMNS} \
             FROM playlist_entries e LEFT JOIN tracks t ON t.id = e.track_id LEFT JOIN users u ON u.id = e.added_by \
             WHERE e.playlist_id = $1 AND e.position >= $2 AND e.position < $3 ORDER BY e.position"
        );
        let rows = sqlx::query(&sql)
            .bind(playlist_id)
            .bind(offset)
            .bind(offset.saturating_add(limit))
            .fetch_all(conn)
            .await?;
        rows.iter()
            .map(|row| {
                let track_id: String = row.try_get("track_id")?;
                Ok(Entry {
                    position: row.try_get("position")?,
                    track: track_from_row(row, &track_id)?,
                    added_by: user_ref(row.try_get("added_by")?, row.try_get("added_by_name")?),
                    added_at: millis(row, "added_at")?,
                })
            })
            .collect()
    }

    /// The track ids at `positions`.
    pub async fn track_ids_at(
        conn: &mut AnyConnection,
        playlist_id: &str,
        positions: &[i64],
    ) -> Result<Vec<String>, sqlx::Error> {
        let mut ids = Vec::with_capacity(positions.len());
        for chunk in positions.chunks(500) {
            let sql = format!(
                "SELECT track_id FROM playlist_entries WHERE playlist_id = $1 AND position IN ({}) ORDER BY position",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(playlist_id);
            for position in chunk {
                query = query.bind(*position);
            }
            for row in query.fetch_all(&mut *conn).await? {
                ids.push(row.try_get("track_id")?);
            }
        }
        Ok(ids)
    }

    /// Inserts `track_ids` starting at `position` of a playlist of `length` entries, moving
    /// later entries down.
    pub async fn insert_entries(
        conn: &mut AnyConnection,
        playlist_id: &str,
        (position, length): (i64, i64),
        track_ids: &[String],
        added_by: &UserId,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        let count = track_ids.len() as i64;
        if position < length {
            sqlx::query(
            "UPDATE playlist_entries SET position = position + $1 WHERE playlist_id = $2 AND position >= $3",
        )
            .bind(count)
            .bind(playlist_id)
            .bind(position)
            .execute(&mut *conn)
            .await?;
        }
        let rows: Vec<(i64, &str, &UserId)> = track_ids
            .iter()
            .enumerate()
            .map(|(i, track_id)| (position + i as i64, track_id.as_str(), added_by))
            .collect();
        Self::insert_entry_rows(conn, playlist_id, &rows, now).await
    }

    /// Inserts entries `(position, track_id, added_by)` as they are, moving nothing.
    pub async fn insert_entry_rows(
        conn: &mut AnyConnection,
        playlist_id: &str,
        rows: &[(i64, &str, &UserId)],
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        let rows: Vec<(&str, i64, &str, &UserId)> = rows
            .iter()
            .map(|(position, track_id, added_by)| (playlist_id, *position, *track_id, *added_by))
            .collect();
        Self::insert_entries_of(conn, &rows, now).await
    }

    /// Inserts entries `(playlist_id, position, track_id, added_by)` of any playlists as they
    /// are, moving nothing.
    pub async fn insert_entries_of(
        conn: &mut AnyConnection,
        rows: &[(&str, i64, &str, &UserId)],
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO playlist_entries (playlist_id, position, track_id, added_by, added_at) VALUES {}",
                value_rows(conn, chunk.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for (playlist_id, position, track_id, added_by) in chunk {
                query = query
                    .bind(*playlist_id)
                    .bind(*position)
                    .bind(*track_id)
                    .bind(added_by.as_str())
                    .bind(now.millis());
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Removes the entries at `positions` (sorted, distinct, in range) and closes the gaps.
    pub async fn remove_entries(
        conn: &mut AnyConnection,
        playlist_id: &str,
        positions: &[i64],
    ) -> Result<(), sqlx::Error> {
        for chunk in positions.chunks(500) {
            let sql = format!(
                "DELETE FROM playlist_entries WHERE playlist_id = $1 AND position IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(playlist_id);
            for position in chunk {
                query = query.bind(*position);
            }
            query.execute(&mut *conn).await?;
        }
        // The entries between the i-th and the next removed position move up by i + 1.
        for (i, &removed) in positions.iter().enumerate() {
            let next = positions.get(i + 1).copied().unwrap_or(i64::MAX);
            if next == removed + 1 {
                continue;
            }
            sqlx::query(
                "UPDATE playlist_entries SET position = position - $1 \
                 WHERE playlist_id = $2 AND position > $3 AND position < $4",
            )
            .bind(i as i64 + 1)
            .bind(playlist_id)
            .bind(removed)
            .bind(next)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Moves the `count` entries starting at `from` so they start at index `to` of the result.
    /// The caller checked `from + count` and `to + count` against the length.
    pub async fn move_entries(
        conn: &mut AnyConnection,
        playlist_id: &str,
        from: i64,
        to: i64,
        count: i64,
    ) -> Result<(), sqlx::Error> {
        if from == to {
            return Ok(());
        }
        // An entry outside the moved run keeps its index among the others (r), then makes room
        // for the run if it lands at or after `to`.
        sqlx::query(
            "UPDATE playlist_entries SET position = CASE \
               WHEN position >= $1 AND position < $1 + $3 THEN $2 + position - $1 \
               WHEN (CASE WHEN position < $1 THEN position ELSE position - $3 END) < $2 \
                 THEN (CASE WHEN position < $1 THEN position ELSE position - $3 END) \
               ELSE (CASE WHEN position < $1 THEN position ELSE position - $3 END) + $3 END \
             WHERE playlist_id = $4 AND position >= $5 AND position < $6",
        )
        .bind(from)
        .bind(to)
        .bind(count)
        .bind(playlist_id)
        .bind(from.min(to))
        .bind(from.max(to) + count)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Every entry's track id in position order (for events and export).
    pub async fn all_track_ids(
        conn: &mut AnyConnection,
        playlist_id: &str,
    ) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT track_id FROM playlist_entries WHERE playlist_id = $1 ORDER BY position",
        )
        .bind(playlist_id)
        .fetch_all(conn)
        .await?;
        rows.iter().map(|row| row.try_get("track_id")).collect()
    }
}
