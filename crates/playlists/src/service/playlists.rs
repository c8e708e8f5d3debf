//! Playlists: create, read, change, delete, share, export and import. Every change is one
//! transaction that bumps the version, checks `If-Match`, and appends its event.

use beatstream_core::{Caller, Page, Paged, Timestamp, UserId};
use beatstream_db::WriteTx;
use beatstream_events::outbox;
use beatstream_events::playlists::{PlaylistChanged, PlaylistDeleted};
use sqlx::AnyConnection;

use super::PlaylistsService;
use crate::error::{invalid, PlaylistsError};
use crate::m3u;
use crate::model::{Entry, Import, NewPlaylist, Playlist, PlaylistPatch, UserRef};
use crate::store::PlaylistsStore;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Track ids or positions in one request.
pub const MAX_ITEMS_PER_REQUEST: usize = 10_000;
pub const MAX_PLAYLIST_TRACKS: i64 = 100_000;

/// Who may make a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Owner(&'static str),
    TrackEditor,
    /// Anyone who sees it (a collaborator leaving).
    Viewer,
}

/// What a change did to the tracks, for its event.
#[derive(Default)]
pub(super) struct TrackDelta {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

fn clean_name(name: &str) -> Result<String, PlaylistsError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters, without control characters"),
        ));
    }
    Ok(name.to_string())
}

fn clean_description(text: &str) -> Result<String, PlaylistsError> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(text.to_string())
}

pub(super) fn caller_ref(caller: &Caller) -> UserRef {
    UserRef {
        id: caller.user_id.clone(),
        username: caller.username.clone(),
    }
}

pub(super) fn changed_event(
    playlist: &Playlist,
    by: &UserId,
    delta: TrackDelta,
) -> PlaylistChanged {
    PlaylistChanged {
        playlist_id: playlist.id.clone(),
        version: playlist.version,
        name: playlist.name.clone(),
        description: playlist.description.clone(),
        owner_id: playlist.owner.id.clone(),
        owner_username: playlist.owner.username.clone(),
        public: playlist.public,
        collaborative: playlist.collaborative,
        collaborators: playlist
            .collaborators
            .iter()
            .map(|c| c.id.clone())
            .collect(),
        track_count: playlist.track_count,
        duration_ms: playlist.duration_ms,
        changed_by: by.clone(),
        changed_at: playlist.updated_at,
        added_track_ids: delta.added,
        removed_track_ids: delta.removed,
    }
}

impl PlaylistsService {
    pub async fn create_playlist(
        &self,
        caller: &Caller,
        new: NewPlaylist,
    ) -> Result<Playlist, PlaylistsError> {
        let name = clean_name(&new.name)?;
        let description = clean_description(new.description.as_deref().unwrap_or(""))?;
        let mut tx = self.store.db().begin_write().await?;
        let playlist = self
            .insert_new(&mut tx, caller, name, description, &new)
            .await?;
        outbox::append(
            &mut tx,
            &changed_event(&playlist, &caller.user_id, TrackDelta::default()),
        )
        .await?;
        tx.commit().await?;
        self.waker.wake();
        Ok(playlist)
    }

