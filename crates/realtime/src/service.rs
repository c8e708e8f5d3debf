//! The realtime service: devices, remote control and the fan-out of other services' events to
//! the sockets of the users they concern. Every message to a client goes through the live
//! channel ([`LiveBus`]), so it reaches the user's sockets on every realtime instance; each
//! instance's pump hands what arrives to its [`Hub`].

use std::sync::Arc;
use std::time::Duration;

use beatstream_core::{ApiError, Timestamp, UserId};
use beatstream_events::catalog::{ScanFinished, ScanProgressed};
use beatstream_events::library::TrackLiked;
use beatstream_events::live::{Audience, LiveBus};
use beatstream_events::playlists::{PlaylistChanged, PlaylistDeleted};
use beatstream_events::{inbox, Envelope, Event};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::hub::{Hub, HubLimits};
use crate::playback::{Command, PlaybackState, Repeat};
use crate::session_store::SessionStore;
pub use crate::store::DeviceInfo;
use crate::store::{DeviceRow, RealtimeStore};
use crate::RealtimeError;

/// The events this service turns into messages.
pub const TOPICS: [&str; 5] = [
    PlaylistChanged::TOPIC,
    PlaylistDeleted::TOPIC,
    TrackLiked::TOPIC,
    ScanProgressed::TOPIC,
    ScanFinished::TOPIC,
];

#[derive(Debug, Clone)]
pub struct RealtimeSettings {
    pub hub: HubLimits,
    /// How often an instance marks its connections alive.
    pub heartbeat: Duration,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        RealtimeSettings {
            hub: HubLimits::default(),
            heartbeat: Duration::from_secs(20),
        }
    }
}

#[derive(Clone)]
pub struct RealtimeService {
    inner: Arc<Inner>,
}

struct Inner {
    store: RealtimeStore,
    sessions: SessionStore,
    live: Arc<dyn LiveBus>,
    hub: Hub,
    instance_id: String,
    settings: RealtimeSettings,
    /// Cancelled when the process stops: sockets close with 1001.
    closing: CancellationToken,
}

/// A device as clients see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeviceView {
    pub id: String,
    pub name: String,
    /// `web`, `desktop`, `phone`, `speaker`, ...: what the device said it is.
    pub kind: String,
    /// It has an open socket.
    pub online: bool,
    /// The online device that reported a state last: where playback is.
    pub active: bool,
    /// Its last reported state, null before the first.
    pub state: Option<StateView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StateView {
    pub track_id: Option<String>,
    /// Where playback is at `as_of` (moved on from the report while playing).
    pub position_ms: i64,
    pub playing: bool,
    pub volume: f64,
    pub queue_length: usize,
    pub queue_index: Option<usize>,
    pub shuffle: bool,
    pub repeat: Repeat,
    pub as_of: String,
    /// When the device reported it.
    pub reported_at: String,
}

fn state_view(state: &PlaybackState, reported_at: i64, now: i64) -> StateView {
    StateView {
        track_id: state.track_id.clone(),
        position_ms: state.position_after(now - reported_at),
        playing: state.playing,
        volume: state.volume,
        queue_length: state.queue.len(),
        queue_index: state.queue_index,
        shuffle: state.shuffle,
        repeat: state.repeat,
        as_of: Timestamp::from_millis(now).to_rfc3339(),
        reported_at: Timestamp::from_millis(reported_at).to_rfc3339(),
    }
}

/// The device reported a state with a track in it.
fn has_track(row: &DeviceRow) -> bool {
    row.state.as_ref().is_some_and(|s| s.track_id.is_some())
}

fn is_playing(row: &DeviceRow) -> bool {
    row.state.as_ref().is_some_and(|s| s.playing)
}

/// Where playback is: the online device playing that reported last, else the one that reported
/// a track last (rows come most recent first).
fn source(rows: &[DeviceRow]) -> Option<&DeviceRow> {
    rows.iter()
        .find(|row| row.online && has_track(row) && is_playing(row))
        .or_else(|| rows.iter().find(|row| row.online && has_track(row)))
        .or_else(|| rows.iter().find(|row| has_track(row)))
}

fn device_views(rows: &[DeviceRow], now: i64) -> Vec<DeviceView> {
    let active = source(rows)
        .filter(|row| row.online)
        .map(|row| row.device_id.clone());
    rows.iter()
        .map(|row| DeviceView {
            id: row.device_id.clone(),
            name: row.name.clone(),
            kind: row.kind.clone(),
            online: row.online,
            active: active.as_deref() == Some(row.device_id.as_str()),
            state: match (&row.state, row.state_at) {
                (Some(state), Some(at)) => Some(state_view(state, at, now)),
                _ => None,
            },
        })
        .collect()
}

