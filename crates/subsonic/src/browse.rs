//! Browsing by tags (`getArtists`, `getArtist`, `getAlbum`, `getSong`, `getGenres`) and by
//! folders as older clients do (`getMusicFolders`, `getIndexes`, `getMusicDirectory`: one
//! folder, artists as its directories, albums as theirs), plus artist and album info.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::api::{all_pages, enc};
use crate::model::{self, index_letter};
use crate::{code, Call, Failure};

/// The one music folder: the whole library.
pub const FOLDER_ID: i64 = 1;
/// Artists in one index: every one (clients show them all at once).
const MAX_ARTISTS: usize = 100_000;
const IGNORED_ARTICLES: &str = "The A An";

pub fn music_folders() -> Value {
    json!({"musicFolders": {"musicFolder": [{"id": FOLDER_ID, "name": "Music"}]}})
}

/// Every artist, grouped by the first letter of their name.
async fn artist_index(call: &Call<'_>) -> Result<Vec<Value>, Failure> {
    let artists = all_pages(&call.api, "/api/v1/artists?", MAX_ARTISTS).await?;
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for artist in &artists {
        let name = artist["name"].as_str().unwrap_or_default();
        groups
            .entry(index_letter(name))
            .or_default()
            .push(model::artist(artist));
    }
    Ok(groups
        .into_iter()
        .map(|(name, artist)| json!({"name": name, "artist": artist}))
        .collect())
}

pub async fn artists(call: &Call<'_>) -> Result<Value, Failure> {
    Ok(json!({"artists": {
        "ignoredArticles": IGNORED_ARTICLES,
        "lastModified": now_ms(),
        "index": artist_index(call).await?,
    }}))
}