    async fn insert_new(
        &self,
        conn: &mut AnyConnection,
        caller: &Caller,
        name: String,
        description: String,
        new: &NewPlaylist,
    ) -> Result<Playlist, PlaylistsError> {
        let now = Timestamp::now();
        let playlist = Playlist {
            id: uuid::Uuid::now_v7().to_string(),
            owner: caller_ref(caller),
            name,
            description,
            public: new.public.unwrap_or(false),
            collaborative: new.collaborative.unwrap_or(false),
            collaborators: Vec::new(),
            track_count: 0,
            duration_ms: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        PlaylistsStore::upsert_user(conn, &playlist.owner).await?;
        PlaylistsStore::insert_playlist(conn, &playlist).await?;
        Ok(playlist)
    }

    /// A playlist the caller may see.
    pub async fn playlist(&self, caller: &Caller, id: &str) -> Result<Playlist, PlaylistsError> {
        let mut conn = self.store.db().pool().acquire().await?;
        visible(PlaylistsStore::playlist(&mut conn, id).await?, caller)
    }

    /// A playlist the caller may see, with a run of its entries (all of them by default).
    pub async fn playlist_with_entries(
        &self,
        caller: &Caller,
        id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Playlist, Vec<Entry>), PlaylistsError> {
        let mut tx = self.store.begin_snapshot().await?;
        let playlist = visible(PlaylistsStore::playlist(&mut tx, id).await?, caller)?;
        let entries = PlaylistsStore::entries(&mut tx, id, offset, limit).await?;
        tx.commit().await?;
        Ok((playlist, entries))
    }

    /// Playlists the caller owns or collaborates on.
    /// The caller's playlists (owned or collaborated on), and with `with_public` everyone's
    /// public ones too.
    pub async fn my_playlists(
        &self,
        caller: &Caller,
        with_public: bool,
        page: &Page,
    ) -> Result<Paged<Playlist>, PlaylistsError> {
        if page
            .after
            .as_deref()
            .is_some_and(|after| !super::plausible_id(after))
        {
            return Err(invalid("cursor", "is not one this server gave"));
        }
        let mut conn = self.store.db().pool().acquire().await?;
        let rows =
            PlaylistsStore::playlists_of(&mut conn, &caller.user_id, with_public, page).await?;
        Ok(Paged::from_rows(rows, page, |p| p.id.clone()))
    }

    pub async fn update_playlist(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
        patch: PlaylistPatch,
    ) -> Result<Playlist, PlaylistsError> {
        let name = patch.name.as_deref().map(clean_name).transpose()?;
        let description = patch
            .description
            .as_deref()
            .map(clean_description)
            .transpose()?;
        let (tx, mut playlist) = self
            .begin_change(caller, id, if_match, Need::Owner("change its details"))
            .await?;
        if let Some(name) = name {
            playlist.name = name;
        }
        if let Some(description) = description {
            playlist.description = description;
        }
        if let Some(public) = patch.public {
            playlist.public = public;
        }
        if let Some(collaborative) = patch.collaborative {
            playlist.collaborative = collaborative;
        }
        self.finish_change(tx, &playlist, caller, TrackDelta::default())
            .await?;
        Ok(playlist)
    }

    pub async fn delete_playlist(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
    ) -> Result<(), PlaylistsError> {
        let (mut tx, playlist) = self
            .begin_change(caller, id, if_match, Need::Owner("delete it"))
            .await?;
        PlaylistsStore::delete_playlist(&mut tx, id).await?;
        outbox::append(
            &mut tx,
            &PlaylistDeleted {
                playlist_id: playlist.id.clone(),
                owner_id: playlist.owner.id.clone(),
                members: playlist.members(),
                deleted_at: Timestamp::now(),
            },
        )
        .await?;
        tx.commit().await?;
        self.waker.wake();
        Ok(())
    }

    /// Adds tracks at `position` (default: the end). Returns the new version.
    pub async fn add_tracks(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
        track_ids: Vec<String>,
        position: Option<i64>,
    ) -> Result<i64, PlaylistsError> {
        if track_ids.is_empty() {
            return Err(invalid("track_ids", "name at least one track"));
        }
        if track_ids.len() > MAX_ITEMS_PER_REQUEST {
            return Err(invalid(
                "track_ids",
                format!("at most {MAX_ITEMS_PER_REQUEST} tracks per request"),
            ));
        }
        if position.is_some_and(|p| p < 0) {
            return Err(invalid("position", "must not be negative"));
        }
        // Look the tracks up before taking the playlist: the catalog may need asking.
        let tracks = self.resolve_tracks(&track_ids).await?;
        let unknown: Vec<String> = track_ids
            .iter()
            .filter(|id| !tracks.get(*id).is_some_and(|t| t.available))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(PlaylistsError::UnknownTracks(unknown));
        }
        let Some(position) = position else {
            let duration = track_ids
                .iter()
                .map(|id| tracks.get(id).map_or(0, |t| t.duration_ms))
                .sum();
            return self
                .append_tracks(caller, id, if_match, track_ids, duration)
                .await;
        };
        let (mut tx, mut playlist) = self
            .begin_change(caller, id, if_match, Need::TrackEditor)
            .await?;
        if position > playlist.track_count {
            return Err(invalid(
                "position",
                format!(
                    "must be between 0 and the track count ({})",
                    playlist.track_count
                ),
            ));
        }
        if playlist.track_count + track_ids.len() as i64 > MAX_PLAYLIST_TRACKS {
            return Err(PlaylistsError::Conflict(
                "playlist_full",
                "a playlist holds at most 100,000 tracks",
            ));
        }
        if caller.user_id != playlist.owner.id {
            // A collaborator's name shows as `added_by`.
            PlaylistsStore::upsert_user(&mut tx, &caller_ref(caller)).await?;
        }
        PlaylistsStore::insert_entries(
            &mut tx,
            id,
            (position, playlist.track_count),
            &track_ids,
            &caller.user_id,
            playlist.updated_at,
        )
        .await?;
        playlist.track_count += track_ids.len() as i64;
        playlist.duration_ms += track_ids
            .iter()
            .map(|id| tracks.get(id).map_or(0, |t| t.duration_ms))
            .sum::<i64>();
        let delta = TrackDelta {
            added: track_ids,
            removed: Vec::new(),
        };
        self.finish_change(tx, &playlist, caller, delta).await?;
        Ok(playlist.version)
    }

