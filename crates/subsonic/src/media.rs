//! Audio and images: `stream` and `download` (the catalog's stream with the client's `Range`
//! and cache headers passed through), `getCoverArt` for an album, song, artist or playlist id,
//! and `getLyricsBySongId` (OpenSubsonic's structured lyrics, synced when the lyrics are LRC).

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::api::{enc, failure_of};
use crate::{code, Call, Failure};

/// Request headers a stream or an image honours.
const PASSED_HEADERS: [header::HeaderName; 4] = [
    header::RANGE,
    header::IF_RANGE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
];

fn passed(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in PASSED_HEADERS {
        if let Some(value) = headers.get(&name) {
            out.insert(name, value.clone());
        }
    }
    out
}

/// The response as it is when it succeeded; the API's error as a Subsonic failure otherwise.
async fn media(response: Response, path: &str) -> Result<Response, Failure> {
    let status = response.status();
    if status.is_success()
        || status == StatusCode::NOT_MODIFIED
        || status == StatusCode::RANGE_NOT_SATISFIABLE
    {
        return Ok(response);
    }
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Err(failure_of(status, &body, path))
}

/// `stream` (`maxBitRate` in kbps, `format` of mp3, opus, aac or raw, `timeOffset` in seconds,
/// which transcodes) and `download` (always the original).
pub async fn stream(call: &Call<'_>, download: bool) -> Result<Response, Failure> {
    let p = call.params;
    let id = p.required("id")?;
    let max_bit_rate = p.count("maxBitRate", 0, 10_000)?;
    let format = p
        .get("format")
        .filter(|f| !f.is_empty())
        .map(str::to_ascii_lowercase);
    let mut path = format!("/api/v1/tracks/{}/stream", enc(id));
    if !download {
        // Unknown formats (`flac`, the file's own suffix...) get the original, as other
        // servers do.
        let transcode_to = match format.as_deref() {
            Some(f @ ("mp3" | "opus" | "aac")) => Some(f.to_string()),
            Some("ogg" | "oga") => Some("opus".to_string()),
            Some("m4a" | "mp4") => Some("aac".to_string()),
            _ => None,
        };
        let raw = format.as_deref() == Some("raw");
        // `timeOffset` (seconds) needs a transcode too: the stream starts there.
        let offset_ms = (p.count("timeOffset", 0, 24 * 3600)? as u64) * 1000;
        let target = match (transcode_to, max_bit_rate) {
            (Some(f), _) => Some(f),
            // A bitrate cap below the file's own, without a format, is met with MP3 (every
            // client plays it); only then is the file's bitrate needed.
            (None, cap)
                if cap > 0 && format.is_none() && below_file_rate(call, id, cap).await? =>
            {
                Some("mp3".to_string())
            }
            // `raw` always gets the original.
            (None, _) if offset_ms > 0 && !raw => Some("mp3".to_string()),
            _ => None,
        };
        if let Some(target) = target {
            path.push_str(&format!("?format={target}"));
            if max_bit_rate > 0 {
                path.push_str(&format!("&bitrate={max_bit_rate}"));
            }
            if offset_ms > 0 {
                path.push_str(&format!("&offset_ms={offset_ms}"));
            }
        }
    }
    let response = call
        .api
        .raw(call.method.clone(), &path, None, passed(call.headers))
        .await;
    media(response, &path).await
}

/// Whether `cap` kbps is below the bitrate of track `id`'s file.
async fn below_file_rate(call: &Call<'_>, id: &str, cap: usize) -> Result<bool, Failure> {
    let track = call.api.get(&format!("/api/v1/tracks/{}", enc(id))).await?;
    Ok((cap as u64) < track["bitrate_kbps"].as_u64().unwrap_or(u64::MAX))
}