pub async fn indexes(call: &Call<'_>) -> Result<Value, Failure> {
    Ok(json!({"indexes": {
        "lastModified": now_ms(),
        "ignoredArticles": IGNORED_ARTICLES,
        "index": artist_index(call).await?,
    }}))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub async fn artist(call: &Call<'_>) -> Result<Value, Failure> {
    let id = call.params.required("id")?;
    let artist = call
        .api
        .get(&format!("/api/v1/artists/{}", enc(id)))
        .await?;
    let mut out = model::artist(&artist);
    let albums: Vec<Value> = artist["albums"]
        .as_array()
        .map(|list| list.iter().map(model::album).collect())
        .unwrap_or_default();
    out["albumCount"] = json!(albums.len());
    out["album"] = json!(albums);
    Ok(json!({"artist": out}))
}

/// An album with its songs, as `getAlbum` and `getMusicDirectory` answer it.
async fn album_with_songs(call: &Call<'_>, id: &str) -> Result<Value, Failure> {
    let album = call.api.get(&format!("/api/v1/albums/{}", enc(id))).await?;
    let mut out = model::album(&album);
    let songs: Vec<Value> = album["tracks"]
        .as_array()
        .map(|list| list.iter().map(model::song).collect())
        .unwrap_or_default();
    out["song"] = json!(songs);
    Ok(out)
}

pub async fn album(call: &Call<'_>) -> Result<Value, Failure> {
    let id = call.params.required("id")?;
    Ok(json!({"album": album_with_songs(call, id).await?}))
}

pub async fn song(call: &Call<'_>) -> Result<Value, Failure> {
    let id = call.params.required("id")?;
    let track = call.api.get(&format!("/api/v1/tracks/{}", enc(id))).await?;
    Ok(json!({"song": model::song(&track)}))
}

/// A directory: an album (its songs) or an artist (their albums).
pub async fn directory(call: &Call<'_>) -> Result<Value, Failure> {
    let id = call.params.required("id")?;
    match album_with_songs(call, id).await {
        Ok(album) => {
            let mut directory = json!({
                "id": album["id"],
                "name": album["name"],
                "parent": album.get("parent").cloned().unwrap_or(json!(FOLDER_ID.to_string())),
                "child": album["song"],
            });
            if let Some(at) = album.get("starred") {
                directory["starred"] = at.clone();
            }
            return Ok(json!({ "directory": directory }));
        }
        Err(f) if f.code == code::NOT_FOUND => {}
        Err(f) => return Err(f),
    }
    let artist = call
        .api
        .get(&format!("/api/v1/artists/{}", enc(id)))
        .await
        .map_err(|f| match f.code {
            code::NOT_FOUND => Failure::not_found("directory"),
            _ => f,
        })?;
    let albums: Vec<Value> = artist["albums"]
        .as_array()
        .map(|list| list.iter().map(model::album).collect())
        .unwrap_or_default();
    let directory = json!({
        "id": artist["id"],
        "name": artist["name"],
        "parent": FOLDER_ID.to_string(),
        "child": albums,
    });
    Ok(json!({ "directory": directory }))
}

pub async fn genres(call: &Call<'_>) -> Result<Value, Failure> {
    let genres = call.api.get("/api/v1/genres").await?;
    let list: Vec<Value> = genres["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|g| {
                    json!({
                        "value": g["name"],
                        "songCount": g["track_count"].as_i64().unwrap_or(0),
                        "albumCount": g["album_count"].as_i64().unwrap_or(0),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({"genres": {"genre": list}}))
}

/// `getArtistInfo(2)`: no biographies (Beatstream fetches nothing from the internet), the
/// cover of one of the artist's albums as their image, and similar artists: those of the
/// radio started from one of their tracks.
pub async fn artist_info(call: &Call<'_>, method: &str) -> Result<Value, Failure> {
    let id = call.params.required("id")?;
    let count = call.params.count("count", 20, 100)?;
    let artist = call
        .api
        .get(&format!("/api/v1/artists/{}", enc(id)))
        .await?;
    let cover = artist["albums"]
        .as_array()
        .and_then(|albums| albums.iter().find_map(|a| a["cover_url"].as_str()))
        .map(str::to_string);
    let mut similar: Vec<Value> = Vec::new();
    let tracks = call
        .api
        .get(&format!("/api/v1/tracks?artist_id={}&limit=1", enc(id)))
        .await?;
    if let Some(seed) = tracks["items"][0]["id"].as_str() {
        let radio = call
            .api
            .get(&format!("/api/v1/tracks/{}/radio?limit=100", enc(seed)))
            .await?;
        let mut seen = vec![id.to_string()];
        for track in radio["items"].as_array().into_iter().flatten() {
            for a in track["artists"].as_array().into_iter().flatten() {
                let aid = a["id"].as_str().unwrap_or_default().to_string();
                if similar.len() < count && !aid.is_empty() && !seen.contains(&aid) {
                    seen.push(aid.clone());
                    similar.push(json!({"id": aid, "name": a["name"], "coverArt": aid}));
                }
            }
        }
    }
    let mut info = json!({
        "biography": "",
        "musicBrainzId": artist["mb_artist_id"].as_str().unwrap_or(""),
        "similarArtist": similar,
    });
    if let Some(url) = cover {
        for (key, size) in [
            ("smallImageUrl", 128),
            ("mediumImageUrl", 256),
            ("largeImageUrl", 512),
        ] {
            info[key] = json!(call.absolute(&format!("{url}&size={size}")));
        }
    }
    let key = if method == "getArtistInfo" {
        "artistInfo"
    } else {
        "artistInfo2"
    };
    Ok(json!({ key: info }))
}

/// `getAlbumInfo(2)`: no notes (nothing is fetched from the internet), the album's
/// MusicBrainz id and its cover.
pub async fn album_info(call: &Call<'_>) -> Result<Value, Failure> {
    let id = call.params.required("id")?;
    let album = call.api.get(&format!("/api/v1/albums/{}", enc(id))).await?;
    let mut info = json!({
        "notes": "",
        "musicBrainzId": album["mb_album_id"].as_str().unwrap_or(""),
    });
    if let Some(url) = album["cover_url"].as_str() {
        for (key, size) in [
            ("smallImageUrl", 128),
            ("mediumImageUrl", 256),
            ("largeImageUrl", 512),
        ] {
            info[key] = json!(call.absolute(&format!("{url}&size={size}")));
        }
    }
    Ok(json!({ "albumInfo": info }))
}
