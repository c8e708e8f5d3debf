//! Library scans: walk the folders, read what changed, write it, report.
//!
//! Incremental: a file whose size and modification time are unchanged is not read again. A
//! new file that matches a vanished one (same size, title and duration) is a move and keeps the
//! vanished track's id; a removed track is only marked removed, so if its file comes back it
//! keeps its id too. Playlists and likes, which hold track ids, survive rescans.

mod covers;
mod walk;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use beatstream_core::Timestamp;
use beatstream_events::catalog::{
    NamedRef, ScanFinished, TrackAdded, TrackRemoved, TrackSummary, TrackUpdated,
};
use beatstream_events::outbox::{self, OutboxWaker};
use beatstream_events::Envelope;
use futures_util::StreamExt;
use serde::Serialize;

use crate::error::CatalogError;
use crate::model::{album_id, album_identity, artist_id};
use crate::store::{CatalogStore, IndexedFile, TrackWrite, WriteCache};
use crate::tags::{read_file, FileTags, Separators};

pub use walk::{library_name, relative, walk_library, FoundFile, WalkProblem};

/// Most problems kept in a scan report; the count is still exact.
const MAX_REPORTED_ERRORS: usize = 1000;
/// Tracks written per transaction.
const BATCH: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanState {
    Queued,
    Running,
    Idle,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanProblem {
    pub path: String,
    pub reason: String,
}

/// A scan's progress and outcome, as `GET /api/v1/library/scan` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanReport {
    pub id: String,
    pub state: ScanState,
    pub files_seen: u64,
    pub tracks_added: u64,
    pub tracks_updated: u64,
    pub tracks_removed: u64,
    pub errors: Vec<ScanProblem>,
    pub error_count: u64,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

impl ScanReport {
    pub fn queued(id: String) -> Self {
        ScanReport {
            id,
            state: ScanState::Queued,
            files_seen: 0,
            tracks_added: 0,
            tracks_updated: 0,
            tracks_removed: 0,
            errors: Vec::new(),
            error_count: 0,
            started_at: None,
            finished_at: None,
        }
    }

    fn problem(&mut self, path: String, reason: String) {
        self.error_count += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(ScanProblem { path, reason });
        }
    }
}

/// The live report, shared with whoever watches (HTTP, the progress bar).
pub type ScanProgress = Arc<Mutex<ScanReport>>;

fn update(progress: &ScanProgress, f: impl FnOnce(&mut ScanReport)) {
    let mut report = progress.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut report);
}

pub struct Scanner {
    pub store: CatalogStore,
    pub waker: OutboxWaker,
    pub libraries: Vec<PathBuf>,
    pub separators: Separators,
    /// Bumped after every write, so read caches know they are stale.
    pub generation: crate::cache::Generation,
}

/// A file read in this scan, with the id it will have.
struct ReadFile {
    found: FoundFile,
    id: String,
    existed: bool,
    tags: FileTags,
}

