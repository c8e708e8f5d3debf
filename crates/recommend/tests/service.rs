//! The recommendations service against both SQL backends, fed by events as in production:
//! cold start from stated preferences, a single listener, a one-artist history, removed
//! tracks, privacy of others' playlists, freshness, idempotency and radio.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use beatstream_core::{Timestamp, UserId};
use beatstream_db::{backend_tests, Db};
use beatstream_events::catalog::{NamedRef, TrackAdded, TrackRemoved, TrackSummary};
use beatstream_events::library::{TrackLiked, TrackPlayed};
use beatstream_events::playlists::PlaylistChanged;
use beatstream_events::users::PreferencesChanged;
use beatstream_events::{Envelope, Event};
use beatstream_recommend::service::Recommendation;
use beatstream_recommend::{RecommendService, RecommendSettings, RecommendStore, MIGRATIONS};

const ARTISTS: [(&str, &str); 5] = [
    ("Miles", "Jazz"),
    ("Coltrane", "Jazz"),
    ("Metallica", "Metal"),
    ("Slayer", "Metal"),
    ("Beatles", "Rock"),
];

fn track(artist: &str, genre: &str, n: usize) -> TrackSummary {
    let key = artist.to_lowercase();
    TrackSummary {
        track_id: format!("{key}{n}"),
        title: format!("{artist} song {n}"),
        artists: vec![NamedRef {
            id: format!("artist:{key}"),
            name: artist.into(),
        }],
        album: NamedRef {
            id: format!("album:{key}:{}", n / 4),
            name: format!("{artist} album {}", n / 4),
        },
        album_artists: vec![],
        genres: vec![genre.into()],
        year: Some(1990 + n as i64),
        track_number: Some(n as i64),
        disc_number: Some(1),
        duration_ms: 200_000,
        format: "flac".into(),
        bitrate_kbps: Some(900),
        path: format!("{key}/{n}.flac"),
    }
}

async fn send<E: Event>(service: &RecommendService, event: &E) {
    service
        .apply_event(&Envelope::new(event).unwrap())
        .await
        .unwrap();
}

/// A service with eight tracks by each of five artists in three genres.
async fn open(db: &Db) -> RecommendService {
    let service = RecommendService::new(
        RecommendStore::new(db.clone()),
        RecommendSettings::default(),
    );
    for (artist, genre) in ARTISTS {
        for n in 0..8 {
            send(
                &service,
                &TrackAdded {
                    track: track(artist, genre, n),
                },
            )
            .await;
        }
    }
    service
}

fn user(name: &str) -> UserId {
    UserId(format!("user-{name}"))
}

/// Plays `track` at `at` (long ago unless said otherwise: recent plays are left out).
async fn play_at(service: &RecommendService, who: &UserId, track: &str, at: Timestamp) {
    send(
        service,
        &TrackPlayed {
            play_id: uuid::Uuid::new_v4().to_string(),
            user_id: who.clone(),
            track_id: track.into(),
            played_ms: 180_000,
            played_at: at,
            skipped: false,
        },
    )
    .await;
}

fn long_ago() -> Timestamp {
    Timestamp::from_millis(Timestamp::now().millis() - 30 * 24 * 3600 * 1000)
}

async fn play(service: &RecommendService, who: &UserId, track: &str) {
    play_at(service, who, track, long_ago()).await;
}

fn ids(recs: &[Recommendation]) -> Vec<String> {
    recs.iter()
        .map(|r| r.track["id"].as_str().unwrap().to_string())
        .collect()
}

