//! Events the playlists service emits about a listener's library: likes and plays.

use beatstream_core::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

use crate::Event;

/// `library.track.played`: a listener played (or skipped) a track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackPlayed {
    pub play_id: String,
    pub user_id: UserId,
    pub track_id: String,
    pub played_ms: i64,
    /// When playback started.
    pub played_at: Timestamp,
    /// Played too briefly to count (see `docs/events.md`): a skip, a negative signal.
    pub skipped: bool,
}

impl Event for TrackPlayed {
    const TOPIC: &'static str = "library.track.played";
    const VERSION: u32 = 1;
}

/// `library.track.liked` and its undo: a listener liked or unliked a track. Only real changes
/// are published (liking a liked track publishes nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackLiked {
    pub user_id: UserId,
    pub track_id: String,
    pub liked: bool,
    pub at: Timestamp,
}

impl Event for TrackLiked {
    const TOPIC: &'static str = "library.track.liked";
    const VERSION: u32 = 1;
}
