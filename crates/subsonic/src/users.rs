//! `getUser` (the caller, or anyone for an admin) and library scans.

use axum::http::Method;
use serde_json::{json, Value};

use crate::api::all_pages;
use crate::browse::FOLDER_ID;
use crate::{code, Call, Failure};

/// A Beatstream account as a Subsonic user: admins may do everything, listeners what a
/// listener does.
fn user(username: &str, email: &str, admin: bool) -> Value {
    json!({"user": {
        "username": username,
        "email": email,
        "scrobblingEnabled": true,
        "adminRole": admin,
        "settingsRole": true,
        "downloadRole": true,
        "uploadRole": admin,
        "playlistRole": true,
        "coverArtRole": false,
        "commentRole": false,
        "podcastRole": false,
        "streamRole": true,
        "jukeboxRole": false,
        "shareRole": false,
        "videoConversionRole": false,
        "folder": [FOLDER_ID],
    }})
}

pub async fn get_user(call: &Call<'_>) -> Result<Value, Failure> {
    let name = call.params.get("username").filter(|u| !u.is_empty());
    match name {
        None => {}
        Some(name) if name.eq_ignore_ascii_case(&call.who.username) => {}
        Some(name) => {
            if !call.who.admin {
                return Err(Failure::new(
                    code::NOT_AUTHORIZED,
                    "only admins may look up other users",
                ));
            }
            let users = all_pages(&call.api, "/api/v1/admin/users?", 100_000).await?;
            let found = users
                .iter()
                .find(|u| {
                    u["username"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
                .ok_or_else(|| Failure::not_found("user"))?;
            return Ok(user(
                found["username"].as_str().unwrap_or(name),
                found["email"].as_str().unwrap_or(""),
                found["role"] == "admin",
            ));
        }
    }
    let me = call.api.get("/api/v1/me").await?;
    Ok(user(
        me["username"].as_str().unwrap_or(&call.who.username),
        me["email"].as_str().unwrap_or(""),
        me["role"] == "admin",
    ))
}

fn status_payload(scan: &Value) -> Value {
    let state = scan["state"].as_str().unwrap_or("idle");
    json!({"scanStatus": {
        "scanning": state == "queued" || state == "running",
        "count": scan["files_seen"].as_u64().unwrap_or(0),
    }})
}

pub async fn scan_status_of(call: &Call<'_>) -> Result<Value, Failure> {
    match call.api.get("/api/v1/library/scan").await {
        Ok(scan) => Ok(scan),
        // No scan has run yet.
        Err(f) if f.code == code::NOT_FOUND => Ok(json!({"state": "idle", "files_seen": 0})),
        Err(f) => Err(f),
    }
}

pub async fn scan_status(call: &Call<'_>) -> Result<Value, Failure> {
    Ok(status_payload(&scan_status_of(call).await?))
}

pub async fn start_scan(call: &Call<'_>) -> Result<Value, Failure> {
    call.api
        .call(Method::POST, "/api/v1/library/scan", None)
        .await?;
    Ok(status_payload(&scan_status_of(call).await?))
}
