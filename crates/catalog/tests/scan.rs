//! Library scans on real (generated) files of every format, on both SQL backends: tags,
//! grouping, covers, broken files, and rescans that move, change and delete files while ids
//! stay stable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
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

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

struct Lib {
    dir: tempfile::TempDir,
    catalog: CatalogService,
}

impl Lib {
    fn root(&self) -> PathBuf {
        self.dir.path().join("library")
    }

    async fn scan(&self) -> ScanReport {
        let progress = Arc::new(Mutex::new(ScanReport::queued(
            uuid::Uuid::now_v7().to_string(),
        )));
        self.catalog.scan_now(&progress).await.unwrap()
    }

    async fn track_id(&self, title: &str) -> String {
        let tracks = self
            .catalog
            .tracks(&TrackFilter::default(), &all())
            .await
            .unwrap();
        tracks
            .items
            .iter()
            .find(|t| t.title == title)
            .unwrap_or_else(|| panic!("no track {title}"))
            .id
            .clone()
    }
}

fn all() -> Page {
    Page {
        limit: 500,
        after: None,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// What a scan changed: (added, updated, removed).
fn changes(report: &ScanReport) -> (u64, u64, u64) {
    (
        report.tracks_added,
        report.tracks_updated,
        report.tracks_removed,
    )
}

async fn library(db: Db) -> Lib {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(FIXTURES).join("library"),
        &dir.path().join("library"),
    );
    let blobs = BlobStore::open("", &dir.path().join("blobs"), &S3Options::default()).unwrap();
    let settings = CatalogSettings {
        libraries: vec![dir.path().join("library")],
        separators: Separators {
            artists: vec![";".into(), " / ".into(), " feat. ".into()],
            genres: vec![";".into(), " / ".into(), ",".into()],
        },
        max_upload_bytes: 10 << 20,
        ffmpeg: "ffmpeg".into(),
    };
    let catalog = CatalogService::new(
        CatalogStore::new(db),
        blobs,
        OutboxWaker::default(),
        settings,
    )
    .await
    .unwrap();
    Lib { dir, catalog }
}

async fn every_format_is_read_with_its_tags(db: Db) {
    let lib = library(db).await;
    let report = lib.scan().await;
    assert_eq!(report.errors, vec![], "{report:?}");
    assert_eq!(report.files_seen, 16);
    assert_eq!(report.tracks_added, 16);
    let tracks = lib
        .catalog
        .tracks(&TrackFilter::default(), &all())
        .await
        .unwrap()
        .items;
    let mut formats: Vec<&str> = tracks.iter().map(|t| t.format.as_str()).collect();
    formats.sort();
    formats.dedup();
    assert_eq!(
        formats,
        vec!["aiff", "alac", "flac", "m4a", "mp3", "ogg", "opus", "wav", "wv"]
    );
    for track in &tracks {
        assert!(
            track.duration_ms >= 900,
            "{} has duration {}",
            track.title,
            track.duration_ms
        );
    }

    let alac = tracks.iter().find(|t| t.title == "Alac Song").unwrap();
    assert_eq!(
        alac.format.as_str(),
        "alac",
        "Apple Lossless is told from AAC in .m4a"
    );
    let aac = tracks.iter().find(|t| t.title == "M4A Song").unwrap();
    assert_eq!(aac.format.as_str(), "m4a");

    let flac = tracks.iter().find(|t| t.format.as_str() == "flac").unwrap();
    assert_eq!(flac.title, "Flac Song");
    assert_eq!(
        flac.genres,
        vec!["Jazz", "Blues"],
        "one genre string split in two"
    );
    assert_eq!(flac.rg_track_gain, Some(-6.5));
    assert_eq!(flac.year, Some(1999));
    let names: Vec<&str> = flac.artists.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["Beta Singer", "Zeta Guest"],
        "ARTISTS is multi-valued"
    );

    let two = tracks.iter().find(|t| t.title == "Two").unwrap();
    let names: Vec<&str> = two.artists.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["Alpha Artist", "Beta Singer"],
        "feat. splits artists"
    );
    assert_eq!(two.track_number, Some(2));

    let untagged = tracks
        .iter()
        .find(|t| t.title == "no tags at all")
        .expect("named from its path");
    assert_eq!(untagged.artists[0].name, "Unknown Artist");
    assert_eq!(untagged.album.title, "Unknown Album");

    let bjork = tracks.iter().find(|t| t.title == "Jóga").unwrap();
    assert_eq!(bjork.artists[0].name, "Björk");
}

