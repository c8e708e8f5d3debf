//! Building a search service over a test database and feeding it events as production does.

#![allow(dead_code)]

use std::sync::Arc;

use beatstream_db::Db;
use beatstream_events::catalog::{NamedRef, TrackAdded, TrackSummary};
use beatstream_events::directory::{NoDirectory, TrackDirectory};
use beatstream_events::{Envelope, Event};
use beatstream_search::schema::Kind;
use beatstream_search::service::SearchResults;
use beatstream_search::{SearchService, SearchStore};
use serde_json::Value;

pub struct Search {
    pub service: SearchService,
    pub dir: tempfile::TempDir,
}

pub async fn open(db: &Db) -> Search {
    open_with(db, Arc::new(NoDirectory)).await
}

pub async fn open_with(db: &Db, directory: Arc<dyn TrackDirectory>) -> Search {
    let dir = tempfile::tempdir().unwrap();
    let service = SearchService::open(
        SearchStore::new(db.clone()),
        dir.path().join("search"),
        directory,
    )
    .unwrap();
    // What the indexer does at start: a missing index is built (empty) at once.
    assert!(service.needs_rebuild().await.unwrap().is_some());
    service.rebuild().await.unwrap();
    Search { service, dir }
}

pub fn named(kind: &str, name: &str) -> NamedRef {
    NamedRef {
        id: format!("{kind}:{}", name.to_lowercase()),
        name: name.into(),
    }
}

#[derive(Clone)]
pub struct TrackSpec<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub artists: &'a [&'a str],
    pub album: &'a str,
    pub album_artists: &'a [&'a str],
    pub genres: &'a [&'a str],
    pub year: Option<i64>,
}

impl Default for TrackSpec<'_> {
    fn default() -> Self {
        TrackSpec {
            id: "t",
            title: "Untitled",
            artists: &[],
            album: "Album",
            album_artists: &[],
            genres: &[],
            year: None,
        }
    }
}

pub fn summary(spec: &TrackSpec<'_>) -> TrackSummary {
    let album_artists: Vec<NamedRef> = spec
        .album_artists
        .iter()
        .map(|a| named("artist", a))
        .collect();
    let album_owner = spec
        .album_artists
        .first()
        .or(spec.artists.first())
        .copied()
        .unwrap_or("");
    TrackSummary {
        track_id: spec.id.into(),
        title: spec.title.into(),
        artists: spec.artists.iter().map(|a| named("artist", a)).collect(),
        album: NamedRef {
            id: format!(
                "album:{}/{}",
                album_owner.to_lowercase(),
                spec.album.to_lowercase()
            ),
            name: spec.album.into(),
        },
        album_artists,
        genres: spec.genres.iter().map(|g| g.to_string()).collect(),
        year: spec.year,
        track_number: Some(1),
        disc_number: None,
        duration_ms: 200_000,
        format: "mp3".into(),
        bitrate_kbps: Some(320),
        path: format!("{}.mp3", spec.title),
    }
}

/// Delivers an event twice (at least once delivery), as a consumer would.
pub async fn deliver<E: Event>(search: &Search, event: &E) -> Envelope {
    let envelope = Envelope::new(event).unwrap();
    search.service.apply_event(&envelope).await.unwrap();
    search.service.apply_event(&envelope).await.unwrap();
    envelope
}

pub async fn add(search: &Search, spec: TrackSpec<'_>) {
    deliver(
        search,
        &TrackAdded {
            track: summary(&spec),
        },
    )
    .await;
}

impl Search {
    /// Applies what the events recorded, as the indexer's next round does.
    pub async fn index(&self) {
        self.service.index_pending().await.unwrap();
    }

    pub fn find(&self, q: &str, kind: Kind) -> Vec<Value> {
        self.find_as(q, kind, "nobody")
    }

    pub fn find_as(&self, q: &str, kind: Kind, user: &str) -> Vec<Value> {
        let results = self.service.search(q, &[kind], 20, user).unwrap();
        bodies(&results, kind)
    }

    /// Titles (tracks, albums) or names (artists, playlists) of the hits, best first.
    pub fn names(&self, q: &str, kind: Kind) -> Vec<String> {
        names(&self.find(q, kind))
    }

    pub fn first(&self, q: &str, kind: Kind) -> Option<String> {
        self.names(q, kind).into_iter().next()
    }
}

pub fn bodies(results: &SearchResults, kind: Kind) -> Vec<Value> {
    results
        .kinds
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, hits)| {
            hits.iter()
                .map(|h| serde_json::from_str(&h.body).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

pub fn name_of(body: &Value) -> String {
    body.get("title")
        .or_else(|| body.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub fn names(bodies: &[Value]) -> Vec<String> {
    bodies.iter().map(name_of).collect()
}
