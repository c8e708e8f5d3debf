//! Lists: albums by every `getAlbumList` type, random songs, songs of a genre, starred songs,
//! similar songs (Beatstream's radio) and an artist's songs.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::api::{all_pages, enc, full_albums, full_tracks, page_at};
use crate::library::kind_of;
use crate::model;
use crate::{code, Call, Failure};

/// At most this many albums or tracks are read to re-sort a list in here.
const MAX_SCAN: usize = 50_000;
/// Plays read for `frequent` and `recent`.
const MAX_HISTORY: usize = 5_000;

/// `getAlbumList` (folder-style children) and `getAlbumList2` (`AlbumID3`): every list type.
pub async fn album_list(call: &Call<'_>, method: &str) -> Result<Value, Failure> {
    let p = call.params;
    let kind = p.required("type")?;
    let size = p.count("size", 10, 500)?;
    let offset = p.count("offset", 0, usize::MAX)?;
    let albums: Vec<Value> = match kind {
        "newest" => page_at(&call.api, "/api/v1/albums?sort=newest", offset, size).await?,
        "alphabeticalByName" => page_at(&call.api, "/api/v1/albums?sort=name", offset, size).await?,
        "alphabeticalByArtist" => {
            let mut all = all_pages(&call.api, "/api/v1/albums?sort=name", MAX_SCAN).await?;
            let artist = |a: &Value| {
                a["artists"][0]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase()
            };
            all.sort_by_key(|a| {
                (artist(a), a["title"].as_str().unwrap_or_default().to_lowercase())
            });
            window(all, offset, size)
        }
        "random" => {
            let page = call
                .api
                .get(&format!("/api/v1/albums?sort=random&limit={}", size.max(1)))
                .await?;
            page["items"].as_array().cloned().unwrap_or_default()
        }
        "byGenre" => {
            let genre = p.required("genre")?;
            let path = format!("/api/v1/albums?sort=name&genre={}", enc(genre));
            page_at(&call.api, &path, offset, size).await?
        }
        "byYear" => {
            p.required("fromYear")?;
            p.required("toYear")?;
            let from = p.int("fromYear", 0)?;
            let to = p.int("toYear", 0)?;
            let (low, high) = (from.min(to), from.max(to));
            let path = format!("/api/v1/albums?sort=year&from_year={low}&to_year={high}");
            if from <= to {
                page_at(&call.api, &path, offset, size).await?
            } else {
                // Newest first: the range read whole (one range of years), then reversed.
                let mut all = all_pages(&call.api, &path, MAX_SCAN).await?;
                all.reverse();
                window(all, offset, size)
            }
        }
        "starred" => {
            let liked = all_pages(&call.api, "/api/v1/me/likes/albums?", MAX_SCAN).await?;
            let ids = liked.iter().filter_map(|l| l["id"].as_str().map(str::to_string));
            fetch_albums(call, ids, offset, size).await?
        }
        "highest" => {
            let rated = call.api.get("/api/v1/me/ratings/albums").await?;
            let ids = rated["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["id"].as_str().map(str::to_string));
            fetch_albums(call, ids, offset, size).await?
        }
        "recent" | "frequent" => {
            let plays = all_pages(&call.api, "/api/v1/me/history?", MAX_HISTORY).await?;
            let ids = if kind == "recent" {
                let mut seen = Vec::new();
                for play in &plays {
                    if let Some(id) = play["track"]["album"]["id"].as_str() {
                        if !seen.iter().any(|s| s == id) {
                            seen.push(id.to_string());
                        }
                    }
                }
                seen
            } else {
                // Most played first.
                let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
                for (n, play) in plays.iter().enumerate() {
                    if let Some(id) = play["track"]["album"]["id"].as_str() {
                        let entry = counts.entry(id.to_string()).or_insert((0, n));
                        entry.0 += 1;
                    }
                }
                let mut ranked: Vec<(String, (usize, usize))> = counts.into_iter().collect();
                ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.1 .1.cmp(&b.1 .1)));
                ranked.into_iter().map(|(id, _)| id).collect()
            };
            fetch_albums(call, ids.into_iter(), offset, size).await?
        }
        other => {
            return Err(Failure::new(
                code::GENERIC,
                format!("unknown list type `{other}`: use random, newest, highest, frequent, recent, alphabeticalByName, alphabeticalByArtist, starred, byYear or byGenre"),
            ))
        }
    };
    let list: Vec<Value> = albums.iter().map(model::album).collect();
    let key = if method == "getAlbumList" {
        "albumList"
    } else {
        "albumList2"
    };
    Ok(json!({ key: {"album": list} }))
}

