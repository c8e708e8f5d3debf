//! The playlists service against both SQL backends: every rule of playlists, collaborators,
//! likes, plays and M3U, with tracks arriving the way they do in production (catalog events).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use beatstream_core::{Caller, PageQuery, Timestamp, UserId, UserRole};
use beatstream_db::{backend_tests, Db};
use beatstream_events::auth::UserCreated;
use beatstream_events::catalog::{NamedRef, TrackAdded, TrackRemoved, TrackSummary, TrackUpdated};
use beatstream_events::directory::{NoDirectory, TrackDirectory};
use beatstream_events::outbox::OutboxWaker;
use beatstream_events::{Envelope, Event};
use beatstream_playlists::model::{MarkKind, NewPlaylist, PlayReport, PlaylistPatch};
use beatstream_playlists::store::HistoryFilter;
use beatstream_playlists::{PlaylistsError, PlaylistsService, PlaylistsStore, MIGRATIONS};
use sqlx::Row;

fn service(db: &Db) -> PlaylistsService {
    service_with(db, Arc::new(NoDirectory))
}

fn service_with(db: &Db, directory: Arc<dyn TrackDirectory>) -> PlaylistsService {
    PlaylistsService::new(
        PlaylistsStore::new(db.clone()),
        OutboxWaker::default(),
        directory,
    )
}

fn summary(id: &str, title: &str, artist: &str, path: &str, duration_ms: i64) -> TrackSummary {
    TrackSummary {
        track_id: id.into(),
        title: title.into(),
        artists: vec![NamedRef {
            id: format!("artist-{artist}"),
            name: artist.into(),
        }],
        album: NamedRef {
            id: "album-1".into(),
            name: "Album".into(),
        },
        album_artists: Vec::new(),
        genres: vec!["Rock".into()],
        year: Some(1999),
        track_number: Some(1),
        disc_number: None,
        duration_ms,
        format: "mp3".into(),
        bitrate_kbps: Some(320),
        path: path.into(),
    }
}

async fn deliver<E: Event>(service: &PlaylistsService, event: &E) {
    let envelope = Envelope::new(event).unwrap();
    service.apply_event(&envelope).await.unwrap();
    // At least once: a second delivery changes nothing.
    service.apply_event(&envelope).await.unwrap();
}

/// Tracks t0..t{n-1}, three minutes each, known through catalog events.
async fn tracks(service: &PlaylistsService, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("t{i}");
        let track = summary(
            &id,
            &format!("Song {i}"),
            "Band",
            &format!("Band/Album/{i:02} Song {i}.mp3"),
            180_000,
        );
        deliver(service, &TrackAdded { track }).await;
        ids.push(id);
    }
    ids
}

async fn user(service: &PlaylistsService, name: &str) -> Caller {
    let user_id = UserId::generate();
    deliver(
        service,
        &UserCreated {
            user_id: user_id.clone(),
            username: name.into(),
            email: None,
            display_name: None,
            role: UserRole::User,
            created_at: Timestamp::now(),
        },
    )
    .await;
    Caller {
        user_id,
        username: name.into(),
        role: UserRole::User,
        scope: beatstream_core::Scope::Full,
    }
}

async fn playlist(service: &PlaylistsService, owner: &Caller, name: &str, public: bool) -> String {
    let new = NewPlaylist {
        name: name.into(),
        public: Some(public),
        ..Default::default()
    };
    service.create_playlist(owner, new).await.unwrap().id
}

/// The playlist's track ids in order, checking positions are dense from 0.
async fn order(service: &PlaylistsService, caller: &Caller, id: &str) -> Vec<String> {
    let (playlist, entries) = service
        .playlist_with_entries(caller, id, 0, i64::MAX)
        .await
        .unwrap();
    assert_eq!(playlist.track_count as usize, entries.len());
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.position, i as i64);
    }
    entries.into_iter().map(|e| e.track.id).collect()
}

async fn version(service: &PlaylistsService, caller: &Caller, id: &str) -> i64 {
    service.playlist(caller, id).await.unwrap().version
}

async fn outbox_topics(db: &Db) -> Vec<String> {
    sqlx::query("SELECT topic FROM outbox ORDER BY seq")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("topic"))
        .collect()
}