async fn albums_group_by_album_artist_and_compilations_stay_whole(db: Db) {
    let lib = library(db).await;
    lib.scan().await;
    let albums = lib
        .catalog
        .albums(AlbumSort::Name, &AlbumFilter::default(), &all())
        .await
        .unwrap()
        .items;
    let hits: Vec<_> = albums
        .iter()
        .filter(|a| a.title == "Greatest Hits")
        .collect();
    assert_eq!(hits.len(), 2, "two albums called Greatest Hits stay apart");
    let compilation = hits
        .iter()
        .find(|a| a.artists[0].name == "Various Artists")
        .unwrap();
    assert_eq!(compilation.track_count, 2, "a compilation is one album");
    assert!(compilation.compilation);
    let (_, tracks) = lib.catalog.album(&compilation.id).await.unwrap();
    let artists: Vec<&str> = tracks.iter().map(|t| t.artists[0].name.as_str()).collect();
    assert_eq!(artists, vec!["Gamma", "Delta"]);

    let first = albums.iter().find(|a| a.title == "First Album").unwrap();
    assert_eq!(first.track_count, 3);
    assert_eq!(first.year, Some(2001));
    assert!(first.has_cover, "cover.jpg in the folder");
    let (_, tracks) = lib.catalog.album(&first.id).await.unwrap();
    let titles: Vec<&str> = tracks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, vec!["One", "Two", "Three"], "track order");
}

async fn album_tracks_follow_disc_then_track_order(db: Db) {
    let lib = library(db).await;
    lib.scan().await;
    let albums = lib
        .catalog
        .albums(AlbumSort::Name, &AlbumFilter::default(), &all())
        .await
        .unwrap()
        .items;
    let second = albums
        .iter()
        .filter(|a| a.title == "Second Album")
        .max_by_key(|a| a.track_count)
        .unwrap();
    let (_, tracks) = lib.catalog.album(&second.id).await.unwrap();
    let order: Vec<(Option<i64>, Option<i64>)> = tracks
        .iter()
        .map(|t| (t.disc_number, t.track_number))
        .collect();
    let mut sorted = order.clone();
    sorted.sort_by_key(|(d, t)| (d.unwrap_or(1), t.unwrap_or(100_000)));
    assert_eq!(order, sorted);
}

async fn embedded_pictures_are_covers_too(db: Db) {
    let lib = library(db).await;
    lib.scan().await;
    let flac_id = lib.track_id("Flac Song").await;
    let flac = lib.catalog.track(&flac_id).await.unwrap();
    let (album, _) = lib.catalog.album(&flac.album.id).await.unwrap();
    assert!(album.has_cover, "the FLAC's embedded front cover");
    let response = lib
        .catalog
        .cover(&album.id, Some(48), &Default::default())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
}

async fn broken_files_are_reported_and_skipped(db: Db) {
    let lib = library(db).await;
    copy_dir(
        &Path::new(FIXTURES).join("broken"),
        &lib.root().join("broken"),
    );
    let report = lib.scan().await;
    assert_eq!(report.tracks_added, 16, "the good files still go in");
    let mut paths: Vec<&str> = report.errors.iter().map(|e| e.path.as_str()).collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "broken/empty.mp3",
            "broken/garbage.ogg",
            "broken/header-only.mp3",
            "broken/png-pretending.mp3",
            "broken/truncated.flac"
        ],
        "{:?}",
        report.errors
    );
    let root = lib.dir.path().to_string_lossy().to_string();
    for error in &report.errors {
        assert!(!error.reason.is_empty());
        assert!(
            !error.reason.contains(&root),
            "no server path in {}",
            error.reason
        );
    }
}

