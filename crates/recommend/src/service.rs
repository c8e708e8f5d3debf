//! The recommendations service: applies events to its tables, retrains the model in the
//! background when signals changed (never blocking a request: the old model serves until the
//! new one is swapped in), and answers a listener's recommendations and a track's radio from
//! the current model and the listener's signals as of the request.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use beatstream_core::{Timestamp, UserId};
use beatstream_db::jobs;
use beatstream_events::catalog::{TrackAdded, TrackRemoved, TrackSummary, TrackUpdated};
use beatstream_events::directory::TrackDirectory;
use beatstream_events::inbox;
use beatstream_events::library::{TrackLiked, TrackPlayed};
use beatstream_events::playlists::{PlaylistChanged, PlaylistDeleted};
use beatstream_events::users::PreferencesChanged;
use beatstream_events::{Envelope, Event};
use serde_json::{json, Value};
use sqlx::AnyConnection;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::RecommendError;
use crate::items::{ItemMeta, Items};
use crate::model::{
    recency_weighted, Model, ModelParams, ModelStats, Pick, Reason, Taste, TrainingData,
};
use crate::sparse::Csr;
use crate::store::{Listen, Profile, RecommendStore, Snapshot};

pub const CONSUMER: &str = "recommendations";

pub const TOPICS: [&str; 8] = [
    TrackAdded::TOPIC,
    TrackUpdated::TOPIC,
    TrackRemoved::TOPIC,
    TrackPlayed::TOPIC,
    TrackLiked::TOPIC,
    PlaylistChanged::TOPIC,
    PlaylistDeleted::TOPIC,
    PreferencesChanged::TOPIC,
];

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;
pub const DEFAULT_RADIO_LIMIT: usize = 50;
pub const MAX_RADIO_LIMIT: usize = 200;

/// Tracks played within this window are not recommended again.
const RECENT: Duration = Duration::from_secs(48 * 3600);

#[derive(Debug, Clone, Copy)]
pub struct RecommendSettings {
    /// The shortest time between two trainings (a training also waits twenty times as long as
    /// the last one took, so a large model is not retrained back to back).
    pub min_retrain_interval: Duration,
    /// Retrain at least this often even without local events (other instances may have
    /// consumed them).
    pub max_retrain_interval: Duration,
    pub params: ModelParams,
}

impl Default for RecommendSettings {
    fn default() -> Self {
        RecommendSettings {
            min_retrain_interval: Duration::from_secs(5),
            max_retrain_interval: Duration::from_secs(3600),
            params: ModelParams::default(),
        }
    }
}

#[derive(Clone)]
pub struct RecommendService {
    inner: Arc<Inner>,
}

struct Inner {
    store: RecommendStore,
    model: RwLock<Arc<Model>>,
    /// Signals changed since the model was trained.
    dirty: AtomicBool,
    settings: RecommendSettings,
}

/// One recommendation as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recommendation {
    pub track: Value,
    /// Why, in words.
    pub reason: String,
    /// Why, for programs: `{kind, ...}`.
    pub because: Value,
}

/// A strength of preference from a listener's row and their playlists (0 or less: none).
pub fn strength(listen: Option<&Listen>, in_own_playlists: bool) -> f32 {
    let mut s = 0.0;
    if let Some(l) = listen {
        s += (1.0 + l.plays.max(0) as f32).ln() * 1.5;
        if l.liked {
            s += 2.0;
        }
        s -= 0.5 * l.skips.max(0) as f32;
    }
    if in_own_playlists {
        s += 1.5;
    }
    s
}

/// A listener's positive strengths `(track, strength, last played)` from their rows and the
/// tracks of their playlists (a playlist track never played counts as played never).
fn listener_strengths<'a>(
    listens: impl IntoIterator<Item = &'a Listen>,
    listed: &HashSet<&'a str>,
) -> Vec<(&'a str, f32, i64)> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for listen in listens {
        seen.insert(&listen.track_id);
        let s = strength(Some(listen), listed.contains(listen.track_id.as_str()));
        if s > 0.0 {
            out.push((
                listen.track_id.as_str(),
                s,
                listen.last_played_at.unwrap_or(0),
            ));
        }
    }
    for &track in listed {
        if !seen.contains(track) {
            out.push((track, strength(None, true), 0));
        }
    }
    out
}