fn ids(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

async fn create_rename_and_delete(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    let id = playlist(&s, &kim, "  Road trip ", false).await;
    let p = s.playlist(&kim, &id).await.unwrap();
    assert_eq!(
        (p.name.as_str(), p.version, p.track_count),
        ("Road trip", 1, 0)
    );
    assert_eq!(p.owner.username, "kim");
    let patch = PlaylistPatch {
        name: Some("Night drive".into()),
        description: Some("for late hours".into()),
        public: Some(true),
        ..Default::default()
    };
    let p = s.update_playlist(&kim, &id, Some(1), patch).await.unwrap();
    assert_eq!(
        (p.name.as_str(), p.public, p.version),
        ("Night drive", true, 2)
    );
    assert_eq!(p.description, "for late hours");
    s.delete_playlist(&kim, &id, None).await.unwrap();
    assert!(matches!(
        s.playlist(&kim, &id).await,
        Err(PlaylistsError::NotFound("playlist"))
    ));
    assert_eq!(
        outbox_topics(&db).await,
        vec![
            "playlists.playlist.changed",
            "playlists.playlist.changed",
            "playlists.playlist.deleted"
        ]
    );
}

async fn bad_names_are_refused(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    for name in ["", "   ", &"x".repeat(201), "tab\u{7}bell"] {
        let new = NewPlaylist {
            name: name.into(),
            ..Default::default()
        };
        assert!(matches!(
            s.create_playlist(&kim, new).await,
            Err(PlaylistsError::Invalid { field: "name", .. })
        ));
    }
    let id = playlist(&s, &kim, "Keep", false).await;
    let patch = PlaylistPatch {
        name: Some(String::new()),
        ..Default::default()
    };
    assert!(s.update_playlist(&kim, &id, None, patch).await.is_err());
    let p = s.playlist(&kim, &id).await.unwrap();
    assert_eq!((p.name.as_str(), p.version), ("Keep", 1));
}

async fn privacy_and_ownership(db: Db) {
    let s = service(&db);
    let (kim, lee) = (user(&s, "kim").await, user(&s, "lee").await);
    let private = playlist(&s, &kim, "Mine", false).await;
    let public = playlist(&s, &kim, "Shared", true).await;
    // Another user's private playlist does not exist for them, even to change it.
    assert!(matches!(
        s.playlist(&lee, &private).await,
        Err(PlaylistsError::NotFound(_))
    ));
    assert!(matches!(
        s.delete_playlist(&lee, &private, None).await,
        Err(PlaylistsError::NotFound(_))
    ));
    // A public one is visible, but only its owner renames or deletes it.
    assert_eq!(s.playlist(&lee, &public).await.unwrap().name, "Shared");
    let rename = PlaylistPatch {
        name: Some("Taken".into()),
        ..Default::default()
    };
    assert!(matches!(
        s.update_playlist(&lee, &public, None, rename).await,
        Err(PlaylistsError::NotOwner(_))
    ));
    assert!(matches!(
        s.delete_playlist(&lee, &public, None).await,
        Err(PlaylistsError::NotOwner(_))
    ));
    let t = tracks(&s, 1).await;
    assert!(matches!(
        s.add_tracks(&lee, &public, None, t.clone(), None).await,
        Err(PlaylistsError::CannotEdit)
    ));
    assert_eq!(
        version(&s, &kim, &public).await,
        1,
        "refused changes change nothing"
    );
    let page = PageQuery::default().page().unwrap();
    assert_eq!(
        s.my_playlists(&lee, false, &page)
            .await
            .unwrap()
            .items
            .len(),
        0
    );
    assert_eq!(
        s.my_playlists(&kim, false, &page)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    // With everyone's public ones: lee sees kim's public playlist, never the private one.
    let with_public = s.my_playlists(&lee, true, &page).await.unwrap();
    assert_eq!(
        with_public
            .items
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        [public.as_str()]
    );
    assert_eq!(
        s.my_playlists(&kim, true, &page).await.unwrap().items.len(),
        2
    );
}

async fn add_insert_remove_and_move(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    let t = tracks(&s, 6).await;
    let id = playlist(&s, &kim, "Mix", false).await;
    assert_eq!(
        s.add_tracks(&kim, &id, None, ids(&["t0", "t1", "t2"]), None)
            .await
            .unwrap(),
        2
    );
    s.add_tracks(&kim, &id, None, ids(&["t3", "t4"]), Some(1))
        .await
        .unwrap();
    s.add_tracks(&kim, &id, None, ids(&["t5"]), Some(0))
        .await
        .unwrap();
    // The same track twice is allowed, as in any player.
    s.add_tracks(&kim, &id, None, ids(&["t0"]), Some(6))
        .await
        .unwrap();
    assert_eq!(
        order(&s, &kim, &id).await,
        ids(&["t5", "t0", "t3", "t4", "t1", "t2", "t0"])
    );
    s.remove_tracks(&kim, &id, None, vec![6, 0, 3])
        .await
        .unwrap();
    assert_eq!(order(&s, &kim, &id).await, ids(&["t0", "t3", "t1", "t2"]));
    // `count` tracks from `from` end up starting at `to` of the result.
    s.move_tracks(&kim, &id, None, 0, 2, 2).await.unwrap();
    assert_eq!(order(&s, &kim, &id).await, ids(&["t1", "t2", "t0", "t3"]));
    s.move_tracks(&kim, &id, None, 3, 0, 1).await.unwrap();
    assert_eq!(order(&s, &kim, &id).await, ids(&["t3", "t1", "t2", "t0"]));
    let p = s.playlist(&kim, &id).await.unwrap();
    assert_eq!(
        (p.track_count, p.duration_ms, p.version),
        (4, 4 * 180_000, 8)
    );
    let (_, entries) = s.playlist_with_entries(&kim, &id, 0, 10).await.unwrap();
    assert_eq!(entries[0].added_by.username, "kim");
    assert_eq!(entries[0].track.title, "Song 3");
    // A page of entries.
    let (_, page) = s.playlist_with_entries(&kim, &id, 1, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.track.id.as_str()).collect::<Vec<_>>(),
        ["t1", "t2"]
    );
    assert_eq!(t.len(), 6);
}

async fn moves_match_a_reference_model(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    let t = tracks(&s, 12).await;
    let id = playlist(&s, &kim, "Shuffle", false).await;
    s.add_tracks(&kim, &id, None, t.clone(), None)
        .await
        .unwrap();
    let mut model = t.clone();
    let mut seed = 7u64;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for _ in 0..40 {
        let len = model.len() as u64;
        let count = 1 + next(4);
        let from = next(len - count + 1);
        let to = next(len - count + 1);
        s.move_tracks(&kim, &id, None, from as i64, to as i64, count as i64)
            .await
            .unwrap();
        let run: Vec<String> = model
            .drain(from as usize..(from + count) as usize)
            .collect();
        for (i, item) in run.into_iter().enumerate() {
            model.insert(to as usize + i, item);
        }
        assert_eq!(
            order(&s, &kim, &id).await,
            model,
            "move {count} from {from} to {to}"
        );
    }
}

async fn bad_edits_change_nothing(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    let t = tracks(&s, 3).await;
    let id = playlist(&s, &kim, "Safe", false).await;
    s.add_tracks(&kim, &id, None, t.clone(), None)
        .await
        .unwrap();
    let before = order(&s, &kim, &id).await;
    let v = version(&s, &kim, &id).await;

    let err = s
        .add_tracks(&kim, &id, None, ids(&["t0", "nope", "t1"]), None)
        .await
        .unwrap_err();
    assert!(matches!(err, PlaylistsError::UnknownTracks(ref u) if u == &ids(&["nope"])));
    assert!(matches!(
        s.add_tracks(&kim, &id, None, Vec::new(), None).await,
        Err(PlaylistsError::Invalid { .. })
    ));
    assert!(
        s.add_tracks(&kim, &id, None, ids(&["t0"]), Some(4))
            .await
            .is_err(),
        "past the end"
    );
    assert!(s
        .add_tracks(&kim, &id, None, ids(&["t0"]), Some(-1))
        .await
        .is_err());
    let huge: Vec<String> = (0..10_001).map(|_| "t0".to_string()).collect();
    assert!(s.add_tracks(&kim, &id, None, huge, None).await.is_err());
    assert!(
        s.remove_tracks(&kim, &id, None, vec![3]).await.is_err(),
        "out of range"
    );
    assert!(s.remove_tracks(&kim, &id, None, vec![-1]).await.is_err());
    assert!(
        s.remove_tracks(&kim, &id, None, vec![1, 1]).await.is_err(),
        "twice"
    );
    assert!(s.remove_tracks(&kim, &id, None, Vec::new()).await.is_err());
    assert!(
        s.move_tracks(&kim, &id, None, 0, 1, -1).await.is_err(),
        "negative count"
    );
    assert!(s.move_tracks(&kim, &id, None, 0, 1, 0).await.is_err());
    assert!(
        s.move_tracks(&kim, &id, None, 2, 0, 2).await.is_err(),
        "run past the end"
    );
    assert!(
        s.move_tracks(&kim, &id, None, 0, 2, 2).await.is_err(),
        "target past the end"
    );
    assert!(s.move_tracks(&kim, &id, None, -1, 0, 1).await.is_err());
    assert!(matches!(
        s.add_tracks(&kim, "no-such-playlist", None, ids(&["t0"]), None)
            .await,
        Err(PlaylistsError::NotFound(_))
    ));

    assert_eq!(order(&s, &kim, &id).await, before);
    assert_eq!(version(&s, &kim, &id).await, v);
}

async fn stale_versions_are_refused(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    let t = tracks(&s, 2).await;
    let id = playlist(&s, &kim, "Versioned", false).await;
    s.add_tracks(&kim, &id, Some(1), ids(&["t0"]), None)
        .await
        .unwrap();
    let err = s
        .add_tracks(&kim, &id, Some(1), ids(&["t1"]), None)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        PlaylistsError::VersionMismatch { current: 2 }
    ));
    assert!(matches!(
        s.delete_playlist(&kim, &id, Some(1)).await,
        Err(PlaylistsError::VersionMismatch { .. })
    ));
    // A value that is no version never matches.
    assert!(s.move_tracks(&kim, &id, Some(-1), 0, 0, 1).await.is_err());
    assert_eq!(order(&s, &kim, &id).await, ids(&["t0"]));
    assert_eq!(version(&s, &kim, &id).await, 2);
    s.add_tracks(&kim, &id, Some(2), vec![t[1].clone()], None)
        .await
        .unwrap();
    assert_eq!(version(&s, &kim, &id).await, 3);
}