    /// Removes the entries at `positions`. Returns the new version.
    pub async fn remove_tracks(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
        mut positions: Vec<i64>,
    ) -> Result<i64, PlaylistsError> {
        if positions.is_empty() {
            return Err(invalid("positions", "name at least one position"));
        }
        if positions.len() > MAX_ITEMS_PER_REQUEST {
            return Err(invalid(
                "positions",
                format!("at most {MAX_ITEMS_PER_REQUEST} positions per request"),
            ));
        }
        positions.sort_unstable();
        if positions.windows(2).any(|w| w[0] == w[1]) {
            return Err(invalid("positions", "a position is named twice"));
        }
        let (mut tx, mut playlist) = self
            .begin_change(caller, id, if_match, Need::TrackEditor)
            .await?;
        let (first, last) = (positions[0], positions[positions.len() - 1]);
        if first < 0 || last >= playlist.track_count {
            return Err(invalid(
                "positions",
                format!(
                    "must be between 0 and {} (the playlist has {} tracks)",
                    playlist.track_count - 1,
                    playlist.track_count
                ),
            ));
        }
        let removed = PlaylistsStore::track_ids_at(&mut tx, id, &positions).await?;
        let durations = crate::store::tracks_by_id(&mut tx, &removed).await?;
        PlaylistsStore::remove_entries(&mut tx, id, &positions).await?;
        playlist.track_count -= positions.len() as i64;
        playlist.duration_ms -= removed
            .iter()
            .map(|id| durations.get(id).map_or(0, |t| t.duration_ms))
            .sum::<i64>();
        let delta = TrackDelta {
            added: Vec::new(),
            removed,
        };
        self.finish_change(tx, &playlist, caller, delta).await?;
        Ok(playlist.version)
    }

    /// Moves `count` entries from `from` so they start at `to`. Returns the new version.
    pub async fn move_tracks(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
        from: i64,
        to: i64,
        count: i64,
    ) -> Result<i64, PlaylistsError> {
        if from < 0 {
            return Err(invalid("from", "must not be negative"));
        }
        if to < 0 {
            return Err(invalid("to", "must not be negative"));
        }
        if count < 1 {
            return Err(invalid("count", "must be at least 1"));
        }
        let (mut tx, playlist) = self
            .begin_change(caller, id, if_match, Need::TrackEditor)
            .await?;
        let length = playlist.track_count;
        if from.saturating_add(count) > length {
            return Err(invalid(
                "from",
                format!("from + count must be at most the track count ({length})"),
            ));
        }
        if to.saturating_add(count) > length {
            return Err(invalid(
                "to",
                format!("to + count must be at most the track count ({length})"),
            ));
        }
        PlaylistsStore::move_entries(&mut tx, id, from, to, count).await?;
        self.finish_change(tx, &playlist, caller, TrackDelta::default())
            .await?;
        Ok(playlist.version)
    }

    pub async fn add_collaborator(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
        user_id: &UserId,
    ) -> Result<Playlist, PlaylistsError> {
        // Who the user is, before taking the playlist: waiting for an account to arrive must
        // not hold the write turn that its event needs.
        if self.playlist(caller, id).await?.owner.id != caller.user_id {
            return Err(PlaylistsError::NotOwner("manage collaborators"));
        }
        let mut conn = self.store.db().pool().acquire().await?;
        let user = self.user_arriving(&mut conn, user_id).await?;
        drop(conn);
        let (mut tx, mut playlist) = self
            .begin_change(caller, id, if_match, Need::Owner("manage collaborators"))
            .await?;
        if &playlist.owner.id == user_id {
            return Err(invalid(
                "user_id",
                "the owner is not added as a collaborator",
            ));
        }
        if playlist.is_collaborator(user_id) {
            return Err(PlaylistsError::Conflict(
                "already_collaborator",
                "that user already collaborates on this playlist",
            ));
        }
        let Some(user) = user else {
            return Err(PlaylistsError::NotFound("user"));
        };
        PlaylistsStore::add_collaborator(&mut tx, id, user_id, playlist.updated_at).await?;
        playlist.collaborators.push(user);
        // Collaborators edit tracks only on a collaborative playlist: adding one makes it so.
        playlist.collaborative = true;
        self.finish_change(tx, &playlist, caller, TrackDelta::default())
            .await?;
        Ok(playlist)
    }

