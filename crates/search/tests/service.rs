//! The search service against both SQL backends, fed by events as in production: matching as
//! you type, typos, folding, ranking, filters, playlist visibility, catalog changes, and
//! rebuilding the index.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use beatstream_core::{Timestamp, UserId};
use beatstream_db::{backend_tests, Db};
use beatstream_events::catalog::{TrackRemoved, TrackSummary, TrackUpdated};
use beatstream_events::directory::TrackDirectory;
use beatstream_events::library::TrackPlayed;
use beatstream_events::playlists::{PlaylistChanged, PlaylistDeleted};
use beatstream_events::Envelope;
use beatstream_search::schema::{Kind, SCHEMA_VERSION};
use beatstream_search::{SearchError, MIGRATIONS};
use support::*;

async fn beatles(search: &Search) {
    for (id, title, album, year) in [
        ("b1", "Yesterday", "Help!", 1965),
        ("b2", "Let It Be", "Let It Be", 1970),
        ("b3", "Come Together", "Abbey Road", 1969),
        ("b4", "Something", "Abbey Road", 1969),
        ("b5", "Help!", "Help!", 1965),
    ] {
        add(
            search,
            TrackSpec {
                id,
                title,
                artists: &["The Beatles"],
                album,
                genres: &["Rock", "Pop"],
                year: Some(year),
                ..TrackSpec::default()
            },
        )
        .await;
    }
}

async fn matches_words_as_you_type(db: Db) {
    let search = open(&db).await;
    beatles(&search).await;
    add(
        &search,
        TrackSpec {
            id: "x1",
            title: "Beat It",
            artists: &["Michael Jackson"],
            album: "Thriller",
            ..TrackSpec::default()
        },
    )
    .await;
    search.index().await;

    // The last word is a prefix while typing...
    assert_eq!(
        search.first("beat", Kind::Artist).as_deref(),
        Some("The Beatles")
    );
    assert_eq!(
        search.first("let it b", Kind::Track).as_deref(),
        Some("Let It Be")
    );
    assert_eq!(
        search.first("abbey ro", Kind::Album).as_deref(),
        Some("Abbey Road")
    );
    // ...the words before it are whole words, found in the title or the artist or album.
    assert_eq!(
        search.first("beatles yester", Kind::Track).as_deref(),
        Some("Yesterday")
    );
    assert!(search.names("let i be", Kind::Track).is_empty());
    // A word followed by a space is complete: "beat " is not "Beatles".
    assert_eq!(search.names("beat ", Kind::Track), ["Beat It"]);
    // Prefix matches rank below whole-word matches: "beat" is a word of "Beat It".
    assert_eq!(
        search.first("beat", Kind::Track).as_deref(),
        Some("Beat It")
    );
    assert_eq!(search.names("beat", Kind::Track).len(), 6);
}

async fn forgives_typos_by_word_length(db: Db) {
    let search = open(&db).await;
    beatles(&search).await;
    add(
        &search,
        TrackSpec {
            id: "m1",
            title: "Enter Sandman",
            artists: &["Metallica"],
            album: "Metallica",
            ..TrackSpec::default()
        },
    )
    .await;
    search.index().await;

    // One edit in words of 4 to 7 letters: a swap, a missing, an extra, a wrong letter.
    assert_eq!(
        search.first("beatels", Kind::Artist).as_deref(),
        Some("The Beatles")
    );
    assert_eq!(
        search.first("somthing", Kind::Track).as_deref(),
        Some("Something")
    );
    assert_eq!(
        search.first("togetherr ", Kind::Track).as_deref(),
        Some("Come Together")
    );
    assert_eq!(
        search.first("entr sandman", Kind::Track).as_deref(),
        Some("Enter Sandman")
    );
    // Two edits in words of 8 or more.
    assert_eq!(
        search.first("metalicca", Kind::Artist).as_deref(),
        Some("Metallica")
    );
    assert_eq!(
        search.first("yesturdai ", Kind::Track).as_deref(),
        Some("Yesterday")
    );
    // Not three, and none in short words.
    assert!(search.names("yastrdae ", Kind::Track).is_empty());
    assert!(search.names("hlp ", Kind::Track).is_empty());
    // A typo in a word still being typed.
    assert_eq!(
        search.first("metallca ent", Kind::Track).as_deref(),
        Some("Enter Sandman")
    );

    // Lookalikes found for a misspelling are remembered only until the index changes: a new
    // entry nearer to it is found at once.
    assert!(search.names("sandmne ", Kind::Track).is_empty());
    add(
        &search,
        TrackSpec {
            id: "m2",
            title: "Sandmen of the Desert",
            artists: &["Kyuss"],
            album: "Blues for the Red Sun",
            ..TrackSpec::default()
        },
    )
    .await;
    search.index().await;
    assert_eq!(
        search.first("sandmne ", Kind::Track).as_deref(),
        Some("Sandmen of the Desert")
    );
}

