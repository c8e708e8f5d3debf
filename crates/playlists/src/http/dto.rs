//! Request and response shapes of the playlists and library routes.

use beatstream_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::model::{Entry, Import, ItemLike, Like, NowPlaying, Play, Playlist, TrackInfo, UserRef};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    pub username: String,
}

impl From<&UserRef> for UserDto {
    fn from(u: &UserRef) -> Self {
        UserDto {
            id: u.id.0.clone(),
            username: u.username.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArtistRefDto {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlbumRefDto {
    pub id: String,
    pub title: String,
}

/// A track as the catalog described it. `available: false` when the catalog no longer has
/// it (its file was removed): it stays in playlists and likes, and plays again if it returns.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackDto {
    pub id: String,
    pub title: String,
    pub artists: Vec<ArtistRefDto>,
    pub album: AlbumRefDto,
    pub track_number: Option<i64>,
    pub disc_number: Option<i64>,
    pub duration_ms: i64,
    pub year: Option<i64>,
    pub genres: Vec<String>,
    pub format: String,
    pub bitrate_kbps: Option<i64>,
    pub available: bool,
}

impl From<&TrackInfo> for TrackDto {
    fn from(t: &TrackInfo) -> Self {
        TrackDto {
            id: t.id.clone(),
            title: t.title.clone(),
            artists: t
                .artists
                .iter()
                .map(|a| ArtistRefDto {
                    id: a.id.clone(),
                    name: a.name.clone(),
                })
                .collect(),
            album: AlbumRefDto {
                id: t.album.id.clone(),
                title: t.album.name.clone(),
            },
            track_number: t.track_number,
            disc_number: t.disc_number,
            duration_ms: t.duration_ms,
            year: t.year,
            genres: t.genres.clone(),
            format: t.format.clone(),
            bitrate_kbps: t.bitrate_kbps,
            available: t.available,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaylistDto {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: UserDto,
    pub public: bool,
    pub collaborative: bool,
    pub collaborators: Vec<UserDto>,
    pub track_count: i64,
    pub duration_ms: i64,
    /// Bumped by every change; send it back in `If-Match` to make a change conditional.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Playlist> for PlaylistDto {
    fn from(p: &Playlist) -> Self {
        PlaylistDto {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            owner: UserDto::from(&p.owner),
            public: p.public,
            collaborative: p.collaborative,
            collaborators: p.collaborators.iter().map(UserDto::from).collect(),
            track_count: p.track_count,
            duration_ms: p.duration_ms,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntryDto {
    /// 0-based.
    pub position: i64,
    pub track: TrackDto,
    pub added_by: UserDto,
    pub added_at: Timestamp,
}

impl From<&Entry> for EntryDto {
    fn from(e: &Entry) -> Self {
        EntryDto {
            position: e.position,
            track: TrackDto::from(&e.track),
            added_by: UserDto::from(&e.added_by),
            added_at: e.added_at,
        }
    }
}

/// A playlist with its tracks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaylistWithTracks {
    #[serde(flatten)]
    pub playlist: PlaylistDto,
    pub tracks: Vec<EntryDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaylistList {
    pub items: Vec<PlaylistDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlaylistRequest {
    pub name: String,
    pub description: Option<String>,
    /// Visible to every signed-in user (default false).
    pub public: Option<bool>,
    /// Collaborators may add, remove and move tracks (default false).
    pub collaborative: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchPlaylistRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub public: Option<bool>,
    pub collaborative: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTracksRequest {
    pub track_ids: Vec<String>,
    /// From 0 to the track count (default: the end).
    pub position: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveTracksRequest {
    pub positions: Vec<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveTracksRequest {
    pub from: i64,
    pub to: i64,
    /// Default 1.
    pub count: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionResponse {
    pub version: i64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    /// First position to list (default 0).
    pub offset: Option<i64>,
    /// How many entries to list (default: all).
    pub limit: Option<i64>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The new playlist's name (default: the file's `#PLAYLIST:` or "Imported playlist").
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnmatchedEntry {
    /// 1-based line of the entry in the file.
    pub line: usize,
    pub entry: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    pub playlist: PlaylistDto,
    pub matched: usize,
    pub unmatched: Vec<UnmatchedEntry>,
}

impl From<&Import> for ImportResponse {
    fn from(i: &Import) -> Self {
        ImportResponse {
            playlist: PlaylistDto::from(&i.playlist),
            matched: i.matched,
            unmatched: i
                .unmatched
                .iter()
                .map(|(line, entry)| UnmatchedEntry {
                    line: *line,
                    entry: entry.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LikeDto {
    pub track: TrackDto,
    pub liked_at: Timestamp,
}

impl From<&Like> for LikeDto {
    fn from(l: &Like) -> Self {
        LikeDto {
            track: TrackDto::from(&l.track),
            liked_at: l.liked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LikeList {
    pub items: Vec<LikeDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlayRequest {
    pub track_id: String,
    /// How long it played, in milliseconds.
    pub played_ms: i64,
    /// When playback started (RFC 3339; default: now minus `played_ms`).
    pub started_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlayDto {
    pub id: String,
    pub track: TrackDto,
    pub played_ms: i64,
    pub played_at: Timestamp,
    /// Played too briefly to count (under half the track, or under 30 s).
    pub skipped: bool,
}

impl From<&Play> for PlayDto {
    fn from(p: &Play) -> Self {
        PlayDto {
            id: p.id.clone(),
            track: TrackDto::from(&p.track),
            played_ms: p.played_ms,
            played_at: p.played_at,
            skipped: p.skipped,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlayList {
    pub items: Vec<PlayDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Also list skips (default false).
    pub include_skips: Option<bool>,
}

/// A liked album or artist: `{id, name}` (the name when liked) and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemLikeDto {
    pub id: String,
    pub name: String,
    pub liked_at: Timestamp,
}

impl From<&ItemLike> for ItemLikeDto {
    fn from(l: &ItemLike) -> Self {
        ItemLikeDto {
            id: l.id.clone(),
            name: l.name.clone(),
            liked_at: l.liked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemLikeList {
    pub items: Vec<ItemLikeDto>,
    pub next_cursor: Option<String>,
}

/// `{rating}`: 1 to 5, or 0 to clear it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    pub rating: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingDto {
    pub id: String,
    pub rating: i64,
    pub rated_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingList {
    pub items: Vec<RatingDto>,
}

/// `{track_id, player}`: what one of the caller's players plays now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NowPlayingRequest {
    pub track_id: String,
    pub player: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NowPlayingDto {
    pub user: UserDto,
    pub player: String,
    pub track: TrackDto,
    pub since: Timestamp,
}

impl From<&NowPlaying> for NowPlayingDto {
    fn from(n: &NowPlaying) -> Self {
        NowPlayingDto {
            user: UserDto {
                id: n.user_id.clone(),
                username: n.username.clone(),
            },
            player: n.player.clone(),
            track: TrackDto::from(&n.track),
            since: n.since,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NowPlayingList {
    pub items: Vec<NowPlayingDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MyPlaylistsQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Also everyone's public playlists (default false).
    pub include_public: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MarksQuery {
    /// Comma-separated ids of tracks, albums and artists (up to 500).
    pub ids: String,
}

/// The caller's like (when) and rating of one id; ids with neither are left out.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkDto {
    pub id: String,
    pub liked_at: Option<Timestamp>,
    pub rating: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarkList {
    pub items: Vec<MarkDto>,
}
