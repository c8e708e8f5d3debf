//! Playlists: the caller's own and those they collaborate on, read, created, changed and
//! deleted through the playlists service, so an app's playlist is the web player's too.

use axum::http::Method;
use serde_json::{json, Value};

use crate::api::{all_pages, enc, full_tracks, songs_by_ids};
use crate::model;
use crate::{code, Call, Failure};

pub async fn list(call: &Call<'_>) -> Result<Value, Failure> {
    if let Some(user) = call.params.get("username").filter(|u| !u.is_empty()) {
        if !user.eq_ignore_ascii_case(&call.who.username) {
            return Err(Failure::new(
                code::NOT_AUTHORIZED,
                "only your own playlists can be listed",
            ));
        }
    }
    // Every playlist the caller may play: theirs, those they collaborate on, and public ones.
    let playlists = all_pages(
        &call.api,
        "/api/v1/me/playlists?include_public=true",
        10_000,
    )
    .await?;
    let list: Vec<Value> = playlists
        .iter()
        .map(|p| model::playlist(p, &call.who.username))
        .collect();
    Ok(json!({"playlists": {"playlist": list}}))
}

/// A playlist with its songs (those gone from the library are left out).
async fn with_entries(call: &Call<'_>, id: &str) -> Result<Value, Failure> {
    let playlist = call
        .api
        .get(&format!("/api/v1/playlists/{}", enc(id)))
        .await?;
    let mut out = model::playlist(&playlist, &call.who.username);
    let available: Vec<Value> = playlist["tracks"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|e| e["track"]["available"].as_bool() != Some(false))
                .map(|e| e["track"].clone())
                .collect()
        })
        .unwrap_or_default();
    let entries: Vec<Value> = full_tracks(&call.api, available)
        .await?
        .iter()
        .map(model::song)
        .collect();
    // The counts of what is listed (songs since removed from the library are not).
    out["songCount"] = json!(entries.len());
    let seconds: i64 = entries.iter().filter_map(|e| e["duration"].as_i64()).sum();
    out["duration"] = json!(seconds);
    out["entry"] = json!(entries);
    Ok(out)
}

pub async fn get(call: &Call<'_>) -> Result<Value, Failure> {
    let id = call.params.required("id")?;
    Ok(json!({"playlist": with_entries(call, id).await?}))
}

/// `createPlaylist`: a new one with `name` and songs `songId`, or, with `playlistId`, that
/// playlist's songs replaced.
pub async fn create(call: &Call<'_>) -> Result<Value, Failure> {
    let p = call.params;
    let songs = p.all("songId");
    songs_by_ids(&call.api, &songs).await?;
    let id = match p.get("playlistId").filter(|i| !i.is_empty()) {
        Some(id) => {
            let playlist = call
                .api
                .get(&format!("/api/v1/playlists/{}", enc(id)))
                .await?;
            let count = playlist["track_count"].as_i64().unwrap_or(0);
            if count > 0 {
                let positions: Vec<i64> = (0..count).collect();
                call.api
                    .call(
                        Method::DELETE,
                        &format!("/api/v1/playlists/{}/tracks", enc(id)),
                        Some(&json!({ "positions": positions })),
                    )
                    .await?;
            }
            if let Some(name) = p.get("name").filter(|n| !n.is_empty()) {
                call.api
                    .call(
                        Method::PATCH,
                        &format!("/api/v1/playlists/{}", enc(id)),
                        Some(&json!({ "name": name })),
                    )
                    .await?;
            }
            id.to_string()
        }
        None => {
            let name = p.required("name")?;
            let created = call
                .api
                .post("/api/v1/playlists", &json!({ "name": name }))
                .await?;
            created["id"].as_str().unwrap_or_default().to_string()
        }
    };
    if !songs.is_empty() {
        call.api
            .post(
                &format!("/api/v1/playlists/{}/tracks", enc(&id)),
                &json!({ "track_ids": songs }),
            )
            .await?;
    }
    Ok(json!({"playlist": with_entries(call, &id).await?}))
}

/// `updatePlaylist`: `name`, `comment`, `public`, songs added (`songIdToAdd`) and removed by
/// index (`songIndexToRemove`, indexes before this call's additions).
pub async fn update(call: &Call<'_>) -> Result<Value, Failure> {
    let p = call.params;
    let id = p.required("playlistId")?;
    let playlist = call
        .api
        .get(&format!("/api/v1/playlists/{}", enc(id)))
        .await?;
    // Indexes are into the songs getPlaylist lists, which leaves out unavailable ones.
    let shown: Vec<i64> = playlist["tracks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["track"]["available"].as_bool() != Some(false))
        .filter_map(|e| e["position"].as_i64())
        .collect();
    let add = p.all("songIdToAdd");
    songs_by_ids(&call.api, &add).await?;
    let mut remove = Vec::new();
    for index in p.all("songIndexToRemove") {
        let position = index
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|i| shown.get(i).copied())
            .ok_or_else(|| {
                Failure::new(
                    code::GENERIC,
                    format!(
                        "songIndexToRemove {index} is not in the playlist (it has {} songs)",
                        shown.len()
                    ),
                )
            })?;
        remove.push(position);
    }
    let mut patch = serde_json::Map::new();
    if let Some(name) = p.get("name").filter(|n| !n.is_empty()) {
        patch.insert("name".into(), json!(name));
    }
    if let Some(comment) = p.get("comment") {
        patch.insert("description".into(), json!(comment));
    }
    if p.get("public").is_some() {
        patch.insert("public".into(), json!(p.bool("public", false)));
    }
    let path = format!("/api/v1/playlists/{}", enc(id));
    if !patch.is_empty() {
        call.api
            .call(Method::PATCH, &path, Some(&Value::Object(patch)))
            .await?;
    }
    if !remove.is_empty() {
        remove.sort_unstable();
        remove.dedup();
        call.api
            .call(
                Method::DELETE,
                &format!("{path}/tracks"),
                Some(&json!({ "positions": remove })),
            )
            .await?;
    }
    if !add.is_empty() {
        call.api
            .post(&format!("{path}/tracks"), &json!({ "track_ids": add }))
            .await?;
    }
    Ok(json!({}))
}

pub async fn delete(call: &Call<'_>) -> Result<Value, Failure> {
    let id = call.params.required("id")?;
    call.api
        .call(
            Method::DELETE,
            &format!("/api/v1/playlists/{}", enc(id)),
            None,
        )
        .await?;
    Ok(json!({}))
}
