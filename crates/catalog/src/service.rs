//! The catalog's use cases: browsing, scans, streaming originals and covers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::response::Response;
use beatstream_core::{Page, Paged};
use beatstream_events::outbox::OutboxWaker;
use beatstream_storage::BlobStore;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::cache::{Generation, GenerationCache};
use crate::error::CatalogError;
use crate::format::AudioFormat;
use crate::model::{Album, AlbumSort, Artist, Genre, Track};
use crate::scan::{ScanProgress, ScanReport, ScanState, Scanner};
use crate::signing::UrlSigner;
use crate::store::{AlbumFilter, CatalogStore, TrackFilter};
use crate::stream::{self, Source, Validators};
use crate::tags::Separators;
use crate::{cover, UPLOADS_LIBRARY};

/// Resized covers kept in memory: at most this many, of at most this size each (a 128 px JPEG is
/// about 5 KiB), so at most 16 MiB.
const THUMBNAILS: usize = 256;
const THUMBNAIL_MAX_BYTES: usize = 64 * 1024;

/// A cover's bytes with its validators, or 304 when the client has them.
fn cover_response(
    etag: &str,
    mime: &'static str,
    bytes: bytes::Bytes,
    request: &HeaderMap,
) -> Response {
    use axum::http::{header, HeaderValue, StatusCode};
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    if let Ok(value) = HeaderValue::from_str(etag) {
        if request
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == etag.as_bytes())
        {
            headers.insert(header::ETAG, value);
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    (headers, bytes).into_response()
}

/// Settings the catalog takes from the config.
#[derive(Debug, Clone)]
pub struct CatalogSettings {
    pub libraries: Vec<PathBuf>,
    pub separators: Separators,
    pub max_upload_bytes: u64,
    pub ffmpeg: String,
}

#[derive(Clone)]
pub struct CatalogService {
    inner: Arc<Inner>,
}

struct Inner {
    store: CatalogStore,
    blobs: BlobStore,
    waker: OutboxWaker,
    settings: CatalogSettings,
    signer: UrlSigner,
    scans: Mutex<Scans>,
    scan_requested: Notify,
    generation: Generation,
    album_pages: GenerationCache<String, Paged<Album>>,
    locations: GenerationCache<String, Option<Location>>,
    recent_files: stream::RecentFiles,
    /// Small resized covers by (album, size): ETag and JPEG.
    thumbnails: GenerationCache<(String, u32), (String, bytes::Bytes)>,
}

/// Where a live track's bytes are: (library, path, format, size, mtime).
type Location = (String, String, String, i64, i64);

/// The scan that runs, the one waiting, and the last one finished.
#[derive(Default)]
struct Scans {
    running: Option<ScanProgress>,
    queued: Option<String>,
    last: Option<ScanReport>,
}

impl CatalogService {
    pub async fn new(
        store: CatalogStore,
        blobs: BlobStore,
        waker: OutboxWaker,
        settings: CatalogSettings,
    ) -> Result<Self, CatalogError> {
        let key = store
            .secret("stream_url_key", || {
                use rand::RngCore;
                let mut bytes = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                bytes.iter().map(|b| format!("{b:02x}")).collect()
            })
            .await?;
        let last = store.latest_scan().await?;
        let generation = Generation::default();
        Ok(CatalogService {
            inner: Arc::new(Inner {
                album_pages: GenerationCache::new(generation.clone(), 10_000),
                locations: GenerationCache::new(generation.clone(), 100_000),
                recent_files: stream::RecentFiles::default(),
                thumbnails: GenerationCache::new(generation.clone(), THUMBNAILS),
                generation,
                store,
                blobs,
                waker,
                settings,
                signer: UrlSigner::new(key.into_bytes()),
                scans: Mutex::new(Scans {
                    last,
                    ..Default::default()
                }),
                scan_requested: Notify::new(),
            }),
        })
    }

    pub fn store(&self) -> &CatalogStore {
        &self.inner.store
    }

    pub fn settings(&self) -> &CatalogSettings {
        &self.inner.settings
    }

    pub fn signer(&self) -> &UrlSigner {
        &self.inner.signer
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.inner.blobs
    }

    pub fn waker(&self) -> &OutboxWaker {
        &self.inner.waker
    }

    // ---- browsing ----

    pub async fn artists(&self, page: &Page) -> Result<Paged<Artist>, CatalogError> {
        let rows = self.inner.store.list_artists(page).await?;
        Ok(paged(rows, page))
    }

    pub async fn artist(&self, id: &str) -> Result<(Artist, Vec<Album>), CatalogError> {
        let artist = self
            .inner
            .store
            .artist(id)
            .await?
            .ok_or(CatalogError::NotFound("artist"))?;
        let filter = AlbumFilter {
            artist_id: Some(id.to_string()),
            ..Default::default()
        };
        let page = Page {
            limit: 500,
            after: None,
        };
        let albums = self
            .inner
            .store
            .list_albums(AlbumSort::Year, &filter, &page)
            .await?;
        Ok((artist, albums.into_iter().map(|(a, _)| a).collect()))
    }

    pub async fn albums(
        &self,
        sort: AlbumSort,
        filter: &AlbumFilter,
        page: &Page,
    ) -> Result<Paged<Album>, CatalogError> {
        // Pages are cached until the catalog next changes.
        let key = format!(
            "{sort:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}",
            filter.genre,
            filter.artist_id,
            filter.from_year,
            filter.to_year,
            page.limit,
            page.after
        );
        if let Some(cached) = self.inner.album_pages.get(&key) {
            return Ok(cached);
        }
        let made = self.inner.album_pages.generation();
        let rows = self.inner.store.list_albums(sort, filter, page).await?;
        let result = paged(rows, page);
        self.inner.album_pages.insert(key, made, result.clone());
        Ok(result)
    }

    /// Up to `limit` albums in random order, of those `filter` lets through (never cached).
    pub async fn random_albums(
        &self,
        filter: &AlbumFilter,
        limit: u32,
    ) -> Result<Vec<Album>, CatalogError> {
        Ok(self.inner.store.random_albums(filter, limit).await?)
    }

    /// Up to `limit` tracks in random order, of a genre and within years when given.
    pub async fn random_tracks(
        &self,
        genre: Option<&str>,
        years: (Option<i64>, Option<i64>),
        limit: u32,
    ) -> Result<Vec<Track>, CatalogError> {
        Ok(self.inner.store.random_tracks(genre, years, limit).await?)
    }

    /// Marks the catalog changed (uploads; scans bump it themselves).
    pub fn changed(&self) {
        self.inner.generation.bump();
    }

    pub async fn album(&self, id: &str) -> Result<(Album, Vec<Track>), CatalogError> {
        let album = self
            .inner
            .store
            .album(id)
            .await?
            .ok_or(CatalogError::NotFound("album"))?;
        let tracks = self.inner.store.album_tracks(id).await?;
        Ok((album, tracks))
    }

    pub async fn tracks(
        &self,
        filter: &TrackFilter,
        page: &Page,
    ) -> Result<Paged<Track>, CatalogError> {
        let rows = self.inner.store.list_tracks(filter, page).await?;
        Ok(paged(rows, page))
    }

    /// A live track.
    pub async fn track(&self, id: &str) -> Result<Track, CatalogError> {
        match self.inner.store.track(id).await? {
            Some((track, false)) => Ok(track),
            _ => Err(CatalogError::NotFound("track")),
        }
    }

    /// The live tracks among `ids`, in the order of `ids` (each once).
    pub async fn tracks_by_ids(&self, ids: &[String]) -> Result<Vec<Track>, CatalogError> {
        let found = self
            .inner
            .store
            .live_tracks_with_paths(Some(ids), "", 0)
            .await?;
        let mut by_id: std::collections::HashMap<String, Track> = found
            .into_iter()
            .map(|(track, _)| (track.id.clone(), track))
            .collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Live tracks as events describe them, for other services' read models (the playlists
    /// service asks for tracks it has not heard of yet): those among `ids`, or else a page of up
    /// to `limit` in id order after `after`.
    pub async fn track_summaries(
        &self,
        ids: Option<&[String]>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<beatstream_events::catalog::TrackSummary>, CatalogError> {
        let tracks = self
            .inner
            .store
            .live_tracks_with_paths(ids, after, limit)
            .await?;
        Ok(tracks
            .into_iter()
            .map(|(track, path)| track.summary(path))
            .collect())
    }

    pub async fn genres(&self) -> Result<Vec<Genre>, CatalogError> {
        Ok(self.inner.store.list_genres().await?)
    }

    pub async fn lyrics(&self, id: &str) -> Result<Option<String>, CatalogError> {
        self.track(id).await?;
        Ok(self.inner.store.track_lyrics(id).await?)
    }

    // ---- scans ----

    /// Asks for a scan; returns its id. A scan asked for while another waits joins that one.
    pub fn request_scan(&self) -> String {
        let mut scans = self.inner.scans.lock().unwrap_or_else(|p| p.into_inner());
        let id = scans
            .queued
            .get_or_insert_with(|| uuid::Uuid::now_v7().to_string())
            .clone();
        drop(scans);
        self.inner.scan_requested.notify_one();
        id
    }

    /// The scan running, else the one waiting, else the last one finished (read from the
    /// database, so a `beatstream scan` run by another process shows too).
    pub async fn scan_status(&self) -> Result<Option<ScanReport>, CatalogError> {
        {
            let scans = self.inner.scans.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(running) = &scans.running {
                return Ok(Some(
                    running.lock().unwrap_or_else(|p| p.into_inner()).clone(),
                ));
            }
            if let Some(queued) = &scans.queued {
                return Ok(Some(ScanReport::queued(queued.clone())));
            }
        }
        let stored = self.inner.store.latest_scan().await?;
        let last = self
            .inner
            .scans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last
            .clone();
        // A failed scan is only in memory; prefer whichever is newer.
        Ok(match (stored, last) {
            (Some(stored), Some(last)) if last.started_at > stored.started_at => Some(last),
            (stored, last) => stored.or(last),
        })
    }

    /// Runs queued scans one at a time until `shutdown`.
    pub fn spawn_scan_worker(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            loop {
                let next = {
                    let mut scans = service
                        .inner
                        .scans
                        .lock()
                        .unwrap_or_else(|p| p.into_inner());
                    scans.queued.take().map(|id| {
                        let progress: ScanProgress = Arc::new(Mutex::new(ScanReport::queued(id)));
                        scans.running = Some(progress.clone());
                        progress
                    })
                };
                match next {
                    Some(progress) => {
                        let outcome = tokio::select! {
                            _ = shutdown.cancelled() => return,
                            outcome = service.scan_now(&progress) => outcome,
                            _ = service.publish_progress(&progress) => unreachable!("publishes until the scan ends"),
                        };
                        let report = match outcome {
                            Ok(report) => report,
                            Err(e) => {
                                tracing::error!(error = %e, "library scan failed");
                                let mut report =
                                    progress.lock().unwrap_or_else(|p| p.into_inner()).clone();
                                report.state = ScanState::Idle;
                                report.finished_at = Some(beatstream_core::Timestamp::now());
                                report.error_count += 1;
                                report.errors.push(crate::scan::ScanProblem {
                                    path: String::new(),
                                    reason:
                                        "the scan stopped on a server error; see the server log"
                                            .into(),
                                });
                                report
                            }
                        };
                        tracing::info!(
                            scan_id = %report.id, files = report.files_seen, added = report.tracks_added,
                            updated = report.tracks_updated, removed = report.tracks_removed, errors = report.error_count,
                            "library scan finished"
                        );
                        let mut scans = service
                            .inner
                            .scans
                            .lock()
                            .unwrap_or_else(|p| p.into_inner());
                        scans.running = None;
                        scans.last = Some(report);
                    }
                    None => tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = service.inner.scan_requested.notified() => {}
                    },
                }
            }
        })
    }

    /// Publishes `catalog.scan.progress` once a second while the figures change; never returns.
    async fn publish_progress(&self, progress: &ScanProgress) {
        let mut last = None;
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let event = {
                let report = progress.lock().unwrap_or_else(|p| p.into_inner());
                beatstream_events::catalog::ScanProgressed {
                    scan_id: report.id.clone(),
                    files_seen: report.files_seen,
                    tracks_added: report.tracks_added,
                    tracks_updated: report.tracks_updated,
                    tracks_removed: report.tracks_removed,
                    errors: report.error_count,
                }
            };
            if last.as_ref() == Some(&event) {
                continue;
            }
            match self.record_event(&event).await {
                Ok(()) => last = Some(event),
                Err(e) => tracing::warn!(error = %e, "could not record scan progress"),
            }
        }
    }

    /// Appends an event that goes with no table change to the outbox.
    async fn record_event<E: beatstream_events::Event>(
        &self,
        event: &E,
    ) -> Result<(), CatalogError> {
        let mut tx = self.inner.store.db().begin_write().await?;
        beatstream_events::outbox::append(&mut tx, event).await?;
        tx.commit().await?;
        self.inner.waker.wake();
        Ok(())
    }

    /// Runs one scan now, reporting through `progress` (used by the worker and `beatstream scan`).
    pub async fn scan_now(&self, progress: &ScanProgress) -> Result<ScanReport, CatalogError> {
        let scanner = Scanner {
            store: self.inner.store.clone(),
            waker: self.inner.waker.clone(),
            libraries: self.inner.settings.libraries.clone(),
            separators: self.inner.settings.separators.clone(),
            generation: self.inner.generation.clone(),
        };
        let report = scanner.run(progress).await;
        // A scan holds thousands of read files and statements at a time: give that memory back.
        beatstream_core::memory::release_freed();
        report
    }

    // ---- streaming and covers ----

    async fn location(&self, id: &str) -> Result<Location, CatalogError> {
        let key = id.to_string();
        let location = match self.inner.locations.get(&key) {
            Some(location) => location,
            None => {
                let made = self.inner.locations.generation();
                let location = self.inner.store.track_location(id).await?;
                self.inner.locations.insert(key, made, location.clone());
                location
            }
        };
        location.ok_or(CatalogError::NotFound("track"))
    }

    /// Where a live track's bytes are, with its format, size and modification time as last
    /// scanned.
    pub async fn source_of(
        &self,
        id: &str,
    ) -> Result<(Source, AudioFormat, u64, i64), CatalogError> {
        let (library, path, format, size, mtime) = self.location(id).await?;
        let format = AudioFormat::parse(&format).unwrap_or(AudioFormat::Mp3);
        let source = if library == UPLOADS_LIBRARY {
            Source::Blob {
                store: self.inner.blobs.clone(),
                key: path,
            }
        } else {
            Source::File(Path::new(&library).join(&path))
        };
        Ok((source, format, u64::try_from(size).unwrap_or(0), mtime))
    }

    /// The original file, with ranges and validators (of the file as it is now).
    pub async fn stream_original(
        &self,
        id: &str,
        request: &HeaderMap,
    ) -> Result<Response, CatalogError> {
        let (source, format, size, mtime) = self.source_of(id).await?;
        match source {
            Source::File(path) => {
                stream::respond_file(
                    path,
                    format.mime_type(),
                    "",
                    request,
                    &self.inner.recent_files,
                )
                .await
            }
            Source::Blob { store, key } => {
                let validators = Validators::new(size, mtime, "");
                stream::respond_blob(store, key, size, format.mime_type(), &validators, request)
                    .await
            }
        }
    }

    pub async fn cover(
        &self,
        album_id: &str,
        size: Option<u32>,
        request: &HeaderMap,
    ) -> Result<Response, CatalogError> {
        let size = cover::snap_size(size)?;
        let made = self.inner.thumbnails.generation();
        if let Some(size) = size {
            if let Some((etag, bytes)) = self.inner.thumbnails.get(&(album_id.to_string(), size)) {
                return Ok(cover_response(&etag, "image/jpeg", bytes, request));
            }
        }
        let (folder, track_id) = self
            .inner
            .store
            .album_cover(album_id)
            .await?
            .ok_or(CatalogError::NotFound("album"))?;
        let track_file = match &track_id {
            Some(id) => match self.inner.store.track_location(id).await? {
                Some((library, path, ..)) if library != UPLOADS_LIBRARY => {
                    Some(Path::new(&library).join(path))
                }
                _ => None,
            },
            None => None,
        };
        let folder = folder.map(PathBuf::from);
        let source = tokio::task::spawn_blocking(move || {
            cover::load_source(folder.as_deref(), track_file.as_deref())
        })
        .await
        .map_err(|e| CatalogError::Internal(format!("cover: {e}")))??;
        let (bytes, mime) = match size {
            None => match cover::sniff_mime(&source.bytes) {
                mime @ ("image/jpeg" | "image/webp") => (bytes::Bytes::from(source.bytes), mime),
                // Other formats (PNG, GIF, BMP) are re-encoded, at their own size, as JPEG.
                _ => {
                    let original = source.bytes;
                    let jpeg = tokio::task::spawn_blocking(move || {
                        cover::resize_jpeg(&original, cover::MAX_SIZE)
                    })
                    .await
                    .map_err(|e| CatalogError::Internal(format!("cover: {e}")))??;
                    (jpeg, "image/jpeg")
                }
            },
            Some(size) => {
                let key = cover::cache_key(album_id, size, &source.fingerprint);
                match self.inner.blobs.get(&key).await {
                    Ok(bytes) => (bytes, "image/jpeg"),
                    Err(_) => {
                        let original = source.bytes;
                        let resized = tokio::task::spawn_blocking(move || {
                            cover::resize_jpeg(&original, size)
                        })
                        .await
                        .map_err(|e| CatalogError::Internal(format!("cover: {e}")))??;
                        if let Err(e) = self.inner.blobs.put(&key, resized.clone()).await {
                            tracing::warn!(error = %e, "could not cache a cover");
                        }
                        (resized, "image/jpeg")
                    }
                }
            }
        };
        let etag = format!("\"{}-{}\"", source.fingerprint, size.unwrap_or(0));
        if let Some(size) = size {
            if bytes.len() <= THUMBNAIL_MAX_BYTES {
                self.inner.thumbnails.insert(
                    (album_id.to_string(), size),
                    made,
                    (etag.clone(), bytes.clone()),
                );
            }
        }
        Ok(cover_response(&etag, mime, bytes, request))
    }
}

use axum::response::IntoResponse;

fn paged<T>(rows: Vec<(T, String)>, page: &Page) -> Paged<T> {
    let more = rows.len() > page.limit as usize;
    let mut items: Vec<(T, String)> = rows;
    items.truncate(page.limit as usize);
    let next_cursor = if more {
        items
            .last()
            .map(|(_, key)| beatstream_core::page::encode_cursor(key))
    } else {
        None
    };
    Paged {
        items: items.into_iter().map(|(item, _)| item).collect(),
        next_cursor,
    }
}
