//! The realtime service on SQLite and PostgreSQL: devices come and go, states are kept,
//! transfers take the last state, and other services' events become messages for the right
//! users, once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use beatstream_core::{Caller, Timestamp, UserId, UserRole};
use beatstream_db::{backend_tests, Db};
use beatstream_events::library::TrackLiked;
use beatstream_events::live::MemoryLive;
use beatstream_events::playlists::PlaylistChanged;
use beatstream_events::Envelope;
use beatstream_realtime::hub::Registration;
use beatstream_realtime::playback::{Command, PlaybackState};
use beatstream_realtime::service::DeviceInfo;
use beatstream_realtime::session::Playback;
use beatstream_realtime::{RealtimeService, RealtimeSettings, RealtimeStore, MIGRATIONS};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

async fn service(db: Db) -> (RealtimeService, CancellationToken) {
    let service = RealtimeService::new(
        RealtimeStore::new(db),
        Arc::new(MemoryLive::new()),
        RealtimeSettings::default(),
    );
    let stop = CancellationToken::new();
    service.spawn_pump(stop.clone()).await.unwrap();
    (service, stop)
}

fn device(id: &str) -> DeviceInfo {
    DeviceInfo {
        id: id.into(),
        name: format!("{id} device"),
        kind: "web".into(),
    }
}

/// The next message of `kind` in a registration's queue, within 5 s.
async fn next_of(registration: &mut Registration, kind: &str) -> Value {
    loop {
        let text = tokio::time::timeout(Duration::from_secs(5), registration.messages.recv())
            .await
            .expect("a message within 5 s")
            .expect("queue open");
        let value: Value = serde_json::from_str(text.as_str()).unwrap();
        if value["type"] == kind {
            return value;
        }
    }
}

fn playing(track: &str, position_ms: i64) -> PlaybackState {
    serde_json::from_value(serde_json::json!({
        "track_id": track, "position_ms": position_ms, "playing": true,
        "queue": ["t1", "t2", track], "queue_index": 2
    }))
    .unwrap()
}

async fn devices_come_and_go_and_keep_their_state(db: Db) {
    let (service, stop) = service(db).await;
    let mut watcher = service.hub().register("u1", None, false, None);
    service
        .device_connected("u1", "c1", &device("laptop"))
        .await
        .unwrap();
    service
        .device_connected("u1", "c2", &device("phone"))
        .await
        .unwrap();
    let changed = next_of(&mut watcher, "devices.changed").await;
    assert_eq!(changed["devices"].as_array().unwrap().len(), 1);
    let changed = next_of(&mut watcher, "devices.changed").await;
    assert_eq!(changed["devices"].as_array().unwrap().len(), 2);

    service
        .report_state("u1", "laptop", &playing("t3", 1000))
        .await
        .unwrap();
    let state = next_of(&mut watcher, "player.state").await;
    assert_eq!(state["device"]["id"], "laptop");
    assert_eq!(state["device"]["active"], true);
    let devices = service.devices("u1").await.unwrap();
    assert_eq!(
        devices[0].id, "laptop",
        "the device that played last comes first"
    );
    assert!(devices[0].state.as_ref().unwrap().position_ms >= 1000);
    assert!(
        service.devices("u2").await.unwrap().is_empty(),
        "devices are per user"
    );

    // Unknown devices cannot report; bad states are refused.
    let error = service
        .report_state("u1", "ghost", &playing("t3", 0))
        .await
        .unwrap_err();
    assert_eq!(
        beatstream_core::ApiError::from(error).code,
        "device_not_found"
    );
    let mut bad = playing("t3", 0);
    bad.volume = 2.0;
    assert!(service.report_state("u1", "laptop", &bad).await.is_err());

    // The laptop goes away: offline, state kept; commands to it are refused.
    service.device_disconnected("u1", "c1").await.unwrap();
    let devices = service.devices("u1").await.unwrap();
    let laptop = devices.iter().find(|d| d.id == "laptop").unwrap();
    assert!(!laptop.online && laptop.state.is_some());
    let error = service
        .command("u1", "laptop", &Command::Pause, None)
        .await
        .unwrap_err();
    assert_eq!(
        beatstream_core::ApiError::from(error).code,
        "device_offline"
    );

    // The phone takes over where the laptop stopped.
    let mut phone = service.hub().register("u1", Some("phone"), false, None);
    let view = service.transfer("u1", "phone", Some(true)).await.unwrap();
    assert_eq!(view.id, "phone");
    let command = next_of(&mut phone, "player.command").await;
    assert_eq!(command["command"]["action"], "transfer");
    assert_eq!(command["command"]["state"]["track_id"], "t3");
    assert_eq!(command["command"]["state"]["queue_index"], 2);
    assert!(command["command"]["state"]["position_ms"].as_i64().unwrap() >= 1000);
    stop.cancel();
}