async fn concurrent_edits_exactly_one_wins(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    tracks(&s, 4).await;
    let id = playlist(&s, &kim, "Race", false).await;
    for round in 0..5 {
        let v = version(&s, &kim, &id).await;
        let (a, b) = (s.clone(), s.clone());
        let (ka, kb) = (kim.clone(), kim.clone());
        let (ia, ib) = (id.clone(), id.clone());
        let one =
            tokio::spawn(async move { a.add_tracks(&ka, &ia, Some(v), ids(&["t1"]), None).await });
        let two = tokio::spawn(async move {
            b.add_tracks(&kb, &ib, Some(v), ids(&["t2", "t3"]), None)
                .await
        });
        let results = [one.await.unwrap(), two.await.unwrap()];
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {results:?}");
        assert!(results
            .iter()
            .any(|r| matches!(r, Err(PlaylistsError::VersionMismatch { .. }))));
        assert_eq!(version(&s, &kim, &id).await, v + 1);
    }
    // Without If-Match both apply, one after the other.
    let v = version(&s, &kim, &id).await;
    let count = s.playlist(&kim, &id).await.unwrap().track_count;
    let (a, b, ka, kb, ia, ib) = (
        s.clone(),
        s.clone(),
        kim.clone(),
        kim.clone(),
        id.clone(),
        id.clone(),
    );
    let one =
        tokio::spawn(async move { a.add_tracks(&ka, &ia, None, ids(&["t0"]), Some(0)).await });
    let two =
        tokio::spawn(async move { b.add_tracks(&kb, &ib, None, ids(&["t0"]), Some(0)).await });
    one.await.unwrap().unwrap();
    two.await.unwrap().unwrap();
    let p = s.playlist(&kim, &id).await.unwrap();
    assert_eq!((p.version, p.track_count), (v + 2, count + 2));
    order(&s, &kim, &id).await;
}

