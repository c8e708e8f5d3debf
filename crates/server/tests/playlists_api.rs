//! Playlists, likes and plays through HTTP, in one process with a scanned catalog: the routes
//! of the contract, their status codes, ETags and If-Match, and tracks that the catalog removes
//! and brings back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use std::time::Duration;

use axum::http::StatusCode;
use harness::{error_code, scanned, token, App};
use serde_json::{json, Value};

async fn track_ids(app: &App, token: &str) -> Vec<String> {
    let (_, tracks, _) = app
        .call("GET", "/api/v1/tracks?limit=500", Some(token), None)
        .await;
    tracks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

async fn create(app: &App, token: &str, body: Value) -> Value {
    let (status, playlist, headers) = app
        .call("POST", "/api/v1/playlists", Some(token), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{playlist}");
    assert_eq!(headers["etag"], "\"1\"");
    playlist
}

fn order(playlist: &Value) -> Vec<String> {
    playlist["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            assert_eq!(entry["position"], i);
            entry["track"]["id"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test]
async fn playlists_follow_the_contract() {
    let (app, admin, _library) = scanned().await;
    let ids = track_ids(&app, &admin).await;
    let playlist = create(
        &app,
        &admin,
        json!({"name": "Road trip", "description": "long drives"}),
    )
    .await;
    assert_eq!(playlist["owner"]["username"], "admin");
    assert_eq!(
        (playlist["public"].as_bool(), playlist["version"].as_i64()),
        (Some(false), Some(1))
    );
    let id = playlist["id"].as_str().unwrap();
    let tracks_path = format!("/api/v1/playlists/{id}/tracks");

    let (status, body, headers) = app
        .call(
            "POST",
            &tracks_path,
            Some(&admin),
            Some(json!({"track_ids": [ids[0], ids[1], ids[2]]})),
        )
        .await;
    assert_eq!(
        (status, body["version"].as_i64()),
        (StatusCode::CREATED, Some(2))
    );
    assert_eq!(headers["etag"], "\"2\"");
    // If-Match: quoted, weak and bare forms; a stale one is 412 and changes nothing.
    let (status, _, _) = app
        .send(
            "POST",
            &format!("{tracks_path}/move"),
            Some(&admin),
            &[("content-type", "application/json"), ("if-match", "\"2\"")],
            json!({"from": 0, "to": 2}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = app
        .send(
            "POST",
            &tracks_path,
            Some(&admin),
            &[("content-type", "application/json"), ("if-match", "2")],
            json!({"track_ids": [ids[3]]}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(error_code(&body), "version_mismatch");
    let (status, _, _) = app
        .send(
            "POST",
            &tracks_path,
            Some(&admin),
            &[("content-type", "application/json"), ("if-match", "3")],
            json!({"track_ids": [ids[3]], "position": 0}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body, _) = app
        .send(
            "DELETE",
            &tracks_path,
            Some(&admin),
            &[
                ("content-type", "application/json"),
                ("if-match", "W/\"4\""),
            ],
            json!({"positions": [1]}).to_string(),
        )
        .await;
    assert_eq!(
        (status, body["version"].as_i64()),
        (StatusCode::OK, Some(5)),
        "{body}"
    );

    let (status, full, headers) = app
        .call(
            "GET",
            &format!("/api/v1/playlists/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"], "\"5\"");
    assert_eq!(
        order(&full),
        [ids[3].clone(), ids[2].clone(), ids[0].clone()]
    );
    assert_eq!(full["track_count"], 3);
    assert!(full["duration_ms"].as_i64().unwrap() > 0);
    let entry = &full["tracks"][0];
    assert_eq!(entry["added_by"]["username"], "admin");
    assert!(entry["added_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(entry["track"]["available"], true);
    assert!(entry["track"]["album"]["title"].is_string());
    // Browsers ask for gzip, and get the same document.
    let (status, headers, gzipped) = app
        .raw(
            "GET",
            &format!("/api/v1/playlists/{id}"),
            Some(&admin),
            &[("accept-encoding", "gzip, br")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "gzip");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut text)
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), full);

    // Bad input: clear 4xx codes, nothing changed.
    for (body, code) in [
        (json!({"track_ids": []}), "invalid_argument"),
        (json!({"track_ids": ["no-such-track"]}), "unknown_track"),
        (
            json!({"track_ids": [ids[0]], "position": 4}),
            "invalid_argument",
        ),
        (
            json!({"track_ids": [ids[0]], "colour": "red"}),
            "invalid_body",
        ),
    ] {
        let (status, reply, _) = app
            .call("POST", &tracks_path, Some(&admin), Some(body))
            .await;
        assert_eq!(
            (status, error_code(&reply)),
            (StatusCode::BAD_REQUEST, code),
            "{reply}"
        );
    }
    let (status, reply, _) = app
        .call(
            "POST",
            &format!("{tracks_path}/move"),
            Some(&admin),
            Some(json!({"from": 0, "to": 1, "count": -2})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    let huge: Vec<String> = (0..100_000).map(|i| format!("id-{i}")).collect();
    let (status, _, _) = app
        .call(
            "POST",
            &tracks_path,
            Some(&admin),
            Some(json!({"track_ids": huge})),
        )
        .await;
    assert!(
        status == StatusCode::BAD_REQUEST || status == StatusCode::PAYLOAD_TOO_LARGE,
        "{status}"
    );
    let (status, reply, _) = app
        .call(
            "POST",
            "/api/v1/playlists",
            Some(&admin),
            Some(json!({"name": "  "})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    let (_, after, _) = app
        .call(
            "GET",
            &format!("/api/v1/playlists/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (after["version"].as_i64(), order(&after)),
        (Some(5), order(&full))
    );

    // Rename and list.
    let (status, renamed, headers) = app
        .call(
            "PATCH",
            &format!("/api/v1/playlists/{id}"),
            Some(&admin),
            Some(json!({"name": "Night drive", "public": true})),
        )
        .await;
    assert_eq!(
        (status, renamed["name"].as_str()),
        (StatusCode::OK, Some("Night drive"))
    );
    assert_eq!(headers["etag"], "\"6\"");
    let (_, mine, _) = app
        .call("GET", "/api/v1/me/playlists", Some(&admin), None)
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["next_cursor"], Value::Null);

    // Export as M3U8 and import it back.
    let (status, text, headers) = app
        .send(
            "GET",
            &format!("/api/v1/playlists/{id}/export.m3u8"),
            Some(&admin),
            &[],
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("audio/x-mpegurl"));
    let text = text.as_str().unwrap().to_string();
    assert!(
        text.starts_with("#EXTM3U\n#PLAYLIST:Night drive\n#EXTINF:"),
        "{text}"
    );
    let (status, import, _) = app
        .send(
            "POST",
            "/api/v1/playlists/import?name=Copy",
            Some(&admin),
            &[("content-type", "audio/x-mpegurl")],
            format!("{text}/elsewhere/unknown.mp3\n"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{import}");
    assert_eq!(
        (
            import["matched"].as_u64(),
            import["playlist"]["name"].as_str()
        ),
        (Some(3), Some("Copy"))
    );
    assert_eq!(import["unmatched"][0]["entry"], "/elsewhere/unknown.mp3");
    let copy_id = import["playlist"]["id"].as_str().unwrap();
    let (_, copy, _) = app
        .call(
            "GET",
            &format!("/api/v1/playlists/{copy_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(order(&copy), order(&full));

    let (status, _, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/playlists/{copy_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body, _) = app
        .call(
            "GET",
            &format!("/api/v1/playlists/{copy_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "playlist_not_found")
    );
}

#[tokio::test]
async fn other_users_and_collaborators() {
    let (app, admin, _library) = scanned().await;
    let ids = track_ids(&app, &admin).await;
    let lee = token(&app.signup("lee").await);
    let lee_id = {
        let (_, me, _) = app.call("GET", "/api/v1/me", Some(&lee), None).await;
        me["id"].as_str().unwrap().to_string()
    };
    let private = create(&app, &admin, json!({"name": "Secret"})).await;
    let private_path = format!("/api/v1/playlists/{}", private["id"].as_str().unwrap());
    let (status, _, _) = app.call("GET", &private_path, Some(&lee), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = app
        .call(
            "PATCH",
            &private_path,
            Some(&lee),
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = app.call("GET", &private_path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let public = create(&app, &admin, json!({"name": "Open", "public": true})).await;
    let public_path = format!("/api/v1/playlists/{}", public["id"].as_str().unwrap());
    let (status, _, _) = app.call("GET", &public_path, Some(&lee), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = app
        .call(
            "PATCH",
            &public_path,
            Some(&lee),
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The owner adds lee as a collaborator: lee edits tracks, but neither renames nor deletes.
    let collaborator = format!("{private_path}/collaborators/{lee_id}");
    let (status, body, _) = app.call("PUT", &collaborator, Some(&lee), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body, _) = app.call("PUT", &collaborator, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["collaborators"][0]["username"], "lee");
    assert_eq!(body["collaborative"], true);
    let (status, _, _) = app.call("PUT", &collaborator, Some(&admin), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body, _) = app
        .call(
            "PUT",
            &format!("{private_path}/collaborators/nobody"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "user_not_found")
    );
    let (status, _, _) = app
        .call(
            "POST",
            &format!("{private_path}/tracks"),
            Some(&lee),
            Some(json!({"track_ids": [ids[0]]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, _) = app
        .call(
            "PATCH",
            &private_path,
            Some(&lee),
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = app.call("DELETE", &private_path, Some(&lee), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, mine, _) = app
        .call("GET", "/api/v1/me/playlists", Some(&lee), None)
        .await;
    assert_eq!(mine["items"][0]["name"], "Secret");
    let (_, seen, _) = app.call("GET", &private_path, Some(&admin), None).await;
    assert_eq!(seen["tracks"][0]["added_by"]["username"], "lee");
}

#[tokio::test]
async fn removed_tracks_stay_in_playlists_as_unavailable() {
    let (app, admin, library) = scanned().await;
    let (_, tracks, _) = app
        .call("GET", "/api/v1/tracks?limit=500", Some(&admin), None)
        .await;
    let song = tracks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Delta Hit")
        .unwrap()
        .clone();
    let playlist = create(&app, &admin, json!({"name": "Fragile"})).await;
    let path = format!("/api/v1/playlists/{}", playlist["id"].as_str().unwrap());
    app.call(
        "POST",
        &format!("{path}/tracks"),
        Some(&admin),
        Some(json!({"track_ids": [song["id"]]})),
    )
    .await;
    let file = library
        .path()
        .join("Compilations/Greatest Hits/02 Delta - Delta Hit.mp3");
    let saved = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    rescan_until(&app, &admin, &path, false).await;
    std::fs::write(&file, saved).unwrap();
    rescan_until(&app, &admin, &path, true).await;
}

/// Rescans until the playlist's first track has the availability wanted (events are
/// asynchronous).
async fn rescan_until(app: &App, admin: &str, path: &str, wanted: bool) {
    let (status, _, _) = app
        .call("POST", "/api/v1/library/scan", Some(admin), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for _ in 0..200 {
        let (status, body, _) = app.call("GET", path, Some(admin), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["tracks"][0]["track"]["available"] == wanted {
            assert_eq!(body["tracks"][0]["track"]["title"], "Delta Hit");
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the track never became available = {wanted}");
}

#[tokio::test]
async fn likes_plays_and_history() {
    let (app, admin, _library) = scanned().await;
    let ids = track_ids(&app, &admin).await;
    for id in &ids[..3] {
        let (status, _, _) = app
            .call(
                "PUT",
                &format!("/api/v1/me/likes/tracks/{id}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let (status, _, _) = app
        .call(
            "PUT",
            &format!("/api/v1/me/likes/tracks/{}", ids[0]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "liking twice is fine");
    let (status, body, _) = app
        .call(
            "PUT",
            "/api/v1/me/likes/tracks/no-such-track",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "track_not_found")
    );
    let (status, _, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/me/likes/tracks/{}", ids[1]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, likes, _) = app
        .call("GET", "/api/v1/me/likes/tracks", Some(&admin), None)
        .await;
    let liked: Vec<&str> = likes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["track"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(liked, [ids[2].as_str(), ids[0].as_str()]);
    assert!(likes["items"][0]["liked_at"].is_string());

    let (status, play, _) = app
        .call("POST", "/api/v1/me/plays", Some(&admin), Some(json!({"track_id": ids[0], "played_ms": 60_000, "started_at": "2026-01-31T20:15:00Z"})))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{play}");
    assert_eq!(play["skipped"], false);
    let (status, _, _) = app
        .call(
            "POST",
            "/api/v1/me/plays",
            Some(&admin),
            Some(json!({"track_id": ids[1], "played_ms": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for bad in [
        json!({"track_id": ids[0], "played_ms": -5}),
        json!({"track_id": ids[0], "played_ms": 5, "started_at": "yesterday"}),
        json!({"track_id": ids[0]}),
    ] {
        let (status, _, _) = app
            .call("POST", "/api/v1/me/plays", Some(&admin), Some(bad))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (_, history, _) = app
        .call("GET", "/api/v1/me/history", Some(&admin), None)
        .await;
    let items = history["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "the fixture tracks are short, but 0 ms is a skip: {history}"
    );
    assert_eq!(items[0]["track"]["id"], ids[0].as_str());
    assert_eq!(items[0]["played_at"], "2026-01-31T20:15:00.000Z");
    let (_, all, _) = app
        .call(
            "GET",
            "/api/v1/me/history?include_skips=true",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
}
