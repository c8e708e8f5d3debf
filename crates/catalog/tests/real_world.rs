//! Scans of files nobody here wrote, fetched by `make testdata` from the recipes in
//! `../shared/testdata`: mutagen's tag corpus (some 30 formats, many deliberately broken) and
//! real tagged music from Debian's game-music packages. Both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use beatstream_catalog::model::AlbumSort;
use beatstream_catalog::scan::ScanReport;
use beatstream_catalog::store::{AlbumFilter, TrackFilter};
use beatstream_catalog::tags::Separators;
use beatstream_catalog::{CatalogService, CatalogSettings, CatalogStore, MIGRATIONS};
use beatstream_core::Page;
use beatstream_db::{backend_tests, Db};
use beatstream_events::outbox::OutboxWaker;
use beatstream_storage::{BlobStore, S3Options};

/// Where `make testdata` puts the data (override with BEATSTREAM_TEST_DATA).
fn testdata(what: &str) -> PathBuf {
    let root = std::env::var("BEATSTREAM_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.testdata")));
    let path = root.join(what);
    assert!(
        path.is_dir(),
        "{} is missing: run `make testdata` (it fetches the shared test data)",
        path.display()
    );
    path
}

async fn scan(db: Db, library: PathBuf) -> (CatalogService, ScanReport, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::open("", dir.path(), &S3Options::default()).unwrap();
    let settings = CatalogSettings {
        libraries: vec![library],
        separators: Separators {
            artists: vec![";".into(), " / ".into()],
            genres: vec![";".into(), "/".into()],
        },
        max_upload_bytes: 1 << 20,
        ffmpeg: String::new(),
    };
    let catalog = CatalogService::new(
        CatalogStore::new(db),
        blobs,
        OutboxWaker::default(),
        settings,
    )
    .await
    .unwrap();
    let progress = Arc::new(Mutex::new(ScanReport::queued("real-world".into())));
    let report = catalog.scan_now(&progress).await.unwrap();
    (catalog, report, dir)
}

fn all() -> Page {
    Page {
        limit: 500,
        after: None,
    }
}

async fn tag_corpus_scans_without_stopping_and_reads_what_is_readable(db: Db) {
    let corpus = testdata("tag-corpus/tag-corpus");
    let (catalog, report, _dir) = scan(db, corpus.clone()).await;
    assert!(report.tracks_added >= 40, "{report:?}");
    assert!(
        report.error_count >= 5,
        "the corpus has broken files: {report:?}"
    );
    let root = corpus.to_string_lossy().to_string();
    for problem in &report.errors {
        assert!(!problem.reason.is_empty(), "{problem:?}");
        assert!(
            !problem.path.starts_with('/') && !problem.reason.contains(&root),
            "server path leaked: {problem:?}"
        );
    }
    let tracks = catalog
        .tracks(&TrackFilter::default(), &all())
        .await
        .unwrap()
        .items;
    let by_path = |title: &str| tracks.iter().find(|t| t.title == title).cloned();
    let v22 = by_path("cosmic american").expect("ID3v2.2 is read");
    assert_eq!(v22.artists[0].name, "Anais Mitchell");
    assert_eq!(v22.album.title, "Hymns for the Exiled");
    assert_eq!(v22.track_number, Some(3));
    let silence = tracks.iter().filter(|t| t.title == "Silence").count();
    assert!(
        silence >= 3,
        "tagged silence-44-s files in several formats: {silence}"
    );
    let flac = tracks
        .iter()
        .find(|t| t.title == "Silence" && t.format.as_str() == "flac")
        .expect("silence-44-s.flac");
    let names: Vec<&str> = flac.artists.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["piman", "jzig"],
        "two ARTIST comments are two artists"
    );
    let formats: std::collections::BTreeSet<&str> =
        tracks.iter().map(|t| t.format.as_str()).collect();
    for format in ["mp3", "flac", "ogg", "m4a", "wv", "aiff", "wav", "opus"] {
        assert!(formats.contains(format), "no {format} in {formats:?}");
    }
    // A rescan of the same corpus changes nothing and stops at nothing.
    let progress = Arc::new(Mutex::new(ScanReport::queued("again".into())));
    let again = catalog.scan_now(&progress).await.unwrap();
    assert_eq!(
        (
            again.tracks_added,
            again.tracks_updated,
            again.tracks_removed
        ),
        (0, 0, 0),
        "{again:?}"
    );
}

async fn debian_game_music_becomes_albums_with_credits(db: Db) {
    let library = testdata("debian-music/library");
    let (catalog, report, _dir) = scan(db, library).await;
    assert_eq!(report.errors, vec![], "real files all read");
    assert!(report.tracks_added >= 26, "{report:?}");
    let albums = catalog
        .albums(AlbumSort::Name, &AlbumFilter::default(), &all())
        .await
        .unwrap()
        .items;
    assert!(albums.len() >= 3, "{albums:?}");
    for album in &albums {
        assert!(
            !album.artists.is_empty() && album.track_count > 0 && album.duration_ms > 0,
            "{album:?}"
        );
    }
    let tracks = catalog
        .tracks(&TrackFilter::default(), &all())
        .await
        .unwrap()
        .items;
    assert!(
        tracks
            .iter()
            .all(|t| t.format.as_str() == "ogg" && t.duration_ms > 10_000),
        "real songs"
    );
    assert!(
        tracks
            .iter()
            .all(|t| !t.artists.is_empty() && t.artists[0].name != "Unknown Artist"),
        "tagged"
    );
    let artists = catalog.artists(&all()).await.unwrap().items;
    assert!(artists.len() >= 2, "{artists:?}");
    assert!(
        tracks.iter().any(|t| !t.title.is_ascii()) || albums.iter().any(|a| !a.title.is_ascii()),
        "accented titles survive"
    );
}

backend_tests!("catalog", &MIGRATIONS;
    tag_corpus_scans_without_stopping_and_reads_what_is_readable,
    debian_game_music_becomes_albums_with_credits,
);
