//! Search through HTTP in one process, over a scanned library of real files (the fixtures and
//! the Debian game music fetched by `make testdata`): the contract's shape, misspelled and
//! half-typed titles as people type them, playlists by visibility, bad input, and a reindex.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::StatusCode;
use harness::{app_with, copy_dir, error_code, token, App, FIXTURES};
use serde_json::{json, Value};

fn debian_music() -> PathBuf {
    let root = std::env::var("BEATSTREAM_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.testdata")));
    let library = root.join("debian-music/library");
    assert!(
        library.is_dir(),
        "{} is missing: run `make testdata`",
        library.display()
    );
    library
}

fn encode(q: &str) -> String {
    let mut out = String::new();
    for byte in q.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

async fn search(app: &App, token: &str, q: &str, extra: &str) -> (StatusCode, Value) {
    let (status, body, _) = app
        .call(
            "GET",
            &format!("/api/v1/search?q={}{extra}", encode(q)),
            Some(token),
            None,
        )
        .await;
    (status, body)
}

fn titles(body: &Value, kind: &str) -> Vec<String> {
    body[kind]["items"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|item| {
            item.get("title")
                .or_else(|| item.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// The app over fixtures plus real music, scanned, with every track searchable.
async fn library() -> (App, String, Vec<Value>, tempfile::TempDir) {
    let library = tempfile::tempdir().unwrap();
    copy_dir(Path::new(FIXTURES), &library.path().join("fixtures"));
    copy_dir(&debian_music(), &library.path().join("debian"));
    let app = app_with(&format!("library = [\"{}\"]\n", library.path().display())).await;
    let admin = token(&app.signup("admin").await);
    let mut tracks = Vec::new();
    for _ in 0..400 {
        let (_, scan, _) = app
            .call("GET", "/api/v1/library/scan", Some(&admin), None)
            .await;
        if scan["state"] == "idle" && scan["finished_at"].is_string() {
            let (_, list, _) = app
                .call("GET", "/api/v1/tracks?limit=500", Some(&admin), None)
                .await;
            tracks = list["items"].as_array().unwrap().clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        tracks.len() >= 40,
        "fixtures and real music scanned: {}",
        tracks.len()
    );
    // Searchable once the events went through: wait for the last one.
    let mut status = Value::Null;
    for _ in 0..200 {
        status = app
            .call("GET", "/api/v1/admin/search", Some(&admin), None)
            .await
            .1;
        // Each track makes a track, album and artist entry; albums and artists are shared.
        if status["state"] == "ready"
            && status["pending_changes"] == 0
            && status["documents"].as_u64().unwrap() >= tracks.len() as u64
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        (&status["state"], &status["schema_version"]),
        (
            &json!("ready"),
            &json!(beatstream_search::schema::SCHEMA_VERSION)
        ),
        "{status}"
    );
    (app, admin, tracks, library)
}

/// "Orbital Elevator" → "Orbital Elevaotr": two letters swapped in the longest word.
fn misspelled(title: &str) -> Option<String> {
    let longest = title
        .split(' ')
        .filter(|w| w.chars().all(char::is_alphabetic))
        .max_by_key(|w| w.chars().count())?;
    let chars: Vec<char> = longest.chars().collect();
    if chars.len() < 5 {
        return None;
    }
    let mut swapped = chars.clone();
    let i = chars.len() / 2;
    swapped.swap(i, i + 1);
    if swapped == chars {
        return None;
    }
    Some(title.replacen(longest, &swapped.into_iter().collect::<String>(), 1))
}

#[tokio::test]
async fn real_titles_are_found_misspelled_and_half_typed() {
    let (app, admin, tracks, _library) = library().await;
    let mut checked = 0;
    for track in &tracks {
        let title = track["title"].as_str().unwrap();
        let id = track["id"].as_str().unwrap();
        let same_title = tracks
            .iter()
            .filter(|t| t["title"] == track["title"])
            .count();
        if same_title > 1 || title.split_whitespace().count() > 6 {
            continue;
        }
        // Misspelled, as a finished query.
        if let Some(typo) = misspelled(title) {
            let (status, body) = search(&app, &admin, &format!("{typo} "), "&types=track").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                body["tracks"]["items"][0]["id"],
                id,
                "{typo:?} should find {title:?} first: {:?}",
                titles(&body, "tracks")
            );
            checked += 1;
        }
        // Half-typed: every word but the last, and the start of the last.
        let words: Vec<&str> = title.split_whitespace().collect();
        if let Some(last) = words.last().filter(|w| w.chars().count() >= 4) {
            let partial: String = last.chars().take(3).collect();
            let typed = format!("{} {partial}", words[..words.len() - 1].join(" "));
            let (_, body) = search(&app, &admin, typed.trim(), "&types=track").await;
            let found: Vec<&Value> = body["tracks"]["items"].as_array().unwrap().iter().collect();
            assert!(
                found.iter().any(|t| t["id"] == id),
                "{typed:?} should find {title:?}: {:?}",
                titles(&body, "tracks")
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} titles checked");
}

#[tokio::test]
async fn replies_follow_the_contract() {
    let (app, admin, tracks, _library) = library().await;
    let (status, body) = search(&app, &admin, "bjork", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for kind in ["tracks", "albums", "artists", "playlists"] {
        assert!(body[kind]["items"].is_array(), "{kind}: {body}");
    }
    assert_eq!(titles(&body, "artists")[0], "Björk");
    assert_eq!(
        body["top"]["type"], "artist",
        "the artist for the artist's name: {body}"
    );
    let track = &body["tracks"]["items"][0];
    for field in [
        "id",
        "title",
        "artists",
        "album",
        "duration_ms",
        "format",
        "genres",
    ] {
        assert!(track.get(field).is_some(), "{field} in {track}");
    }
    assert_eq!(track["album"]["title"], "Homogenic");
    // The ids are the catalog's.
    let (status, same, _) = app
        .call(
            "GET",
            &format!("/api/v1/tracks/{}", track["id"].as_str().unwrap()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!((status, &same["title"]), (StatusCode::OK, &track["title"]));
    let album = &body["albums"]["items"][0];
    assert_eq!(
        (album["title"].as_str(), album["track_count"].as_i64()),
        (Some("Homogenic"), Some(1))
    );

    // Kinds and limits.
    let (_, body) = search(&app, &admin, "greatest hits", "&types=album&limit=1").await;
    assert_eq!(titles(&body, "albums"), ["Greatest Hits"]);
    assert!(titles(&body, "tracks").is_empty());
    let (_, body) = search(&app, &admin, "song", "&types=track,artist&limit=3").await;
    assert_eq!(titles(&body, "tracks").len(), 3);
    // Field filters over real tags.
    let (_, body) = search(
        &app,
        &admin,
        "artist:\"beta singer\"",
        "&types=track&limit=50",
    )
    .await;
    let beta = tracks
        .iter()
        .filter(|t| {
            t["artists"]
                .as_array()
                .unwrap()
                .iter()
                .chain(t["album_artists"].as_array().unwrap())
                .any(|a| a["name"] == "Beta Singer")
        })
        .count();
    assert_eq!(titles(&body, "tracks").len(), beta, "{body}");
}

#[tokio::test]
async fn bad_queries_get_a_clear_answer() {
    let (app, admin, _tracks, _library) = library().await;
    let long = "a".repeat(10_000);
    let (status, body) = search(&app, &admin, &long, "").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "query_too_long")
    );
    let (status, body) = search(&app, &admin, "song", "&types=song").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_argument")
    );
    for limit in ["0", "101", "-1", "many"] {
        let (status, _) = search(&app, &admin, "song", &format!("&limit={limit}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={limit}");
    }
    let (status, body) = search(&app, &admin, "song", "&colour=red").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    for q in [
        "",
        "\"",
        "(",
        ":",
        "*",
        "\u{1}\u{7f}",
        "song\"(:*",
        "%",
        "artist:",
        "year:1990..abc",
    ] {
        let (status, body) = search(&app, &admin, q, "").await;
        assert_eq!(status, StatusCode::OK, "{q:?}: {body}");
    }
    let (status, _, _) = app.call("GET", "/api/v1/search?q=song", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn playlists_are_searchable_by_who_may_see_them_and_reindex_keeps_answering() {
    let (app, admin, _tracks, _library) = library().await;
    let other = token(&app.signup("other").await);
    for (name, public) in [("Night Drive Mix", true), ("Night Secrets", false)] {
        let (status, _, _) = app
            .call(
                "POST",
                "/api/v1/playlists",
                Some(&admin),
                Some(json!({"name": name, "public": public})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut found = Vec::new();
    for _ in 0..100 {
        let (_, body) = search(&app, &admin, "nigth", "&types=playlist").await;
        found = titles(&body, "playlists");
        if found.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    found.sort();
    assert_eq!(
        found,
        ["Night Drive Mix", "Night Secrets"],
        "the owner sees both"
    );
    let (_, body) = search(&app, &other, "night", "&types=playlist").await;
    assert_eq!(titles(&body, "playlists"), ["Night Drive Mix"]);
    assert_eq!(body["playlists"]["items"][0]["owner"]["username"], "admin");

    // Reindex: admin only, and search answers throughout.
    let (status, _, _) = app
        .call("POST", "/api/v1/admin/search/reindex", Some(&other), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, accepted, _) = app
        .call("POST", "/api/v1/admin/search/reindex", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let mut rebuilt = false;
    for _ in 0..200 {
        let (status, body) = search(&app, &other, "night drive", "&types=playlist").await;
        assert_eq!(
            (status, titles(&body, "playlists")),
            (StatusCode::OK, vec!["Night Drive Mix".to_string()])
        );
        let (_, state, _) = app
            .call("GET", "/api/v1/admin/search", Some(&admin), None)
            .await;
        if state["state"] == "ready" {
            rebuilt = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(rebuilt, "the rebuild finished");
}