async fn unchanged_rescan_changes_nothing(db: Db) {
    let lib = library(db).await;
    lib.scan().await;
    let report = lib.scan().await;
    assert_eq!(changes(&report), (0, 0, 0));
    assert_eq!(report.files_seen, 16);
}

async fn a_folder_image_added_later_is_found_by_a_rescan(db: Db) {
    let lib = library(db).await;
    // A file straight in the library folder too: its album's folder is the library itself.
    std::fs::copy(
        lib.root().join("untagged/no tags at all.mp3"),
        lib.root().join("loose.mp3"),
    )
    .unwrap();
    lib.scan().await;
    let album_of = |title: &'static str| {
        let lib = &lib;
        async move {
            let track = lib.catalog.track(&lib.track_id(title).await).await.unwrap();
            lib.catalog.album(&track.album.id).await.unwrap().0
        }
    };
    assert!(!album_of("Epsilon Hit").await.has_cover);
    assert!(!album_of("loose").await.has_cover);

    let image = lib.root().join("Alpha Artist/First Album/cover.jpg");
    std::fs::copy(&image, lib.root().join("Other/Greatest Hits/folder.jpg")).unwrap();
    std::fs::copy(&image, lib.root().join("cover.jpg")).unwrap();
    let report = lib.scan().await;
    assert_eq!(changes(&report), (0, 0, 0), "no audio file changed");
    assert!(album_of("Epsilon Hit").await.has_cover, "folder.jpg added");
    assert!(
        album_of("loose").await.has_cover,
        "cover.jpg added to the library folder"
    );
    // The album of the untagged files spans two folders; the other keeps its cover.
    assert!(album_of("One").await.has_cover);
}

async fn moved_file_keeps_its_id(db: Db) {
    let lib = library(db).await;
    lib.scan().await;
    let id = lib.track_id("One").await;
    let from = lib.root().join("Alpha Artist/First Album/01 - One.mp3");
    std::fs::create_dir_all(lib.root().join("Moved")).unwrap();
    std::fs::rename(&from, lib.root().join("Moved/one.mp3")).unwrap();
    let report = lib.scan().await;
    assert_eq!(changes(&report), (0, 1, 0), "{report:?}");
    assert_eq!(lib.track_id("One").await, id);
    lib.catalog.track(&id).await.unwrap();
}

async fn changed_file_is_reread_with_the_same_id(db: Db) {
    let lib = library(db).await;
    lib.scan().await;
    let id = lib.track_id("Ogg Song").await;
    // Replace the file's content with another file's (a retag would do the same).
    let path = lib.root().join("Beta Singer/Second Album/02 Ogg Song.ogg");
    std::fs::copy(lib.root().join("Unicode/Björk – Jóga (日本).ogg"), &path).unwrap();
    let report = lib.scan().await;
    assert_eq!(report.tracks_updated, 1, "{report:?}");
    let track = lib.catalog.track(&id).await.unwrap();
    assert_eq!(track.title, "Jóga", "re-read");
}