fn window(mut all: Vec<Value>, offset: usize, size: usize) -> Vec<Value> {
    let mut rest = all.split_off(offset.min(all.len()));
    rest.truncate(size);
    rest
}

/// Distinct albums `offset..offset + size` of these ids (a track id stands for its album),
/// skipping any that are gone.
async fn fetch_albums(
    call: &Call<'_>,
    ids: impl Iterator<Item = String>,
    offset: usize,
    size: usize,
) -> Result<Vec<Value>, Failure> {
    let mut albums: Vec<Value> = Vec::new();
    for id in ids {
        if albums.len() >= offset + size {
            break;
        }
        // An album id, or a track id standing for its album; gone from the library: left out.
        let album = match call
            .api
            .find(&format!("/api/v1/albums/{}", enc(&id)))
            .await?
        {
            Some(album) => album,
            None => {
                let Some(track) = call
                    .api
                    .find(&format!("/api/v1/tracks/{}", enc(&id)))
                    .await?
                else {
                    continue;
                };
                let album_id = track["album"]["id"].as_str().unwrap_or_default();
                match call
                    .api
                    .find(&format!("/api/v1/albums/{}", enc(album_id)))
                    .await?
                {
                    Some(album) => album,
                    None => continue,
                }
            }
        };
        if !albums.iter().any(|a| a["id"] == album["id"]) {
            albums.push(album);
        }
    }
    Ok(window(albums, offset, size))
}

fn songs(tracks: &[Value]) -> Vec<Value> {
    tracks.iter().map(model::song).collect()
}

pub async fn random_songs(call: &Call<'_>) -> Result<Value, Failure> {
    let p = call.params;
    let size = p.count("size", 10, 500)?;
    let mut path = format!("/api/v1/tracks?sort=random&limit={}", size.max(1));
    if let Some(genre) = p.get("genre").filter(|g| !g.is_empty()) {
        path.push_str(&format!("&genre={}", enc(genre)));
    }
    for (param, name) in [("fromYear", "from_year"), ("toYear", "to_year")] {
        if p.get(param).is_some_and(|v| !v.is_empty()) {
            path.push_str(&format!("&{name}={}", p.int(param, 0)?));
        }
    }
    let page = call.api.get(&path).await?;
    let mut tracks: Vec<Value> = page["items"].as_array().cloned().unwrap_or_default();
    tracks.truncate(size);
    Ok(json!({"randomSongs": {"song": songs(&tracks)}}))
}

pub async fn songs_by_genre(call: &Call<'_>) -> Result<Value, Failure> {
    let p = call.params;
    let genre = p.required("genre")?;
    let count = p.count("count", 10, 500)?;
    let offset = p.count("offset", 0, usize::MAX)?;
    let path = format!("/api/v1/tracks?genre={}", enc(genre));
    let tracks = page_at(&call.api, &path, offset, count).await?;
    Ok(json!({"songsByGenre": {"song": songs(&tracks)}}))
}