fn artist_of(rec: &Recommendation) -> String {
    rec.track["artists"][0]["name"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn cold_start_uses_stated_preferences(db: Db) {
    let service = open(&db).await;
    let ana = user("ana");
    send(
        &service,
        &PreferencesChanged {
            user_id: ana.clone(),
            favorite_genres: vec!["jazz".into()],
            favorite_artists: vec![],
            streaming_quality: "high".into(),
        },
    )
    .await;
    service.retrain().await.unwrap();
    let recs = service.recommendations(&ana, 10).await.unwrap();
    assert_eq!(recs.len(), 10);
    // Jazz first, both jazz artists (a third of the list each at most), then something new.
    for rec in &recs[..8] {
        assert_eq!(rec.track["genres"][0], "Jazz", "{:?}", rec.track);
        assert_eq!(rec.reason, "More Jazz");
        assert_eq!(rec.because["kind"], "genre");
    }
    let artists: HashSet<String> = recs[..8].iter().map(artist_of).collect();
    assert_eq!(artists.len(), 2);
    for rec in &recs[8..] {
        assert_ne!(rec.track["genres"][0], "Jazz");
    }

    // A favourite artist, by name as typed, comes first.
    send(
        &service,
        &PreferencesChanged {
            user_id: ana.clone(),
            favorite_genres: vec!["Jazz".into()],
            favorite_artists: vec!["slayer".into()],
            streaming_quality: "high".into(),
        },
    )
    .await;
    let recs = service.recommendations(&ana, 10).await.unwrap();
    assert_eq!(artist_of(&recs[0]), "Slayer");
    assert_eq!(recs[0].reason, "Because you like Slayer");
}

async fn no_history_and_no_preferences_still_gets_something(db: Db) {
    let service = open(&db).await;
    service.retrain().await.unwrap();
    let recs = service.recommendations(&user("new"), 5).await.unwrap();
    assert_eq!(recs.len(), 5);
    assert!(recs.iter().all(|r| !r.reason.is_empty()));
}

async fn a_single_listener_gets_alike_tracks_and_not_what_they_just_played(db: Db) {
    let service = open(&db).await;
    let solo = user("solo");
    for n in 0..3 {
        play(&service, &solo, &format!("metallica{n}")).await;
        play(&service, &solo, &format!("metallica{n}")).await;
    }
    play_at(&service, &solo, "metallica3", Timestamp::now()).await;
    service.retrain().await.unwrap();
    let recs = service.recommendations(&solo, 8).await.unwrap();
    assert_eq!(recs.len(), 8);
    let got = ids(&recs);
    for n in 0..4 {
        assert!(!got.contains(&format!("metallica{n}")), "{got:?}");
    }
    // Metal first: the rest of Metallica and Slayer.
    for rec in recs.iter().take(4) {
        assert_eq!(rec.track["genres"][0], "Metal", "{got:?}");
    }
    assert!(recs.iter().any(|r| artist_of(r) == "Metallica"));
    assert!(recs.iter().any(|r| artist_of(r) == "Slayer"));
}

async fn a_lone_listener_of_one_artist_is_offered_others_too(db: Db) {
    let service = open(&db).await;
    let solo = user("solo");
    // The Beatles are the only rock: nothing else is alike by genre, and nobody else listens.
    for n in 0..2 {
        play(&service, &solo, &format!("beatles{n}")).await;
    }
    service.retrain().await.unwrap();
    let recs = service.recommendations(&solo, 10).await.unwrap();
    assert_eq!(recs.len(), 10);
    let beatles = recs.iter().filter(|r| artist_of(r) == "Beatles").count();
    assert_eq!(
        beatles,
        4,
        "a third of the list, the rest to discover: {:?}",
        ids(&recs)
    );
    let others: HashSet<String> = recs
        .iter()
        .map(artist_of)
        .filter(|a| a != "Beatles")
        .collect();
    assert!(others.len() >= 3, "{:?}", ids(&recs));
    assert_eq!(artist_of(&recs[0]), "Beatles");
    assert!(recs
        .iter()
        .filter(|r| artist_of(r) != "Beatles")
        .all(|r| r.because["kind"] != "artist"));
}

/// Listeners in two taste groups (jazz, metal); one also plays the Beatles.
async fn listeners(service: &RecommendService) {
    for i in 0..6 {
        let who = user(&format!("jazz{i}"));
        for n in 0..6 {
            if n != i {
                play(service, &who, &format!("miles{n}")).await;
                play(service, &who, &format!("coltrane{n}")).await;
            }
        }
        let who = user(&format!("metal{i}"));
        for n in 0..6 {
            if n != i {
                play(service, &who, &format!("metallica{n}")).await;
                play(service, &who, &format!("slayer{n}")).await;
            }
        }
    }
}

async fn a_one_artist_history_gets_more_than_that_artist(db: Db) {
    let service = open(&db).await;
    listeners(&service).await;
    let fan = user("fan");
    for n in 0..4 {
        play(&service, &fan, &format!("miles{n}")).await;
    }
    service.retrain().await.unwrap();
    let recs = service.recommendations(&fan, 10).await.unwrap();
    assert_eq!(recs.len(), 10);
    let miles = recs.iter().filter(|r| artist_of(r) == "Miles").count();
    assert!(miles >= 1, "the artist they love is there");
    assert!(
        miles <= 2,
        "no more than a fifth by one artist: {:?}",
        ids(&recs)
    );
    let coltrane = recs.iter().filter(|r| artist_of(r) == "Coltrane").count();
    assert!(coltrane >= 1, "{:?}", ids(&recs));
    // The first picks are jazz, from listeners like them and the genre.
    assert_eq!(recs[0].track["genres"][0], "Jazz");
    // Reasons that name a track name one of theirs.
    for rec in &recs {
        if rec.because["kind"] == "track" {
            let id = rec.because["track"]["id"].as_str().unwrap();
            assert!(id.starts_with("miles") && id < "miles4", "{id}");
            assert!(rec.reason.starts_with("Because you played Miles song"));
        }
    }
}

async fn removed_tracks_are_never_recommended(db: Db) {
    let service = open(&db).await;
    listeners(&service).await;
    let fan = user("fan");
    play(&service, &fan, "coltrane0").await;
    service.retrain().await.unwrap();
    let before = ids(&service.recommendations(&fan, 40).await.unwrap());
    let gone = before[0].clone();
    assert!(before.contains(&"miles6".to_string()) || before.len() == 40);
    // Removed after the model was trained: it must not come back before a retraining either.
    send(
        &service,
        &TrackRemoved {
            track_id: gone.clone(),
        },
    )
    .await;
    send(
        &service,
        &TrackRemoved {
            track_id: "miles6".into(),
        },
    )
    .await;
    for _ in 0..2 {
        let recs = ids(&service.recommendations(&fan, 40).await.unwrap());
        assert!(!recs.contains(&gone) && !recs.contains(&"miles6".to_string()));
        let station = service.radio(&fan, "miles5", 50).await.unwrap();
        assert!(station
            .iter()
            .all(|t| t["id"] != gone.as_str() && t["id"] != "miles6"));
        service.retrain().await.unwrap();
    }
    // A removed track as a seed is not found.
    assert!(matches!(
        service.radio(&fan, &gone, 10).await,
        Err(beatstream_recommend::RecommendError::TrackNotFound)
    ));
}

async fn others_private_playlists_never_show_in_reasons(db: Db) {
    let service = open(&db).await;
    let (alice, bob) = (user("alice"), user("bob"));
    // Bob's private playlist puts a Beatles song with metal.
    send(
        &service,
        &PlaylistChanged {
            playlist_id: "secret".into(),
            version: 1,
            name: "Bob's secret mix".into(),
            description: String::new(),
            owner_id: bob.clone(),
            owner_username: "bob".into(),
            public: false,
            collaborative: false,
            collaborators: vec![],
            track_count: 4,
            duration_ms: 0,
            changed_by: bob.clone(),
            changed_at: Timestamp::now(),
            added_track_ids: vec![
                "beatles0".into(),
                "slayer7".into(),
                "metallica7".into(),
                "beatles1".into(),
            ],
            removed_track_ids: vec![],
        },
    )
    .await;
    play(&service, &alice, "beatles0").await;
    service.retrain().await.unwrap();
    let recs = service.recommendations(&alice, 20).await.unwrap();
    for rec in &recs {
        assert!(!rec.reason.contains("secret") && !rec.reason.contains("bob"));
        if rec.because["kind"] == "track" {
            assert_eq!(rec.because["track"]["id"], "beatles0");
            let id = rec.track["id"].as_str().unwrap();
            assert!(
                !id.starts_with("slayer") && !id.starts_with("metallica"),
                "Bob's private list linked {id} to Alice's play"
            );
        }
    }
    // Bob's own playlist counts for Bob.
    let bobs = service.recommendations(&bob, 10).await.unwrap();
    assert!(bobs
        .iter()
        .any(|r| artist_of(r) == "Slayer" || artist_of(r) == "Metallica"));
}

async fn new_signals_count_at_the_next_request(db: Db) {
    let service = open(&db).await;
    listeners(&service).await;
    service.retrain().await.unwrap();
    let newcomer = user("newcomer");
    let before = service.recommendations(&newcomer, 5).await.unwrap();
    assert!(before.iter().all(|r| r.because["kind"] == "popular"));
    // Likes and plays after the model was trained, with no retraining.
    for n in 0..3 {
        send(
            &service,
            &TrackLiked {
                user_id: newcomer.clone(),
                track_id: format!("slayer{n}"),
                liked: true,
                at: Timestamp::now(),
            },
        )
        .await;
    }
    let after = service.recommendations(&newcomer, 5).await.unwrap();
    // Two by each metal artist (the diversity cap), each for what they did.
    for rec in after.iter().take(4) {
        assert_eq!(rec.track["genres"][0], "Metal", "{:?}", ids(&after));
        assert_ne!(rec.because["kind"], "popular");
    }
}

async fn redelivered_and_skipped_plays(db: Db) {
    let service = open(&db).await;
    let who = user("skipper");
    let played = TrackPlayed {
        play_id: "p1".into(),
        user_id: who.clone(),
        track_id: "beatles2".into(),
        played_ms: 180_000,
        played_at: long_ago(),
        skipped: false,
    };
    let envelope = Envelope::new(&played).unwrap();
    service.apply_event(&envelope).await.unwrap();
    service.apply_event(&envelope).await.unwrap();
    let profile = service.store().profile(who.as_str()).await.unwrap();
    assert_eq!(profile.listens[0].plays, 1, "a redelivery counts once");
    // Skipped twice: disliked, never recommended, not even in a radio.
    for _ in 0..2 {
        send(
            &service,
            &TrackPlayed {
                skipped: true,
                play_id: uuid::Uuid::new_v4().to_string(),
                track_id: "beatles3".into(),
                ..played.clone()
            },
        )
        .await;
    }
    service.retrain().await.unwrap();
    let recs = ids(&service.recommendations(&who, 40).await.unwrap());
    assert!(!recs.contains(&"beatles3".to_string()));
    assert!(recs.contains(&"beatles4".to_string()));
    let station = service.radio(&who, "beatles2", 20).await.unwrap();
    assert!(station.iter().all(|t| t["id"] != "beatles3"));
}

async fn radio_starts_from_the_seed_and_stays_close(db: Db) {
    let service = open(&db).await;
    listeners(&service).await;
    service.retrain().await.unwrap();
    let who = user("radio");
    let station = service.radio(&who, "slayer2", 12).await.unwrap();
    assert_eq!(station.len(), 12);
    assert_eq!(station[0]["id"], "slayer2");
    let ids: HashSet<&str> = station.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 12, "no repeats");
    let metal = station.iter().filter(|t| t["genres"][0] == "Metal").count();
    assert!(metal >= 10, "{station:?}");
    let slayer = station
        .iter()
        .filter(|t| t["artists"][0]["name"] == "Slayer")
        .count();
    // Only two metal artists: the station stays with them rather than drift, but does not
    // become the seed's artist alone.
    assert!((2..=6).contains(&slayer), "{slayer} Slayer tracks of 12");
    let metallica = station
        .iter()
        .filter(|t| t["artists"][0]["name"] == "Metallica")
        .count();
    assert!(metallica >= 4, "{metallica} Metallica tracks of 12");
    for pair in station.windows(3) {
        let artist = |t: &serde_json::Value| t["artists"][0]["name"].clone();
        assert!(
            !(artist(&pair[0]) == artist(&pair[1]) && artist(&pair[1]) == artist(&pair[2])),
            "three by one artist in a row: {station:?}"
        );
    }
    // A track added after training still seeds a station.
    send(
        &service,
        &TrackAdded {
            track: track("Coltrane", "Jazz", 20),
        },
    )
    .await;
    let station = service.radio(&who, "coltrane20", 5).await.unwrap();
    assert_eq!(station[0]["id"], "coltrane20");
    assert!(station.iter().skip(1).all(|t| t["genres"][0] == "Jazz"));
    assert!(matches!(
        service.radio(&who, "nope", 5).await,
        Err(beatstream_recommend::RecommendError::TrackNotFound)
    ));
}

fn playlist_change(id: &str, version: i64, added: &[&str], removed: &[&str]) -> Envelope {
    let owner = user("owner");
    Envelope::new(&PlaylistChanged {
        playlist_id: id.into(),
        version,
        name: id.into(),
        description: String::new(),
        owner_id: owner.clone(),
        owner_username: "owner".into(),
        public: version % 2 == 0,
        collaborative: false,
        collaborators: vec![],
        track_count: 0,
        duration_ms: 0,
        changed_by: owner,
        changed_at: Timestamp::now(),
        added_track_ids: added.iter().map(|t| t.to_string()).collect(),
        removed_track_ids: removed.iter().map(|t| t.to_string()).collect(),
    })
    .unwrap()
}

/// Playlist changes of a batch are written together; the outcome is the same as one by one:
/// adds before removes within a change, stale versions skipped, other topics in between.
async fn a_batch_of_playlist_changes_counts_as_one_by_one(db: Db) {
    let service = open(&db).await;
    let batch = [
        playlist_change("p1", 1, &["beatles0", "beatles1"], &[]),
        playlist_change("p2", 1, &["beatles0"], &[]),
        // Adds one more copy of beatles0 and takes beatles1 out.
        playlist_change("p1", 2, &["beatles0"], &["beatles1"]),
        // A stale copy of version 2 (another id, as a re-sent change would have): skipped.
        playlist_change("p1", 2, &["slayer0"], &[]),
        Envelope::new(&TrackLiked {
            user_id: user("owner"),
            track_id: "miles0".into(),
            liked: true,
            at: Timestamp::now(),
        })
        .unwrap(),
        playlist_change("p1", 3, &["miles1", "miles1"], &[]),
        // Added and removed by one change: an add, then its removal.
        playlist_change("p2", 2, &["miles2"], &["miles2"]),
    ];
    service.apply_events(&batch).await.unwrap();
    // The same batch again changes nothing.
    service.apply_events(&batch).await.unwrap();
    let rows: Vec<(String, String, i64)> = beatstream_db::sqlx::query_as(
        "SELECT playlist_id, track_id, copies FROM playlist_tracks ORDER BY playlist_id, track_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let expected = [
        ("p1", "beatles0", 2),
        ("p1", "miles1", 2),
        ("p2", "beatles0", 1),
    ];
    let expected: Vec<(String, String, i64)> = expected
        .iter()
        .map(|(p, t, c)| (p.to_string(), t.to_string(), *c))
        .collect();
    assert_eq!(rows, expected);
    let versions: Vec<(String, i64, i64)> =
        beatstream_db::sqlx::query_as("SELECT id, version, public FROM playlists ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(
        versions,
        vec![("p1".to_string(), 3, 0), ("p2".to_string(), 2, 1)]
    );
}

backend_tests!("recommendations", &MIGRATIONS;
    a_batch_of_playlist_changes_counts_as_one_by_one,
    cold_start_uses_stated_preferences,
    no_history_and_no_preferences_still_gets_something,
    a_single_listener_gets_alike_tracks_and_not_what_they_just_played,
    a_lone_listener_of_one_artist_is_offered_others_too,
    a_one_artist_history_gets_more_than_that_artist,
    removed_tracks_are_never_recommended,
    others_private_playlists_never_show_in_reasons,
    new_signals_count_at_the_next_request,
    redelivered_and_skipped_plays,
    radio_starts_from_the_seed_and_stays_close,
);