async fn deleted_file_is_removed_and_comes_back_with_its_id(db: Db) {
    let lib = library(db).await;
    lib.scan().await;
    let id = lib.track_id("Epsilon Hit").await;
    let path = lib.root().join("Other/Greatest Hits/01 Epsilon Hit.mp3");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let report = lib.scan().await;
    assert_eq!(report.tracks_removed, 1);
    assert!(lib.catalog.track(&id).await.is_err(), "gone");
    let albums = lib
        .catalog
        .albums(AlbumSort::Name, &AlbumFilter::default(), &all())
        .await
        .unwrap()
        .items;
    assert_eq!(
        albums.iter().filter(|a| a.title == "Greatest Hits").count(),
        1,
        "the emptied album is gone"
    );
    std::fs::write(&path, bytes).unwrap();
    let report = lib.scan().await;
    assert_eq!(report.tracks_updated + report.tracks_added, 1);
    assert_eq!(lib.track_id("Epsilon Hit").await, id, "same id as before");
}

async fn a_removed_track_is_taken_off_its_album_and_artist_counts(db: Db) {
    let lib = library(db).await;
    lib.scan().await;
    let album = |lib: &Lib| {
        let catalog = lib.catalog.clone();
        async move {
            let albums = catalog
                .albums(AlbumSort::Name, &AlbumFilter::default(), &all())
                .await
                .unwrap()
                .items;
            let album = albums
                .into_iter()
                .find(|a| a.title == "First Album")
                .unwrap();
            let (_, tracks) = catalog.album(&album.id).await.unwrap();
            (album, tracks)
        }
    };
    let artist = |lib: &Lib| {
        let catalog = lib.catalog.clone();
        async move {
            let artists = catalog.artists(&all()).await.unwrap().items;
            artists
                .into_iter()
                .find(|a| a.name == "Alpha Artist")
                .unwrap()
        }
    };
    let (before, _) = album(&lib).await;
    let artist_before = artist(&lib).await;
    assert_eq!(before.track_count, 3);

    std::fs::remove_file(lib.root().join("Alpha Artist/First Album/03 - Three.mp3")).unwrap();
    assert_eq!(lib.scan().await.tracks_removed, 1);
    let (after, tracks) = album(&lib).await;
    assert_eq!(after.track_count, 2);
    assert_eq!(
        after.duration_ms,
        tracks.iter().map(|t| t.duration_ms).sum::<i64>(),
        "the album's length is its remaining tracks'"
    );
    assert!(after.duration_ms < before.duration_ms);
    let artist_after = artist(&lib).await;
    assert_eq!(artist_after.track_count, artist_before.track_count - 1);
    assert_eq!(artist_after.album_count, artist_before.album_count);

    // An unchanged rescan leaves the counts as they are.
    lib.scan().await;
    assert_eq!(album(&lib).await.0, after);
    assert_eq!(artist(&lib).await, artist_after);
}

async fn an_emptied_library_folder_keeps_its_tracks(db: Db) {
    let lib = library(db).await;
    lib.scan().await;
    let id = lib.track_id("One").await;
    // As an unmounted disk looks: the folder is there, the files are not.
    std::fs::rename(lib.root(), lib.dir.path().join("elsewhere")).unwrap();
    std::fs::create_dir_all(lib.root()).unwrap();
    let report = lib.scan().await;
    assert_eq!(report.tracks_removed, 0, "{report:?}");
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.reason.contains("missing or holds no audio")),
        "{report:?}"
    );
    lib.catalog.track(&id).await.unwrap();
}

async fn symlink_loops_are_survived(db: Db) {
    let lib = library(db).await;
    std::os::unix::fs::symlink(lib.root(), lib.root().join("Alpha Artist/loop")).unwrap();
    let report = lib.scan().await;
    assert_eq!(report.tracks_added, 16);
    assert!(
        report.errors.iter().any(|e| e.reason.contains("loop")),
        "{:?}",
        report.errors
    );
}