async fn collaborators_edit_tracks_but_not_the_playlist(db: Db) {
    let s = service(&db);
    let (kim, lee, max) = (
        user(&s, "kim").await,
        user(&s, "lee").await,
        user(&s, "max").await,
    );
    tracks(&s, 3).await;
    let id = playlist(&s, &kim, "Together", false).await;
    let p = s
        .add_collaborator(&kim, &id, None, &lee.user_id)
        .await
        .unwrap();
    assert!(p.collaborative);
    assert_eq!(p.collaborators[0].username, "lee");
    assert!(matches!(
        s.add_collaborator(&kim, &id, None, &lee.user_id).await,
        Err(PlaylistsError::Conflict("already_collaborator", _))
    ));
    assert!(matches!(
        s.add_collaborator(&kim, &id, None, &UserId("ghost".into()))
            .await,
        Err(PlaylistsError::NotFound("user"))
    ));
    assert!(s
        .add_collaborator(&kim, &id, None, &kim.user_id)
        .await
        .is_err());
    assert!(matches!(
        s.add_collaborator(&lee, &id, None, &max.user_id).await,
        Err(PlaylistsError::NotOwner(_))
    ));
    // The collaborator sees it, lists it, and edits its tracks.
    let page = PageQuery::default().page().unwrap();
    assert_eq!(
        s.my_playlists(&lee, false, &page)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    s.add_tracks(&lee, &id, None, ids(&["t0", "t1"]), None)
        .await
        .unwrap();
    s.add_tracks(&kim, &id, None, ids(&["t2"]), None)
        .await
        .unwrap();
    s.move_tracks(&lee, &id, None, 2, 0, 1).await.unwrap();
    s.remove_tracks(&lee, &id, None, vec![1]).await.unwrap();
    let (_, entries) = s.playlist_with_entries(&kim, &id, 0, 10).await.unwrap();
    let added_by: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.track.id.as_str(), e.added_by.username.as_str()))
        .collect();
    assert_eq!(added_by, [("t2", "kim"), ("t1", "lee")]);
    // ...but neither renames nor deletes it.
    let rename = PlaylistPatch {
        name: Some("Mine now".into()),
        ..Default::default()
    };
    assert!(matches!(
        s.update_playlist(&lee, &id, None, rename).await,
        Err(PlaylistsError::NotOwner(_))
    ));
    assert!(matches!(
        s.delete_playlist(&lee, &id, None).await,
        Err(PlaylistsError::NotOwner(_))
    ));
    // Someone else can do nothing with it.
    assert!(matches!(
        s.playlist(&max, &id).await,
        Err(PlaylistsError::NotFound(_))
    ));
    // A collaborator may leave.
    let p = s
        .remove_collaborator(&lee, &id, None, &lee.user_id)
        .await
        .unwrap();
    assert!(p.collaborators.is_empty());
    assert!(matches!(
        s.playlist(&lee, &id).await,
        Err(PlaylistsError::NotFound(_))
    ));
    assert!(matches!(
        s.remove_collaborator(&kim, &id, None, &lee.user_id).await,
        Err(PlaylistsError::NotFound("collaborator"))
    ));
}

async fn removed_tracks_show_unavailable_and_come_back(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    tracks(&s, 2).await;
    let id = playlist(&s, &kim, "Fragile", false).await;
    s.add_tracks(&kim, &id, None, ids(&["t0", "t1"]), None)
        .await
        .unwrap();
    s.like(&kim, "t0").await.unwrap();
    deliver(
        &s,
        &TrackRemoved {
            track_id: "t0".into(),
        },
    )
    .await;
    let (_, entries) = s.playlist_with_entries(&kim, &id, 0, 10).await.unwrap();
    assert!(!entries[0].track.available);
    assert_eq!(entries[0].track.title, "Song 0", "still shown, as it was");
    assert!(entries[1].track.available);
    let page = PageQuery::default().page().unwrap();
    assert!(!s.likes(&kim, &page).await.unwrap().items[0].track.available);
    // A removed track cannot be added again until it comes back.
    assert!(matches!(
        s.add_tracks(&kim, &id, None, ids(&["t0"]), None).await,
        Err(PlaylistsError::UnknownTracks(_))
    ));
    let back = summary(
        "t0",
        "Song 0 (remastered)",
        "Band",
        "Band/Album/00.mp3",
        181_000,
    );
    deliver(&s, &TrackUpdated { track: back }).await;
    let (p, entries) = s.playlist_with_entries(&kim, &id, 0, 10).await.unwrap();
    assert!(entries[0].track.available);
    assert_eq!(entries[0].track.title, "Song 0 (remastered)");
    assert_eq!(p.duration_ms, 181_000 + 180_000);
}

/// A directory that answers from a fixed list, standing in for a catalog in another process.
struct FixedDirectory(Vec<TrackSummary>);

#[async_trait::async_trait]
impl TrackDirectory for FixedDirectory {
    async fn tracks(&self, ids: &[String]) -> Result<Vec<TrackSummary>, String> {
        Ok(self
            .0
            .iter()
            .filter(|t| ids.contains(&t.track_id))
            .cloned()
            .collect())
    }

    async fn page(&self, after: &str, limit: u32) -> Result<Vec<TrackSummary>, String> {
        let mut all: Vec<TrackSummary> = self
            .0
            .iter()
            .filter(|t| t.track_id.as_str() > after)
            .cloned()
            .collect();
        all.sort_by(|a, b| a.track_id.cmp(&b.track_id));
        all.truncate(limit as usize);
        Ok(all)
    }
}

async fn tracks_not_heard_of_yet_are_asked_for(db: Db) {
    let known: Vec<TrackSummary> = (0..1203)
        .map(|i| {
            summary(
                &format!("d{i:04}"),
                &format!("Dir {i}"),
                "Dir",
                &format!("D/{i}.mp3"),
                200_000,
            )
        })
        .collect();
    let s = service_with(&db, Arc::new(FixedDirectory(known)));
    let kim = user(&s, "kim").await;
    let id = playlist(&s, &kim, "Fresh", false).await;
    s.add_tracks(&kim, &id, None, ids(&["d0001", "d0002"]), None)
        .await
        .unwrap();
    assert_eq!(order(&s, &kim, &id).await, ids(&["d0001", "d0002"]));
    assert!(s
        .add_tracks(&kim, &id, None, ids(&["x"]), None)
        .await
        .is_err());
    // The fill from the catalog runs once, even though the read model is not empty (two
    // tracks came in above), and keeps what events said later.
    deliver(
        &s,
        &TrackRemoved {
            track_id: "d0001".into(),
        },
    )
    .await;
    assert_eq!(s.backfill_tracks().await.unwrap(), 1203);
    assert_eq!(s.store().count_tracks().await.unwrap(), 1203);
    assert_eq!(s.backfill_tracks().await.unwrap(), 0, "done once");
    let (_, entries) = s.playlist_with_entries(&kim, &id, 0, 10).await.unwrap();
    assert!(entries[1].track.available, "the directory still has d0002");
}

