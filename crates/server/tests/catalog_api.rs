//! The catalog through HTTP, in one process on SQLite: browsing, streaming with ranges and
//! validators, signed URLs, covers, transcodes with a real ffmpeg.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use std::path::Path;
use std::time::Duration;

use axum::http::StatusCode;
use harness::{app_with, scanned, token, App, FIXTURES};
use serde_json::Value;

async fn first_track(app: &App, token: &str, title: &str) -> Value {
    let (_, tracks, _) = app
        .call("GET", "/api/v1/tracks?limit=500", Some(token), None)
        .await;
    tracks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == title)
        .unwrap()
        .clone()
}

#[tokio::test]
async fn browse_albums_artists_tracks_and_genres() {
    let (app, admin, _library) = scanned().await;
    let (status, albums, _) = app
        .call(
            "GET",
            "/api/v1/albums?sort=name&limit=2",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(albums["items"].as_array().unwrap().len(), 2);
    let cursor = albums["next_cursor"].as_str().unwrap();
    let (status, next, _) = app
        .call(
            "GET",
            &format!("/api/v1/albums?sort=name&limit=2&cursor={cursor}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(next["items"][0]["id"], albums["items"][0]["id"]);

    let (status, _, _) = app
        .call("GET", "/api/v1/albums?sort=loudest", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = app
        .call("GET", "/api/v1/albums?color=red", Some(&admin), None)
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown query parameters are refused"
    );

    let (_, all, _) = app
        .call("GET", "/api/v1/albums?limit=500", Some(&admin), None)
        .await;
    let first = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "First Album")
        .unwrap();
    for field in [
        "id",
        "title",
        "artists",
        "year",
        "genres",
        "track_count",
        "duration_ms",
    ] {
        assert!(first.get(field).is_some(), "album lacks {field}");
    }
    let (status, album, _) = app
        .call(
            "GET",
            &format!("/api/v1/albums/{}", first["id"].as_str().unwrap()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let titles: Vec<&str> = album["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["One", "Two", "Three"]);
    let track = &album["tracks"][1];
    for field in [
        "id",
        "title",
        "artists",
        "album",
        "track_number",
        "disc_number",
        "duration_ms",
        "year",
        "genres",
        "format",
        "bitrate_kbps",
    ] {
        assert!(track.get(field).is_some(), "track lacks {field}");
    }
    assert_eq!(track["artists"][1]["name"], "Beta Singer");

    let artist_id = track["artists"][1]["id"].as_str().unwrap();
    let (status, artist, _) = app
        .call(
            "GET",
            &format!("/api/v1/artists/{artist_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(artist["name"], "Beta Singer");
    assert!(!artist["albums"].as_array().unwrap().is_empty());
    let (status, genres, _) = app.call("GET", "/api/v1/genres", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(genres["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "Rock"));

    let (status, body, _) = app
        .call("GET", "/api/v1/albums/nope", Some(&admin), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str().unwrap()),
        (StatusCode::NOT_FOUND, "album_not_found")
    );
    let (status, _, _) = app.call("GET", "/api/v1/tracks", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the catalog is private");
}

#[tokio::test]
async fn streams_honour_ranges_and_validators() {
    let (app, admin, library) = scanned().await;
    let track = first_track(&app, &admin, "Flac Song").await;
    let url = format!("/api/v1/tracks/{}/stream", track["id"].as_str().unwrap());
    let original = std::fs::read(
        library
            .path()
            .join("Beta Singer/Second Album/01 Flac Song.flac"),
    )
    .unwrap();
    let size = original.len();

    let (status, headers, body) = app.raw("GET", &url, Some(&admin), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], &original[..]);
    assert_eq!(headers["content-type"], "audio/flac");
    assert_eq!(headers["accept-ranges"], "bytes");
    assert!(
        headers.get("content-encoding").is_none(),
        "no compression on audio"
    );
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert!(headers.contains_key("last-modified"));

    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, size - 1),
        ("bytes=-50", size - 50, size - 1),
        ("bytes=10-999999", 10, size - 1),
    ] {
        let (status, headers, body) = app
            .raw("GET", &url, Some(&admin), &[("range", range)])
            .await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            headers["content-range"],
            format!("bytes {start}-{end}/{size}").as_str(),
            "{range}"
        );
        assert_eq!(&body[..], &original[start..=end], "{range}");
    }
    let (status, headers, _) = app
        .raw(
            "GET",
            &url,
            Some(&admin),
            &[("range", &format!("bytes={size}-"))],
        )
        .await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(headers["content-range"], format!("bytes */{size}").as_str());

    let (status, _, body) = app
        .raw("GET", &url, Some(&admin), &[("if-none-match", &etag)])
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    let (status, _, body) = app
        .raw(
            "GET",
            &url,
            Some(&admin),
            &[("range", "bytes=0-9"), ("if-range", "\"old\"")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a stale If-Range gets the whole file"
    );
    assert_eq!(body.len(), size);
    let (status, _, _) = app
        .raw(
            "GET",
            &url,
            Some(&admin),
            &[("range", "bytes=0-9"), ("if-range", &etag)],
        )
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    let (status, headers, body) = app.raw("HEAD", &url, Some(&admin), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-length"], size.to_string().as_str());
    assert!(body.is_empty());
}

#[tokio::test]
async fn signed_urls_work_without_a_header_and_only_as_signed() {
    let (app, admin, _library) = scanned().await;
    let track = first_track(&app, &admin, "One").await;
    let signed = track["stream_url"].as_str().unwrap();
    let (status, _, body) = app.raw("GET", signed, None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.is_empty());
    let (status, _, _) = app
        .raw("GET", &signed.replace("sig=", "sig=x"), None, &[])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let other = first_track(&app, &admin, "Two").await;
    let stolen = format!(
        "/api/v1/tracks/{}/stream?{}",
        other["id"].as_str().unwrap(),
        signed.split_once('?').unwrap().1
    );
    let (status, _, _) = app.raw("GET", &stolen, None, &[]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a signature is for one path"
    );
    let (status, _, _) = app
        .raw(
            "GET",
            &format!("/api/v1/tracks/{}/stream", track["id"].as_str().unwrap()),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn covers_are_resized_and_cached_and_missing_ones_are_404() {
    let (app, admin, _library) = scanned().await;
    let (_, albums, _) = app
        .call("GET", "/api/v1/albums?limit=500", Some(&admin), None)
        .await;
    let items = albums["items"].as_array().unwrap();
    let with_cover = items.iter().find(|a| a["title"] == "First Album").unwrap();
    let cover_url = with_cover["cover_url"].as_str().unwrap();
    let (status, headers, body) = app
        .raw("GET", &format!("{cover_url}&size=32"), None, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(body.starts_with(&[0xFF, 0xD8]), "a JPEG");
    let etag = headers["etag"].to_str().unwrap().to_string();
    let path = format!(
        "/api/v1/albums/{}/cover?size=32",
        with_cover["id"].as_str().unwrap()
    );
    let (status, _, _) = app
        .raw("GET", &path, Some(&admin), &[("if-none-match", &etag)])
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, _, _) = app
        .raw(
            "GET",
            &format!(
                "/api/v1/albums/{}/cover?size=99999",
                with_cover["id"].as_str().unwrap()
            ),
            Some(&admin),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let without = items
        .iter()
        .find(|a| a["title"] == "Unknown Album")
        .unwrap();
    assert!(without["cover_url"].is_null());
    let (status, body, _) = app
        .call(
            "GET",
            &format!("/api/v1/albums/{}/cover", without["id"].as_str().unwrap()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "cover_not_found");
}

#[tokio::test]
async fn transcodes_stream_live_then_from_cache_with_ranges() {
    let (app, admin, _library) = scanned().await;
    let _library = &_library;
    let track = first_track(&app, &admin, "Flac Song").await;
    let url = format!(
        "/api/v1/tracks/{}/stream?format=mp3&bitrate=96",
        track["id"].as_str().unwrap()
    );
    let (status, headers, live) = app.raw("GET", &url, Some(&admin), &[]).await;
    assert_eq!(status, StatusCode::OK);
    if headers["x-beatstream-transcode"] != "live" {
        panic!("no ffmpeg here: {:?}", headers["x-beatstream-transcode"]);
    }
    assert_eq!(headers["content-type"], "audio/mpeg");
    assert!(live.len() > 1000, "an MP3 of a second");
    // The second request is served from the cache, like an original.
    let mut cached = None;
    for _ in 0..50 {
        let (status, headers, body) = app
            .raw("GET", &url, Some(&admin), &[("range", "bytes=0-99")])
            .await;
        if status == StatusCode::PARTIAL_CONTENT {
            assert_eq!(
                headers["content-range"],
                format!("bytes 0-99/{}", live.len()).as_str()
            );
            cached = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(&cached.expect("cached transcode")[..], &live[..100]);
    let (status, body, _) = app
        .call(
            "GET",
            &format!(
                "/api/v1/tracks/{}/stream?format=wma",
                track["id"].as_str().unwrap()
            ),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn scans_are_for_admins_and_report_progress() {
    let (app, admin, _library) = scanned().await;
    let user = token(&app.signup("listener").await);
    let (status, _, _) = app
        .call("POST", "/api/v1/library/scan", Some(&user), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, started, _) = app
        .call("POST", "/api/v1/library/scan", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = started["id"].as_str().unwrap().to_string();
    for _ in 0..200 {
        let (_, scan, _) = app
            .call("GET", "/api/v1/library/scan", Some(&admin), None)
            .await;
        if scan["id"] == id.as_str() && scan["state"] == "idle" {
            assert_eq!(scan["tracks_added"], 0, "nothing changed: {scan}");
            assert_eq!(scan["files_seen"], 16);
            assert!(scan["finished_at"].is_string());
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("rescan did not finish");
}

fn multipart(file_name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "beatstream-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_upload(
    app: &App,
    token: &str,
    file_name: &str,
    content: &[u8],
) -> (StatusCode, Value) {
    use tower::ServiceExt;
    let (content_type, body) = multipart(file_name, content);
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/tracks")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(axum::body::Body::from(body))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn admins_upload_audio_that_then_streams_like_any_track() {
    let (app, admin, library) = scanned().await;
    let content = std::fs::read(library.path().join("Unicode/Björk – Jóga (日本).ogg")).unwrap();
    let (status, track) = post_upload(&app, &admin, "upload.ogg", &content).await;
    assert_eq!(status, StatusCode::CREATED, "{track}");
    assert_eq!(track["title"], "Jóga");
    assert_eq!(track["artists"][0]["name"], "Björk");
    let stream = format!("/api/v1/tracks/{}/stream", track["id"].as_str().unwrap());
    let (status, headers, body) = app
        .raw("GET", &stream, Some(&admin), &[("range", "bytes=4-7")])
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        headers["content-range"],
        format!("bytes 4-7/{}", content.len()).as_str()
    );
    assert_eq!(&body[..], &content[4..8]);

    let user = token(&app.signup("listener").await);
    let (status, _) = post_upload(&app, &user, "upload.ogg", &content).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let png = std::fs::read(Path::new(FIXTURES).join("../broken/png-pretending.mp3")).unwrap();
    let (status, body) = post_upload(&app, &admin, "song.mp3", &png).await;
    assert_eq!(
        (status, body["error"]["code"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "not_audio")
    );
    let (status, body) = post_upload(&app, &admin, "notes.txt", b"hello").await;
    assert_eq!(
        (status, body["error"]["code"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "not_audio")
    );
    let (_, all) = {
        let (status, list, _) = app
            .call("GET", "/api/v1/tracks?limit=500", Some(&admin), None)
            .await;
        (status, list)
    };
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        17,
        "only the good upload was added"
    );
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused() {
    let library = tempfile::tempdir().unwrap();
    let app = app_with(&format!(
        "library = [\"{}\"]\n[catalog]\nmax_upload_bytes = 1000\n",
        library.path().display()
    ))
    .await;
    let admin = token(&app.signup("admin").await);
    let (status, body) = post_upload(&app, &admin, "big.mp3", &vec![0u8; 5000]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

#[tokio::test]
async fn the_watcher_picks_up_new_files() {
    let (app, admin, library) = scanned().await;
    std::fs::copy(
        library
            .path()
            .join("Other/Greatest Hits/01 Epsilon Hit.mp3"),
        library
            .path()
            .join("Other/Greatest Hits/02 Epsilon Again.mp3"),
    )
    .unwrap();
    for _ in 0..200 {
        let (_, tracks, _) = app
            .call("GET", "/api/v1/tracks?limit=500", Some(&admin), None)
            .await;
        if tracks["items"].as_array().unwrap().len() == 17 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the new file was not picked up");
}

#[tokio::test]
async fn streaming_quality_picks_the_bitrate_of_a_transcode() {
    let (app, admin, _library) = scanned().await;
    let track = first_track(&app, &admin, "Flac Song").await;
    let url = format!(
        "/api/v1/tracks/{}/stream?format=mp3",
        track["id"].as_str().unwrap()
    );
    let (_, headers, _) = app.raw("GET", &url, Some(&admin), &[]).await;
    assert_eq!(
        headers["x-beatstream-bitrate"], "192",
        "no preference: the default"
    );
    let (status, _, _) = app
        .call(
            "PATCH",
            "/api/v1/me",
            Some(&admin),
            Some(serde_json::json!({"preferences": {"streaming_quality": "low"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The catalog learns it from users.preferences.changed.
    for _ in 0..100 {
        let (_, headers, _) = app.raw("GET", &url, Some(&admin), &[]).await;
        if headers["x-beatstream-bitrate"] == "96" {
            let explicit = format!("{url}&bitrate=128");
            let (_, headers, _) = app.raw("GET", &explicit, Some(&admin), &[]).await;
            assert_eq!(
                headers["x-beatstream-bitrate"], "128",
                "an explicit bitrate wins"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the preference did not reach the catalog");
}
