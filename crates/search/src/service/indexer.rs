//! Keeping the index in step with the read models: the changes recorded since the index's last
//! commit are applied in batches (one commit each, so a change is searchable within a fraction
//! of a second), and a rebuild writes a new generation from the whole read model while the old
//! one keeps answering.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beatstream_core::Timestamp;
use beatstream_db::jobs;
use tantivy::{IndexWriter, TantivyDocument, Term};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::SearchService;
use crate::documents::{self, Entry, Gathered, Gatherer};
use crate::error::SearchError;
use crate::index::{Generation, Payload};
use crate::schema::{Fields, Kind, SCHEMA_VERSION};
use crate::store::{DocRef, SearchStore, CHANGES_LOCK};

/// Changes applied per commit.
const BATCH: i64 = 2_000;
/// The writer that applies changes: one thread (tantivy's minimum budget is 15 MB a thread).
const LIVE_WRITER_BYTES: usize = 32 << 20;
/// A rebuild's writer: more memory makes fewer segments to merge at the end, but the memory
/// stays with the process (the allocator keeps it) until it restarts.
const REBUILD_THREADS: usize = 2;
const REBUILD_WRITER_BYTES: usize = 128 << 20;
const REBUILD_PAGE: i64 = 5_000;
/// After a wake-up, let a burst of events land so they share a commit.
const GATHER: Duration = Duration::from_millis(20);
/// Under a steady stream of changes, rounds start at most this often: each commit starts a new
/// segment (tantivy clears a few megabytes of hash table for it), so committing back to back
/// would spend on segments what the changes' requests need.
const MIN_ROUND_INTERVAL: Duration = Duration::from_millis(250);
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// Filling the read model from the catalog, done once (and again on every explicit reindex).
const BACKFILL_JOB: &str = "tracks from the catalog";

/// The writer of the generation in use.
pub struct LiveWriter {
    generation: String,
    writer: Arc<Mutex<IndexWriter>>,
}

/// The indexer's task.
pub type IndexerHandle = JoinHandle<()>;

fn lock(writer: &Mutex<IndexWriter>) -> std::sync::MutexGuard<'_, IndexWriter> {
    writer
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn blocking_error(e: tokio::task::JoinError) -> SearchError {
    SearchError::Index(crate::index::IndexError::Task(e.to_string()))
}

impl SearchService {
    /// Starts the task that keeps the index current (and rebuilds it at start when it is
    /// missing, unreadable, of an older schema, or was never filled from the catalog).
    pub fn spawn_indexer(&self, shutdown: CancellationToken) -> IndexerHandle {
        let service = self.clone();
        beatstream_core::runtimes::spawn_background(async move {
            match service.needs_rebuild().await {
                Ok(Some(reason)) => {
                    tracing::info!(reason, "search: rebuilding the index");
                    service
                        .inner
                        .rebuild_requested
                        .store(true, Ordering::Release);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "search: could not check the index"),
            }
            loop {
                let round = tokio::time::Instant::now();
                if let Err(e) = service.index_pending().await {
                    tracing::warn!(error = %e, "search: indexing failed; retrying");
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = service.inner.changed.notified() => {
                        let next = (round + MIN_ROUND_INTERVAL).max(tokio::time::Instant::now() + GATHER);
                        tokio::time::sleep_until(next).await
                    }
                    _ = tokio::time::sleep(IDLE_CHECK) => {}
                }
            }
        })
    }