async fn folds_case_diacritics_and_finds_other_scripts(db: Db) {
    let search = open(&db).await;
    for (id, title, artist, album) in [
        ("i1", "Jóga", "Björk", "Homogenic"),
        ("i2", "Hoppípolla", "Sigur Rós", "Takk..."),
        ("i3", "Ace of Spades", "Motörhead", "Ace of Spades"),
        (
            "i4",
            "Звезда по имени Солнце",
            "Кино",
            "Звезда по имени Солнце",
        ),
        ("i5", "First Love", "宇多田ヒカル", "First Love"),
        ("i6", "群青", "YOASOBI", "群青"),
        ("i7", "봄날", "BTS", "You Never Walk Alone"),
    ] {
        add(
            &search,
            TrackSpec {
                id,
                title,
                artists: &[artist],
                album,
                ..TrackSpec::default()
            },
        )
        .await;
    }
    search.index().await;

    assert_eq!(
        search.first("bjork", Kind::Artist).as_deref(),
        Some("Björk")
    );
    assert_eq!(
        search.first("BJÖRK joga", Kind::Track).as_deref(),
        Some("Jóga")
    );
    assert_eq!(
        search.first("sigur ros", Kind::Artist).as_deref(),
        Some("Sigur Rós")
    );
    assert_eq!(
        search.first("hoppipolla", Kind::Track).as_deref(),
        Some("Hoppípolla")
    );
    assert_eq!(
        search.first("motorhead", Kind::Artist).as_deref(),
        Some("Motörhead")
    );
    assert_eq!(search.first("кино", Kind::Artist).as_deref(), Some("Кино"));
    assert_eq!(
        search.first("звезда по", Kind::Track).as_deref(),
        Some("Звезда по имени Солнце")
    );
    // A typo in Cyrillic, too.
    assert_eq!(
        search.first("звизда ", Kind::Track).as_deref(),
        Some("Звезда по имени Солнце")
    );
    assert_eq!(
        search.first("宇多田", Kind::Artist).as_deref(),
        Some("宇多田ヒカル")
    );
    assert_eq!(search.first("群青", Kind::Track).as_deref(), Some("群青"));
    assert_eq!(search.first("봄날", Kind::Track).as_deref(), Some("봄날"));
    assert_eq!(
        search.first("ヒカル first", Kind::Track).as_deref(),
        Some("First Love")
    );
}

