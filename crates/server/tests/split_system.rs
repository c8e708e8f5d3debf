//! The split topology as separate processes on loopback, on PostgreSQL and a NATS of the test's
//! own: a gateway (no service of its own), two catalog instances and one of each other service.
//! The user journey runs through the gateway; then one catalog instance is SIGKILLed under load
//! and no request fails (reads are retried on the other) and a later change still reaches
//! search; then NATS stops for 10 s, and changes made meanwhile reach search and the playlists
//! service once it is back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{
    copy_fixture_library, credentials, events_handled, eventually, get, post, upload,
    upload_fixture, Env, Nats, Server,
};

#[tokio::test]
async fn the_user_journey_through_a_gateway_survives_a_killed_catalog() {
    let env = Env::external().await;
    let mut broker = Nats::start_new();
    let nats = broker.url();
    let library = env.dir.path().join("library");
    copy_fixture_library(&library);
    let library = library.display().to_string();
    let start = |name: &str, roles: &str, with_library: bool| -> Server {
        let dir = env.dir.path().join(name).display().to_string();
        let mut vars = vec![
            ("BEATSTREAM_EVENTS__URL", nats.clone()),
            ("BEATSTREAM_DISCOVERY__URL", nats.clone()),
            ("BEATSTREAM_ROLES", roles.to_string()),
            ("BEATSTREAM_DATA_DIR", dir),
        ];
        if with_library {
            vars.push(("BEATSTREAM_LIBRARY", library.clone()));
        }
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.start(&vars)
    };
    // Auth first: the others check tokens with the keys it publishes.
    let _auth = start("auth", "auth", false);
    let services: Vec<Server> = [
        "users",
        "playlists",
        "search",
        "recommendations",
        "realtime",
    ]
    .into_iter()
    .map(|role| start(role, role, false))
    .collect();
    let catalog_one = start("catalog-1", "catalog", true);
    let catalog_two = start("catalog-2", "catalog", false);
    let gateway = start("gateway", "gateway", false);
    let client = reqwest::Client::new();
    let url = |path: &str| gateway.url(path);

    // Every instance is announced.
    let (status, session) = post(
        &client,
        &url("/api/v1/auth/signup"),
        credentials("admin"),
        None,
    )
    .await;
    assert_eq!(status, 201, "{session}");
    let token = session["access_token"].as_str().unwrap().to_string();
    eventually(
        Duration::from_secs(20),
        "all nine instances being announced",
        || async {
            let (_, body) = get(&client, &url("/api/v1/admin/instances"), Some(&token)).await;
            body["items"].as_array().map_or(0, Vec::len) == 9
        },
    )
    .await;

    // The journey: scan, browse, search, stream, a playlist, a like.
    let (status, _) = post(
        &client,
        &url("/api/v1/library/scan"),
        json!({}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 202);
    let started = Instant::now();
    let tracks = loop {
        let (_, body) = get(&client, &url("/api/v1/tracks?limit=100"), Some(&token)).await;
        if body["items"].as_array().map_or(0, Vec::len) == 16 {
            break body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the scan's 16 tracks: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let first = tracks["items"][0].clone();
    let id = first["id"].as_str().unwrap().to_string();
    let title = first["title"].as_str().unwrap().to_string();
    eventually(
        Duration::from_secs(30),
        "the track being searchable",
        || async {
            let (_, body) = get(
                &client,
                &url(&format!(
                    "/api/v1/search?q={}&types=track",
                    urlencode(&title)
                )),
                Some(&token),
            )
            .await;
            body["tracks"]["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|t| t["id"] == id.as_str()))
        },
    )
    .await;
    let response = client
        .get(url(&format!("/api/v1/tracks/{id}/stream")))
        .bearer_auth(&token)
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(response.bytes().await.unwrap().len(), 10);
    let (status, playlist) = post(
        &client,
        &url("/api/v1/playlists"),
        json!({"name": "Gateway mix", "public": true}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 201, "{playlist}");
    let playlist_id = playlist["id"].as_str().unwrap().to_string();
    let (status, body) = post(
        &client,
        &url(&format!("/api/v1/playlists/{playlist_id}/tracks")),
        json!({"track_ids": [id]}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let liked = client
        .put(url(&format!("/api/v1/me/likes/tracks/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(liked.status().is_success());
    let (_, likes) = get(&client, &url("/api/v1/me/likes/tracks"), Some(&token)).await;
    assert_eq!(likes["items"][0]["track"]["id"], id.as_str());

    // Live updates through the gateway: it relays the WebSocket to the realtime process, signed
    // in as a browser does (the token as a subprotocol).
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("{}/api/v1/events", gateway.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("beatstream, bearer.{token}").parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("a WebSocket through the gateway");
    assert_eq!(response.headers()["sec-websocket-protocol"], "beatstream");
    let hello = socket.next().await.unwrap().unwrap();
    assert!(
        hello.to_text().unwrap().contains(r#""type":"hello""#),
        "{hello}"
    );
    let unliked = client
        .delete(url(&format!("/api/v1/me/likes/tracks/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(unliked.status().is_success());
    // The like made before the socket opened may still be on its way: skip it.
    let heard = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(message)) = socket.next().await {
            let text = message.to_text().unwrap_or("").to_string();
            if text.contains("like.changed") && !text.contains(r#""liked":true"#) {
                return text;
            }
        }
        panic!("the socket closed");
    })
    .await
    .expect("the unlike reaches the socket through the gateway");
    assert!(heard.contains(r#""liked":false"#), "{heard}");
    drop(socket);

    // Under load, one catalog instance dies: no read fails.
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let load: Vec<_> = (0..4)
        .map(|n| {
            let (client, failures, done, token) = (
                client.clone(),
                failures.clone(),
                done.clone(),
                token.clone(),
            );
            let path = if n % 2 == 0 {
                url("/api/v1/tracks?limit=20")
            } else {
                url(&format!("/api/v1/tracks/{id}"))
            };
            tokio::spawn(async move {
                let until = Instant::now() + Duration::from_secs(4);
                while Instant::now() < until {
                    match client.get(&path).bearer_auth(&token).send().await {
                        Ok(r) if r.status().is_success() => {}
                        Ok(r) => {
                            eprintln!("failed: {}", r.status());
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            eprintln!("failed: {e}");
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    catalog_two.kill();
    for task in load {
        task.await.unwrap();
    }
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "of {} requests",
        done.load(Ordering::Relaxed)
    );
    assert!(done.load(Ordering::Relaxed) > 20);

    // No event lost: a change made now still reaches search.
    let (status, _) = post(
        &client,
        &url("/api/v1/playlists"),
        json!({"name": "After the crash", "public": true}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 201);
    eventually(
        Duration::from_secs(30),
        "the new playlist reaching search",
        || async {
            let (_, body) = get(
                &client,
                &url("/api/v1/search?q=crash&types=playlist"),
                Some(&token),
            )
            .await;
            body["playlists"]["items"]
                .as_array()
                .is_some_and(|items| items.len() == 1)
        },
    )
    .await;

    // NATS stops for 10 s. The gateway forwards to the instances discovery named last; the
    // services take changes into their outboxes.
    broker.stop();
    let (status, body) = post(
        &client,
        &url("/api/v1/playlists"),
        json!({"name": "Made in the dark", "public": true}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let uploaded = upload(
        &client,
        &gateway.base,
        &token,
        "dark.ogg",
        &upload_fixture(),
    )
    .await;
    assert_eq!(uploaded.status(), 201);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let _back = broker.restart();
    eventually(
        Duration::from_secs(60),
        "the playlist made during the outage reaching search",
        || async {
            let (_, body) = get(
                &client,
                &url("/api/v1/search?q=dark&types=playlist"),
                Some(&token),
            )
            .await;
            body["playlists"]["items"]
                .as_array()
                .is_some_and(|items| items.len() == 1)
        },
    )
    .await;
    // The playlists process took in the 16 scanned tracks and the upload made meanwhile.
    let playlists = &services[1];
    eventually(
        Duration::from_secs(60),
        "the upload reaching the playlists service",
        || async {
            events_handled(&client, playlists, "playlists", "catalog.track.added").await >= 17.0
        },
    )
    .await;
    drop(catalog_one);
    drop(gateway);
    drop(services);
    env.finish().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The edge's rate limit: a burst, then 429 `rate_limited` with `Retry-After`.
#[tokio::test]
async fn the_edge_limits_requests_per_address() {
    let env = Env::embedded().await;
    let server = env.start(&[
        ("BEATSTREAM_HTTP__RATE_LIMIT_PER_SECOND", "1"),
        ("BEATSTREAM_HTTP__RATE_LIMIT_BURST", "3"),
    ]);
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let response = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let response = client
        .get(server.url("/api/v1/tracks"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    drop(server);
    env.finish().await;
}