impl RealtimeService {
    pub fn new(store: RealtimeStore, live: Arc<dyn LiveBus>, settings: RealtimeSettings) -> Self {
        let hub = Hub::new(live.epoch(), settings.hub.clone());
        RealtimeService {
            inner: Arc::new(Inner {
                sessions: SessionStore::new(store.db().clone()),
                store,
                live,
                hub,
                instance_id: uuid::Uuid::new_v4().simple().to_string(),
                settings,
                closing: CancellationToken::new(),
            }),
        }
    }

    pub(crate) fn sessions(&self) -> &SessionStore {
        &self.inner.sessions
    }

    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    /// Cancelled when the process stops.
    pub fn closing(&self) -> CancellationToken {
        self.inner.closing.clone()
    }

    /// Sends `payload` to the user's sockets (or one device's) on every instance.
    pub async fn publish(
        &self,
        audience: &Audience,
        device_id: Option<&str>,
        payload: &Value,
    ) -> Result<(), RealtimeError> {
        self.inner
            .live
            .publish(audience, device_id, &payload.to_string())
            .await?;
        Ok(())
    }

    fn online_since(&self, now: i64) -> i64 {
        now - 3 * self.inner.settings.heartbeat.as_millis() as i64
    }

    pub async fn devices(&self, user_id: &str) -> Result<Vec<DeviceView>, RealtimeError> {
        let now = Timestamp::now().millis();
        let rows = self
            .inner
            .store
            .devices(user_id, self.online_since(now))
            .await?;
        Ok(device_views(&rows, now))
    }

    async fn publish_devices(&self, user_id: &str) -> Result<(), RealtimeError> {
        let devices = self.devices(user_id).await?;
        self.publish(
            &Audience::User(user_id.to_string()),
            None,
            &json!({"type": "devices.changed", "devices": devices}),
        )
        .await
    }

    pub async fn device_connected(
        &self,
        user_id: &str,
        connection_id: &str,
        device: &DeviceInfo,
    ) -> Result<(), RealtimeError> {
        self.inner
            .store
            .connect(
                connection_id,
                user_id,
                device,
                &self.inner.instance_id,
                Timestamp::now().millis(),
            )
            .await?;
        self.publish_devices(user_id).await
    }

    pub async fn device_disconnected(
        &self,
        user_id: &str,
        connection_id: &str,
    ) -> Result<(), RealtimeError> {
        self.inner.store.disconnect(connection_id).await?;
        self.publish_devices(user_id).await
    }

    /// A device reports its playback state; the user's other devices see it.
    pub async fn report_state(
        &self,
        user_id: &str,
        device_id: &str,
        state: &PlaybackState,
    ) -> Result<(), RealtimeError> {
        state.validate()?;
        let now = Timestamp::now().millis();
        if !self
            .inner
            .store
            .save_state(user_id, device_id, state, now)
            .await?
        {
            return Err(device_not_found().into());
        }
        let devices = self.devices(user_id).await?;
        let Some(device) = devices.into_iter().find(|d| d.id == device_id) else {
            return Err(device_not_found().into());
        };
        self.publish(
            &Audience::User(user_id.to_string()),
            None,
            &json!({"type": "player.state", "device": device}),
        )
        .await
    }

    async fn online_device(&self, user_id: &str, device_id: &str) -> Result<(), RealtimeError> {
        let devices = self.devices(user_id).await?;
        match devices.iter().find(|d| d.id == device_id) {
            None => Err(device_not_found().into()),
            Some(device) if !device.online => Err(ApiError::new(
                beatstream_core::ErrorCode::Conflict,
                "device_offline",
                format!("the device `{}` is not connected", device.name),
            )
            .into()),
            Some(_) => Ok(()),
        }
    }

    /// Tells one of the user's devices to do something.
    pub async fn command(
        &self,
        user_id: &str,
        target: &str,
        command: &Command,
        from_device: Option<&str>,
    ) -> Result<(), RealtimeError> {
        command.validate()?;
        self.online_device(user_id, target).await?;
        self.publish(
            &Audience::User(user_id.to_string()),
            Some(target),
            &json!({"type": "player.command", "command": command, "from_device": from_device}),
        )
        .await
    }