/// `getCoverArt`: `id` is an album, a song (its album's cover), an artist (one of their
/// albums') or a playlist (its first song's album's). Albums, the common case, cost one request.
pub async fn cover_art(call: &Call<'_>) -> Result<Response, Failure> {
    let id = call.params.required("id")?;
    let size = call.params.count("size", 0, 2048)?;
    // Navidrome-style prefixed ids (al-, ar-, mf-, pl-, with a _suffix) are accepted too.
    let id = ["al-", "ar-", "mf-", "tr-", "pl-"]
        .iter()
        .find_map(|prefix| id.strip_prefix(prefix))
        .unwrap_or(id);
    let id = id.split('_').next().unwrap_or(id);
    let response = cover_of_album(call, id, size).await;
    if response.status() != StatusCode::NOT_FOUND {
        return media(response, "cover").await;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if body["error"]["code"] == "cover_not_found" {
        return Err(Failure::not_found("cover art"));
    }
    let album_id = cover_album(call, id).await?;
    media(cover_of_album(call, &album_id, size).await, "cover").await
}

async fn cover_of_album(call: &Call<'_>, album_id: &str, size: usize) -> Response {
    let mut path = format!("/api/v1/albums/{}/cover", enc(album_id));
    if size > 0 {
        path.push_str(&format!("?size={size}"));
    }
    call.api
        .raw(call.method.clone(), &path, None, passed(call.headers))
        .await
}

/// The album whose cover stands for a song, artist or playlist id.
async fn cover_album(call: &Call<'_>, id: &str) -> Result<String, Failure> {
    let api = &call.api;
    if let Ok(track) = api.get(&format!("/api/v1/tracks/{}", enc(id))).await {
        if let Some(album) = track["album"]["id"].as_str() {
            return Ok(album.to_string());
        }
    }
    if let Ok(artist) = api.get(&format!("/api/v1/artists/{}", enc(id))).await {
        let albums = artist["albums"].as_array().cloned().unwrap_or_default();
        let with_cover = albums
            .iter()
            .find(|a| !a["cover_url"].is_null())
            .or(albums.first());
        if let Some(album) = with_cover.and_then(|a| a["id"].as_str()) {
            return Ok(album.to_string());
        }
    }
    if let Ok(playlist) = api
        .get(&format!("/api/v1/playlists/{}?limit=1", enc(id)))
        .await
    {
        if let Some(album) = playlist["tracks"][0]["track"]["album"]["id"].as_str() {
            return Ok(album.to_string());
        }
    }
    Err(Failure::not_found("cover art"))
}

/// `getLyricsBySongId`: the song's embedded lyrics, as OpenSubsonic structured lyrics.
pub async fn lyrics_by_song(call: &Call<'_>) -> Result<Value, Failure> {
    let id = call.params.required("id")?;
    let track = call.api.get(&format!("/api/v1/tracks/{}", enc(id))).await?;
    let lyrics = call
        .api
        .get(&format!("/api/v1/tracks/{}/lyrics", enc(id)))
        .await;
    let text = match lyrics {
        Ok(found) => found["lyrics"].as_str().map(str::to_string),
        Err(f) if f.code == code::NOT_FOUND => None,
        Err(f) => return Err(f),
    };
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(json!({"lyricsList": {"structuredLyrics": []}}));
    };
    let display_artist = track["artists"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["name"].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let (synced, lines) = parse_lyrics(&text);
    Ok(json!({"lyricsList": {"structuredLyrics": [{
        "displayArtist": display_artist,
        "displayTitle": track["title"],
        "lang": "xxx",
        "synced": synced,
        "line": lines,
    }]}}))
}

/// `getLyrics` (the older call): the lyrics of the song with this `artist` and `title`, as
/// plain text (empty when there are none).
pub async fn lyrics(call: &Call<'_>) -> Result<Value, Failure> {
    let artist = call.params.get("artist").unwrap_or("").trim();
    let title = call.params.get("title").unwrap_or("").trim();
    if title.is_empty() {
        return Ok(json!({"lyrics": {"value": ""}}));
    }
    let found = call
        .api
        .get(&format!(
            "/api/v1/search?types=track&limit=20&q={}",
            enc(&format!("{artist} {title}"))
        ))
        .await?;
    let matches = |t: &&Value| {
        t["title"]
            .as_str()
            .is_some_and(|x| x.eq_ignore_ascii_case(title))
            && (artist.is_empty()
                || t["artists"].as_array().into_iter().flatten().any(|a| {
                    a["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(artist))
                }))
    };
    let Some(track) = found["tracks"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(matches)
    else {
        return Ok(json!({"lyrics": {"value": ""}}));
    };
    let id = track["id"].as_str().unwrap_or_default();
    let text = match call
        .api
        .get(&format!("/api/v1/tracks/{}/lyrics", enc(id)))
        .await
    {
        Ok(found) => found["lyrics"].as_str().unwrap_or("").to_string(),
        Err(f) if f.code == code::NOT_FOUND => String::new(),
        Err(f) => return Err(f),
    };
    // Plain text: LRC timestamps dropped.
    let (_, lines) = parse_lyrics(&text);
    let plain: Vec<&str> = lines.iter().filter_map(|l| l["value"].as_str()).collect();
    let names: Vec<&str> = track["artists"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str())
        .collect();
    Ok(json!({"lyrics": {
        "artist": names.join(", "),
        "title": track["title"],
        "value": plain.join("\n"),
    }}))
}

/// Lines of lyrics; LRC timestamps (`[mm:ss.xx]`) make them synced, with `start` in ms.
fn parse_lyrics(text: &str) -> (bool, Vec<Value>) {
    let timed: Vec<(Option<i64>, &str)> = text.lines().map(lrc_line).collect();
    let synced = timed.iter().any(|(start, _)| start.is_some());
    let lines = timed
        .into_iter()
        // Synced lyrics keep their timed lines only (LRC headers such as `[ar:...]` go).
        .filter(|(start, _)| !synced || start.is_some())
        .map(|(start, line)| match start {
            Some(ms) if synced => json!({"start": ms, "value": line}),
            _ => json!({"value": line}),
        })
        .collect();
    (synced, lines)
}

/// `[mm:ss.xx]text` → (start in ms, text); other lines have no start.
fn lrc_line(line: &str) -> (Option<i64>, &str) {
    let Some(rest) = line.strip_prefix('[') else {
        return (None, line);
    };
    let Some((stamp, text)) = rest.split_once(']') else {
        return (None, line);
    };
    let Some((minutes, seconds)) = stamp.split_once(':') else {
        return (None, line);
    };
    match (minutes.parse::<i64>(), seconds.parse::<f64>()) {
        (Ok(m), Ok(s)) => (Some(m * 60_000 + (s * 1000.0).round() as i64), text),
        _ => (None, line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lrc_lyrics_are_synced_and_plain_ones_are_not() {
        let (synced, lines) = parse_lyrics("[ar:Someone]\n[00:01.50]Hello\n[01:02.00]World\n");
        assert!(synced);
        assert_eq!(
            lines,
            vec![
                json!({"start": 1500, "value": "Hello"}),
                json!({"start": 62000, "value": "World"})
            ]
        );
        let (synced, lines) = parse_lyrics("Hello\nWorld");
        assert!(!synced);
        assert_eq!(lines.len(), 2);
    }
}