async fn ranks_exact_over_prefix_over_typo_then_plays(db: Db) {
    let search = open(&db).await;
    beatles(&search).await;
    for (id, title, artist) in [
        ("r1", "Yesterdays", "Guns N' Roses"),
        ("r2", "Yesterday", "Ray Charles"),
        ("r3", "Yesterday Once More", "Carpenters"),
        ("r4", "Radiohead", "Some Covers Band"),
        ("r5", "Creep", "Radiohead"),
        ("r6", "Karma Police", "Radiohead"),
    ] {
        add(
            &search,
            TrackSpec {
                id,
                title,
                artists: &[artist],
                album: "Various",
                ..TrackSpec::default()
            },
        )
        .await;
    }
    // The Beatles' Yesterday is played more than Ray Charles'.
    for i in 0..3 {
        deliver(&search, &played(&format!("p{i}"), "b1", false)).await;
    }
    deliver(&search, &played("p9", "r2", false)).await;
    // Skips do not count.
    for i in 0..5 {
        deliver(&search, &played(&format!("s{i}"), "r2", true)).await;
    }
    search.index().await;

    let yesterday = search.find("yesterday", Kind::Track);
    let shown: Vec<(String, String)> = yesterday
        .iter()
        .map(|t| {
            (
                name_of(t),
                t["artists"][0]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        shown[..2],
        [
            ("Yesterday".to_string(), "The Beatles".to_string()),
            ("Yesterday".to_string(), "Ray Charles".to_string())
        ],
        "a whole-title match first, the more played first: {shown:?}"
    );
    assert_eq!(shown[2].0, "Yesterday Once More", "{shown:?}");
    assert_eq!(shown[3].0, "Yesterdays", "the prefix match last: {shown:?}");

    // For an artist's name the artist is the top hit, not its tracks nor a song named so.
    let results = search.service.search("radiohead", &[], 10, "u").unwrap();
    let top = results.top().unwrap();
    assert_eq!(top.kind, Kind::Artist);
    assert!(top.body.contains("\"Radiohead\""));
    // Among tracks, the song called "Radiohead" comes before Radiohead's songs.
    assert_eq!(
        search.first("radiohead", Kind::Track).as_deref(),
        Some("Radiohead")
    );
}

fn played(play_id: &str, track_id: &str, skipped: bool) -> TrackPlayed {
    TrackPlayed {
        play_id: play_id.into(),
        user_id: UserId("listener".into()),
        track_id: track_id.into(),
        played_ms: if skipped { 5_000 } else { 200_000 },
        played_at: Timestamp::now(),
        skipped,
    }
}

async fn filters_by_field(db: Db) {
    let search = open(&db).await;
    beatles(&search).await;
    add(
        &search,
        TrackSpec {
            id: "q1",
            title: "Help Me",
            artists: &["Joni Mitchell"],
            album: "Court and Spark",
            genres: &["Folk"],
            year: Some(1974),
            ..TrackSpec::default()
        },
    )
    .await;
    search.index().await;

    assert_eq!(
        search.names("help artist:beatles", Kind::Track),
        ["Help!", "Yesterday"]
    );
    assert_eq!(
        search.names("help artist:\"joni mitchell\"", Kind::Track),
        ["Help Me"]
    );
    assert_eq!(search.names("help genre:folk", Kind::Track), ["Help Me"]);
    assert_eq!(
        search.names("help year:1970..1979", Kind::Track),
        ["Help Me"]
    );
    let mut sixties = search.names("year:..1969", Kind::Track);
    sixties.sort();
    assert_eq!(
        sixties,
        ["Come Together", "Help!", "Something", "Yesterday"]
    );
    // Typos are looked for only when nothing matches as typed ("some" is one from "come").
    assert_eq!(
        search.names("album:\"abbey road\" some", Kind::Track),
        ["Something"]
    );
    assert_eq!(search.names("artist:beatles", Kind::Album).len(), 3);
    // A filter with a typo still finds, once nothing else does.
    assert_eq!(
        search.names("artist:beatels yesterday", Kind::Track),
        ["Yesterday"]
    );
    // Playlists have no artist: a filter leaves them out.
    assert!(search.names("artist:beatles", Kind::Playlist).is_empty());
}

fn playlist(
    id: &str,
    name: &str,
    owner: &str,
    public: bool,
    collaborators: &[&str],
) -> PlaylistChanged {
    PlaylistChanged {
        playlist_id: id.into(),
        version: 1,
        name: name.into(),
        description: "songs for the road".into(),
        owner_id: UserId(owner.into()),
        owner_username: owner.into(),
        public,
        collaborative: !collaborators.is_empty(),
        collaborators: collaborators
            .iter()
            .map(|c| UserId(c.to_string()))
            .collect(),
        track_count: 3,
        duration_ms: 600_000,
        changed_by: UserId(owner.into()),
        changed_at: Timestamp::now(),
        added_track_ids: Vec::new(),
        removed_track_ids: Vec::new(),
    }
}

async fn playlists_are_found_by_who_may_see_them(db: Db) {
    let search = open(&db).await;
    deliver(
        &search,
        &playlist("pl1", "Summer Drive", "alice", true, &[]),
    )
    .await;
    deliver(
        &search,
        &playlist("pl2", "Summer Secrets", "alice", false, &["bob"]),
    )
    .await;
    search.index().await;

    assert_eq!(search.find_as("summer", Kind::Playlist, "carol").len(), 1);
    let mut for_bob = names(&search.find_as("summer", Kind::Playlist, "bob"));
    for_bob.sort();
    assert_eq!(for_bob, ["Summer Drive", "Summer Secrets"]);
    assert_eq!(search.find_as("summer", Kind::Playlist, "alice").len(), 2);
    let found = &search.find_as("secrets", Kind::Playlist, "alice")[0];
    assert_eq!(found["owner"]["username"], "alice");
    assert_eq!(found["track_count"], 3);
    assert_eq!(found["duration_ms"], 600_000);

    // Renamed (a later version), then made private, then deleted.
    let mut renamed = playlist("pl1", "Winter Drive", "alice", true, &[]);
    renamed.version = 2;
    deliver(&search, &renamed).await;
    // An older version arriving late changes nothing.
    deliver(
        &search,
        &playlist("pl1", "Summer Drive", "alice", true, &[]),
    )
    .await;
    search.index().await;
    assert_eq!(search.find_as("winter", Kind::Playlist, "carol").len(), 1);
    assert!(search.find_as("summer", Kind::Playlist, "carol").is_empty());
    renamed.version = 3;
    renamed.public = false;
    deliver(&search, &renamed).await;
    search.index().await;
    assert!(search.find_as("winter", Kind::Playlist, "carol").is_empty());
    assert_eq!(search.find_as("winter", Kind::Playlist, "alice").len(), 1);
    deliver(
        &search,
        &PlaylistDeleted {
            playlist_id: "pl1".into(),
            owner_id: UserId("alice".into()),
            members: Vec::new(),
            deleted_at: Timestamp::now(),
        },
    )
    .await;
    search.index().await;
    assert!(search.find_as("winter", Kind::Playlist, "alice").is_empty());
}

/// Playlist changes of one batch are recorded together, each playlist's newest only; a
/// deletion in between still wins over the changes after it.
async fn a_batch_of_playlist_changes_keeps_the_newest(db: Db) {
    let search = open(&db).await;
    let version = |id: &str, name: &str, version: i64| {
        let mut change = playlist(id, name, "alice", true, &[]);
        change.version = version;
        Envelope::new(&change).unwrap()
    };
    let batch = [
        version("pl1", "Morning Run", 1),
        version("pl2", "Evening Walk", 1),
        version("pl1", "Noon Run", 2),
        version("pl1", "Night Run", 3),
        // Older than the one before it in the batch: changes nothing.
        version("pl1", "Dawn Run", 2),
        Envelope::new(&PlaylistDeleted {
            playlist_id: "pl2".into(),
            owner_id: UserId("alice".into()),
            members: Vec::new(),
            deleted_at: Timestamp::now(),
        })
        .unwrap(),
        // A change after the deletion (a late event) does not bring it back.
        version("pl2", "Evening Stroll", 2),
    ];
    search.service.apply_events(&batch).await.unwrap();
    search.service.apply_events(&batch).await.unwrap();
    search.index().await;
    assert_eq!(
        names(&search.find_as("run", Kind::Playlist, "carol")),
        ["Night Run"]
    );
    assert!(search
        .find_as("evening", Kind::Playlist, "alice")
        .is_empty());
}

async fn follows_catalog_changes(db: Db) {
    let search = open(&db).await;
    beatles(&search).await;
    search.index().await;
    let album = &search.find("abbey road", Kind::Album)[0];
    assert_eq!(album["track_count"], 2);
    assert_eq!(album["artists"][0]["name"], "The Beatles");
    let artist = &search.find("beatles", Kind::Artist)[0];
    assert_eq!(
        (
            artist["track_count"].as_i64(),
            artist["album_count"].as_i64()
        ),
        (Some(5), Some(3))
    );

    // An update that repeats what is recorded (the first scan's events arriving after a
    // rebuild filled the model from the catalog) leaves the index nothing to do.
    let before = search.service.status().await.unwrap().pending_changes;
    let same = summary(&TrackSpec {
        id: "b4",
        title: "Something",
        artists: &["The Beatles"],
        album: "Abbey Road",
        genres: &["Rock", "Pop"],
        year: Some(1969),
        ..TrackSpec::default()
    });
    deliver(&search, &TrackUpdated { track: same }).await;
    assert_eq!(
        search.service.status().await.unwrap().pending_changes,
        before
    );

    // Retitled: found by the new title only. The album and artist follow.
    let mut changed: TrackSummary = summary(&TrackSpec {
        id: "b4",
        title: "Something Else",
        artists: &["The Beatles"],
        album: "Abbey Road",
        genres: &["Rock"],
        year: Some(1969),
        ..TrackSpec::default()
    });
    deliver(
        &search,
        &TrackUpdated {
            track: changed.clone(),
        },
    )
    .await;
    search.index().await;
    assert_eq!(search.names("something", Kind::Track), ["Something Else"]);

    // Removed: gone from tracks, the album counts one less.
    let removed = deliver(
        &search,
        &TrackRemoved {
            track_id: "b3".into(),
        },
    )
    .await;
    search.index().await;
    assert!(search.names("come together", Kind::Track).is_empty());
    assert_eq!(search.find("abbey road", Kind::Album)[0]["track_count"], 1);
    assert_eq!(search.find("beatles", Kind::Artist)[0]["track_count"], 4);

    // An update older than the removal (topics arrive out of order) does not bring it back.
    let mut stale = Envelope::new(&TrackUpdated {
        track: summary(&TrackSpec {
            id: "b3",
            title: "Come Together",
            artists: &["The Beatles"],
            album: "Abbey Road",
            ..TrackSpec::default()
        }),
    })
    .unwrap();
    stale.id = "00000000-0000-7000-8000-000000000000".into();
    assert!(stale.id < removed.id);
    search.service.apply_event(&stale).await.unwrap();
    search.index().await;
    assert!(search.names("come together", Kind::Track).is_empty());

    // Moved to another album by another artist: the old album and artist let go of it.
    changed.album = named("album", "Singles");
    changed.artists = vec![named("artist", "Paul McCartney")];
    deliver(&search, &TrackUpdated { track: changed }).await;
    search.index().await;
    assert_eq!(search.find("abbey road", Kind::Album).len(), 0);
    assert_eq!(search.find("beatles", Kind::Artist)[0]["track_count"], 3);
    assert_eq!(
        search.first("mccartney", Kind::Artist).as_deref(),
        Some("Paul McCartney")
    );
}

async fn odd_queries_never_fail(db: Db) {
    let search = open(&db).await;
    beatles(&search).await;
    search.index().await;
    for q in [
        "",
        " ",
        "\"",
        "(",
        ")",
        ":",
        "*",
        "\"let it",
        "let (it) be*",
        "title:",
        "AND OR NOT",
        "\u{0}\u{1b}[31m",
        "year:",
        "year:abc..",
        "'",
        "-",
        "🎵",
        "%00",
        "\\",
        "let:it:be",
    ] {
        for kind in Kind::ALL {
            search.service.search(q, &[kind], 20, "u").unwrap();
        }
    }
    assert_eq!(
        search.first("\"let it be\"", Kind::Track).as_deref(),
        Some("Let It Be")
    );
    assert_eq!(
        search.first("(help)*", Kind::Track).as_deref(),
        Some("Help!")
    );
    assert!(search.names("", Kind::Track).is_empty());
    let long = "yesterday ".repeat(1_000);
    assert!(matches!(
        search.service.search(&long, &[], 20, "u"),
        Err(SearchError::QueryTooLong)
    ));
    // Many words: only the first ones count, and it still answers.
    let many = "yesterday ".repeat(40);
    assert_eq!(
        search
            .service
            .search(&many, &[Kind::Track], 20, "u")
            .unwrap()
            .kinds
            .len(),
        1
    );
}

/// A catalog that existed before the search service did.
struct Catalog(Vec<TrackSummary>);

#[async_trait::async_trait]
impl TrackDirectory for Catalog {
    async fn tracks(&self, ids: &[String]) -> Result<Vec<TrackSummary>, String> {
        Ok(self
            .0
            .iter()
            .filter(|t| ids.contains(&t.track_id))
            .cloned()
            .collect())
    }

    async fn page(&self, after: &str, limit: u32) -> Result<Vec<TrackSummary>, String> {
        Ok(self
            .0
            .iter()
            .filter(|t| t.track_id.as_str() > after)
            .take(limit as usize)
            .cloned()
            .collect())
    }
}

async fn rebuilds_from_the_catalog_when_the_index_is_lost_or_old(db: Db) {
    let catalog: Vec<TrackSummary> = (0..2_500)
        .map(|i| {
            summary(&TrackSpec {
                id: &format!("c{i:05}"),
                title: &format!("Old Song {i}"),
                artists: &["Archive Band"],
                album: &format!("Archive {}", i / 10),
                ..TrackSpec::default()
            })
        })
        .collect();
    let search = open_with(&db, Arc::new(Catalog(catalog))).await;
    assert_eq!(search.names("archive band", Kind::Artist), ["Archive Band"]);
    assert_eq!(
        search.find("archive band", Kind::Artist)[0]["track_count"],
        2_500
    );
    assert_eq!(
        search.first("old song 1234 ", Kind::Track).as_deref(),
        Some("Old Song 1234")
    );
    assert_eq!(search.service.needs_rebuild().await.unwrap(), None);
    let root = search.dir.path().join("search");
    drop(search.service);

    // An index of an older schema opens, answers, and is rebuilt.
    let current = std::fs::read_to_string(root.join("CURRENT")).unwrap();
    let meta_path = root.join(current.trim()).join("meta.json");
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    let this = format!("\\\"schema\\\":{SCHEMA_VERSION}");
    let older = format!("\\\"schema\\\":{}", SCHEMA_VERSION - 1);
    assert!(meta.contains(&this), "{meta}");
    std::fs::write(&meta_path, meta.replace(&this, &older)).unwrap();
    let reopened = beatstream_search::SearchService::open(
        beatstream_search::SearchStore::new(db.clone()),
        root.clone(),
        Arc::new(beatstream_events::directory::NoDirectory),
    )
    .unwrap();
    assert_eq!(
        reopened.needs_rebuild().await.unwrap(),
        Some("the index has an older schema")
    );
    assert_eq!(
        names(&bodies(
            &reopened
                .search("archive band", &[Kind::Artist], 5, "u")
                .unwrap(),
            Kind::Artist
        )),
        ["Archive Band"]
    );
    reopened.rebuild().await.unwrap();
    assert_eq!(reopened.needs_rebuild().await.unwrap(), None);
    assert_eq!(
        names(&bodies(
            &reopened
                .search("old song 7 ", &[Kind::Track], 5, "u")
                .unwrap(),
            Kind::Track
        ))[0],
        "Old Song 7"
    );
    // One process at a time owns the folder.
    assert!(matches!(
        beatstream_search::SearchService::open(
            beatstream_search::SearchStore::new(db.clone()),
            root.clone(),
            Arc::new(beatstream_events::directory::NoDirectory),
        ),
        Err(SearchError::Index(
            beatstream_search::index::IndexError::Busy
        ))
    ));
    drop(reopened);

    // A corrupt index: it does not open, so it is rebuilt from the read model.
    let current = std::fs::read_to_string(root.join("CURRENT")).unwrap();
    std::fs::write(root.join(current.trim()).join("meta.json"), b"{ not json").unwrap();
    let reopened = beatstream_search::SearchService::open(
        beatstream_search::SearchStore::new(db.clone()),
        root.clone(),
        Arc::new(beatstream_events::directory::NoDirectory),
    )
    .unwrap();
    assert_eq!(
        reopened.needs_rebuild().await.unwrap(),
        Some("there is no readable index")
    );
    assert!(reopened
        .search("archive", &[], 5, "u")
        .unwrap()
        .top()
        .is_none());
    reopened.rebuild().await.unwrap();
    assert_eq!(
        names(&bodies(
            &reopened
                .search("archive band", &[Kind::Artist], 5, "u")
                .unwrap(),
            Kind::Artist
        )),
        ["Archive Band"]
    );
    let generations = std::fs::read_dir(&root)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("index-")
        })
        .count();
    assert_eq!(generations, 1, "old generations are deleted");
}

