//! NATS goes away for 10 s under a running server (a NATS of the test's own, so nobody else's
//! is stopped): requests keep working, changes made meanwhile wait in the outboxes, and once
//! NATS is back they reach search and the playlists service.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{
    copy_fixture_library, credentials, events_handled, eventually, eventually_explained, get, post,
    upload, upload_fixture, Env, Nats,
};

#[tokio::test]
async fn changes_made_while_nats_is_down_arrive_when_it_is_back() {
    let env = Env::external().await;
    let mut nats = Nats::start_new();
    let url = nats.url();
    let library = env.dir.path().join("library");
    copy_fixture_library(&library);
    let library = library.display().to_string();
    let server = env.start(&[
        ("BEATSTREAM_EVENTS__URL", url.as_str()),
        ("BEATSTREAM_LIBRARY", library.as_str()),
    ]);
    let client = reqwest::Client::new();
    let (_, session) = post(
        &client,
        &server.url("/api/v1/auth/signup"),
        credentials("owner"),
        None,
    )
    .await;
    let token = session["access_token"].as_str().unwrap().to_string();
    let search = |q: &str| {
        let (client, url, token) = (
            client.clone(),
            server.url(&format!("/api/v1/search?q={q}&types=playlist")),
            token.clone(),
        );
        async move {
            let (_, body) = get(&client, &url, Some(&token)).await;
            body["playlists"]["items"].as_array().map_or(0, Vec::len)
        }
    };
    let (status, _) = post(
        &client,
        &server.url("/api/v1/playlists"),
        json!({"name": "Beforehand", "public": true}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 201);
    eventually(
        Duration::from_secs(20),
        "the first playlist reaching search",
        || async { search("beforehand").await == 1 },
    )
    .await;

    // NATS goes away for 10 s; the API keeps answering and takes changes.
    nats.stop();
    let (status, body) = post(
        &client,
        &server.url("/api/v1/playlists"),
        json!({"name": "Outage mix", "public": true}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, tracks) = get(&client, &server.url("/api/v1/tracks?limit=3"), Some(&token)).await;
    assert_eq!(status, 200);
    let playlist_path = format!("/api/v1/playlists/{}/tracks", body["id"].as_str().unwrap());
    let ids: Vec<Value> = tracks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect();
    let (status, _) = post(
        &client,
        &server.url(&playlist_path),
        json!({"track_ids": ids}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 201);
    // A catalog change too: an upload, which the playlists service learns of by event.
    let uploaded = upload(
        &client,
        &server.base,
        &token,
        "during.ogg",
        &upload_fixture(),
    )
    .await;
    assert_eq!(uploaded.status(), 201);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(
        search("outage").await,
        0,
        "nothing could carry the change to search yet"
    );

    // Back, with its stored streams: what waited in the outboxes goes out.
    let _back = nats.restart();
    eventually(
        Duration::from_secs(60),
        "the playlist made during the outage reaching search",
        || async { search("outage").await == 1 },
    )
    .await;
    let (_, found) = get(
        &client,
        &server.url("/api/v1/search?q=outage&types=playlist"),
        Some(&token),
    )
    .await;
    assert_eq!(found["playlists"]["items"][0]["track_count"], 3, "{found}");
    // The playlists service took in the 16 scanned tracks and the upload made meanwhile.
    eventually_explained(
        Duration::from_secs(60),
        "the upload reaching the playlists service",
        || async {
            events_handled(&client, &server, "playlists", "catalog.track.added").await >= 17.0
        },
        // Which side held it up: the catalog's relay or the playlists service's consumer.
        || async {
            let metrics = client.get(server.url("/metrics")).send().await.unwrap();
            let metrics = metrics.text().await.unwrap();
            let events: Vec<&str> = metrics
                .lines()
                .filter(|l| l.starts_with("beatstream_events_"))
                .collect();
            events.join("\n")
        },
    )
    .await;

    // Live messages flow again: a like reaches a socket opened after the outage.
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("{}/api/v1/events", server.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let track = ids[0].as_str().unwrap().to_string();
    let liking = async {
        // Like and unlike until a message comes: the first may meet the channel recovering.
        loop {
            for method in [reqwest::Method::PUT, reqwest::Method::DELETE] {
                let url = server.url(&format!("/api/v1/me/likes/tracks/{track}"));
                client
                    .request(method, url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    let hearing = async {
        while let Some(Ok(message)) = socket.next().await {
            if message.to_text().unwrap_or("").contains("like.changed") {
                return;
            }
        }
        panic!("the socket closed");
    };
    tokio::time::timeout(Duration::from_secs(30), async {
        tokio::select! {
            _ = liking => {}
            _ = hearing => {}
        }
    })
    .await
    .expect("a like reaches the socket after the outage");
    drop(server);
    env.finish().await;
}