    /// The owner removes a collaborator, or a collaborator leaves.
    pub async fn remove_collaborator(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
        user_id: &UserId,
    ) -> Result<Playlist, PlaylistsError> {
        // A collaborator may leave, even a playlist that is no longer collaborative.
        let need = if &caller.user_id == user_id {
            Need::Viewer
        } else {
            Need::Owner("manage collaborators")
        };
        let (mut tx, mut playlist) = self.begin_change(caller, id, if_match, need).await?;
        if !playlist.is_collaborator(user_id) {
            return Err(PlaylistsError::NotFound("collaborator"));
        }
        PlaylistsStore::remove_collaborator(&mut tx, id, user_id).await?;
        playlist.collaborators.retain(|c| &c.id != user_id);
        self.finish_change(tx, &playlist, caller, TrackDelta::default())
            .await?;
        Ok(playlist)
    }

    /// Every entry, for export.
    pub async fn export_m3u(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<(String, String), PlaylistsError> {
        let (playlist, entries) = self.playlist_with_entries(caller, id, 0, i64::MAX).await?;
        Ok((playlist.name.clone(), m3u::write(&playlist.name, &entries)))
    }

    /// Creates a playlist from M3U text, matching each entry to a catalog track by path (the
    /// longest matching tail of the path) or else by `#EXTINF` artist and title.
    pub async fn import_m3u(
        &self,
        caller: &Caller,
        text: &str,
        name: Option<String>,
    ) -> Result<Import, PlaylistsError> {
        let parsed = m3u::parse(text);
        if parsed.entries.is_empty() {
            return Err(invalid(
                "body",
                "no entries found: send the text of an M3U playlist",
            ));
        }
        if parsed.entries.len() > MAX_ITEMS_PER_REQUEST {
            return Err(invalid(
                "body",
                format!("at most {MAX_ITEMS_PER_REQUEST} entries per import"),
            ));
        }
        let name = clean_name(
            name.as_deref()
                .or(parsed.name.as_deref())
                .unwrap_or("Imported playlist"),
        )?;
        let mut matched_ids = Vec::new();
        let mut duration = 0;
        let mut unmatched = Vec::new();
        let mut conn = self.store.db().pool().acquire().await?;
        for entry in &parsed.entries {
            match match_entry(&mut conn, entry).await? {
                Some((track_id, duration_ms)) => {
                    matched_ids.push(track_id);
                    duration += duration_ms;
                }
                None => unmatched.push((entry.line, entry.location.clone())),
            }
        }
        drop(conn);
        let mut tx = self.store.db().begin_write().await?;
        let new = NewPlaylist::default();
        let mut playlist = self
            .insert_new(&mut tx, caller, name, String::new(), &new)
            .await?;
        if !matched_ids.is_empty() {
            PlaylistsStore::insert_entries(
                &mut tx,
                &playlist.id,
                (0, 0),
                &matched_ids,
                &caller.user_id,
                playlist.updated_at,
            )
            .await?;
            playlist.track_count = matched_ids.len() as i64;
            playlist.duration_ms = duration;
            PlaylistsStore::update_playlist(&mut tx, &playlist).await?;
        }
        let matched = matched_ids.len();
        let delta = TrackDelta {
            added: matched_ids,
            removed: Vec::new(),
        };
        outbox::append(&mut tx, &changed_event(&playlist, &caller.user_id, delta)).await?;
        tx.commit().await?;
        self.waker.wake();
        Ok(Import {
            playlist,
            matched,
            unmatched,
        })
    }

    /// Starts a change: takes the playlist (see `lock_playlist`), then checks that the caller
    /// may see it (404), may make this change (403) and read the current version (412).
    async fn begin_change(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<i64>,
        need: Need,
    ) -> Result<(WriteTx, Playlist), PlaylistsError> {
        let mut tx = self.store.db().begin_write().await?;
        PlaylistsStore::lock_playlist(&mut tx, self.store.db().backend(), id).await?;
        let mut playlist = visible(PlaylistsStore::playlist(&mut tx, id).await?, caller)?;
        match need {
            Need::Owner(action) if playlist.owner.id != caller.user_id => {
                return Err(PlaylistsError::NotOwner(action));
            }
            Need::TrackEditor if !playlist.can_edit_tracks(&caller.user_id) => {
                return Err(PlaylistsError::CannotEdit);
            }
            _ => {}
        }
        if let Some(expected) = if_match {
            if expected != playlist.version {
                return Err(PlaylistsError::VersionMismatch {
                    current: playlist.version,
                });
            }
        }
        // The change's version; `finish_change` writes it.
        playlist.version += 1;
        playlist.updated_at = Timestamp::now();
        Ok((tx, playlist))
    }

    /// Ends a change: writes the playlist's row, appends its event, commits, and wakes the relay.
    async fn finish_change(
        &self,
        mut tx: WriteTx,
        playlist: &Playlist,
        caller: &Caller,
        delta: TrackDelta,
    ) -> Result<(), PlaylistsError> {
        PlaylistsStore::update_playlist(&mut tx, playlist).await?;
        outbox::append(&mut tx, &changed_event(playlist, &caller.user_id, delta)).await?;
        tx.commit().await?;
        self.waker.wake();
        Ok(())
    }
}

impl PlaylistsService {
    /// A user of the read model. One who signed up a moment ago may not be in it yet (the
    /// account arrives by event): look again for a short while before calling them unknown.
    async fn user_arriving(
        &self,
        conn: &mut AnyConnection,
        user_id: &UserId,
    ) -> Result<Option<UserRef>, PlaylistsError> {
        let deadline = tokio::time::Instant::now() + USER_ARRIVAL_WAIT;
        loop {
            if let Some(user) = PlaylistsStore::user(conn, user_id.as_str()).await? {
                return Ok(Some(user));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// How long adding a collaborator waits for a just-created account to arrive by event.
const USER_ARRIVAL_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The playlist if the caller may see it; another user's private playlist does not exist for
/// them.
fn visible(playlist: Option<Playlist>, caller: &Caller) -> Result<Playlist, PlaylistsError> {
    playlist
        .filter(|p| p.can_view(&caller.user_id))
        .ok_or(PlaylistsError::NotFound("playlist"))
}

/// The track an M3U entry names, if one matches: its id and duration.
async fn match_entry(
    conn: &mut AnyConnection,
    entry: &m3u::M3uEntry,
) -> Result<Option<(String, i64)>, PlaylistsError> {
    let parts = m3u::path_parts(&entry.location);
    if let Some(file_name) = parts.last() {
        // The catalog's path is relative to its library folder: the candidate whose path is the
        // longest tail of the entry's path wins.
        let candidates = PlaylistsStore::tracks_named(conn, file_name).await?;
        let scored: Vec<(usize, &crate::model::TrackInfo)> = candidates
            .iter()
            .map(|track| {
                let shared = track
                    .path
                    .split('/')
                    .rev()
                    .zip(parts.iter().rev())
                    .take_while(|(a, b)| a.to_lowercase() == b.to_lowercase())
                    .count();
                (shared, track)
            })
            .filter(|(shared, _)| *shared > 0)
            .collect();
        let best = scored.iter().map(|(shared, _)| *shared).max().unwrap_or(0);
        let mut tied: Vec<&crate::model::TrackInfo> = scored
            .iter()
            .filter(|(shared, _)| *shared == best)
            .map(|(_, track)| *track)
            .collect();
        // Several tracks share the best tail ("01.mp3" in many folders): the #EXTINF title
        // decides, then the id, so both backends pick the same one.
        if tied.len() > 1 {
            if let Some(title) = entry
                .title
                .as_deref()
                .map(m3u::fold)
                .filter(|t| !t.is_empty())
            {
                let titled: Vec<_> = tied
                    .iter()
                    .copied()
                    .filter(|t| m3u::fold(&t.title) == title)
                    .collect();
                if !titled.is_empty() {
                    tied = titled;
                }
            }
            tied.sort_by(|a, b| a.id.cmp(&b.id));
        }
        if let Some(track) = tied.first() {
            return Ok(Some((track.id.clone(), track.duration_ms)));
        }
    }
    let Some(title) = entry
        .title
        .as_deref()
        .map(m3u::fold)
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    let mut candidates = PlaylistsStore::tracks_titled(conn, &title).await?;
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    let artist = entry.artist.as_deref().map(m3u::fold);
    let found = candidates.iter().find(|track| match &artist {
        None => true,
        Some(artist) => {
            let names: Vec<String> = track.artists.iter().map(|a| m3u::fold(&a.name)).collect();
            names.iter().any(|n| n == artist) || m3u::fold(&names.join(" ")) == *artist
        }
    });
    Ok(found.map(|t| (t.id.clone(), t.duration_ms)))
}