/// Skipped more than played through, twice or more, and not liked.
pub fn disliked(listen: &Listen) -> bool {
    listen.skips >= 2 && listen.skips > listen.plays && !listen.liked
}

pub fn item_meta(track: &TrackSummary) -> ItemMeta {
    let artists = if track.artists.is_empty() {
        &track.album_artists
    } else {
        &track.artists
    };
    ItemMeta {
        id: track.track_id.clone(),
        artists: artists
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect(),
        album: (!track.album.id.is_empty()).then(|| track.album.id.clone()),
        genres: track.genres.clone(),
        year: track.year,
    }
}

/// Numbers the snapshot's tracks and listeners into what the model trains on. Private
/// playlists are left out of training altogether: they count for their owner's own taste at
/// request time, and nothing in them reaches anyone else's recommendations or reasons.
pub fn training_data(snapshot: &Snapshot) -> TrainingData {
    let mut items = Items::default();
    for track in &snapshot.tracks {
        items.push(item_meta(track));
    }
    // Each listener's rows, and the tracks of their public playlists (in a stable order, so a
    // training is repeatable).
    let mut listeners: BTreeMap<&str, (Vec<&Listen>, HashSet<&str>)> = BTreeMap::new();
    for listen in &snapshot.listens {
        listeners.entry(&listen.user_id).or_default().0.push(listen);
    }
    let mut baskets = Vec::new();
    for (owner, _, tracks) in snapshot.playlists.iter().filter(|p| p.1) {
        let listed = &mut listeners.entry(owner).or_default().1;
        listed.extend(tracks.iter().map(String::as_str));
        let known: Vec<(u32, f32)> = tracks
            .iter()
            .filter_map(|t| items.index_of(t))
            .map(|i| (i, 1.0))
            .collect();
        if known.len() >= 2 {
            baskets.push(known);
        }
    }
    let rows: Vec<Vec<(u32, f32)>> = listeners
        .values()
        .map(|(listens, listed)| {
            listener_strengths(listens.iter().copied(), listed)
                .into_iter()
                .filter_map(|(track, s, _)| items.index_of(track).map(|i| (i, s)))
                .collect()
        })
        .collect();
    let n = items.len();
    let user_items = Csr::from_rows(rows, n);
    TrainingData {
        items,
        user_items,
        baskets: Csr::from_rows(baskets, n),
    }
}

impl RecommendService {
    pub fn new(store: RecommendStore, settings: RecommendSettings) -> Self {
        RecommendService {
            inner: Arc::new(Inner {
                store,
                model: RwLock::new(Arc::new(Model::empty())),
                dirty: AtomicBool::new(true),
                settings,
            }),
        }
    }

    pub fn store(&self) -> &RecommendStore {
        &self.inner.store
    }

    pub fn model(&self) -> Arc<Model> {
        match self.inner.model.read() {
            Ok(model) => model.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn stats(&self) -> ModelStats {
        self.model().stats.clone()
    }

    /// Trains a model on everything recorded now and puts it in service.
    pub async fn retrain(&self) -> Result<ModelStats, RecommendError> {
        self.inner.dirty.store(false, Ordering::SeqCst);
        let snapshot = match self.inner.store.snapshot().await {
            Ok(s) => s,
            Err(e) => {
                self.inner.dirty.store(true, Ordering::SeqCst);
                return Err(e.into());
            }
        };
        let params = self.inner.settings.params;
        let model =
            tokio::task::spawn_blocking(move || Model::train(training_data(&snapshot), params))
                .await
                .map_err(|e| RecommendError::Training(e.to_string()))?;
        let stats = model.stats.clone();
        let model = Arc::new(model);
        let replaced = match self.inner.model.write() {
            Ok(mut slot) => std::mem::replace(&mut *slot, model),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), model),
        };
        // Training read the whole catalog into temporary structures: give that memory back.
        drop(replaced);
        beatstream_core::memory::release_freed();
        Ok(stats)
    }

