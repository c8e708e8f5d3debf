//! The playlists service's domain types: no SQL, no HTTP.

use beatstream_core::{Timestamp, UserId};
use beatstream_events::catalog::NamedRef;

/// A user as replies show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef {
    pub id: UserId,
    pub username: String,
}

/// A track as this service knows it, from catalog events. A track the catalog removed stays
/// known, with `available: false`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackInfo {
    pub id: String,
    pub title: String,
    pub artists: Vec<NamedRef>,
    pub album: NamedRef,
    pub genres: Vec<String>,
    pub year: Option<i64>,
    pub track_number: Option<i64>,
    pub disc_number: Option<i64>,
    pub duration_ms: i64,
    pub format: String,
    pub bitrate_kbps: Option<i64>,
    pub path: String,
    pub available: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Playlist {
    pub id: String,
    pub owner: UserRef,
    pub name: String,
    pub description: String,
    pub public: bool,
    pub collaborative: bool,
    pub collaborators: Vec<UserRef>,
    pub track_count: i64,
    /// Sum of the known tracks' durations.
    pub duration_ms: i64,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Playlist {
    pub fn is_collaborator(&self, user: &UserId) -> bool {
        self.collaborators.iter().any(|c| &c.id == user)
    }

    pub fn can_view(&self, user: &UserId) -> bool {
        self.public || &self.owner.id == user || self.is_collaborator(user)
    }

    /// The owner, and the collaborators of a collaborative playlist, change its tracks.
    pub fn can_edit_tracks(&self, user: &UserId) -> bool {
        &self.owner.id == user || (self.collaborative && self.is_collaborator(user))
    }

    /// Everyone who sees this playlist change live: owner and collaborators.
    pub fn members(&self) -> Vec<UserId> {
        std::iter::once(self.owner.id.clone())
            .chain(self.collaborators.iter().map(|c| c.id.clone()))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub position: i64,
    pub track: TrackInfo,
    pub added_by: UserRef,
    pub added_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct NewPlaylist {
    pub name: String,
    pub description: Option<String>,
    pub public: Option<bool>,
    pub collaborative: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct PlaylistPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub public: Option<bool>,
    pub collaborative: Option<bool>,
}

/// A liked track.
#[derive(Debug, Clone, PartialEq)]
pub struct Like {
    pub track: TrackInfo,
    pub liked_at: Timestamp,
}

/// A played (or skipped) track.
#[derive(Debug, Clone, PartialEq)]
pub struct Play {
    pub id: String,
    pub track: TrackInfo,
    pub played_ms: i64,
    pub played_at: Timestamp,
    pub skipped: bool,
}

/// What a client says it played.
#[derive(Debug, Clone)]
pub struct PlayReport {
    pub track_id: String,
    pub played_ms: i64,
    pub started_at: Option<Timestamp>,
}

/// The result of an M3U import.
#[derive(Debug, Clone)]
pub struct Import {
    pub playlist: Playlist,
    pub matched: usize,
    /// Entries that matched no track: (1-based line number, the entry as written).
    pub unmatched: Vec<(usize, String)>,
}

/// What can be liked besides tracks, or rated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    Track,
    Album,
    Artist,
}

impl MarkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MarkKind::Track => "track",
            MarkKind::Album => "album",
            MarkKind::Artist => "artist",
        }
    }

    /// From a route segment: `tracks`, `albums` or `artists` (or the singular).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "track" | "tracks" => Some(MarkKind::Track),
            "album" | "albums" => Some(MarkKind::Album),
            "artist" | "artists" => Some(MarkKind::Artist),
            _ => None,
        }
    }
}

/// A liked album or artist.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemLike {
    pub id: String,
    pub name: String,
    pub liked_at: Timestamp,
}

/// A rating from 1 to 5.
#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    pub kind: MarkKind,
    pub id: String,
    pub rating: i64,
    pub rated_at: Timestamp,
}

/// A player's report of what it plays now.
#[derive(Debug, Clone, PartialEq)]
pub struct NowPlaying {
    pub user_id: String,
    pub username: String,
    pub player: String,
    pub track: TrackInfo,
    pub since: Timestamp,
}
