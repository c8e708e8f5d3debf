//! Events the playlists service emits about playlists.

use beatstream_core::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

use crate::Event;

/// `playlists.playlist.changed`: a playlist was created or changed (details, sharing,
/// collaborators or tracks). It carries the playlist's state after the change and, for track
/// edits, which tracks went in and out, so consumers (search, realtime, recommendations) never
/// need to read the playlists service's tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaylistChanged {
    pub playlist_id: String,
    pub version: i64,
    pub name: String,
    pub description: String,
    pub owner_id: UserId,
    pub owner_username: String,
    pub public: bool,
    pub collaborative: bool,
    pub collaborators: Vec<UserId>,
    pub track_count: i64,
    /// Absent in events from before it was added.
    #[serde(default)]
    pub duration_ms: i64,
    /// Who made the change.
    pub changed_by: UserId,
    pub changed_at: Timestamp,
    /// Tracks added by this change, in the order added.
    #[serde(default)]
    pub added_track_ids: Vec<String>,
    /// Tracks removed by this change.
    #[serde(default)]
    pub removed_track_ids: Vec<String>,
}

impl Event for PlaylistChanged {
    const TOPIC: &'static str = "playlists.playlist.changed";
    const VERSION: u32 = 1;
}

/// `playlists.playlist.deleted`: the owner deleted a playlist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaylistDeleted {
    pub playlist_id: String,
    pub owner_id: UserId,
    /// Who could see it change (owner and collaborators), for live updates.
    pub members: Vec<UserId>,
    pub deleted_at: Timestamp,
}

impl Event for PlaylistDeleted {
    const TOPIC: &'static str = "playlists.playlist.deleted";
    const VERSION: u32 = 1;
}
