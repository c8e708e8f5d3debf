//! The listener's own library: stars (Beatstream's likes), ratings, scrobbles (plays, which
//! feed history and recommendations), what is playing now (the playlists service's
//! now-playing reports), and the play queue.

use serde_json::{json, Value};

use crate::api::{enc, full_tracks, songs_by_ids};
use crate::model::{self, Marks};
use crate::{code, Call, Failure};

/// Ids asked about in one request for their marks.
const MARKS_PER_REQUEST: usize = 200;

/// Marks a reply: `starred` and `userRating` on every song, album, artist and directory in it,
/// from one request per 200 of them (`GET /api/v1/me/marks`).
pub async fn annotate(call: &Call<'_>, payload: &mut Value) -> Result<(), Failure> {
    let mut ids = Vec::new();
    collect_entities(payload, &mut ids);
    if ids.is_empty() {
        return Ok(());
    }
    ids.sort_unstable();
    ids.dedup();
    let mut marks = Marks::default();
    for chunk in ids.chunks(MARKS_PER_REQUEST) {
        let joined: Vec<String> = chunk.iter().map(|id| enc(id)).collect();
        let reply = call
            .api
            .get(&format!("/api/v1/me/marks?ids={}", joined.join(",")))
            .await?;
        for item in reply["items"].as_array().into_iter().flatten() {
            let Some(id) = item["id"].as_str() else {
                continue;
            };
            if let Some(at) = item["liked_at"].as_str() {
                marks.starred.insert(id.to_string(), at.to_string());
            }
            if let Some(rating) = item["rating"].as_i64() {
                marks.ratings.insert(id.to_string(), rating);
            }
        }
    }
    apply_marks(payload, &marks);
    Ok(())
}

/// A song, album, artist or directory (what can be starred), not a playlist or a user.
fn is_entity(object: &serde_json::Map<String, Value>) -> bool {
    object.get("id").is_some_and(Value::is_string)
        && (matches!(
            object.get("mediaType").and_then(Value::as_str),
            Some("song" | "album")
        ) || object.contains_key("albumCount")
            || object.contains_key("child"))
}

fn collect_entities(value: &Value, ids: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if is_entity(object) {
                if let Some(id) = object["id"].as_str() {
                    ids.push(id.to_string());
                }
            }
            object.values().for_each(|v| collect_entities(v, ids));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_entities(v, ids)),
        _ => {}
    }
}

fn apply_marks(value: &mut Value, marks: &Marks) {
    match value {
        Value::Object(object) => {
            if is_entity(object) {
                let id = object["id"].as_str().unwrap_or_default().to_string();
                marks.mark(object, &id);
            }
            object.values_mut().for_each(|v| apply_marks(v, marks));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| apply_marks(v, marks)),
        _ => {}
    }
}

/// `star` / `unstar`: songs (`id`), albums (`albumId`) and artists (`artistId`), each
/// repeatable. Every id is checked first, so a bad one changes nothing.
pub async fn star(call: &Call<'_>, on: bool) -> Result<Value, Failure> {
    let mut targets: Vec<(&str, &str)> = Vec::new();
    // `id` may be a song or, for clients that browse by folders, an album or an artist.
    for id in call.params.all("id") {
        targets.push((kind_of(call, id).await?, id));
    }
    for (param, kind) in [("albumId", "albums"), ("artistId", "artists")] {
        for id in call.params.all(param) {
            call.api.get(&format!("/api/v1/{kind}/{}", enc(id))).await?;
            targets.push((kind, id));
        }
    }
    if targets.is_empty() {
        return Err(Failure::new(
            code::MISSING_PARAMETER,
            "required parameter is missing: id, albumId or artistId",
        ));
    }
    let method = if on {
        axum::http::Method::PUT
    } else {
        axum::http::Method::DELETE
    };
    for (kind, id) in targets {
        let path = format!("/api/v1/me/likes/{kind}/{}", enc(id));
        call.api.call(method.clone(), &path, None).await?;
    }
    Ok(json!({}))
}

/// The client's name (`c`), as Beatstream keeps it: at most 100 characters.
fn player_name(call: &Call<'_>) -> String {
    let name: String = call
        .params
        .get("c")
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    match name.trim() {
        "" => "Subsonic client".to_string(),
        name => name.to_string(),
    }
}