    /// Why the index must be rebuilt before it can be trusted, if it must.
    pub async fn needs_rebuild(&self) -> Result<Option<&'static str>, SearchError> {
        Ok(match self.inner.index.current() {
            None => Some("there is no readable index"),
            Some(g) if !g.is_current_schema() => Some("the index has an older schema"),
            Some(_) if !jobs::is_done(self.inner.store.db().pool(), BACKFILL_JOB).await? => {
                Some("the catalog has not been read yet")
            }
            Some(_) => None,
        })
    }

    /// One round of the indexer: a requested rebuild, then every recorded change.
    pub async fn index_pending(&self) -> Result<(), SearchError> {
        let mut writer = self.inner.writer.lock().await;
        let requests = self.inner.store.pending_reindex().await?;
        if !requests.is_empty() || self.inner.rebuild_requested.swap(false, Ordering::AcqRel) {
            *writer = None;
            let documents = self.rebuild().await?;
            self.inner
                .store
                .finish_reindex(&requests, documents)
                .await?;
        }
        while self.apply_changes(&mut writer).await? == BATCH as usize {}
        Ok(())
    }

    async fn apply_changes(&self, writer: &mut Option<LiveWriter>) -> Result<usize, SearchError> {
        let Some(generation) = self.inner.index.current() else {
            return Ok(0);
        };
        let Some(fields) = generation
            .fields
            .clone()
            .filter(|_| generation.is_current_schema())
        else {
            return Ok(0);
        };
        let applied = self.inner.applied.load(Ordering::Acquire);
        let changes = self.inner.store.changes_after(applied, BATCH).await?;
        let Some(&(last, _)) = changes.last() else {
            return Ok(0);
        };
        let mut seen = HashSet::new();
        let mut docs: Vec<(String, Option<TantivyDocument>)> = Vec::new();
        for (_, doc) in &changes {
            if seen.insert(doc.clone()) {
                let entry = self.load_entry(doc).await?;
                docs.push((
                    doc.kind.key(&doc.id),
                    entry.map(|e| e.into_document(&fields)),
                ));
            }
        }
        let live = match writer {
            Some(live) if live.generation == generation.name => live,
            _ => writer.insert(LiveWriter {
                generation: generation.name.clone(),
                writer: Arc::new(Mutex::new(
                    generation
                        .index
                        .writer_with_num_threads(1, LIVE_WRITER_BYTES)?,
                )),
            }),
        };
        let index_writer = live.writer.clone();
        let committed = generation.clone();
        tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
            let mut w = lock(&index_writer);
            for (key, doc) in docs {
                w.delete_term(Term::from_field_text(fields.key, &key));
                if let Some(doc) = doc {
                    w.add_document(doc)?;
                }
            }
            commit(&mut w, last)?;
            committed.reader.reload()?;
            Ok(())
        })
        .await
        .map_err(blocking_error)??;
        self.inner.applied.store(last, Ordering::Release);
        self.inner.store.prune_changes(last).await?;
        Ok(changes.len())
    }

    /// The entry as the read models describe it now; `None` if it is gone.
    async fn load_entry(&self, doc: &DocRef) -> Result<Option<Entry>, SearchError> {
        let store = &self.inner.store;
        Ok(match doc.kind {
            Kind::Track => store
                .track(&doc.id)
                .await?
                .map(|(track, plays)| documents::track(&track, plays)),
            Kind::Album => {
                let tracks = store.album_tracks(&doc.id).await?;
                let mut album = Gathered::default();
                for (track, plays) in &tracks {
                    album.add_to_album(track, *plays);
                }
                (!tracks.is_empty()).then(|| album.album_entry())
            }
            Kind::Artist => {
                let tracks = store.artist_tracks(&doc.id).await?;
                let mut artist = Gathered::default();
                for (track, plays) in &tracks {
                    if let Some(named) = documents::artists_of(track)
                        .into_iter()
                        .find(|a| a.id == doc.id)
                    {
                        artist.add_to_artist(named, track, *plays);
                    }
                }
                (artist.track_count > 0).then(|| artist.artist_entry())
            }
            Kind::Playlist => store
                .playlist(&doc.id)
                .await?
                .map(|p| documents::playlist(&p)),
        })
    }

    /// Fills the read model with the catalog's tracks it lacks (a catalog older than this
    /// service, or events lost with a broker). Events stay the source of changes: a track
    /// already known is left as its last event described it.
    pub async fn backfill_from_catalog(&self) -> Result<u64, SearchError> {
        let mut after = String::new();
        let mut added = 0;
        loop {
            let page = self
                .inner
                .directory
                .page(&after, 1_000)
                .await
                .map_err(SearchError::Directory)?;
            let Some(last) = page.last() else { break };
            after = last.track_id.clone();
            let mut tx = self.inner.store.db().begin_serialized(CHANGES_LOCK).await?;
            for track in &page {
                if !SearchStore::upsert_track(&mut tx, track, "")
                    .await?
                    .is_empty()
                {
                    added += 1;
                }
            }
            tx.commit().await?;
        }
        let mut tx = self.inner.store.db().begin_write().await?;
        jobs::mark_done(&mut tx, BACKFILL_JOB, Timestamp::now().millis()).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Writes a new generation from the read models (after filling them from the catalog) and
    /// switches to it. Returns the number of documents.
    pub async fn rebuild(&self) -> Result<u64, SearchError> {
        self.inner.rebuilding.store(true, Ordering::Release);
        let result = self.rebuild_generation().await;
        self.inner.rebuilding.store(false, Ordering::Release);
        // The rebuild's writer threads freed hundreds of MB: give them back.
        beatstream_core::memory::release_freed();
        result
    }

    async fn rebuild_generation(&self) -> Result<u64, SearchError> {
        let started = std::time::Instant::now();
        let filled = self.backfill_from_catalog().await?;
        // Changes recorded from here on are applied to the new generation after the switch
        // (some twice, which rebuilds the same entry).
        let since = self.inner.store.last_change().await?;
        let (name, index, fields) = self.inner.index.create()?;
        let writer = index.writer_with_num_threads(REBUILD_THREADS, REBUILD_WRITER_BYTES)?;
        // The build ends with one merge of everything; background merges meanwhile would only
        // race with it (a segment merged away cannot be merged again).
        writer.set_merge_policy(Box::new(tantivy::merge_policy::NoMergePolicy));
        let mut build = Build {
            writer,
            fields,
            gatherer: Gatherer::default(),
            documents: 0,
        };
        let mut after = String::new();
        loop {
            let (page, next) = self.inner.store.tracks_page(&after, REBUILD_PAGE).await?;
            let Some(next) = next else { break };
            after = next;
            let mut b = build;
            build = tokio::task::spawn_blocking(move || -> Result<Build, SearchError> {
                for (track, plays) in &page {
                    b.add(documents::track(track, *plays))?;
                    b.gatherer.add(track, *plays);
                }
                Ok(b)
            })
            .await
            .map_err(blocking_error)??;
        }
        let mut playlists = Vec::new();
        let mut after = String::new();
        loop {
            let page = self
                .inner
                .store
                .playlists_page(&after, REBUILD_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.playlist_id.clone();
            playlists.extend(page);
        }
        let documents = tokio::task::spawn_blocking(move || -> Result<u64, SearchError> {
            let mut b = build;
            let gatherer = std::mem::take(&mut b.gatherer);
            for album in gatherer.albums.values() {
                b.add(album.album_entry())?;
            }
            for artist in gatherer.artists.values() {
                b.add(artist.artist_entry())?;
            }
            for playlist in &playlists {
                b.add(documents::playlist(playlist))?;
            }
            commit(&mut b.writer, since)?;
            // One segment: a query then looks each of its terms up once, not once per
            // segment, and ranks the most played of the whole index first.
            let segments = b.writer.index().searchable_segment_ids()?;
            if segments.len() > 1 {
                b.writer.merge(&segments).wait()?;
            }
            let documents = b.documents;
            b.writer.wait_merging_threads()?;
            Ok(documents)
        })
        .await
        .map_err(blocking_error)??;
        let generation: Arc<Generation> = self.inner.index.switch_to(&name)?;
        self.inner.applied.store(since, Ordering::Release);
        tracing::info!(
            documents,
            tracks_filled_from_catalog = filled,
            index = %generation.name,
            seconds = started.elapsed().as_secs_f64(),
            "search: index rebuilt"
        );
        Ok(documents)
    }
}

struct Build {
    writer: IndexWriter,
    fields: Fields,
    gatherer: Gatherer,
    documents: u64,
}

impl Build {
    fn add(&mut self, entry: Entry) -> Result<(), SearchError> {
        self.writer
            .add_document(entry.into_document(&self.fields))?;
        self.documents += 1;
        Ok(())
    }
}

fn commit(writer: &mut IndexWriter, applied: i64) -> Result<(), SearchError> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(
        &Payload {
            schema: SCHEMA_VERSION,
            applied,
        }
        .to_json(),
    );
    prepared.commit()?;
    Ok(())
}