    /// Moves playback to `target`: it gets the state of the device playing (or, with none
    /// playing, the one that played last): its queue, track and position now. Every other
    /// device playing is told to pause.
    pub async fn transfer(
        &self,
        user_id: &str,
        target: &str,
        play: Option<bool>,
    ) -> Result<DeviceView, RealtimeError> {
        self.online_device(user_id, target).await?;
        let now = Timestamp::now().millis();
        let rows = self
            .inner
            .store
            .devices(user_id, self.online_since(now))
            .await?;
        let Some(source) = source(&rows) else {
            return Err(ApiError::new(
                beatstream_core::ErrorCode::Conflict,
                "nothing_playing",
                "none of your devices has played anything yet",
            )
            .into());
        };
        let (Some(mut state), Some(at)) = (source.state.clone(), source.state_at) else {
            return Err(RealtimeError::Internal("a state without its time".into()));
        };
        state.position_ms = state.position_after(now - at);
        state.playing = play.unwrap_or(state.playing);
        let audience = Audience::User(user_id.to_string());
        for other in rows
            .iter()
            .filter(|row| row.device_id != target && row.online && is_playing(row))
        {
            self.publish(
                &audience,
                Some(&other.device_id),
                &json!({"type": "player.command", "command": {"action": "pause"},
                    "from_device": null, "transferred_to": target}),
            )
            .await?;
        }
        self.publish(
            &audience,
            Some(target),
            &json!({"type": "player.command",
                "command": {"action": "transfer", "state": state, "play": state.playing},
                "from_device": source.device_id}),
        )
        .await?;
        let mut views = device_views(&rows, now);
        let mut view = views
            .iter()
            .position(|d| d.id == target)
            .map(|i| views.swap_remove(i))
            .ok_or_else(device_not_found)?;
        view.state = Some(state_view(&state, now, now));
        Ok(view)
    }

    /// Turns another service's event into messages for the users it concerns. It is recorded
    /// as handled only once its messages are out (a failure is retried), and no write
    /// transaction waits on the live channel meanwhile. A redelivery of a handled event
    /// publishes nothing; a crash between publishing and recording may publish twice, which
    /// clients take in their stride (each message carries the state it announces).
    pub async fn apply_event(&self, envelope: &Envelope) -> Result<(), RealtimeError> {
        self.apply_events(std::slice::from_ref(envelope)).await
    }

    /// [`RealtimeService::apply_event`] for a batch, in order, recorded in one transaction.
    pub async fn apply_events(&self, envelopes: &[Envelope]) -> Result<(), RealtimeError> {
        let wanted: Vec<(&Envelope, _)> = envelopes
            .iter()
            .filter_map(|envelope| messages_for(envelope).map(|messages| (envelope, messages)))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = wanted.iter().map(|(e, _)| e.id.as_str()).collect();
        let handled = {
            let mut conn = self.inner.store.db().pool().acquire().await?;
            inbox::handled_of(&mut conn, crate::SERVICE, &ids).await?
        };
        let mut published: Vec<&str> = Vec::new();
        for (envelope, (audiences, message)) in wanted {
            // A redelivery inside the batch: its first copy is not recorded yet.
            if handled.contains(&envelope.id) || published.contains(&envelope.id.as_str()) {
                continue;
            }
            for audience in &audiences {
                self.publish(audience, None, &message).await?;
            }
            published.push(&envelope.id);
        }
        if published.is_empty() {
            return Ok(());
        }
        let mut tx = self.inner.store.db().begin_write().await?;
        inbox::first_deliveries(&mut tx, crate::SERVICE, &published).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Hands every live message to this instance's hub, and keeps this instance's
    /// connections marked alive, until `shutdown`.
    pub async fn spawn_pump(
        &self,
        shutdown: CancellationToken,
    ) -> Result<Vec<JoinHandle<()>>, RealtimeError> {
        let first = self
            .inner
            .live
            .subscribe(self.inner.settings.hub.replay_window)
            .await?;
        let service = self.clone();
        let stop = shutdown.clone();
        let pump = beatstream_core::runtimes::spawn_background(async move {
            let mut feed = Some(first);
            loop {
                let Some(current) = feed.as_mut() else {
                    // The channel closed: listen again, and tell clients they missed messages.
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    match service.inner.live.subscribe(Duration::ZERO).await {
                        Ok(again) => {
                            service.inner.hub.lost_messages();
                            feed = Some(again);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "realtime: cannot listen to the live channel yet")
                        }
                    }
                    continue;
                };
                let next = tokio::select! {
                    _ = stop.cancelled() => break,
                    next = current.next() => next,
                };
                match next {
                    Some(Ok(message)) => service.inner.hub.deliver(message),
                    Some(Err(e)) => {
                        // Messages were lost, or the channel broke (a broker restart): clients
                        // reload, and this instance listens afresh.
                        tracing::warn!(error = %e, "realtime: live messages were lost; clients will reload");
                        service.inner.hub.lost_messages();
                        feed = None;
                    }
                    None => {
                        tracing::error!("realtime: the live channel closed; listening again");
                        feed = None;
                    }
                }
            }
            service.inner.closing.cancel();
        });
        let service = self.clone();
        let heartbeat = tokio::spawn(async move {
            let period = service.inner.settings.heartbeat;
            let mut tick = tokio::time::interval(period);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tick.tick() => {}
                }
                let now = Timestamp::now().millis();
                let stale = now - 6 * period.as_millis() as i64;
                let forget = now - 30 * 24 * 3600 * 1000;
                if let Err(e) = service
                    .inner
                    .store
                    .heartbeat(&service.inner.instance_id, now, stale, forget)
                    .await
                {
                    tracing::warn!(error = %e, "realtime: could not mark connections alive");
                }
            }
        });
        Ok(vec![pump, heartbeat])
    }
}