async fn likes_are_idempotent_and_newest_first(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    tracks(&s, 5).await;
    for t in ["t0", "t1", "t2", "t3"] {
        s.like(&kim, t).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    s.like(&kim, "t1").await.unwrap();
    assert!(matches!(
        s.like(&kim, "nope").await,
        Err(PlaylistsError::NotFound("track"))
    ));
    s.unlike(&kim, "t2").await.unwrap();
    s.unlike(&kim, "t2").await.unwrap();
    s.unlike(&kim, "never-liked").await.unwrap();
    let first = PageQuery {
        limit: Some(2),
        cursor: None,
    }
    .page()
    .unwrap();
    let page = s.likes(&kim, &first).await.unwrap();
    let got: Vec<&str> = page.items.iter().map(|l| l.track.id.as_str()).collect();
    assert_eq!(got, ["t3", "t1"]);
    let second = PageQuery {
        limit: Some(2),
        cursor: page.next_cursor,
    }
    .page()
    .unwrap();
    let page = s.likes(&kim, &second).await.unwrap();
    assert_eq!(
        page.items
            .iter()
            .map(|l| l.track.id.as_str())
            .collect::<Vec<_>>(),
        ["t0"]
    );
    assert_eq!(page.next_cursor, None);
    let topics = outbox_topics(&db).await;
    assert_eq!(
        topics
            .iter()
            .filter(|t| *t == "library.track.liked")
            .count(),
        5,
        "4 likes and 1 unlike"
    );
}

async fn plays_and_skips(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    tracks(&s, 3).await;
    let report = |track: &str, played_ms: i64, started_at: Option<i64>| PlayReport {
        track_id: track.into(),
        played_ms,
        started_at: started_at.map(Timestamp::from_millis),
    };
    let now = Timestamp::now().millis();
    let full = s
        .record_play(&kim, report("t0", 180_000, Some(now - 600_000)))
        .await
        .unwrap();
    assert!(!full.skipped);
    let skip = s
        .record_play(&kim, report("t1", 10_000, Some(now - 300_000)))
        .await
        .unwrap();
    assert!(skip.skipped, "10 s of a three-minute track is a skip");
    s.record_play(&kim, report("t2", 90_000, None))
        .await
        .unwrap();
    assert!(s.record_play(&kim, report("t0", -1, None)).await.is_err());
    assert!(s
        .record_play(&kim, report("t0", 90_000, Some(now + 3_600_000)))
        .await
        .is_err());
    assert!(matches!(
        s.record_play(&kim, report("nope", 90_000, None)).await,
        Err(PlaylistsError::NotFound("track"))
    ));
    let page = PageQuery::default().page().unwrap();
    let history = s.history(&kim, HistoryFilter::Plays, &page).await.unwrap();
    assert_eq!(
        history
            .items
            .iter()
            .map(|p| p.track.id.as_str())
            .collect::<Vec<_>>(),
        ["t2", "t0"]
    );
    let all = s
        .history(&kim, HistoryFilter::PlaysAndSkips, &page)
        .await
        .unwrap();
    assert_eq!(
        all.items
            .iter()
            .map(|p| p.track.id.as_str())
            .collect::<Vec<_>>(),
        ["t2", "t1", "t0"]
    );
    let lee = user(&s, "lee").await;
    assert!(s
        .history(&lee, HistoryFilter::Plays, &page)
        .await
        .unwrap()
        .items
        .is_empty());
    let played = outbox_topics(&db)
        .await
        .iter()
        .filter(|t| *t == "library.track.played")
        .count();
    assert_eq!(played, 3, "skips are published too, marked as such");
}

async fn m3u_import_matches_by_path_and_by_name(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    deliver(
        &s,
        &TrackAdded {
            track: summary(
                "a",
                "One More Time",
                "Daft Punk",
                "Daft Punk/Discovery/01 One More Time.mp3",
                320_000,
            ),
        },
    )
    .await;
    deliver(
        &s,
        &TrackAdded {
            track: summary(
                "b",
                "Jóga",
                "Björk",
                "Björk/Homogenic/02 Jóga.flac",
                305_000,
            ),
        },
    )
    .await;
    deliver(
        &s,
        &TrackAdded {
            track: summary("c", "Intro", "Other", "Other/A/01 Intro.mp3", 60_000),
        },
    )
    .await;
    deliver(
        &s,
        &TrackAdded {
            track: summary("d", "Intro", "Band", "Band/B/01 Intro.mp3", 60_000),
        },
    )
    .await;
    let text = "#EXTM3U\n#PLAYLIST:Imported mix\n\
        #EXTINF:320,Daft Punk - One More Time\n/home/kim/Music/Daft Punk/Discovery/01 One More Time.mp3\n\
        #EXTINF:305,Bjork - Joga\nD:\\old\\somewhere\\joga.flac\n\
        C:\\Music\\Band\\B\\01 Intro.mp3\n\
        #EXTINF:100,Nobody - Nothing\n/music/missing.mp3\n\
        https://radio.example.com/stream\n";
    let import = s.import_m3u(&kim, text, None).await.unwrap();
    assert_eq!(import.playlist.name, "Imported mix");
    assert_eq!(import.matched, 3);
    assert_eq!(
        import.unmatched,
        vec![
            (9, "/music/missing.mp3".to_string()),
            (10, "https://radio.example.com/stream".to_string())
        ]
    );
    assert_eq!(
        order(&s, &kim, &import.playlist.id).await,
        ids(&["a", "b", "d"])
    );
    // Export and import again: the same tracks.
    let (_, exported) = s.export_m3u(&kim, &import.playlist.id).await.unwrap();
    assert!(exported.starts_with("#EXTM3U\n#PLAYLIST:Imported mix\n#EXTINF:320,Daft Punk - One More Time\nDaft Punk/Discovery/01 One More Time.mp3\n"));
    let again = s
        .import_m3u(&kim, &exported, Some("Copy".into()))
        .await
        .unwrap();
    assert_eq!(again.playlist.name, "Copy");
    assert_eq!(
        order(&s, &kim, &again.playlist.id).await,
        ids(&["a", "b", "d"])
    );
    assert!(matches!(
        s.import_m3u(&kim, "#EXTM3U\n", None).await,
        Err(PlaylistsError::Invalid { .. })
    ));
}

async fn large_playlists_stay_consistent(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    let t = tracks(&s, 10).await;
    let id = playlist(&s, &kim, "Huge", false).await;
    let many: Vec<String> = (0..10_000).map(|i| t[i % 10].clone()).collect();
    s.add_tracks(&kim, &id, None, many.clone(), None)
        .await
        .unwrap();
    s.add_tracks(&kim, &id, None, ids(&["t9"]), Some(0))
        .await
        .unwrap();
    s.move_tracks(&kim, &id, None, 0, 10_000, 1).await.unwrap();
    s.remove_tracks(&kim, &id, None, (0..5000).map(|i| i * 2).collect())
        .await
        .unwrap();
    let mut model = many;
    model.push("t9".into());
    let model: Vec<String> = model
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1 || *i >= 10_000)
        .map(|(_, t)| t)
        .collect();
    assert_eq!(order(&s, &kim, &id).await, model);
}

