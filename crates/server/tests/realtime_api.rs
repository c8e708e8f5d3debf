//! Live updates and remote control through the real binary over real WebSockets: on SQLite with
//! the in-process bus, and on PostgreSQL with NATS, where two realtime instances serve one user.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::{copy_fixture_library, credentials, get, post, Env, Server};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A client's socket, signed in the way a browser does it (the token as a subprotocol).
struct Socket {
    ws: Ws,
    hello: Value,
    last_id: Option<String>,
    /// The server's log, shown when an expected message does not come.
    log: std::path::PathBuf,
    /// The types of the last messages received, for the same reason.
    seen: Vec<String>,
}

impl Socket {
    async fn open(server: &Server, token: &str, query: &str) -> Socket {
        let url = format!(
            "{}/api/v1/events?{query}",
            server.base.replace("http://", "ws://")
        );
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            format!("beatstream, bearer.{token}").parse().unwrap(),
        );
        let (ws, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the WebSocket opens");
        assert_eq!(response.headers()["sec-websocket-protocol"], "beatstream");
        let mut socket = Socket {
            ws,
            hello: Value::Null,
            last_id: None,
            log: server.log.clone(),
            seen: Vec::new(),
        };
        socket.hello = socket.next().await;
        assert_eq!(socket.hello["type"], "hello", "{}", socket.hello);
        socket
    }

    /// The next JSON message within 10 s.
    async fn next(&mut self) -> Value {
        loop {
            let Ok(message) = tokio::time::timeout(Duration::from_secs(10), self.ws.next()).await
            else {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(80).collect();
                panic!(
                    "no message within 10 s; the last ones were {:?}; the server's log ends:\n{}",
                    self.seen,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            };
            let message = message.expect("the socket is open").expect("a good frame");
            if let Message::Text(text) = message {
                let value: Value = serde_json::from_str(text.as_str()).unwrap();
                if let Some(id) = value["id"].as_str() {
                    self.last_id = Some(id.to_string());
                }
                if self.seen.len() == 20 {
                    self.seen.remove(0);
                }
                self.seen
                    .push(value["type"].as_str().unwrap_or("?").to_string());
                return value;
            }
        }
    }

    /// The next message of `kind` for which `accept` holds, skipping others.
    async fn next_where(&mut self, kind: &str, accept: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self.next().await;
            if message["type"] == kind && accept(&message) {
                return message;
            }
        }
    }