async fn events_become_messages_for_the_people_they_concern_once(db: Db) {
    let (service, stop) = service(db).await;
    let mut owner = service.hub().register("owner", None, false, None);
    let mut collaborator = service.hub().register("collab", None, false, None);
    let mut stranger = service.hub().register("stranger", None, false, None);
    let changed = Envelope::new(&PlaylistChanged {
        playlist_id: "p1".into(),
        version: 7,
        name: "Mix".into(),
        description: String::new(),
        owner_id: UserId("owner".into()),
        owner_username: "owner".into(),
        public: false,
        collaborative: true,
        collaborators: vec![UserId("collab".into())],
        track_count: 3,
        duration_ms: 600_000,
        changed_by: UserId("collab".into()),
        changed_at: Timestamp::now(),
        added_track_ids: vec!["t1".into()],
        removed_track_ids: vec![],
    })
    .unwrap();
    service.apply_event(&changed).await.unwrap();
    // Delivered again (at least once): no second message.
    service.apply_event(&changed).await.unwrap();
    let liked = Envelope::new(&TrackLiked {
        user_id: UserId("owner".into()),
        track_id: "t9".into(),
        liked: true,
        at: Timestamp::now(),
    })
    .unwrap();
    service.apply_event(&liked).await.unwrap();

    for registration in [&mut owner, &mut collaborator] {
        let message = next_of(registration, "playlist.changed").await;
        assert_eq!(
            (message["playlist_id"].as_str(), message["version"].as_i64()),
            (Some("p1"), Some(7))
        );
    }
    let like = next_of(&mut owner, "like.changed").await;
    assert_eq!(like["track_id"], "t9");
    // The collaborator got exactly one message; the stranger none.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(collaborator.messages.try_recv().is_err());
    assert!(stranger.messages.try_recv().is_err());
    stop.cancel();
}

fn caller(id: &str) -> Caller {
    Caller {
        user_id: UserId(id.into()),
        username: format!("{id}-name"),
        role: UserRole::User,
        scope: beatstream_core::Scope::Full,
    }
}

fn code(error: beatstream_realtime::RealtimeError) -> &'static str {
    beatstream_core::ApiError::from(error).code
}

