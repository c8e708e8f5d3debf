//! The recommendations service's tables: what listeners did (plays, skips, likes, playlists),
//! what they said they like, and the catalog's tracks, as events described them. Writes come
//! one batch of events per transaction; reads are whole-table scans for training and one listener's rows
//! for a request.

use std::collections::HashMap;

use beatstream_db::{fetch_all_in, placeholders, value_rows, Db};
use beatstream_events::catalog::TrackSummary;
use beatstream_events::library::{TrackLiked, TrackPlayed};
use beatstream_events::playlists::PlaylistChanged;
use futures_util::TryStreamExt;
use sqlx::{AnyConnection, Row};

#[derive(Clone)]
pub struct RecommendStore {
    db: Db,
}

/// One listener's row for one track.
#[derive(Debug, Clone, PartialEq)]
pub struct Listen {
    pub user_id: String,
    pub track_id: String,
    pub plays: i64,
    pub skips: i64,
    pub last_played_at: Option<i64>,
    pub liked: bool,
}

/// What a request needs of one listener.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub listens: Vec<Listen>,
    /// Tracks of the listener's own playlists (any visibility), each once.
    pub playlist_tracks: Vec<String>,
    pub favorite_genres: Vec<String>,
    pub favorite_artists: Vec<String>,
}

/// Everything training reads.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub tracks: Vec<TrackSummary>,
    pub listens: Vec<Listen>,
    /// `(owner, public, track ids)` per playlist.
    pub playlists: Vec<(String, bool, Vec<String>)>,
}

fn decode_track(summary: &str) -> Option<TrackSummary> {
    serde_json::from_str(summary).ok()
}