/// What kind of thing `id` is: `tracks`, `albums` or `artists`.
pub async fn kind_of(call: &Call<'_>, id: &str) -> Result<&'static str, Failure> {
    for kind in ["tracks", "albums", "artists"] {
        if call
            .api
            .find(&format!("/api/v1/{kind}/{}", enc(id)))
            .await?
            .is_some()
        {
            return Ok(kind);
        }
    }
    Err(Failure::not_found("song, album or artist"))
}

/// `setRating`: 1 to 5 for a song, album or artist; 0 removes the rating.
pub async fn set_rating(call: &Call<'_>) -> Result<Value, Failure> {
    let id = call.params.required("id")?;
    call.params.required("rating")?;
    let rating = call.params.int("rating", 0)?;
    if !(0..=5).contains(&rating) {
        return Err(Failure::new(
            code::GENERIC,
            "rating must be from 0 (none) to 5",
        ));
    }
    if rating == 0 {
        // Clearing works even for something since removed: whatever kind it was.
        for kind in ["tracks", "albums", "artists"] {
            let path = format!("/api/v1/me/ratings/{kind}/{}", enc(id));
            call.api
                .call(axum::http::Method::DELETE, &path, None)
                .await?;
        }
    } else {
        let kind = kind_of(call, id).await?;
        let path = format!("/api/v1/me/ratings/{kind}/{}", enc(id));
        call.api
            .call(
                axum::http::Method::PUT,
                &path,
                Some(&json!({ "rating": rating })),
            )
            .await?;
    }
    Ok(json!({}))
}

/// `scrobble`: with `submission=false` the song is playing now; otherwise it was played (at
/// `time`, milliseconds since the epoch), which records a play.
pub async fn scrobble(call: &Call<'_>) -> Result<Value, Failure> {
    let ids = call.params.all("id");
    if ids.is_empty() {
        return Err(Failure::new(
            code::MISSING_PARAMETER,
            "required parameter is missing: id",
        ));
    }
    let times = call.params.all("time");
    let submission = call.params.bool("submission", true);
    let player = player_name(call);
    // Every id checked first, so a bad one records nothing.
    let tracks = songs_by_ids(&call.api, &ids).await?;
    for (n, track) in tracks.iter().enumerate() {
        let id = track["id"].as_str().unwrap_or_default();
        if !submission {
            let report = json!({"track_id": id, "player": player});
            call.api
                .call(
                    axum::http::Method::PUT,
                    "/api/v1/me/now-playing",
                    Some(&report),
                )
                .await?;
            continue;
        }
        let mut play = json!({
            "track_id": id,
            // A scrobble means the song was listened to: all of it, as far as we know.
            "played_ms": track["duration_ms"].as_i64().unwrap_or(0),
        });
        if let Some(at) = times.get(n).and_then(|t| t.parse::<i64>().ok()) {
            play["started_at"] = json!(rfc3339(at));
        }
        call.api.post("/api/v1/me/plays", &play).await?;
    }
    Ok(json!({}))
}

/// Milliseconds since the epoch as RFC 3339 UTC with milliseconds.
fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub async fn now_playing(call: &Call<'_>) -> Result<Value, Failure> {
    let reports = call.api.get("/api/v1/now-playing").await?;
    let reports: Vec<Value> = reports["items"].as_array().cloned().unwrap_or_default();
    let tracks: Vec<Value> = reports.iter().map(|r| r["track"].clone()).collect();
    let tracks = full_tracks(&call.api, tracks).await?;
    let now = time::OffsetDateTime::now_utc();
    let entries: Vec<Value> = reports
        .iter()
        .zip(&tracks)
        .map(|(report, track)| {
            let since = report["since"]
                .as_str()
                .and_then(|s| {
                    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or(now);
            let mut entry = model::song(track);
            entry["username"] = report["user"]["username"].clone();
            entry["minutesAgo"] = json!((now - since).whole_minutes().max(0));
            entry["playerId"] = json!(0);
            entry["playerName"] = report["player"].clone();
            entry
        })
        .collect();
    Ok(json!({"nowPlaying": {"entry": entries}}))
}

/// `getPlayQueue`: the queue saved by `savePlayQueue` (kept by the users service).
pub async fn play_queue(call: &Call<'_>) -> Result<Value, Failure> {
    let queue = call.api.get("/api/v1/me/play-queue").await?;
    let ids: Vec<&str> = queue["track_ids"]
        .as_array()
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if ids.is_empty() {
        return Ok(json!({}));
    }
    // Tracks gone from the catalog are left out.
    let wanted: Vec<Value> = ids.iter().map(|id| json!({ "id": id })).collect();
    let entries: Vec<Value> = full_tracks(&call.api, wanted)
        .await?
        .iter()
        .filter(|t| t.get("title").is_some())
        .map(model::song)
        .collect();
    let mut out = json!({
        "entry": entries,
        "position": queue["position_ms"].as_i64().unwrap_or(0),
        "username": call.who.username,
        "changed": queue["updated_at"],
        "changedBy": queue["changed_by"].as_str().unwrap_or(""),
    });
    if let Some(current) = queue["current_index"]
        .as_u64()
        .and_then(|i| ids.get(i as usize))
    {
        out["current"] = json!(current);
    }
    Ok(json!({ "playQueue": out }))
}

/// `savePlayQueue`: `id` repeated (none clears it), `current`, `position` in milliseconds.
pub async fn save_play_queue(call: &Call<'_>) -> Result<Value, Failure> {
    let ids = call.params.all("id");
    // A `current` that is not in the queue is no current (some clients send a stale one).
    let current_index = call
        .params
        .get("current")
        .and_then(|current| ids.iter().position(|id| *id == current));
    let position = call.params.int("position", 0)?;
    if position < 0 {
        return Err(Failure::new(code::GENERIC, "position must not be negative"));
    }
    let body = json!({
        "track_ids": ids,
        "current_index": current_index,
        "position_ms": position,
        "changed_by": player_name(call),
    });
    call.api
        .call(
            axum::http::Method::PUT,
            "/api/v1/me/play-queue",
            Some(&body),
        )
        .await?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrobble_times_become_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_150_896_123), "2025-11-26T09:54:56.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