async fn concurrent_appends_each_apply_once_in_order(db: Db) {
    let s = service(&db);
    let (kim, lee) = (user(&s, "kim").await, user(&s, "lee").await);
    let t = tracks(&s, 8).await;
    let id = playlist(&s, &kim, "Busy", false).await;
    s.add_collaborator(&kim, &id, None, &lee.user_id)
        .await
        .unwrap();
    let start = version(&s, &kim, &id).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (s, id, track) = (s.clone(), id.clone(), t[i % 8].clone());
        let caller = if i % 2 == 0 { kim.clone() } else { lee.clone() };
        // Every fifth asks for the version before any of them: at most one of those can win.
        let if_match = (i % 5 == 0).then_some(start);
        tasks.push(tokio::spawn(async move {
            s.add_tracks(&caller, &id, if_match, vec![track.clone(), track], None)
                .await
        }));
    }
    let mut versions = Vec::new();
    let mut stale = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(v) => versions.push(v),
            Err(PlaylistsError::VersionMismatch { .. }) => stale += 1,
            Err(e) => panic!("{e}"),
        }
    }
    versions.sort_unstable();
    let applied = versions.len() as i64;
    assert!(
        stale >= 7,
        "8 asked for the starting version: {stale} refused"
    );
    assert_eq!(
        versions,
        (start + 1..=start + applied).collect::<Vec<_>>(),
        "one version each"
    );
    let entries = order(&s, &kim, &id).await;
    assert_eq!(entries.len() as i64, applied * 2);
    // Each append's two tracks stay together.
    for pair in entries.chunks(2) {
        assert_eq!(pair[0], pair[1]);
    }
    let p = s.playlist(&kim, &id).await.unwrap();
    assert_eq!(
        (p.version, p.duration_ms),
        (start + applied, applied * 2 * 180_000)
    );
    let changes = outbox_topics(&db)
        .await
        .iter()
        .filter(|t| *t == "playlists.playlist.changed")
        .count() as i64;
    assert_eq!(
        changes,
        2 + applied,
        "created, collaborator, then one per append"
    );
    // A stranger's append to a private playlist is refused, alone.
    let max = user(&s, "max").await;
    assert!(matches!(
        s.add_tracks(&max, &id, None, vec![t[0].clone()], None)
            .await,
        Err(PlaylistsError::NotFound(_))
    ));
}

/// Appends to several playlists at once share transactions: each playlist gets its own
/// versions and entries, and an append refused (another's private playlist, a deleted one)
/// changes nothing for the others.
async fn concurrent_appends_to_several_playlists(db: Db) {
    let s = service(&db);
    let (kim, lee) = (user(&s, "kim").await, user(&s, "lee").await);
    let t = tracks(&s, 4).await;
    let kims = [
        playlist(&s, &kim, "One", false).await,
        playlist(&s, &kim, "Two", true).await,
    ];
    let lees = playlist(&s, &lee, "Three", false).await;
    let gone = playlist(&s, &kim, "Gone", true).await;
    s.delete_playlist(&kim, &gone, None).await.unwrap();
    let mut before = std::collections::HashMap::new();
    for (owner, id) in [(&kim, &kims[0]), (&kim, &kims[1]), (&lee, &lees)] {
        before.insert(id.clone(), version(&s, owner, id).await);
    }
    let mut tasks = Vec::new();
    for i in 0..60 {
        let s = s.clone();
        let track = t[i % 4].clone();
        let (caller, id) = match i % 5 {
            0 | 1 => (kim.clone(), kims[i % 2].clone()),
            2 => (lee.clone(), lees.clone()),
            // Lee's appends to Kim's playlists: the private one is not found, the public one
            // is Kim's to edit.
            3 => (lee.clone(), kims[i % 2].clone()),
            _ => (kim.clone(), gone.clone()),
        };
        tasks.push(tokio::spawn(async move {
            let result = s
                .add_tracks(&caller, &id, None, vec![track.clone()], None)
                .await;
            (i, id, track, result)
        }));
    }
    let mut added: std::collections::HashMap<String, Vec<String>> = Default::default();
    for task in tasks {
        let (i, id, track, result) = task.await.unwrap();
        match i % 5 {
            0..=2 => {
                assert!(result.is_ok(), "append {i}: {result:?}");
                added.entry(id).or_default().push(track);
            }
            3 if i % 2 == 0 => assert!(
                matches!(result, Err(PlaylistsError::NotFound(_))),
                "append {i} to a private playlist of another: {result:?}"
            ),
            3 => assert!(
                matches!(result, Err(PlaylistsError::CannotEdit)),
                "append {i} to a public playlist of another: {result:?}"
            ),
            _ => assert!(
                matches!(result, Err(PlaylistsError::NotFound(_))),
                "append {i} to a deleted playlist: {result:?}"
            ),
        }
    }
    for (owner, id) in [(&kim, &kims[0]), (&kim, &kims[1]), (&lee, &lees)] {
        let p = s.playlist(owner, id).await.unwrap();
        assert_eq!(
            (p.track_count, p.version),
            (12, before[id] + 12),
            "{}",
            p.name
        );
        let mut entries = order(&s, owner, id).await;
        entries.sort();
        let mut expected = added.remove(id).unwrap_or_default();
        expected.sort();
        assert_eq!(entries, expected, "{}", p.name);
    }
}