impl RecommendStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Records a track as of catalog event `event_id`; an older event than the last one
    /// applied changes nothing.
    pub async fn upsert_track(
        conn: &mut AnyConnection,
        track: &TrackSummary,
        event_id: &str,
    ) -> Result<(), sqlx::Error> {
        let summary = serde_json::to_string(track).unwrap_or_default();
        sqlx::query(
            "INSERT INTO tracks (id, event_id, summary, removed) VALUES ($1, $2, $3, 0) \
             ON CONFLICT (id) DO UPDATE SET event_id = excluded.event_id, \
             summary = excluded.summary, removed = 0 WHERE tracks.event_id <= excluded.event_id",
        )
        .bind(&track.track_id)
        .bind(event_id)
        .bind(summary)
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn remove_track(
        conn: &mut AnyConnection,
        track_id: &str,
        event_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO tracks (id, event_id, summary, removed) VALUES ($1, $2, '', 1) \
             ON CONFLICT (id) DO UPDATE SET event_id = excluded.event_id, removed = 1 \
             WHERE tracks.event_id <= excluded.event_id",
        )
        .bind(track_id)
        .bind(event_id)
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn add_play(conn: &mut AnyConnection, play: &TrackPlayed) -> Result<(), sqlx::Error> {
        let (plays, skips) = if play.skipped { (0, 1) } else { (1, 0) };
        sqlx::query(
            "INSERT INTO listens (user_id, track_id, plays, skips, last_played_at, liked) \
             VALUES ($1, $2, $3, $4, $5, 0) \
             ON CONFLICT (user_id, track_id) DO UPDATE SET plays = listens.plays + excluded.plays, \
             skips = listens.skips + excluded.skips, \
             last_played_at = CASE WHEN listens.last_played_at IS NULL \
                OR listens.last_played_at < excluded.last_played_at \
                THEN excluded.last_played_at ELSE listens.last_played_at END",
        )
        .bind(play.user_id.as_str())
        .bind(&play.track_id)
        .bind(plays)
        .bind(skips)
        .bind(play.played_at.millis())
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn set_liked(conn: &mut AnyConnection, like: &TrackLiked) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO listens (user_id, track_id, plays, skips, liked) VALUES ($1, $2, 0, 0, $3) \
             ON CONFLICT (user_id, track_id) DO UPDATE SET liked = excluded.liked",
        )
        .bind(like.user_id.as_str())
        .bind(&like.track_id)
        .bind(i64::from(like.liked))
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Applies changes of playlists, each playlist's (a group) in the order they were made: its
    /// owner and visibility, and the tracks that went in and out. A change whose version is not
    /// newer than the recorded one changes nothing. Changes that only add tracks are written
    /// together, for every playlist at once (adds commute), so a batch of appends to busy
    /// playlists costs a few statements, not a few per append.
    pub async fn apply_playlist_changes(
        conn: &mut AnyConnection,
        groups: &[Vec<&PlaylistChanged>],
    ) -> Result<(), sqlx::Error> {
        let ids: Vec<&str> = groups
            .iter()
            .filter_map(|g| g.first().map(|c| c.playlist_id.as_str()))
            .collect();
        let recorded = Self::playlist_versions(conn, &ids).await?;
        let mut latest: Vec<&PlaylistChanged> = Vec::new();
        // Tracks added since the last removal, with how many times each.
        let mut added: Vec<(&str, &str, i64)> = Vec::new();
        let mut slot: HashMap<(&str, &str), usize> = HashMap::new();
        for group in groups {
            let Some(first) = group.first() else { continue };
            let playlist_id = first.playlist_id.as_str();
            let mut version = recorded.get(playlist_id).copied();
            let mut last = None;
            for change in group {
                debug_assert_eq!(change.playlist_id, playlist_id);
                if version.is_some_and(|v| v >= change.version) {
                    continue;
                }
                version = Some(change.version);
                last = Some(*change);
                for track in &change.added_track_ids {
                    let at = *slot.entry((playlist_id, track)).or_insert_with(|| {
                        added.push((playlist_id, track, 0));
                        added.len() - 1
                    });
                    added[at].2 += 1;
                }
                if !change.removed_track_ids.is_empty() {
                    // A change adds before it removes. (The other playlists' adds go too:
                    // they commute with this.)
                    Self::add_copies(conn, &added).await?;
                    added.clear();
                    slot.clear();
                    Self::remove_copies(conn, playlist_id, &change.removed_track_ids).await?;
                }
            }
            latest.extend(last);
        }
        Self::add_copies(conn, &added).await?;
        for chunk in latest.chunks(200) {
            let sql = format!(
                "INSERT INTO playlists (id, owner_id, public, version) VALUES {} \
                 ON CONFLICT (id) DO UPDATE SET owner_id = excluded.owner_id, \
                 public = excluded.public, version = excluded.version",
                value_rows(conn, chunk.len(), 4)
            );
            let mut query = sqlx::query(&sql);
            for change in chunk {
                query = query
                    .bind(&change.playlist_id)
                    .bind(change.owner_id.as_str())
                    .bind(i64::from(change.public))
                    .bind(change.version);
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// The recorded version of each of `ids` that is recorded.
    async fn playlist_versions(
        conn: &mut AnyConnection,
        ids: &[&str],
    ) -> Result<HashMap<String, i64>, sqlx::Error> {
        let sql = "SELECT id, version FROM playlists WHERE id IN ({ids})";
        fetch_all_in(conn, sql, ids)
            .await?
            .iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("version")?)))
            .collect()
    }

    /// Adds `copies` of each `(playlist, track)` to the counts, in statements of up to 200 rows.
    async fn add_copies(
        conn: &mut AnyConnection,
        added: &[(&str, &str, i64)],
    ) -> Result<(), sqlx::Error> {
        for chunk in added.chunks(200) {
            let sql = format!(
                "INSERT INTO playlist_tracks (playlist_id, track_id, copies) VALUES {} \
                 ON CONFLICT (playlist_id, track_id) \
                 DO UPDATE SET copies = playlist_tracks.copies + excluded.copies",
                value_rows(conn, chunk.len(), 3)
            );
            let mut query = sqlx::query(&sql);
            for (playlist_id, track, copies) in chunk {
                query = query.bind(*playlist_id).bind(*track).bind(*copies);
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Takes one copy of each track off the playlist's counts; a track with none left goes.
    async fn remove_copies(
        conn: &mut AnyConnection,
        playlist_id: &str,
        removed: &[String],
    ) -> Result<(), sqlx::Error> {
        for track in removed {
            sqlx::query(
                "UPDATE playlist_tracks SET copies = copies - 1 WHERE playlist_id = $1 AND track_id = $2",
            )
            .bind(playlist_id)
            .bind(track)
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query("DELETE FROM playlist_tracks WHERE playlist_id = $1 AND copies <= 0")
            .bind(playlist_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub async fn delete_playlist(
        conn: &mut AnyConnection,
        playlist_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM playlist_tracks WHERE playlist_id = $1")
            .bind(playlist_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM playlists WHERE id = $1")
            .bind(playlist_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub async fn set_preferences(
        conn: &mut AnyConnection,
        user_id: &str,
        genres: &[String],
        artists: &[String],
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO preferences (user_id, genres, artists) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET genres = excluded.genres, artists = excluded.artists",
        )
        .bind(user_id)
        .bind(serde_json::to_string(genres).unwrap_or_default())
        .bind(serde_json::to_string(artists).unwrap_or_default())
        .execute(conn)
        .await?;
        Ok(())
    }

    /// One listener's rows.
    pub async fn listens(&self, user_id: &str) -> Result<Vec<Listen>, sqlx::Error> {
        sqlx::query(
            "SELECT user_id, track_id, plays, skips, last_played_at, liked FROM listens WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(listen_of)
        .collect()
    }

    /// One listener's signals, for a request.
    pub async fn profile(&self, user_id: &str) -> Result<Profile, sqlx::Error> {
        let pool = self.db.pool();
        let listens = self.listens(user_id).await?;
        let playlist_tracks = sqlx::query(
            "SELECT DISTINCT pt.track_id AS track_id FROM playlist_tracks pt \
             JOIN playlists p ON p.id = pt.playlist_id WHERE p.owner_id = $1",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| row.try_get("track_id"))
        .collect::<Result<Vec<String>, sqlx::Error>>()?;
        let mut profile = Profile {
            listens,
            playlist_tracks,
            ..Profile::default()
        };
        if let Some(row) = sqlx::query("SELECT genres, artists FROM preferences WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?
        {
            let genres: String = row.try_get("genres")?;
            let artists: String = row.try_get("artists")?;
            profile.favorite_genres = serde_json::from_str(&genres).unwrap_or_default();
            profile.favorite_artists = serde_json::from_str(&artists).unwrap_or_default();
        }
        Ok(profile)
    }

    /// The tracks among `ids` as last described, by id: only live ones, or removed ones too.
    pub async fn tracks(
        &self,
        ids: &[String],
        live_only: bool,
    ) -> Result<HashMap<String, TrackSummary>, sqlx::Error> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT summary FROM tracks WHERE {} id IN ({})",
                if live_only { "removed = 0 AND" } else { "" },
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(self.db.pool()).await? {
                let summary: String = row.try_get("summary")?;
                if let Some(track) = decode_track(&summary) {
                    out.insert(track.track_id.clone(), track);
                }
            }
        }
        Ok(out)
    }

    /// Everything training reads, streamed row by row.
    pub async fn snapshot(&self) -> Result<Snapshot, sqlx::Error> {
        let pool = self.db.pool();
        let mut snapshot = Snapshot::default();
        let mut rows =
            sqlx::query("SELECT summary FROM tracks WHERE removed = 0 ORDER BY id").fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let summary: String = row.try_get("summary")?;
            match decode_track(&summary) {
                Some(track) => snapshot.tracks.push(track),
                None => tracing::warn!("recommendations: unreadable track summary skipped"),
            }
        }
        drop(rows);
        let mut rows = sqlx::query(
            "SELECT user_id, track_id, plays, skips, last_played_at, liked FROM listens",
        )
        .fetch(pool);
        while let Some(row) = rows.try_next().await? {
            snapshot.listens.push(listen_of(&row)?);
        }
        drop(rows);
        let mut playlists: HashMap<String, (String, bool, Vec<String>)> = HashMap::new();
        for row in sqlx::query("SELECT id, owner_id, public FROM playlists")
            .fetch_all(pool)
            .await?
        {
            let public: i64 = row.try_get("public")?;
            playlists.insert(
                row.try_get("id")?,
                (row.try_get("owner_id")?, public != 0, Vec::new()),
            );
        }
        let mut rows = sqlx::query("SELECT playlist_id, track_id FROM playlist_tracks").fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let id: String = row.try_get("playlist_id")?;
            if let Some(entry) = playlists.get_mut(&id) {
                entry.2.push(row.try_get("track_id")?);
            }
        }
        drop(rows);
        snapshot.playlists = playlists.into_values().collect();
        Ok(snapshot)
    }
}

fn listen_of(row: &sqlx::any::AnyRow) -> Result<Listen, sqlx::Error> {
    let liked: i64 = row.try_get("liked")?;
    Ok(Listen {
        user_id: row.try_get("user_id")?,
        track_id: row.try_get("track_id")?,
        plays: row.try_get("plays")?,
        skips: row.try_get("skips")?,
        last_played_at: row.try_get("last_played_at")?,
        liked: liked != 0,
    })
}