impl Scanner {
    /// Runs one scan to the end; progress is visible through `progress` as it goes.
    pub async fn run(&self, progress: &ScanProgress) -> Result<ScanReport, CatalogError> {
        update(progress, |r| {
            r.state = ScanState::Running;
            r.started_at = Some(Timestamp::now());
        });
        let started = std::time::Instant::now();
        // The folders are walked (on a blocking thread) while the index loads.
        let index = async { Ok::<_, CatalogError>(self.store.file_index().await?) };
        let (index, (found, image_folders)) = tokio::try_join!(index, self.walk(progress))?;
        let mut by_path: HashMap<(String, String), IndexedFile> = index
            .into_iter()
            .map(|f| ((f.library.clone(), f.path.clone()), f))
            .collect();
        tracing::debug!(elapsed = ?started.elapsed(), files = found.len(), "scan: index loaded and folders walked");
        let scanned_libraries: Vec<String> =
            self.libraries.iter().map(|l| library_name(l)).collect();

        let found_libraries: std::collections::HashSet<String> =
            found.iter().map(|f| f.library.clone()).collect();
        // Unchanged files are done; the rest are read.
        let mut to_read = Vec::new();
        for file in found {
            match by_path.remove(&(file.library.clone(), file.path.clone())) {
                Some(known)
                    if !known.removed && known.size == file.size && known.mtime == file.mtime => {}
                Some(known) => to_read.push((file, Some(known.id))),
                None => to_read.push((file, None)),
            }
        }
        // What is left of the index in the scanned folders, and live, has vanished. A library
        // folder with no audio file at all is more likely unmounted than emptied: its tracks
        // are kept, and the report says why.
        let present: std::collections::HashSet<String> = found_libraries;
        for library in &scanned_libraries {
            let known = by_path
                .values()
                .any(|f| !f.removed && &f.library == library);
            if known && !present.contains(library) {
                update(progress, |r| {
                    r.problem(
                        String::new(),
                        "a library folder is missing or holds no audio files; its tracks were kept (is a disk unmounted?)"
                            .into(),
                    )
                });
            }
        }
        let mut vanished: Vec<IndexedFile> = by_path
            .into_values()
            .filter(|f| {
                !f.removed && scanned_libraries.contains(&f.library) && present.contains(&f.library)
            })
            .collect();

        // Reading (on blocking threads), preparing and writing overlap: while one batch is
        // written, the next is prepared and the ones after it read.
        let (batches, mut incoming) = tokio::sync::mpsc::channel(1);
        let reader = tokio::spawn(read_in_batches(to_read, self.separators.clone(), batches));
        let mut touched_albums = Vec::new();
        let mut written = WriteCache::default();
        let mut writing: Option<Writing> = None;
        while let Some(read) = incoming.recv().await {
            tracing::debug!(files = read.len(), elapsed = ?started.elapsed(), "scan: batch read");
            let mut files = Vec::with_capacity(read.len());
            for (file, known_id, result) in read {
                match result {
                    Ok(tags) => {
                        let (id, existed) = match known_id {
                            Some(id) => (id, true),
                            None => match take_moved(&mut vanished, &file, &tags) {
                                Some(id) => (id, true),
                                None => (uuid::Uuid::now_v7().to_string(), false),
                            },
                        };
                        files.push(ReadFile {
                            found: file,
                            id,
                            existed,
                            tags,
                        });
                    }
                    Err(reason) => update(progress, |r| r.problem(file.path.clone(), reason)),
                }
            }
            if files.is_empty() {
                continue;
            }
            let batch = prepare_batch(&files, &mut touched_albums)?;
            drop(files);
            if let Some(previous) = writing.take() {
                written = finished(previous).await?;
            }
            let writer = BatchWriter {
                store: self.store.clone(),
                waker: self.waker.clone(),
                generation: self.generation.clone(),
            };
            writing = Some(Writing(tokio::spawn(writer.write(
                batch,
                std::mem::take(&mut written),
                progress.clone(),
            ))));
        }
        if let Some(last) = writing.take() {
            finished(last).await?;
        }
        reader
            .await
            .map_err(|e| CatalogError::Internal(format!("reading files: {e}")))?;
        tracing::debug!(elapsed = ?started.elapsed(), "scan: changed files read and written");

        if !vanished.is_empty() {
            let ids: Vec<String> = vanished.iter().map(|f| f.id.clone()).collect();
            let mut tx = self.store.db().begin_write().await?;
            CatalogStore::mark_removed(&mut tx, &ids, Timestamp::now()).await?;
            for id in &ids {
                outbox::append(
                    &mut tx,
                    &TrackRemoved {
                        track_id: id.clone(),
                    },
                )
                .await?;
            }
            tx.commit().await?;
            self.waker.wake();
            update(progress, |r| r.tracks_removed += ids.len() as u64);
        }

        touched_albums.sort();
        touched_albums.dedup();
        tracing::debug!(elapsed = ?started.elapsed(), "scan: tracks written");
        self.store.refresh_aggregates().await?;
        self.generation.bump();
        tracing::debug!(elapsed = ?started.elapsed(), "scan: albums and artists recounted");
        covers::find_covers(&self.store, &touched_albums, &image_folders).await?;
        self.generation.bump();
        tracing::debug!(elapsed = ?started.elapsed(), "scan: covers found");

        let report = {
            let mut report = progress.lock().unwrap_or_else(|p| p.into_inner());
            report.state = ScanState::Idle;
            report.finished_at = Some(Timestamp::now());
            report.clone()
        };
        let mut tx = self.store.db().begin_write().await?;
        self.store.save_scan(&mut tx, &report).await?;
        outbox::append(
            &mut tx,
            &ScanFinished {
                scan_id: report.id.clone(),
                files_seen: report.files_seen,
                tracks_added: report.tracks_added,
                tracks_updated: report.tracks_updated,
                tracks_removed: report.tracks_removed,
                errors: report.error_count,
            },
        )
        .await?;
        tx.commit().await?;
        self.waker.wake();
        Ok(report)
    }

