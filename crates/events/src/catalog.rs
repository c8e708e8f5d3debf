//! Events the catalog service emits.

use serde::{Deserialize, Serialize};

use crate::Event;

/// An artist or album as events carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

/// What consumers (playlists, search, recommendations) need of a track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackSummary {
    pub track_id: String,
    pub title: String,
    pub artists: Vec<NamedRef>,
    pub album: NamedRef,
    pub album_artists: Vec<NamedRef>,
    pub genres: Vec<String>,
    pub year: Option<i64>,
    pub track_number: Option<i64>,
    pub disc_number: Option<i64>,
    pub duration_ms: i64,
    pub format: String,
    /// Absent in events from before it was added.
    #[serde(default)]
    pub bitrate_kbps: Option<i64>,
    /// Path relative to its library folder (for an upload, its blob key), for M3U matching.
    pub path: String,
}

impl TrackSummary {
    /// The track in the API's shape, as `GET /api/v1/tracks/{id}` shows it (without the
    /// signed `stream_url`, which only the catalog can sign), for services that answer with
    /// tracks from their read models.
    pub fn api_json(&self) -> serde_json::Value {
        let refs = |named: &[NamedRef]| -> Vec<serde_json::Value> {
            named
                .iter()
                .map(|n| serde_json::json!({"id": n.id, "name": n.name}))
                .collect()
        };
        serde_json::json!({
            "id": self.track_id,
            "title": self.title,
            "artists": refs(&self.artists),
            "album": {"id": self.album.id, "title": self.album.name},
            "album_artists": refs(&self.album_artists),
            "track_number": self.track_number,
            "disc_number": self.disc_number,
            "duration_ms": self.duration_ms,
            "year": self.year,
            "genres": self.genres,
            "format": self.format,
            "bitrate_kbps": self.bitrate_kbps,
        })
    }
}

/// `catalog.track.added`: a new track entered the catalog (a new file or an upload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackAdded {
    pub track: TrackSummary,
}

impl Event for TrackAdded {
    const TOPIC: &'static str = "catalog.track.added";
    const VERSION: u32 = 1;
}

/// `catalog.track.updated`: a known track's file changed, moved, or came back after removal; its
/// id stays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackUpdated {
    pub track: TrackSummary,
}

impl Event for TrackUpdated {
    const TOPIC: &'static str = "catalog.track.updated";
    const VERSION: u32 = 1;
}

/// `catalog.track.removed`: the track's file is gone. If it comes back it keeps its id and a
/// `catalog.track.updated` follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackRemoved {
    pub track_id: String,
}

impl Event for TrackRemoved {
    const TOPIC: &'static str = "catalog.track.removed";
    const VERSION: u32 = 1;
}

/// `catalog.scan.finished`: a library scan ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanFinished {
    pub scan_id: String,
    pub files_seen: u64,
    pub tracks_added: u64,
    pub tracks_updated: u64,
    pub tracks_removed: u64,
    pub errors: u64,
}

impl Event for ScanFinished {
    const TOPIC: &'static str = "catalog.scan.finished";
    const VERSION: u32 = 1;
}

/// `catalog.scan.progress`: a library scan is running; published about once a second while
/// its figures change, for admins watching it live. `catalog.scan.finished` ends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanProgressed {
    pub scan_id: String,
    pub files_seen: u64,
    pub tracks_added: u64,
    pub tracks_updated: u64,
    pub tracks_removed: u64,
    pub errors: u64,
}

impl Event for ScanProgressed {
    const TOPIC: &'static str = "catalog.scan.progress";
    const VERSION: u32 = 1;
}
