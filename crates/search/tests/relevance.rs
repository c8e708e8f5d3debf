//! The relevance test set: `tests/relevance/library.json` (real albums, as catalog events) and
//! `tests/relevance/queries.tsv` (what a person types, and the first result they expect). Every
//! query is checked and every miss is listed, so a ranking change shows what it breaks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;

use beatstream_core::{Timestamp, UserId};
use beatstream_db::testing::TestDb;
use beatstream_db::Backend;
use beatstream_events::catalog::{NamedRef, TrackAdded, TrackSummary};
use beatstream_events::library::TrackPlayed;
use beatstream_search::schema::Kind;
use beatstream_search::MIGRATIONS;
use serde_json::Value;
use support::*;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/relevance");

fn slug(s: &str) -> String {
    s.to_lowercase()
}

fn artist_ref(name: &str) -> NamedRef {
    NamedRef {
        id: format!("artist:{}", slug(name)),
        name: name.to_string(),
    }
}

/// The albums of library.json as track summaries, with their play counts.
fn library() -> Vec<(TrackSummary, u64)> {
    let text = std::fs::read_to_string(format!("{DIR}/library.json")).unwrap();
    let albums: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for (a, album) in albums.iter().enumerate() {
        let album_title = album["album"].as_str().unwrap();
        let album_artist = album
            .get("album_artist")
            .and_then(Value::as_str)
            .or_else(|| album["artist"].as_str())
            .unwrap();
        let plays = album.get("plays").cloned().unwrap_or(Value::Null);
        let featuring = album.get("featuring").cloned().unwrap_or(Value::Null);
        for (n, entry) in album["tracks"].as_array().unwrap().iter().enumerate() {
            let (title, artist) = match entry {
                Value::String(title) => (
                    title.as_str(),
                    album["artist"].as_str().unwrap_or(album_artist),
                ),
                other => (
                    other["title"].as_str().unwrap(),
                    other["artist"].as_str().unwrap(),
                ),
            };
            let mut artists = vec![artist_ref(artist)];
            if let Some(extra) = featuring.get(title).and_then(Value::as_array) {
                artists.extend(extra.iter().map(|e| artist_ref(e.as_str().unwrap())));
            }
            let track = TrackSummary {
                track_id: format!("a{a:03}t{n:03}"),
                title: title.to_string(),
                artists,
                album: NamedRef {
                    id: format!("album:{a:03}"),
                    name: album_title.to_string(),
                },
                album_artists: vec![artist_ref(album_artist)],
                genres: album["genres"]
                    .as_array()
                    .map(|g| g.iter().map(|g| g.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default(),
                year: album["year"].as_i64(),
                track_number: Some(n as i64 + 1),
                disc_number: Some(1),
                duration_ms: 200_000,
                format: "flac".into(),
                bitrate_kbps: Some(900),
                path: format!("{album_artist}/{album_title}/{title}.flac"),
            };
            let count = plays.get(title).and_then(Value::as_u64).unwrap_or(0);
            out.push((track, count));
        }
    }
    out
}

/// `Title — Artist` names a track by both; anything else is a title or name alone.
fn matches(body: &Value, expected: &str) -> bool {
    match expected.split_once(" — ") {
        Some((title, artist)) => {
            name_of(body) == title
                && body["artists"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|a| a["name"] == artist))
        }
        None => name_of(body) == expected,
    }
}

fn describe(body: Option<&Value>) -> String {
    match body {
        None => "nothing".into(),
        Some(body) => match body["artists"].as_array().and_then(|a| a.first()) {
            Some(artist) if body.get("title").is_some() => {
                format!(
                    "{} — {}",
                    name_of(body),
                    artist["name"].as_str().unwrap_or("")
                )
            }
            _ => name_of(body),
        },
    }
}

#[tokio::test]
async fn the_relevance_set_finds_what_people_expect_first() {
    let test_db = TestDb::new(Backend::Sqlite, "search", &MIGRATIONS).await;
    let search = open(&test_db.db).await;
    let tracks = library();
    let mut play = 0;
    for (track, plays) in &tracks {
        deliver(
            &search,
            &TrackAdded {
                track: track.clone(),
            },
        )
        .await;
        for _ in 0..*plays {
            play += 1;
            deliver(
                &search,
                &TrackPlayed {
                    play_id: format!("p{play}"),
                    user_id: UserId("listener".into()),
                    track_id: track.track_id.clone(),
                    played_ms: 200_000,
                    played_at: Timestamp::now(),
                    skipped: false,
                },
            )
            .await;
        }
    }
    search.index().await;

    let text = std::fs::read_to_string(format!("{DIR}/queries.tsv")).unwrap();
    let mut misses = Vec::new();
    let mut checked = 0;
    let mut by_kind: HashMap<&str, usize> = HashMap::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let fields: Vec<&str> = line.split('\t').collect();
        let [query, kind, expected] = fields[..] else {
            panic!("queries.tsv: not `query<TAB>kind<TAB>expected`: {line:?}");
        };
        checked += 1;
        *by_kind.entry(kind).or_default() += 1;
        let first = if kind == "top" {
            let results = search.service.search(query, &[], 10, "listener").unwrap();
            results
                .top()
                .map(|hit| serde_json::from_str::<Value>(&hit.body).unwrap())
        } else {
            let kind = Kind::parse(kind).unwrap_or_else(|| panic!("unknown kind in {line:?}"));
            search.find_as(query, kind, "listener").into_iter().next()
        };
        if !first.as_ref().is_some_and(|body| matches(body, expected)) {
            misses.push(format!(
                "{query:?} ({kind}): expected {expected:?}, got {}",
                describe(first.as_ref())
            ));
        }
    }
    assert!(
        checked >= 50,
        "the set has {checked} queries; it should have at least 50"
    );
    assert!(
        misses.is_empty(),
        "{} of {checked} queries missed ({by_kind:?}):\n{}",
        misses.len(),
        misses.join("\n")
    );
    test_db.finish().await;
}