    /// The audio files of every library, and the folders holding a file named as a folder
    /// image ([`covers::folder_key`]).
    async fn walk(
        &self,
        progress: &ScanProgress,
    ) -> Result<(Vec<FoundFile>, HashSet<PathBuf>), CatalogError> {
        let libraries = self.libraries.clone();
        let progress = progress.clone();
        tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            let mut image_folders = HashSet::new();
            for library in &libraries {
                let mut problems = Vec::new();
                walk::walk_library_noting_covers(
                    library,
                    &mut |file| {
                        found.push(file);
                        if found.len() % 256 == 0 {
                            let seen = found.len() as u64;
                            update(&progress, |r| r.files_seen = seen);
                        }
                    },
                    &mut |image| {
                        if let Some(folder) = image.parent() {
                            image_folders.insert(covers::folder_key(folder));
                        }
                    },
                    &mut problems,
                );
                for problem in problems {
                    update(&progress, |r| r.problem(problem.path, problem.reason));
                }
            }
            let seen = found.len() as u64;
            update(&progress, |r| r.files_seen = seen);
            (found, image_folders)
        })
        .await
        .map_err(|e| CatalogError::Internal(format!("walking the library: {e}")))
    }
}

/// A batch's rows (with whether each track is new) and their events, ready to write.
struct PreparedBatch {
    rows: Vec<(TrackWrite, bool)>,
    envelopes: Vec<Envelope>,
}

/// The rows and events of a batch of read files; notes the albums they touch.
fn prepare_batch(
    files: &[ReadFile],
    touched_albums: &mut Vec<String>,
) -> Result<PreparedBatch, CatalogError> {
    let rows: Vec<(TrackWrite, bool)> = files
        .iter()
        .map(|f| (track_write(&f.found, &f.id, &f.tags), !f.existed))
        .collect();
    let mut envelopes = Vec::with_capacity(rows.len());
    for (write, fresh) in &rows {
        let track = summary_of(write);
        let envelope = if *fresh {
            Envelope::new(&TrackAdded { track })
        } else {
            Envelope::new(&TrackUpdated { track })
        };
        envelopes.push(envelope.map_err(beatstream_events::outbox::OutboxError::from)?);
        touched_albums.push(write.album_id.clone());
    }
    Ok(PreparedBatch { rows, envelopes })
}

/// A batch being written, which hands back the artists and albums written so far. Dropping
/// it (the scan was stopped, or failed) aborts the write: its transaction rolls back, as when
/// the scan wrote each batch itself.
struct Writing(tokio::task::JoinHandle<Result<WriteCache, CatalogError>>);

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn finished(mut writing: Writing) -> Result<WriteCache, CatalogError> {
    (&mut writing.0)
        .await
        .map_err(|e| CatalogError::Internal(format!("writing a batch: {e}")))?
}

/// What writing a batch needs, owned, so that it runs as a task of its own.
struct BatchWriter {
    store: CatalogStore,
    waker: OutboxWaker,
    generation: crate::cache::Generation,
}

impl BatchWriter {
    /// Writes one batch with its events, in one transaction.
    async fn write(
        self,
        batch: PreparedBatch,
        mut written: WriteCache,
        progress: ScanProgress,
    ) -> Result<WriteCache, CatalogError> {
        let PreparedBatch { rows, envelopes } = batch;
        let started = std::time::Instant::now();
        let mut tx = self.store.db().begin_write().await?;
        CatalogStore::write_tracks(&mut tx, &rows, Timestamp::now(), &mut written).await?;
        outbox::append_all(&mut tx, &envelopes).await?;
        tx.commit().await?;
        tracing::debug!(tracks = rows.len(), elapsed = ?started.elapsed(), "scan: batch written");
        self.generation.bump();
        self.waker.wake();
        let added = rows.iter().filter(|(_, fresh)| *fresh).count() as u64;
        let updated = rows.len() as u64 - added;
        update(&progress, |r| {
            r.tracks_added += added;
            r.tracks_updated += updated;
        });
        Ok(written)
    }
}

/// A track's row from its file and tags: titles and artists fall back to the path and
/// "Unknown ...", the album is found from its album artists (or "Various Artists" for a
/// compilation, or the first track artist) and title, or its MusicBrainz release.
pub fn track_write(found: &FoundFile, id: &str, tags: &FileTags) -> TrackWrite {
    let stem = std::path::Path::new(&found.path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| found.path.clone());
    let title = tags.title.clone().unwrap_or(stem);
    let artists = if tags.artists.is_empty() {
        vec!["Unknown Artist".to_string()]
    } else {
        tags.artists.clone()
    };
    let album_title = tags
        .album
        .clone()
        .unwrap_or_else(|| "Unknown Album".to_string());
    let album_artists = if !tags.album_artists.is_empty() {
        tags.album_artists.clone()
    } else if tags.compilation {
        vec!["Various Artists".to_string()]
    } else {
        artists[..1].to_vec()
    };
    let identity = album_identity(&album_title, &album_artists, tags.mb_album_id.as_deref());
    let format = tags
        .format
        .or_else(|| {
            std::path::Path::new(&found.path)
                .extension()
                .and_then(|e| e.to_str())
                .and_then(crate::format::AudioFormat::from_extension)
        })
        .map(|f| f.as_str())
        .unwrap_or("mp3");
    TrackWrite {
        id: id.to_string(),
        library: found.library.clone(),
        path: found.path.clone(),
        size: found.size,
        mtime: found.mtime,
        title,
        album_id: album_id(&identity),
        album_title,
        album_artists: album_artists
            .iter()
            .map(|a| (artist_id(a), a.clone()))
            .collect(),
        artists: artists.iter().map(|a| (artist_id(a), a.clone())).collect(),
        compilation: tags.compilation,
        tags: tags.clone(),
        format: format.to_string(),
    }
}