async fn late_events_do_not_undo_newer_ones(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    tracks(&s, 1).await;
    let id = playlist(&s, &kim, "Order", false).await;
    s.add_tracks(&kim, &id, None, ids(&["t0"]), None)
        .await
        .unwrap();
    // The catalog removed the track, then brought it back; the removal arrives last.
    let removed = Envelope::new(&TrackRemoved {
        track_id: "t0".into(),
    })
    .unwrap();
    let back = summary("t0", "Song 0", "Band", "Band/Album/00 Song 0.mp3", 180_000);
    let updated = Envelope::new(&TrackUpdated { track: back }).unwrap();
    s.apply_event(&updated).await.unwrap();
    s.apply_event(&removed).await.unwrap();
    let (_, entries) = s.playlist_with_entries(&kim, &id, 0, 10).await.unwrap();
    assert!(entries[0].track.available);
}

async fn a_batch_of_events_applies_in_order_and_once(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    tracks(&s, 2).await;
    let id = playlist(&s, &kim, "Batch", false).await;
    s.add_tracks(&kim, &id, None, ids(&["t0", "t1"]), None)
        .await
        .unwrap();
    let renamed = summary("t0", "Renamed", "Band", "Band/Album/00 Song 0.mp3", 1_000);
    let updated = Envelope::new(&TrackUpdated { track: renamed }).unwrap();
    let removed = Envelope::new(&TrackRemoved {
        track_id: "t1".into(),
    })
    .unwrap();
    // One batch: an update, a removal, and the update again (a redelivery).
    s.apply_events(&[updated.clone(), removed, updated])
        .await
        .unwrap();
    let (playlist, entries) = s.playlist_with_entries(&kim, &id, 0, 10).await.unwrap();
    assert_eq!(entries[0].track.title, "Renamed");
    assert!(entries[0].track.available);
    assert!(!entries[1].track.available, "the removal applied");
    assert_eq!(playlist.track_count, 2, "an unavailable track stays listed");
}

async fn ids_that_name_nothing_are_not_found(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    tracks(&s, 1).await;
    let id = playlist(&s, &kim, "Plain", false).await;
    // A NUL byte (PostgreSQL refuses it in text) or an absurd id: a clear answer, not a 503.
    assert!(matches!(
        s.add_tracks(&kim, &id, None, ids(&["t\u{0}0", "t0"]), None).await,
        Err(PlaylistsError::UnknownTracks(ref u)) if u.len() == 1
    ));
    assert!(matches!(
        s.like(&kim, "t\u{0}").await,
        Err(PlaylistsError::NotFound("track"))
    ));
    let report = PlayReport {
        track_id: "x".repeat(500),
        played_ms: 1,
        started_at: None,
    };
    assert!(matches!(
        s.record_play(&kim, report).await,
        Err(PlaylistsError::NotFound("track"))
    ));
    let m3u = "#EXTM3U\n/music/a\u{0}b.mp3\n";
    assert!(
        s.import_m3u(&kim, m3u, None).await.is_err(),
        "no usable entries"
    );
}

async fn a_collaborator_may_leave_even_when_editing_is_off(db: Db) {
    let s = service(&db);
    let (kim, lee) = (user(&s, "kim").await, user(&s, "lee").await);
    let id = playlist(&s, &kim, "Closed", false).await;
    s.add_collaborator(&kim, &id, None, &lee.user_id)
        .await
        .unwrap();
    let off = PlaylistPatch {
        collaborative: Some(false),
        ..Default::default()
    };
    s.update_playlist(&kim, &id, None, off).await.unwrap();
    let p = s
        .remove_collaborator(&lee, &id, None, &lee.user_id)
        .await
        .unwrap();
    assert!(p.collaborators.is_empty());
}