async fn browsing_pages_sorts_and_filters(db: Db) {
    let lib = library(db).await;
    lib.scan().await;
    // Page through albums two at a time and get each exactly once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let query = beatstream_core::PageQuery {
            limit: Some(2),
            cursor,
        };
        let page = lib
            .catalog
            .albums(
                AlbumSort::Name,
                &AlbumFilter::default(),
                &query.page().unwrap(),
            )
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|a| a.id.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let total = lib
        .catalog
        .albums(AlbumSort::Name, &AlbumFilter::default(), &all())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(seen.len(), total);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), total);

    let by_year = lib
        .catalog
        .albums(AlbumSort::Year, &AlbumFilter::default(), &all())
        .await
        .unwrap()
        .items;
    let years: Vec<i64> = by_year.iter().filter_map(|a| a.year).collect();
    assert!(years.windows(2).all(|w| w[0] <= w[1]), "{years:?}");

    let jazz = AlbumFilter {
        genre: Some("JAZZ".into()),
        ..Default::default()
    };
    let jazz_albums = lib
        .catalog
        .albums(AlbumSort::Name, &jazz, &all())
        .await
        .unwrap()
        .items;
    assert!(!jazz_albums.is_empty() && jazz_albums.iter().all(|a| a.title == "Second Album"));
    // A random order takes the same filters.
    let random_jazz = lib.catalog.random_albums(&jazz, 50).await.unwrap();
    assert_eq!(
        sorted_ids(&random_jazz),
        sorted_ids(&jazz_albums),
        "random albums of a genre"
    );
    let year = years[0];
    let of_year = AlbumFilter {
        from_year: Some(year),
        to_year: Some(year),
        ..Default::default()
    };
    let random_of_year = lib.catalog.random_albums(&of_year, 50).await.unwrap();
    assert!(!random_of_year.is_empty());
    assert!(
        random_of_year.iter().all(|a| a.year == Some(year)),
        "random albums of {year}: {random_of_year:?}"
    );
    assert!(
        random_of_year.len() < total,
        "the year filter leaves some out"
    );

    let genres = lib.catalog.genres().await.unwrap();
    let rock = genres.iter().find(|g| g.name == "Rock").unwrap();
    assert!(rock.track_count >= 3, "{genres:?}");

    let artists = lib.catalog.artists(&all()).await.unwrap().items;
    let beta = artists.iter().find(|a| a.name == "Beta Singer").unwrap();
    let (_, albums) = lib.catalog.artist(&beta.id).await.unwrap();
    assert!(albums.iter().all(|a| a.title == "Second Album"));
    let of_beta = AlbumFilter {
        artist_id: Some(beta.id.clone()),
        ..Default::default()
    };
    let random_of_beta = lib.catalog.random_albums(&of_beta, 50).await.unwrap();
    assert_eq!(
        sorted_ids(&random_of_beta),
        sorted_ids(&albums),
        "random albums of an artist"
    );
    let by_artist = lib
        .catalog
        .tracks(
            &TrackFilter {
                artist_id: Some(beta.id.clone()),
                ..Default::default()
            },
            &all(),
        )
        .await
        .unwrap();
    assert!(
        by_artist.items.iter().any(|t| t.title == "Two"),
        "featured on Alpha's track too"
    );
}

fn sorted_ids(albums: &[beatstream_catalog::model::Album]) -> Vec<String> {
    let mut ids: Vec<String> = albums.iter().map(|a| a.id.clone()).collect();
    ids.sort();
    ids
}

backend_tests!("catalog", &MIGRATIONS;
    every_format_is_read_with_its_tags,
    albums_group_by_album_artist_and_compilations_stay_whole,
    album_tracks_follow_disc_then_track_order,
    embedded_pictures_are_covers_too,
    broken_files_are_reported_and_skipped,
    unchanged_rescan_changes_nothing,
    a_folder_image_added_later_is_found_by_a_rescan,
    moved_file_keeps_its_id,
    changed_file_is_reread_with_the_same_id,
    deleted_file_is_removed_and_comes_back_with_its_id,
    a_removed_track_is_taken_off_its_album_and_artist_counts,
    symlink_loops_are_survived,
    an_emptied_library_folder_keeps_its_tracks,
    browsing_pages_sorts_and_filters,
);
