//! A catalog track in the API's shape (as `GET /api/v1/tracks/{id}` shows it), from what
//! catalog events said of it.

use beatstream_events::catalog::{NamedRef, TrackSummary};
use serde_json::{json, Value};

fn refs(named: &[NamedRef]) -> Vec<Value> {
    named
        .iter()
        .map(|n| json!({"id": n.id, "name": n.name}))
        .collect()
}

pub fn track_json(track: &TrackSummary) -> Value {
    json!({
        "id": track.track_id,
        "title": track.title,
        "artists": refs(&track.artists),
        "album": {"id": track.album.id, "title": track.album.name},
        "album_artists": refs(&track.album_artists),
        "track_number": track.track_number,
        "disc_number": track.disc_number,
        "duration_ms": track.duration_ms,
        "year": track.year,
        "genres": track.genres,
        "format": track.format,
        "bitrate_kbps": track.bitrate_kbps,
    })
}