fn device_not_found() -> ApiError {
    ApiError::not_found("device_not_found", "no such device of yours")
}

fn decode<E: Event>(envelope: &Envelope) -> Option<E> {
    match envelope.decode::<E>() {
        Ok(event) => Some(event),
        Err(e) => {
            tracing::warn!(topic = %envelope.topic, id = %envelope.id, error = %e, "realtime: skipping an event it cannot read");
            None
        }
    }
}

fn members(owner: &UserId, others: &[UserId]) -> Vec<Audience> {
    let mut ids: Vec<&str> = std::iter::once(owner)
        .chain(others)
        .map(|u| u.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| Audience::User(id.to_string()))
        .collect()
}

fn scan_message(state: &str, scan_id: &str, figures: [u64; 5]) -> Value {
    let [files_seen, tracks_added, tracks_updated, tracks_removed, errors] = figures;
    json!({
        "type": "scan.progress",
        "scan_id": scan_id,
        "state": state,
        "files_seen": files_seen,
        "tracks_added": tracks_added,
        "tracks_updated": tracks_updated,
        "tracks_removed": tracks_removed,
        "errors": errors,
    })
}

/// Who an event concerns and the message they get; `None` for events of no interest.
fn messages_for(envelope: &Envelope) -> Option<(Vec<Audience>, Value)> {
    match envelope.topic.as_str() {
        PlaylistChanged::TOPIC => {
            let event: PlaylistChanged = decode(envelope)?;
            let message = json!({
                "type": "playlist.changed",
                "playlist_id": event.playlist_id,
                "version": event.version,
                "name": event.name,
                "track_count": event.track_count,
                "duration_ms": event.duration_ms,
                "public": event.public,
                "collaborative": event.collaborative,
                "changed_by": {"id": event.changed_by},
                "changed_at": event.changed_at.to_rfc3339(),
            });
            Some((members(&event.owner_id, &event.collaborators), message))
        }
        PlaylistDeleted::TOPIC => {
            let event: PlaylistDeleted = decode(envelope)?;
            let message = json!({
                "type": "playlist.deleted",
                "playlist_id": event.playlist_id,
                "deleted_at": event.deleted_at.to_rfc3339(),
            });
            Some((members(&event.owner_id, &event.members), message))
        }
        TrackLiked::TOPIC => {
            let event: TrackLiked = decode(envelope)?;
            let message = json!({
                "type": "like.changed",
                "track_id": event.track_id,
                "liked": event.liked,
                "at": event.at.to_rfc3339(),
            });
            Some((
                vec![Audience::User(event.user_id.as_str().to_string())],
                message,
            ))
        }
        ScanProgressed::TOPIC => {
            let e: ScanProgressed = decode(envelope)?;
            let figures = [
                e.files_seen,
                e.tracks_added,
                e.tracks_updated,
                e.tracks_removed,
                e.errors,
            ];
            Some((
                vec![Audience::Admins],
                scan_message("running", &e.scan_id, figures),
            ))
        }
        ScanFinished::TOPIC => {
            let e: ScanFinished = decode(envelope)?;
            let figures = [
                e.files_seen,
                e.tracks_added,
                e.tracks_updated,
                e.tracks_removed,
                e.errors,
            ];
            Some((
                vec![Audience::Admins],
                scan_message("finished", &e.scan_id, figures),
            ))
        }
        _ => None,
    }
}