    async fn send(&mut self, message: Value) {
        self.ws
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

struct Listener {
    token: String,
    id: String,
}

async fn sign_up(server: &Server, name: &str) -> Listener {
    let (status, session) = post(
        &reqwest::Client::new(),
        &server.url("/api/v1/auth/signup"),
        credentials(name),
        None,
    )
    .await;
    assert_eq!(status, 201, "{session}");
    Listener {
        token: session["access_token"].as_str().unwrap().to_string(),
        id: session["user"]["id"].as_str().unwrap().to_string(),
    }
}

async fn scanned_track_ids(server: &Server, token: &str) -> Vec<String> {
    let client = reqwest::Client::new();
    for _ in 0..400 {
        let (_, scan) = get(&client, &server.url("/api/v1/library/scan"), Some(token)).await;
        if scan["state"] == "idle" {
            let (_, tracks) = get(
                &client,
                &server.url("/api/v1/tracks?limit=100"),
                Some(token),
            )
            .await;
            return tracks["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_string())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the scan did not end; log:\n{}", server.log_text());
}

async fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method.parse().unwrap(), server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn start_with_library(env: &Env) -> Server {
    let library = env.dir.path().join("library");
    copy_fixture_library(&library);
    env.start(&[("BEATSTREAM_LIBRARY", &library.display().to_string())])
}

/// A playlist edit reaches the collaborator's socket; likes and scans reach theirs; a missed
/// message is replayed on reconnect.
async fn live_updates(env: Env) {
    let server = start_with_library(&env);
    let owner = sign_up(&server, "owner").await;
    let guest = sign_up(&server, "guest").await;
    let ids = scanned_track_ids(&server, &owner.token).await;
    let mut owner_socket = Socket::open(&server, &owner.token, "").await;
    let mut guest_socket = Socket::open(&server, &guest.token, "").await;
    assert_eq!(guest_socket.hello["resume"], "fresh");

    let (status, playlist) = call(
        &server,
        "POST",
        "/api/v1/playlists",
        &owner.token,
        Some(json!({"name": "Together"})),
    )
    .await;
    assert_eq!(status, 201, "{playlist}");
    let path = format!("/api/v1/playlists/{}", playlist["id"].as_str().unwrap());
    let (status, _) = call(
        &server,
        "PUT",
        &format!("{path}/collaborators/{}", guest.id),
        &owner.token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, added) = call(
        &server,
        "POST",
        &format!("{path}/tracks"),
        &owner.token,
        Some(json!({"track_ids": ids[..3]})),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let version = added["version"].as_i64().unwrap();
    for socket in [&mut owner_socket, &mut guest_socket] {
        let changed = socket
            .next_where("playlist.changed", |m| {
                m["version"].as_i64() == Some(version)
            })
            .await;
        assert_eq!(changed["playlist_id"], playlist["id"]);
        assert_eq!(changed["track_count"], 3);
        assert_eq!(changed["changed_by"]["id"], owner.id.as_str());
        assert!(changed["id"].as_str().is_some());
    }

    // A like reaches the liker's sockets.
    let (status, _) = call(
        &server,
        "PUT",
        &format!("/api/v1/me/likes/tracks/{}", ids[0]),
        &guest.token,
        None,
    )
    .await;
    assert!(status == 200 || status == 204, "{status}");
    let liked = guest_socket.next_where("like.changed", |_| true).await;
    assert_eq!(
        (liked["track_id"].as_str(), liked["liked"].as_bool()),
        (Some(ids[0].as_str()), Some(true))
    );

    // The admin (the first user) sees a scan's progress; its end is marked.
    let (status, _) = call(&server, "POST", "/api/v1/library/scan", &owner.token, None).await;
    assert_eq!(status, 202);
    let finished = owner_socket
        .next_where("scan.progress", |m| m["state"] == "finished")
        .await;
    assert!(finished["files_seen"].as_u64().unwrap() >= 16, "{finished}");

    // The guest goes away, misses an edit, and gets it on reconnecting with its last id.
    let last_id = guest_socket.last_id.clone().unwrap();
    guest_socket.close().await;
    let (_, moved) = call(
        &server,
        "POST",
        &format!("{path}/tracks"),
        &owner.token,
        Some(json!({"track_ids": [ids[3]]})),
    )
    .await;
    let missed_version = moved["version"].as_i64().unwrap();
    owner_socket
        .next_where("playlist.changed", |m| {
            m["version"].as_i64() == Some(missed_version)
        })
        .await;
    let mut back = Socket::open(&server, &guest.token, &format!("last_id={last_id}")).await;
    assert_eq!(back.hello["resume"], "resumed", "{}", back.hello);
    back.next_where("playlist.changed", |m| {
        m["version"].as_i64() == Some(missed_version)
    })
    .await;
    // An id from another epoch (an earlier server) cannot be resumed: reload. (`last_event_id`
    // is another name for `last_id`.)
    let mut stale = Socket::open(&server, &guest.token, "last_event_id=elsewhere-5").await;
    assert_eq!(stale.hello["resume"], "reload");
    assert_eq!(stale.next().await["type"], "reload");

    // What is not a WebSocket, or not signed in, or a bad device gets a clear error.
    let (status, body) = call(&server, "GET", "/api/v1/events", &guest.token, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("websocket_expected"))
    );
    let (status, _) = get(&reqwest::Client::new(), &server.url("/api/v1/events"), None).await;
    assert_eq!(status, 401);
    let url = format!(
        "{}/api/v1/events?device_id=no%20spaces",
        server.base.replace("http://", "ws://")
    );
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("beatstream, bearer.{}", guest.token)
            .parse()
            .unwrap(),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 400)
        }
        other => panic!(
            "a bad device id must be refused: {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
    // A client that can set neither headers nor subprotocols may put its short-lived access
    // token in the query; a long-lived personal API token is refused there.
    let ws_base = server.base.replace("http://", "ws://");
    let (mut by_query, _) = tokio_tungstenite::connect_async(format!(
        "{ws_base}/api/v1/events?access_token={}",
        guest.token
    ))
    .await
    .expect("an access token in the query works");
    let hello = by_query.next().await.unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains(r#""type":"hello""#));
    let (status, api_token) = call(
        &server,
        "POST",
        "/api/v1/me/tokens",
        &guest.token,
        Some(json!({"name": "socket"})),
    )
    .await;
    assert_eq!(status, 201, "{api_token}");
    let api_token = api_token["token"].as_str().unwrap();
    match tokio_tungstenite::connect_async(format!(
        "{ws_base}/api/v1/events?access_token={api_token}"
    ))
    .await
    {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!(
            "an API token in a URL must be refused: {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
    back.close().await;
    stale.close().await;
    owner_socket.close().await;
    drop(server);
    env.finish().await;
}

/// One listener's laptop and phone: the phone sees what the laptop plays, pauses it remotely,
/// and takes playback over.
async fn remote_control(env: Env) {
    let server = start_with_library(&env);
    let me = sign_up(&server, "me").await;
    let ids = scanned_track_ids(&server, &me.token).await;
    let mut laptop = Socket::open(
        &server,
        &me.token,
        "device_id=laptop-1&device_name=Laptop&device_kind=desktop",
    )
    .await;
    let mut phone = Socket::open(
        &server,
        &me.token,
        "device_id=phone-1&device_name=Phone&device_kind=phone",
    )
    .await;
    assert!(
        phone.hello["devices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == "laptop-1" && d["online"] == true),
        "{}",
        phone.hello
    );

    laptop
        .send(json!({"type": "state", "state": {"track_id": ids[1], "position_ms": 30_000, "playing": true,
            "volume": 0.8, "queue": ids[..4], "queue_index": 1}}))
        .await;
    let seen = phone
        .next_where("player.state", |m| m["device"]["id"] == "laptop-1")
        .await;
    assert_eq!(seen["device"]["state"]["track_id"], ids[1].as_str());
    assert_eq!(seen["device"]["state"]["playing"], true);
    assert_eq!(seen["device"]["state"]["queue_length"], 4);
    assert_eq!(seen["device"]["active"], true);

    // The phone pauses the laptop: the laptop is told, obeys, and everyone sees it paused.
    let (status, body) = call(
        &server,
        "POST",
        "/api/v1/me/devices/laptop-1/commands",
        &me.token,
        Some(json!({"action": "pause"})),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let command = laptop.next_where("player.command", |_| true).await;
    assert_eq!(command["command"]["action"], "pause");
    laptop
        .send(json!({"type": "state", "state": {"track_id": ids[1], "position_ms": 31_000, "playing": false,
            "volume": 0.8, "queue": ids[..4], "queue_index": 1}}))
        .await;
    let paused = phone
        .next_where("player.state", |m| {
            m["device"]["id"] == "laptop-1" && m["device"]["state"]["playing"] == false
        })
        .await;
    assert_eq!(paused["device"]["state"]["position_ms"], 31_000);
    let (_, devices) = call(&server, "GET", "/api/v1/me/devices", &me.token, None).await;
    let listed = devices["items"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{devices}");
    let laptop_row = listed.iter().find(|d| d["id"] == "laptop-1").unwrap();
    assert_eq!(
        (
            laptop_row["online"].as_bool(),
            laptop_row["state"]["playing"].as_bool()
        ),
        (Some(true), Some(false))
    );

    // A command over the socket works the same; bad ones get an error message.
    phone.send(json!({"type": "command", "device_id": "laptop-1", "command": {"action": "seek", "position_ms": 5000}})).await;
    let seek = laptop.next_where("player.command", |_| true).await;
    assert_eq!(
        (
            seek["command"]["action"].as_str(),
            seek["from_device"].as_str()
        ),
        (Some("seek"), Some("phone-1"))
    );
    phone.send(json!({"type": "command", "device_id": "laptop-1", "command": {"action": "volume", "volume": 3}})).await;
    assert_eq!(
        phone.next_where("error", |_| true).await["code"],
        "invalid_volume"
    );
    phone.send(json!({"type": "dance"})).await;
    assert_eq!(
        phone.next_where("error", |_| true).await["code"],
        "invalid_message"
    );

    // Transfer: the laptop resumes playing on the phone, with its queue and position.
    laptop
        .send(json!({"type": "state", "state": {"track_id": ids[2], "position_ms": 10_000, "playing": true,
            "volume": 0.8, "queue": ids[..4], "queue_index": 2}}))
        .await;
    phone
        .next_where("player.state", |m| {
            m["device"]["state"]["track_id"] == ids[2].as_str()
        })
        .await;
    let (status, target) = call(
        &server,
        "POST",
        "/api/v1/me/player/transfer",
        &me.token,
        Some(json!({"device_id": "phone-1"})),
    )
    .await;
    assert_eq!(status, 200, "{target}");
    assert_eq!(target["id"], "phone-1");
    let transfer = phone
        .next_where("player.command", |m| m["command"]["action"] == "transfer")
        .await;
    let state = &transfer["command"]["state"];
    assert_eq!(
        (state["track_id"].as_str(), state["queue_index"].as_u64()),
        (Some(ids[2].as_str()), Some(2))
    );
    assert_eq!(state["queue"].as_array().unwrap().len(), 4);
    assert!(state["position_ms"].as_i64().unwrap() >= 10_000);
    assert_eq!(transfer["command"]["play"], true);
    let pause = laptop.next_where("player.command", |_| true).await;
    assert_eq!(pause["command"]["action"], "pause");

    // Errors: unknown device, offline device, bad command.
    let (status, body) = call(
        &server,
        "POST",
        "/api/v1/me/devices/nope/commands",
        &me.token,
        Some(json!({"action": "play"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("device_not_found"))
    );
    let (status, body) = call(
        &server,
        "POST",
        "/api/v1/me/devices/phone-1/commands",
        &me.token,
        Some(json!({"action": "seek", "position_ms": -1})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_position"))
    );
    laptop.close().await;
    phone
        .next_where("devices.changed", |m| {
            m["devices"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["id"] == "laptop-1" && d["online"] == false)
        })
        .await;
    let (status, body) = call(
        &server,
        "POST",
        "/api/v1/me/devices/laptop-1/commands",
        &me.token,
        Some(json!({"action": "play"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("device_offline"))
    );
    phone.close().await;
    drop(server);
    env.finish().await;
}

#[tokio::test]
async fn live_updates_embedded() {
    live_updates(Env::embedded().await).await;
}

#[tokio::test]
async fn live_updates_on_postgres_and_nats() {
    live_updates(Env::external().await).await;
}

#[tokio::test]
async fn remote_control_embedded() {
    remote_control(Env::embedded().await).await;
}

#[tokio::test]
async fn remote_control_on_postgres_and_nats() {
    remote_control(Env::external().await).await;
}

/// Two realtime instances on one PostgreSQL and one NATS: a user's sockets get their messages
/// whichever instance they are connected to, and a device on one obeys a command sent to the
/// other.
#[tokio::test]
async fn two_realtime_instances_deliver_to_a_user_on_either() {
    let env = Env::external().await;
    let first = start_with_library(&env);
    let second_dir = env.dir.path().join("second");
    let second = env.start(&[
        ("BEATSTREAM_ROLES", "auth,realtime"),
        ("BEATSTREAM_DATA_DIR", &second_dir.display().to_string()),
    ]);
    let owner = sign_up(&first, "owner").await;
    let guest = sign_up(&first, "guest").await;
    let ids = scanned_track_ids(&first, &owner.token).await;
    let mut on_first = Socket::open(&first, &guest.token, "").await;
    let mut on_second = Socket::open(
        &second,
        &guest.token,
        "device_id=speaker&device_kind=speaker",
    )
    .await;

    let (_, playlist) = call(
        &first,
        "POST",
        "/api/v1/playlists",
        &owner.token,
        Some(json!({"name": "Party"})),
    )
    .await;
    let path = format!("/api/v1/playlists/{}", playlist["id"].as_str().unwrap());
    call(
        &first,
        "PUT",
        &format!("{path}/collaborators/{}", guest.id),
        &owner.token,
        None,
    )
    .await;
    let (status, added) = call(
        &first,
        "POST",
        &format!("{path}/tracks"),
        &owner.token,
        Some(json!({"track_ids": ids[..2]})),
    )
    .await;
    assert_eq!(status, 201);
    let version = added["version"].as_i64().unwrap();
    let a = on_first
        .next_where("playlist.changed", |m| {
            m["version"].as_i64() == Some(version)
        })
        .await;
    let b = on_second
        .next_where("playlist.changed", |m| {
            m["version"].as_i64() == Some(version)
        })
        .await;
    // One message, one id, on both instances.
    assert_eq!(a["id"], b["id"]);

    // A command through the first instance reaches the device on the second.
    let (status, body) = call(
        &first,
        "POST",
        "/api/v1/me/devices/speaker/commands",
        &guest.token,
        Some(json!({"action": "next"})),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let command = on_second.next_where("player.command", |_| true).await;
    assert_eq!(command["command"]["action"], "next");

    // A client that saw a message on one instance resumes on the other.
    let last_id = on_first.last_id.clone().unwrap();
    on_first.close().await;
    let (_, more) = call(
        &first,
        "POST",
        &format!("{path}/tracks"),
        &owner.token,
        Some(json!({"track_ids": [ids[2]]})),
    )
    .await;
    let missed = more["version"].as_i64().unwrap();
    on_second
        .next_where("playlist.changed", |m| {
            m["version"].as_i64() == Some(missed)
        })
        .await;
    let mut moved = Socket::open(&second, &guest.token, &format!("last_id={last_id}")).await;
    assert_eq!(moved.hello["resume"], "resumed", "{}", moved.hello);
    // The replay holds the missed change. Two instances share the group's events, so a change
    // published just before it (the collaborator's, handled by the other instance) may come
    // after the message the client saw last, and be replayed too: only newer versions count.
    let replayed = moved
        .next_where("playlist.changed", |m| {
            m["version"].as_i64() > Some(version)
        })
        .await;
    assert_eq!(replayed["version"].as_i64(), Some(missed));
    moved.close().await;
    on_second.close().await;
    drop(second);
    drop(first);
    env.finish().await;
}

/// A group session over HTTP and sockets: the invite joins, the guest adds to the queue but
/// cannot lead, the owner's play reaches the guest's socket with the position at a time.
#[tokio::test]
async fn a_group_session_over_http_and_sockets() {
    let env = Env::embedded().await;
    let server = start_with_library(&env);
    let host = sign_up(&server, "host").await;
    let guest = sign_up(&server, "guest").await;
    let stranger = sign_up(&server, "stranger").await;
    let ids = scanned_track_ids(&server, &host.token).await;
    let mut guest_socket = Socket::open(&server, &guest.token, "").await;

    let (status, session) = call(&server, "POST", "/api/v1/sessions", &host.token, None).await;
    assert_eq!(status, 201, "{session}");
    let path = format!("/api/v1/sessions/{}", session["id"].as_str().unwrap());
    let invite = session["invite_code"].as_str().unwrap();
    let (status, body) = call(
        &server,
        "POST",
        "/api/v1/sessions/join",
        &guest.token,
        Some(json!({"invite_code": "wrong"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("invite_not_found"))
    );
    let (status, joined) = call(
        &server,
        "POST",
        "/api/v1/sessions/join",
        &guest.token,
        Some(json!({"invite_code": invite})),
    )
    .await;
    assert_eq!(
        (status, joined["members"].as_array().unwrap().len()),
        (200, 2)
    );
    let (status, _) = call(&server, "GET", &path, &stranger.token, None).await;
    assert_eq!(status, 404);
    let (status, mine) = call(&server, "GET", "/api/v1/me/session", &guest.token, None).await;
    assert_eq!((status, &mine["id"]), (200, &session["id"]));

    let (status, added) = call(
        &server,
        "POST",
        &format!("{path}/queue"),
        &guest.token,
        Some(json!({"track_ids": ids[..2]})),
    )
    .await;
    assert_eq!((status, added["queue"].as_array().unwrap().len()), (200, 2));
    let (status, body) = call(
        &server,
        "POST",
        &format!("{path}/playback"),
        &guest.token,
        Some(json!({"action": "play"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_session_owner"))
    );
    let (status, body) = call(
        &server,
        "POST",
        &format!("{path}/playback"),
        &host.token,
        Some(json!({"action": "dance"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, playing) = call(
        &server,
        "POST",
        &format!("{path}/playback"),
        &host.token,
        Some(json!({"action": "play"})),
    )
    .await;
    assert_eq!((status, playing["playing"].as_bool()), (200, Some(true)));
    let seen = guest_socket
        .next_where("session.changed", |m| m["session"]["playing"] == true)
        .await;
    assert_eq!(seen["session"]["queue_index"], 0);
    assert!(seen["session"]["as_of"].as_str().is_some());
    // The socket answers a clock ping with the server's time.
    guest_socket.send(json!({"type": "ping", "t": 5})).await;
    let pong = guest_socket.next_where("pong", |_| true).await;
    assert!(pong["server_time_ms"].as_i64().unwrap() > 0 && pong["t"] == 5);

    let (status, _) = call(&server, "POST", &format!("{path}/leave"), &host.token, None).await;
    assert_eq!(status, 409);
    let (status, _) = call(&server, "DELETE", &path, &host.token, None).await;
    assert_eq!(status, 204);
    guest_socket.next_where("session.ended", |_| true).await;
    let (status, _) = call(&server, "GET", "/api/v1/me/session", &guest.token, None).await;
    assert_eq!(status, 404);
    guest_socket.close().await;
    drop(server);
    env.finish().await;
}

/// A client that stops reading is disconnected once its kernel buffers and its queue (4
/// messages here) are full, instead of growing the server's memory; sockets that read are
/// served meanwhile.
#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected() {
    let env = Env::embedded().await;
    let library = env.dir.path().join("library");
    copy_fixture_library(&library);
    let server = env.start(&[
        ("BEATSTREAM_LIBRARY", &library.display().to_string()),
        ("BEATSTREAM_REALTIME__SOCKET_QUEUE", "4"),
    ]);
    let me = sign_up(&server, "me").await;

    // A socket with a tiny receive window that reads nothing after its hello.
    let address: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(1024).unwrap();
    let stream = tcp.connect(address).await.unwrap();
    let mut request = format!("ws://{address}/api/v1/events")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", me.token).parse().unwrap(),
    );
    let (mut stuck, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    let hello = stuck.next().await.unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains("hello"));
    // Devices with long names come online, one after another: each sends the listener's
    // sockets the whole device list, megabytes in all. Every other socket keeps reading.
    let name = "n".repeat(100);
    let mut devices = Vec::new();
    for i in 0..250 {
        let mut device = Socket::open(
            &server,
            &me.token,
            &format!("device_id=d{i}&device_name={name}"),
        )
        .await;
        devices.push(tokio::spawn(async move {
            let mut seen = 0;
            while let Ok(Some(Ok(_))) =
                tokio::time::timeout(Duration::from_secs(2), device.ws.next()).await
            {
                seen += 1;
            }
            seen
        }));
    }
    for device in devices {
        assert!(device.await.unwrap() > 0, "a reading socket is served");
    }

    // The stuck socket was dropped: reading what reached it ends in a close or a reset, not
    // in 960 messages.
    let mut received = 0;
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stuck.next().await {
                Some(Ok(Message::Text(_))) => received += 1,
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the stuck socket is disconnected");
    assert!(received < 250, "it got {received} of 250 device lists");
    if let Some(code) = ended {
        assert_eq!(code, 4008);
    }
    drop(server);
    env.finish().await;
}