async fn a_group_session_is_shared_and_led_by_its_owner(db: Db) {
    let (service, stop) = service(db).await;
    let (host, guest, stranger) = (caller("host"), caller("guest"), caller("stranger"));
    let mut guest_socket = service.hub().register("guest", None, false, None);
    let session = service.create_session(&host).await.unwrap();
    assert_eq!(session.owner.username, "host-name");
    assert_eq!((session.members.len(), session.queue_index), (1, None));

    // Strangers see nothing; a wrong invite is refused; the right one joins, twice is once.
    assert_eq!(
        code(service.session(&stranger, &session.id).await.unwrap_err()),
        "session_not_found"
    );
    assert_eq!(
        code(service.join_session(&guest, "nope").await.unwrap_err()),
        "invite_not_found"
    );
    let joined = service
        .join_session(&guest, &session.invite_code)
        .await
        .unwrap();
    let again = service
        .join_session(&guest, &session.invite_code)
        .await
        .unwrap();
    assert_eq!((joined.members.len(), again.version), (2, joined.version));
    let changed = next_of(&mut guest_socket, "session.changed").await;
    assert_eq!(changed["session"]["members"].as_array().unwrap().len(), 2);
    assert_eq!(
        service.current_session(&guest).await.unwrap().id,
        session.id
    );

    // The guest adds to the queue but cannot lead playback; the owner can.
    let added = service
        .add_to_session(&guest, &session.id, &["t1".into(), "t2".into()])
        .await
        .unwrap();
    assert_eq!((added.queue.len(), added.queue_index), (2, Some(0)));
    assert_eq!(added.queue[0].added_by, "guest");
    let refused = service
        .session_playback(&guest, &session.id, &Playback::Play)
        .await
        .unwrap_err();
    assert_eq!(code(refused), "not_session_owner");
    let playing = service
        .session_playback(&host, &session.id, &Playback::Play)
        .await
        .unwrap();
    assert!(playing.playing);
    let seen = loop {
        let changed = next_of(&mut guest_socket, "session.changed").await;
        if changed["session"]["playing"] == true {
            break changed;
        }
    };
    assert_eq!(seen["session"]["version"], playing.version);
    let next = service
        .session_playback(&host, &session.id, &Playback::Next { from_index: None })
        .await
        .unwrap();
    assert_eq!((next.queue_index, next.position_ms), (Some(1), 0));

    // Concurrent additions all land (compare-and-set retries).
    let adds = (0..5).map(|i| {
        let service = service.clone();
        let (guest, id) = (guest.clone(), session.id.clone());
        tokio::spawn(async move {
            service
                .add_to_session(&guest, &id, &[format!("x{i}")])
                .await
        })
    });
    for add in adds {
        add.await.unwrap().unwrap();
    }
    assert_eq!(
        service
            .session(&host, &session.id)
            .await
            .unwrap()
            .queue
            .len(),
        7
    );

    // The owner cannot leave, only end; the guest can leave; an ended session is gone.
    assert_eq!(
        code(service.leave_session(&host, &session.id).await.unwrap_err()),
        "owner_cannot_leave"
    );
    assert_eq!(
        code(service.end_session(&guest, &session.id).await.unwrap_err()),
        "not_session_owner"
    );
    service.end_session(&host, &session.id).await.unwrap();
    next_of(&mut guest_socket, "session.ended").await;
    assert_eq!(
        code(service.session(&host, &session.id).await.unwrap_err()),
        "session_not_found"
    );
    // One session at a time: starting another ends the one the caller leads; joining
    // another leaves the one they are a guest in.
    let first = service.create_session(&stranger).await.unwrap();
    service
        .join_session(&guest, &first.invite_code)
        .await
        .unwrap();
    let second = service.create_session(&stranger).await.unwrap();
    assert_eq!(
        code(service.session(&stranger, &first.id).await.unwrap_err()),
        "session_not_found"
    );
    service
        .join_session(&guest, &second.invite_code)
        .await
        .unwrap();
    let third = service.create_session(&host).await.unwrap();
    service
        .join_session(&guest, &third.invite_code)
        .await
        .unwrap();
    assert_eq!(
        service
            .session(&stranger, &second.id)
            .await
            .unwrap()
            .members
            .len(),
        1
    );
    assert_eq!(service.current_session(&guest).await.unwrap().id, third.id);
    assert_eq!(
        code(
            service
                .join_session(&stranger, &session.invite_code)
                .await
                .unwrap_err()
        ),
        "invite_not_found"
    );
    stop.cancel();
}

backend_tests!("realtime", &MIGRATIONS;
    devices_come_and_go_and_keep_their_state,
    events_become_messages_for_the_people_they_concern_once,
    a_group_session_is_shared_and_led_by_its_owner,
);