    /// Retrains in the background: at start, then whenever signals changed and the last
    /// training is old enough.
    pub fn spawn_trainer(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        let service = self.clone();
        beatstream_core::runtimes::spawn_background(async move {
            let mut last: Option<(Instant, Duration)> = None;
            loop {
                let settings = service.inner.settings;
                let due = match last {
                    None => true,
                    Some((at, took)) => {
                        let wait = settings.min_retrain_interval.max(took * 20);
                        let elapsed = at.elapsed();
                        (service.inner.dirty.load(Ordering::SeqCst) && elapsed >= wait)
                            || elapsed >= settings.max_retrain_interval
                    }
                };
                if due {
                    let started = Instant::now();
                    match service.retrain().await {
                        Ok(stats) => tracing::debug!(
                            tracks = stats.tracks,
                            listeners = stats.listeners,
                            ms = stats.train_ms,
                            "recommendations: model trained"
                        ),
                        Err(e) => {
                            tracing::warn!(error = %e, "recommendations: training failed")
                        }
                    }
                    last = Some((Instant::now(), started.elapsed()));
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        })
    }

    /// Fills the track read model from the catalog once, for a catalog older than this
    /// service (what events said is never replaced). Returns how many tracks it read.
    pub async fn backfill_tracks(
        &self,
        directory: &dyn TrackDirectory,
    ) -> Result<u64, RecommendError> {
        const JOB: &str = "tracks from the catalog";
        let store = &self.inner.store;
        if jobs::is_done(store.db().pool(), JOB).await? {
            return Ok(0);
        }
        let mut after = String::new();
        let mut read = 0;
        loop {
            let page = directory
                .page(&after, 500)
                .await
                .map_err(RecommendError::Directory)?;
            let Some(last) = page.last() else { break };
            after = last.track_id.clone();
            let mut tx = store.db().begin_write().await?;
            for summary in &page {
                RecommendStore::upsert_track(&mut tx, summary, "").await?;
            }
            tx.commit().await?;
            read += page.len() as u64;
        }
        let mut tx = store.db().begin_write().await?;
        jobs::mark_done(&mut tx, JOB, Timestamp::now().millis()).await?;
        tx.commit().await?;
        self.inner.dirty.store(true, Ordering::SeqCst);
        Ok(read)
    }

    /// Applies one event (see [`RecommendService::apply_events`]).
    pub async fn apply_event(&self, envelope: &Envelope) -> Result<(), RecommendError> {
        self.apply_events(std::slice::from_ref(envelope)).await
    }

    /// Applies events in order, in one transaction: all of them or none. An event already
    /// applied is skipped.
    pub async fn apply_events(&self, envelopes: &[Envelope]) -> Result<(), RecommendError> {
        let mut tx = self.inner.store.db().begin_write().await?;
        let ids: Vec<&str> = envelopes.iter().map(|e| e.id.as_str()).collect();
        let mut first = inbox::first_deliveries(&mut tx, CONSUMER, &ids).await?;
        // Playlist changes wait to be applied playlist by playlist (see
        // `RecommendStore::apply_playlist_changes`) until an event of another topic comes.
        let mut changes: Vec<PlaylistChanged> = Vec::new();
        for envelope in envelopes {
            if !first.remove(&envelope.id) {
                continue;
            }
            if envelope.topic == PlaylistChanged::TOPIC {
                match envelope.decode::<PlaylistChanged>() {
                    Ok(change) => changes.push(change),
                    Err(e) => skip(envelope, &e)?,
                }
                continue;
            }
            apply_playlist_changes(&mut tx, &mut changes).await?;
            apply(&mut tx, envelope).await?;
        }
        apply_playlist_changes(&mut tx, &mut changes).await?;
        tx.commit().await?;
        self.inner.dirty.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// The listener's taste as of now, against `model`'s numbering.
    /// Recent tracks count more (see [`recency_weighted`]).
    fn taste(model: &Model, profile: &Profile, now: Timestamp, half_life: f32) -> Taste {
        let items = &model.items;
        let listed: HashSet<&str> = profile.playlist_tracks.iter().map(String::as_str).collect();
        let mut taste = Taste::default();
        let recent_since = now.millis() - RECENT.as_millis() as i64;
        for listen in &profile.listens {
            let recent = listen.last_played_at.is_some_and(|at| at >= recent_since);
            if disliked(listen) || recent {
                if let Some(item) = items.index_of(&listen.track_id) {
                    taste.exclude.insert(item);
                }
            }
        }
        let timed: Vec<(u32, f32, i64)> = listener_strengths(&profile.listens, &listed)
            .into_iter()
            .filter_map(|(track, s, at)| items.index_of(track).map(|i| (i, s, at)))
            .collect();
        taste.history = recency_weighted(timed, half_life);
        taste.favorite_artists = profile
            .favorite_artists
            .iter()
            .filter_map(|a| items.artist(a))
            .collect();
        taste.favorite_genres = profile
            .favorite_genres
            .iter()
            .filter_map(|g| items.genre(g))
            .collect();
        taste
    }

    /// Up to `limit` tracks for the listener, best first, each with its reason.
    pub async fn recommendations(
        &self,
        user: &UserId,
        limit: usize,
    ) -> Result<Vec<Recommendation>, RecommendError> {
        let model = self.model();
        let profile = self.inner.store.profile(user.as_str()).await?;
        let mut taste = Self::taste(
            &model,
            &profile,
            Timestamp::now(),
            self.inner.settings.params.recency_half_life,
        );
        // Tracks removed since the model was trained are asked for again without them.
        let mut picks = Vec::new();
        let mut tracks = HashMap::new();
        for _ in 0..3 {
            picks = model.recommend(&taste, limit);
            let ids: Vec<String> = picks
                .iter()
                .map(|p| model.items.ids[p.item as usize].clone())
                .collect();
            tracks = self.inner.store.tracks(&ids, true).await?;
            let gone: Vec<u32> = picks
                .iter()
                .filter(|p| !tracks.contains_key(&model.items.ids[p.item as usize]))
                .map(|p| p.item)
                .collect();
            if gone.is_empty() {
                break;
            }
            taste.exclude.extend(gone);
        }
        let because_ids: Vec<String> = picks
            .iter()
            .filter_map(|p| match p.reason {
                Reason::BecauseOf(i) => Some(model.items.ids[i as usize].clone()),
                _ => None,
            })
            .collect();
        let because_tracks = self.inner.store.tracks(&because_ids, false).await?;
        let mut out = Vec::with_capacity(limit);
        for pick in picks {
            if out.len() >= limit {
                break;
            }
            let Some(track) = tracks.get(&model.items.ids[pick.item as usize]) else {
                continue;
            };
            let (reason, because) = explain(&model, &pick, &because_tracks);
            out.push(Recommendation {
                track: track.api_json(),
                reason,
                because,
            });
        }
        Ok(out)
    }

    /// A station seeded by `track_id`: the seed first, then tracks alike to it, leaving out
    /// what the listener dislikes and what is no longer in the catalog.
    pub async fn radio(
        &self,
        user: &UserId,
        track_id: &str,
        limit: usize,
    ) -> Result<Vec<Value>, RecommendError> {
        let seed_row = self
            .inner
            .store
            .tracks(&[track_id.to_string()], true)
            .await?;
        let Some(seed) = seed_row.get(track_id) else {
            return Err(RecommendError::TrackNotFound);
        };
        let model = self.model();
        // Only what they dislike matters here: their rows, not their playlists or favourites.
        let listens = self.inner.store.listens(user.as_str()).await?;
        let mut exclude: HashSet<u32> = listens
            .iter()
            .filter(|l| disliked(l))
            .filter_map(|l| model.items.index_of(&l.track_id))
            .collect();
        let mut out = Vec::new();
        for _ in 0..3 {
            let station: Vec<u32> = match model.items.index_of(track_id) {
                Some(item) => model.radio(item, limit, &exclude),
                // Newer than the model: alike by its artists and genres alone.
                None => model.radio_from_meta(&item_meta(seed), limit, &exclude),
            };
            let ids: Vec<String> = station
                .iter()
                .map(|i| model.items.ids[*i as usize].clone())
                .filter(|id| id != track_id)
                .collect();
            let tracks = self.inner.store.tracks(&ids, true).await?;
            out = std::iter::once(seed.api_json())
                .chain(
                    ids.iter()
                        .filter_map(|id| tracks.get(id).map(TrackSummary::api_json)),
                )
                .take(limit)
                .collect();
            let gone: Vec<u32> = ids
                .iter()
                .filter(|id| !tracks.contains_key(*id))
                .filter_map(|id| model.items.index_of(id))
                .collect();
            if gone.is_empty() {
                break;
            }
            exclude.extend(gone);
        }
        Ok(out)
    }
}

/// The reason in words and as data. Reasons name only the listener's own tracks and the
/// catalog's artists and genres, never another listener or their playlists.
fn explain(
    model: &Model,
    pick: &Pick,
    because_tracks: &HashMap<String, TrackSummary>,
) -> (String, Value) {
    let items = &model.items;
    match pick.reason {
        Reason::BecauseOf(i) => {
            let id = &items.ids[i as usize];
            match because_tracks.get(id) {
                Some(t) => (
                    format!("Because you played {}", t.title),
                    json!({"kind": "track", "track": {"id": id, "title": t.title}}),
                ),
                None => (
                    "Popular with listeners like you".into(),
                    json!({"kind": "similar_listeners"}),
                ),
            }
        }
        Reason::Artist(a) => {
            let name = &items.artist_names[a as usize];
            (
                format!("Because you like {name}"),
                json!({"kind": "artist", "artist": {"id": items.artist_ids[a as usize], "name": name}}),
            )
        }
        Reason::Genre(g) => {
            let name = &items.genre_names[g as usize];
            (
                format!("More {name}"),
                json!({"kind": "genre", "genre": name}),
            )
        }
        Reason::SimilarListeners => (
            "Popular with listeners like you".into(),
            json!({"kind": "similar_listeners"}),
        ),
        Reason::Popular => ("Popular on this server".into(), json!({"kind": "popular"})),
        Reason::Discover => ("Something new to try".into(), json!({"kind": "discover"})),
    }
}

/// The read model change one event makes. Unknown topics and undecodable payloads are logged
/// and skipped: retrying cannot fix them. Playlist changes do not come here:
/// [`RecommendService::apply_events`] gathers them.
async fn apply(tx: &mut AnyConnection, envelope: &Envelope) -> Result<(), RecommendError> {
    match envelope.topic.as_str() {
        TrackAdded::TOPIC => match envelope.decode::<TrackAdded>() {
            Ok(e) => RecommendStore::upsert_track(tx, &e.track, &envelope.id).await?,
            Err(e) => return skip(envelope, &e),
        },
        TrackUpdated::TOPIC => match envelope.decode::<TrackUpdated>() {
            Ok(e) => RecommendStore::upsert_track(tx, &e.track, &envelope.id).await?,
            Err(e) => return skip(envelope, &e),
        },
        TrackRemoved::TOPIC => match envelope.decode::<TrackRemoved>() {
            Ok(e) => RecommendStore::remove_track(tx, &e.track_id, &envelope.id).await?,
            Err(e) => return skip(envelope, &e),
        },
        TrackPlayed::TOPIC => match envelope.decode::<TrackPlayed>() {
            Ok(e) => RecommendStore::add_play(tx, &e).await?,
            Err(e) => return skip(envelope, &e),
        },
        TrackLiked::TOPIC => match envelope.decode::<TrackLiked>() {
            Ok(e) => RecommendStore::set_liked(tx, &e).await?,
            Err(e) => return skip(envelope, &e),
        },
        PlaylistDeleted::TOPIC => match envelope.decode::<PlaylistDeleted>() {
            Ok(e) => RecommendStore::delete_playlist(tx, &e.playlist_id).await?,
            Err(e) => return skip(envelope, &e),
        },
        PreferencesChanged::TOPIC => match envelope.decode::<PreferencesChanged>() {
            Ok(e) => {
                RecommendStore::set_preferences(
                    tx,
                    e.user_id.as_str(),
                    &e.favorite_genres,
                    &e.favorite_artists,
                )
                .await?
            }
            Err(e) => return skip(envelope, &e),
        },
        other => {
            tracing::warn!(
                topic = other,
                "recommendations: ignoring an event of an unexpected topic"
            );
        }
    }
    Ok(())
}

/// Applies the playlist changes gathered so far, each playlist's in the order they came, and
/// empties the list.
async fn apply_playlist_changes(
    tx: &mut AnyConnection,
    changes: &mut Vec<PlaylistChanged>,
) -> Result<(), RecommendError> {
    let mut by_playlist: Vec<Vec<&PlaylistChanged>> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    for change in changes.iter() {
        let at = *slot.entry(change.playlist_id.as_str()).or_insert_with(|| {
            by_playlist.push(Vec::new());
            by_playlist.len() - 1
        });
        by_playlist[at].push(change);
    }
    RecommendStore::apply_playlist_changes(tx, &by_playlist).await?;
    changes.clear();
    Ok(())
}

fn skip(envelope: &Envelope, error: &dyn std::fmt::Display) -> Result<(), RecommendError> {
    tracing::warn!(
        topic = %envelope.topic,
        event_id = %envelope.id,
        error = %error,
        "recommendations: skipping an event it cannot read"
    );
    Ok(())
}
