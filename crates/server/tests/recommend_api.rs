//! Recommendations and radio through HTTP in one process, over the scanned fixture library:
//! the contract's shapes, signals that count within the contract's 30 seconds, bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use std::time::Duration;

use axum::http::StatusCode;
use harness::{error_code, scanned, token, App};
use serde_json::{json, Value};

async fn recommendations(app: &App, token: &str, limit: usize) -> Vec<Value> {
    let (status, body, _) = app
        .call(
            "GET",
            &format!("/api/v1/me/recommendations?limit={limit}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn recommendations_and_radio_follow_the_contract() {
    let (app, admin, _library) = scanned().await;
    let listener = token(&app.signup("listener").await);
    let (_, list, _) = app
        .call("GET", "/api/v1/tracks?limit=100", Some(&admin), None)
        .await;
    let tracks = list["items"].as_array().unwrap().clone();
    assert_eq!(tracks.len(), 16);

    // The model learns the catalog from its events in the background: wait for it (the
    // contract allows 30 s for signals to count).
    let mut status = Value::Null;
    for _ in 0..600 {
        status = app
            .call("GET", "/api/v1/admin/recommendations", Some(&admin), None)
            .await
            .1;
        if status["tracks"] == 16 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status["tracks"], 16, "{status}");

    // No history yet: still something to play, each with a reason.
    let first = recommendations(&app, &listener, 5).await;
    assert_eq!(first.len(), 5);
    for item in &first {
        assert!(item["track"]["id"].is_string() && item["track"]["title"].is_string());
        assert!(item["track"]["artists"].is_array() && item["track"]["album"]["id"].is_string());
        assert!(!item["reason"].as_str().unwrap().is_empty());
        assert!(item["because"]["kind"].is_string());
    }

    // A play and a like count at the next request: the played track is left out (played just
    // now) and reasons turn to what they did. Both are tracks of the artist with the most
    // tracks, so something else of theirs is there to recommend.
    let mut by_artist: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for track in &tracks {
        if let Some(artist) = track["artists"][0]["id"].as_str() {
            by_artist
                .entry(artist.to_string())
                .or_default()
                .push(track["id"].as_str().unwrap().to_string());
        }
    }
    let of_one_artist = by_artist.values().max_by_key(|t| t.len()).unwrap();
    assert!(of_one_artist.len() >= 3, "{by_artist:?}");
    let played = of_one_artist[0].clone();
    let (status_code, body, _) = app
        .call(
            "POST",
            "/api/v1/me/plays",
            Some(&listener),
            Some(json!({"track_id": played, "played_ms": 600_000})),
        )
        .await;
    assert!(status_code.is_success(), "{body}");
    let liked = of_one_artist[1].clone();
    let (status_code, _, _) = app
        .call(
            "PUT",
            &format!("/api/v1/me/likes/tracks/{liked}"),
            Some(&listener),
            None,
        )
        .await;
    assert!(status_code.is_success());
    let mut after = Vec::new();
    for _ in 0..600 {
        after = recommendations(&app, &listener, 10).await;
        let ids: Vec<&str> = after
            .iter()
            .map(|i| i["track"]["id"].as_str().unwrap())
            .collect();
        if !ids.contains(&played.as_str())
            && after
                .iter()
                .any(|i| i["because"]["kind"] != "popular" && i["because"]["kind"] != "discover")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        after
            .iter()
            .all(|i| i["track"]["id"].as_str() != Some(played.as_str())),
        "just played, not recommended again: {after:?}"
    );
    assert!(
        after
            .iter()
            .any(|i| i["because"]["kind"] != "popular" && i["because"]["kind"] != "discover"),
        "reasons from the listener's own signals: {after:?}"
    );

    // Radio: the seed first, then others, no repeats.
    let seed = tracks[3]["id"].as_str().unwrap();
    let (status_code, station, _) = app
        .call(
            "GET",
            &format!("/api/v1/tracks/{seed}/radio?limit=8"),
            Some(&listener),
            None,
        )
        .await;
    assert_eq!(status_code, StatusCode::OK, "{station}");
    let items = station["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    assert_eq!(items[0]["id"], seed);
    let mut ids: Vec<&str> = items.iter().map(|t| t["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8);

    // Bad input.
    for path in [
        "/api/v1/me/recommendations?limit=0",
        "/api/v1/me/recommendations?limit=101",
        &format!("/api/v1/tracks/{seed}/radio?limit=201"),
    ] {
        let (status_code, body, _) = app.call("GET", path, Some(&listener), None).await;
        assert_eq!(status_code, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(error_code(&body), "invalid_limit");
    }
    let (status_code, body, _) = app
        .call(
            "GET",
            "/api/v1/me/recommendations?lim=3",
            Some(&listener),
            None,
        )
        .await;
    assert_eq!(status_code, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains("lim"));
    let (status_code, body, _) = app
        .call(
            "GET",
            "/api/v1/tracks/no-such-track/radio",
            Some(&listener),
            None,
        )
        .await;
    assert_eq!(status_code, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "track_not_found");
    let (status_code, _, _) = app
        .call("GET", "/api/v1/me/recommendations", None, None)
        .await;
    assert_eq!(status_code, StatusCode::UNAUTHORIZED);
    let (status_code, _, _) = app
        .call(
            "GET",
            "/api/v1/admin/recommendations",
            Some(&listener),
            None,
        )
        .await;
    assert_eq!(status_code, StatusCode::FORBIDDEN);
}