/// `getStarred(2)`: starred artists, albums and songs, newest first.
pub async fn starred_all(call: &Call<'_>, method: &str) -> Result<Value, Failure> {
    let likes = all_pages(&call.api, "/api/v1/me/likes/tracks?", 10_000).await?;
    let tracks: Vec<Value> = likes
        .iter()
        .filter(|l| l["track"]["available"].as_bool() != Some(false))
        .map(|l| l["track"].clone())
        .collect();
    let songs: Vec<Value> = full_tracks(&call.api, tracks)
        .await?
        .iter()
        .map(model::song)
        .collect();
    let liked_albums = all_pages(&call.api, "/api/v1/me/likes/albums?", 10_000).await?;
    let albums = full_albums(&call.api, liked_albums).await?;
    let liked_artists = all_pages(&call.api, "/api/v1/me/likes/artists?", 10_000).await?;
    let mut artists = Vec::new();
    for like in &liked_artists {
        let id = like["id"].as_str().unwrap_or_default();
        if let Some(artist) = call
            .api
            .find(&format!("/api/v1/artists/{}", enc(id)))
            .await?
        {
            artists.push(model::artist(&artist));
        }
    }
    let key = if method == "getStarred" {
        "starred"
    } else {
        "starred2"
    };
    Ok(json!({ key: {
        "artist": artists,
        "album": albums.iter().map(model::album).collect::<Vec<_>>(),
        "song": songs,
    } }))
}

/// `getSimilarSongs(2)`: the radio started from a song (or from an album's or artist's first).
pub async fn similar_songs(call: &Call<'_>, method: &str) -> Result<Value, Failure> {
    let id = call.params.required("id")?;
    let count = call.params.count("count", 50, 500)?;
    let seed = seed_track(call, id).await?;
    let radio = call
        .api
        .get(&format!(
            "/api/v1/tracks/{}/radio?limit={}",
            enc(&seed),
            count.clamp(1, 100)
        ))
        .await?;
    let tracks: Vec<Value> = radio["items"].as_array().cloned().unwrap_or_default();
    let key = if method == "getSimilarSongs" {
        "similarSongs"
    } else {
        "similarSongs2"
    };
    Ok(json!({ key: {"song": songs(&tracks)} }))
}

/// A track to start from: `id` itself, or the first track of the album or artist it names.
async fn seed_track(call: &Call<'_>, id: &str) -> Result<String, Failure> {
    let filter = match kind_of(call, id).await? {
        "tracks" => return Ok(id.to_string()),
        "albums" => "album_id",
        _ => "artist_id",
    };
    let page = call
        .api
        .get(&format!("/api/v1/tracks?{filter}={}&limit=1", enc(id)))
        .await?;
    page["items"][0]["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Failure::not_found("song"))
}

/// `getTopSongs`: the named artist's songs, those the caller played most first (Beatstream
/// has no global charts).
pub async fn top_songs(call: &Call<'_>) -> Result<Value, Failure> {
    let name = call.params.required("artist")?;
    let count = call.params.count("count", 50, 500)?;
    let found = call
        .api
        .get(&format!(
            "/api/v1/search?types=artist&limit=10&q={}",
            enc(name)
        ))
        .await?;
    let artist = found["artists"]["items"]
        .as_array()
        .and_then(|list| {
            list.iter().find(|a| {
                a["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
        })
        .cloned();
    let Some(artist) = artist else {
        return Ok(json!({"topSongs": {"song": []}}));
    };
    let id = artist["id"].as_str().unwrap_or_default();
    let mut tracks = all_pages(
        &call.api,
        &format!("/api/v1/tracks?artist_id={}", enc(id)),
        MAX_SCAN,
    )
    .await?;
    let plays = all_pages(&call.api, "/api/v1/me/history?", MAX_HISTORY).await?;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for play in &plays {
        if let Some(t) = play["track"]["id"].as_str() {
            *counts.entry(t).or_default() += 1;
        }
    }
    tracks.sort_by_key(|t| {
        std::cmp::Reverse(
            counts
                .get(t["id"].as_str().unwrap_or_default())
                .copied()
                .unwrap_or(0),
        )
    });
    tracks.truncate(count);
    Ok(json!({"topSongs": {"song": songs(&tracks)}}))
}