type ReadResult = (FoundFile, Option<String>, Result<FileTags, String>);

/// Files one trip to a blocking thread reads: enough that the hand-offs (a wake-up and a thread
/// switch each) cost little next to the reading, few enough that the threads share a batch
/// evenly.
const READ_RUN: usize = 25;

/// Reads files on blocking threads, two runs at a time per core, and sends them on in batches.
async fn read_in_batches(
    files: Vec<(FoundFile, Option<String>)>,
    separators: Separators,
    batches: tokio::sync::mpsc::Sender<Vec<ReadResult>>,
) {
    let parallel = blocking_parallelism();
    let separators = Arc::new(separators);
    for batch in shares(files, BATCH) {
        let read: Vec<ReadResult> = futures_util::stream::iter(shares(batch, READ_RUN))
            .map(|run| {
                let separators = separators.clone();
                tokio::task::spawn_blocking(move || read_run(run, &separators))
            })
            .buffer_unordered(parallel)
            .filter_map(|done| async move {
                // A run fails to join only when the runtime shuts down (panics are caught per
                // file): its files are left for the next scan.
                done.map_err(|e| tracing::warn!(error = %e, "scan: a read run failed"))
                    .ok()
            })
            .flat_map(futures_util::stream::iter)
            .collect()
            .await;
        if batches.send(read).await.is_err() {
            return;
        }
    }
}

/// Blocking threads a scan keeps busy at once: two per core.
fn blocking_parallelism() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(2)
        * 2
}

/// `items` in order, in shares of up to `size`.
fn shares<T>(items: impl IntoIterator<Item = T>, size: usize) -> Vec<Vec<T>> {
    let mut items = items.into_iter().peekable();
    let mut shares = Vec::new();
    while items.peek().is_some() {
        shares.push(items.by_ref().take(size).collect());
    }
    shares
}

/// Reads a run of files. A tag reader that panics on a file fails that file only.
fn read_run(run: Vec<(FoundFile, Option<String>)>, separators: &Separators) -> Vec<ReadResult> {
    run.into_iter()
        .map(|(file, known)| {
            let reading = std::panic::AssertUnwindSafe(|| read_file(&file.absolute, separators));
            let result = match std::panic::catch_unwind(reading) {
                Ok(read) => read.map_err(|e| e.to_string()),
                Err(_) => Err("reading failed: the tag reader crashed on this file".to_string()),
            };
            (file, known, result)
        })
        .collect()
}

/// A vanished file this new file is (same size, title and duration): its id, taken.
fn take_moved(
    vanished: &mut Vec<IndexedFile>,
    file: &FoundFile,
    tags: &FileTags,
) -> Option<String> {
    let title = tags.title.clone().unwrap_or_default();
    let position = vanished.iter().position(|v| {
        v.size == file.size
            && (v.duration_ms - tags.duration_ms).abs() < 1000
            && (title.is_empty() || v.title == title)
    })?;
    Some(vanished.swap_remove(position).id)
}

pub fn summary_of(write: &TrackWrite) -> TrackSummary {
    let named = |(id, name): &(String, String)| NamedRef {
        id: id.clone(),
        name: name.clone(),
    };
    TrackSummary {
        track_id: write.id.clone(),
        title: write.title.clone(),
        artists: write.artists.iter().map(named).collect(),
        album: NamedRef {
            id: write.album_id.clone(),
            name: write.album_title.clone(),
        },
        album_artists: write.album_artists.iter().map(named).collect(),
        genres: write.tags.genres.clone(),
        year: write.tags.year,
        track_number: write.tags.track_number,
        disc_number: write.tags.disc_number,
        duration_ms: write.tags.duration_ms,
        format: write.format.clone(),
        bitrate_kbps: write.tags.bitrate_kbps,
        path: write.path.clone(),
    }
}