async fn changes_during_a_rebuild_are_not_lost(db: Db) {
    let search = open(&db).await;
    beatles(&search).await;
    // Recorded, not yet applied, when the rebuild starts: the rebuild reads the read model.
    search.service.rebuild().await.unwrap();
    assert_eq!(
        search.first("yesterday", Kind::Track).as_deref(),
        Some("Yesterday")
    );
    // Recorded after: applied on top of the new generation.
    add(
        &search,
        TrackSpec {
            id: "n1",
            title: "Now And Then",
            artists: &["The Beatles"],
            album: "Now And Then",
            ..TrackSpec::default()
        },
    )
    .await;
    search.index().await;
    assert_eq!(
        search.first("now and then", Kind::Track).as_deref(),
        Some("Now And Then")
    );
    assert_eq!(search.find("beatles", Kind::Artist)[0]["track_count"], 6);
    let status = search.service.status().await.unwrap();
    assert_eq!((status.state, status.pending_changes), ("ready", 0));
}

backend_tests!("search", &MIGRATIONS;
    matches_words_as_you_type,
    forgives_typos_by_word_length,
    folds_case_diacritics_and_finds_other_scripts,
    ranks_exact_over_prefix_over_typo_then_plays,
    filters_by_field,
    playlists_are_found_by_who_may_see_them,
    a_batch_of_playlist_changes_keeps_the_newest,
    follows_catalog_changes,
    odd_queries_never_fail,
    rebuilds_from_the_catalog_when_the_index_is_lost_or_old,
    changes_during_a_rebuild_are_not_lost,
);