async fn albums_and_artists_are_liked_and_everything_rated(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    let lee = user(&s, "lee").await;
    tracks(&s, 2).await;
    // The read model knows album-1 ("Album") and artist-Band ("Band") from the tracks.
    s.like_item(&kim, MarkKind::Album, "album-1").await.unwrap();
    s.like_item(&kim, MarkKind::Album, "album-1").await.unwrap();
    s.like_item(&kim, MarkKind::Artist, "artist-Band")
        .await
        .unwrap();
    for (kind, id) in [
        (MarkKind::Album, "album-2"),
        (MarkKind::Artist, "artist-Nobody"),
        (MarkKind::Artist, "artist-%"),
        (MarkKind::Album, ""),
    ] {
        assert!(
            matches!(
                s.like_item(&kim, kind, id).await,
                Err(PlaylistsError::NotFound(_))
            ),
            "{id}"
        );
    }
    let page = PageQuery {
        limit: None,
        cursor: None,
    }
    .page()
    .unwrap();
    let albums = s.item_likes(&kim, MarkKind::Album, &page).await.unwrap();
    assert_eq!(
        albums
            .items
            .iter()
            .map(|l| (l.id.as_str(), l.name.as_str()))
            .collect::<Vec<_>>(),
        [("album-1", "Album")]
    );
    let artists = s.item_likes(&kim, MarkKind::Artist, &page).await.unwrap();
    assert_eq!(artists.items[0].name, "Band");
    assert!(
        s.item_likes(&lee, MarkKind::Album, &page)
            .await
            .unwrap()
            .items
            .is_empty(),
        "each their own"
    );
    s.unlike_item(&kim, MarkKind::Album, "album-1")
        .await
        .unwrap();
    s.unlike_item(&kim, MarkKind::Album, "album-1")
        .await
        .unwrap();
    assert!(s
        .item_likes(&kim, MarkKind::Album, &page)
        .await
        .unwrap()
        .items
        .is_empty());

    // Ratings: 1 to 5, 0 clears, anything else changes nothing.
    s.rate(&kim, MarkKind::Track, "t0", 4).await.unwrap();
    s.rate(&kim, MarkKind::Track, "t1", 5).await.unwrap();
    s.rate(&kim, MarkKind::Album, "album-1", 3).await.unwrap();
    s.rate(&kim, MarkKind::Track, "t0", 2).await.unwrap();
    for bad in [-1, 6] {
        assert!(matches!(
            s.rate(&kim, MarkKind::Track, "t1", bad).await,
            Err(PlaylistsError::Invalid { .. })
        ));
    }
    assert!(matches!(
        s.rate(&kim, MarkKind::Track, "nope", 3).await,
        Err(PlaylistsError::NotFound(_))
    ));
    let rated = s.ratings(&kim, MarkKind::Track).await.unwrap();
    assert_eq!(
        rated
            .iter()
            .map(|r| (r.id.as_str(), r.rating))
            .collect::<Vec<_>>(),
        [("t1", 5), ("t0", 2)],
        "highest first"
    );
    s.rate(&kim, MarkKind::Track, "t1", 0).await.unwrap();
    assert_eq!(s.ratings(&kim, MarkKind::Track).await.unwrap().len(), 1);
    assert_eq!(s.ratings(&kim, MarkKind::Album).await.unwrap()[0].rating, 3);
    assert!(s.ratings(&lee, MarkKind::Track).await.unwrap().is_empty());

    // Marks of a set of ids, whatever their kind, in one question.
    s.like(&kim, "t0").await.unwrap();
    s.like_item(&kim, MarkKind::Artist, "artist-Band")
        .await
        .unwrap();
    let ids: Vec<String> = ["t0", "t1", "album-1", "artist-Band", "nope"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let marks = s.marks_of(&kim, &ids).await.unwrap();
    let mut liked: Vec<&str> = marks.liked.keys().map(String::as_str).collect();
    liked.sort_unstable();
    assert_eq!(liked, ["artist-Band", "t0"]);
    assert_eq!(marks.ratings.get("t0"), Some(&2));
    assert_eq!(marks.ratings.get("album-1"), Some(&3));
    assert!(
        s.marks_of(&lee, &ids).await.unwrap().liked.is_empty(),
        "each their own"
    );
    let too_many: Vec<String> = (0..501).map(|n| n.to_string()).collect();
    assert!(matches!(
        s.marks_of(&kim, &too_many).await,
        Err(PlaylistsError::Invalid { .. })
    ));
}

async fn players_report_what_plays_now(db: Db) {
    let s = service(&db);
    let kim = user(&s, "kim").await;
    let lee = user(&s, "lee").await;
    tracks(&s, 3).await;
    s.report_now_playing(&kim, "t0", "DSub").await.unwrap();
    s.report_now_playing(&kim, "t1", "DSub").await.unwrap();
    s.report_now_playing(&kim, "t2", "Feishin").await.unwrap();
    s.report_now_playing(&lee, "t0", "DSub").await.unwrap();
    assert!(matches!(
        s.report_now_playing(&kim, "nope", "DSub").await,
        Err(PlaylistsError::NotFound("track"))
    ));
    assert!(matches!(
        s.report_now_playing(&kim, "t0", " ").await,
        Err(PlaylistsError::Invalid { .. })
    ));
    let now = s.now_playing().await.unwrap();
    let mut seen: Vec<(String, String, String)> = now
        .iter()
        .map(|n| (n.username.clone(), n.player.clone(), n.track.id.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("kim".into(), "DSub".into(), "t1".into()),
            ("kim".into(), "Feishin".into(), "t2".into()),
            ("lee".into(), "DSub".into(), "t0".into()),
        ],
        "one entry per listener and player, the latest"
    );
    // Fifteen minutes on, a report is gone.
    sqlx::query("UPDATE now_playing SET since = since - 16 * 60 * 1000 WHERE player = 'Feishin'")
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(s.now_playing().await.unwrap().len(), 2);
}

backend_tests!("playlists", &MIGRATIONS;
    players_report_what_plays_now,
    albums_and_artists_are_liked_and_everything_rated,
    create_rename_and_delete,
    bad_names_are_refused,
    privacy_and_ownership,
    add_insert_remove_and_move,
    moves_match_a_reference_model,
    bad_edits_change_nothing,
    stale_versions_are_refused,
    concurrent_edits_exactly_one_wins,
    concurrent_appends_each_apply_once_in_order,
    concurrent_appends_to_several_playlists,
    collaborators_edit_tracks_but_not_the_playlist,
    removed_tracks_show_unavailable_and_come_back,
    late_events_do_not_undo_newer_ones,
    a_batch_of_events_applies_in_order_and_once,
    ids_that_name_nothing_are_not_found,
    a_collaborator_may_leave_even_when_editing_is_off,
    tracks_not_heard_of_yet_are_asked_for,
    likes_are_idempotent_and_newest_first,
    plays_and_skips,
    m3u_import_matches_by_path_and_by_name,
    large_playlists_stay_consistent,
);
