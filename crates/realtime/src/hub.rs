//! The sockets connected to this instance, by user, and the live messages of the last few
//! minutes, kept so a client that reconnects (here or on another instance) gets what it missed.
//!
//! Every live message passes through [`Hub::deliver`] once, in sequence order. Delivering
//! never waits: each socket has a bounded queue, and a socket whose queue is full is too slow
//! to keep up. It is kicked (its task closes it with a reason) rather than allowed to grow the
//! server's memory; it may reconnect and resume.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use beatstream_events::live::{Audience, LiveMessage};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct HubLimits {
    /// Messages a socket may have waiting before it counts as too slow.
    pub socket_queue: usize,
    /// How many recent messages are kept for resumes...
    pub replay_messages: usize,
    /// ... and for how long...
    pub replay_window: Duration,
    /// ... in at most this many bytes.
    pub replay_bytes: usize,
}

impl Default for HubLimits {
    fn default() -> Self {
        HubLimits {
            socket_queue: 256,
            replay_messages: 20_000,
            replay_window: Duration::from_secs(300),
            replay_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A message id as clients see it: `<epoch>-<sequence>`.
pub fn message_id(epoch: &str, seq: u64) -> String {
    format!("{epoch}-{seq}")
}

/// Parses a message id; `None` when it is not one.
pub fn parse_message_id(id: &str) -> Option<(&str, u64)> {
    let (epoch, seq) = id.rsplit_once('-')?;
    Some((epoch, seq.parse().ok()?))
}

/// The JSON object `payload` with `"id"` first.
fn with_id(id: &str, payload: &str) -> Utf8Bytes {
    match payload.trim_start().strip_prefix('{') {
        Some(rest) if rest.trim_start().starts_with('}') => format!("{{\"id\":\"{id}\"}}").into(),
        Some(rest) => format!("{{\"id\":\"{id}\",{rest}").into(),
        None => payload.to_string().into(),
    }
}

/// How a connecting client's resume request went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// It did not ask to resume.
    Fresh,
    /// It got the `replayed` messages it missed, first in its queue.
    Resumed { replayed: usize },
    /// What it missed is no longer known; a `reload` message is first in its queue.
    Reload { reason: &'static str },
}

/// A registered socket: its queue, and the signal that it was kicked for being too slow.
pub struct Registration {
    pub socket_id: u64,
    pub messages: mpsc::Receiver<Utf8Bytes>,
    pub kicked: CancellationToken,
    pub resume: Resume,
}

pub struct Hub {
    state: Mutex<HubState>,
    /// The live channel's epoch; the hub's own epoch adds a count of sequence restarts.
    base_epoch: String,
    limits: HubLimits,
    next_socket: AtomicU64,
}

#[derive(Default)]
struct HubState {
    /// The first part of message ids: changes when sequence numbers start again.
    epoch: String,
    restarts: u32,
    sockets: HashMap<String, Vec<Slot>>,
    recent: VecDeque<Recent>,
    /// Bytes of the messages in `recent`.
    recent_bytes: usize,
    /// Every message from this sequence on is in `recent` or was delivered; `None` before the
    /// first message or after some were lost.
    complete_from: Option<u64>,
    last_seq: u64,
    connected: usize,
}

struct Slot {
    id: u64,
    device_id: Option<String>,
    admin: bool,
    /// Messages up to this sequence were delivered already (a resume replayed them).
    after_seq: u64,
    queue: mpsc::Sender<Utf8Bytes>,
    kicked: CancellationToken,
}

impl Slot {
    /// Whether a message for that audience and device is for this socket.
    fn is_for(&self, audience_admins: bool, device_id: Option<&str>) -> bool {
        (!audience_admins || self.admin)
            && device_id.is_none_or(|device| self.device_id.as_deref() == Some(device))
    }

    /// Whether message `seq` is for this socket and not delivered yet.
    fn wants(&self, audience_admins: bool, device_id: Option<&str>, seq: u64) -> bool {
        self.is_for(audience_admins, device_id) && seq > self.after_seq
    }

    /// Queues `text`; false when the socket is gone or was kicked.
    fn offer(&self, text: &Utf8Bytes) -> bool {
        match self.queue.try_send(text.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kicked.cancel();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

struct Recent {
    seq: u64,
    audience: Audience,
    device_id: Option<String>,
    text: Utf8Bytes,
    at: Instant,
    /// Worth replaying: not device state, which the `hello` of a reconnect carries fresher.
    replayable: bool,
}

/// Message types a reconnecting client gets fresher in its `hello` than from a replay.
const SUPERSEDED_BY_HELLO: [&str; 2] = ["devices.changed", "player.state"];

fn is_replayable(payload: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Kind {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_str::<Kind>(payload)
        .map(|k| !SUPERSEDED_BY_HELLO.contains(&k.kind.as_str()))
        .unwrap_or(true)
}

impl Hub {
    pub fn new(epoch: &str, limits: HubLimits) -> Self {
        Hub {
            state: Mutex::new(HubState {
                epoch: epoch.to_string(),
                ..HubState::default()
            }),
            base_epoch: epoch.to_string(),
            limits,
            next_socket: AtomicU64::new(1),
        }
    }

    /// The first part of the ids of messages delivered now.
    pub fn epoch(&self) -> String {
        self.lock().epoch.clone()
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many sockets are connected here.
    pub fn connected(&self) -> usize {
        self.lock().connected
    }

    /// Adds a socket of `user`; `last_id` is the id of the last message the client saw, when it
    /// asks to resume.
    pub fn register(
        &self,
        user_id: &str,
        device_id: Option<&str>,
        admin: bool,
        last_id: Option<&str>,
    ) -> Registration {
        let socket_id = self.next_socket.fetch_add(1, Ordering::Relaxed);
        let (queue, messages) = mpsc::channel(self.limits.socket_queue);
        let kicked = CancellationToken::new();
        let mut state = self.lock();
        let mut slot = Slot {
            id: socket_id,
            device_id: device_id.map(str::to_string),
            admin,
            after_seq: state.last_seq,
            queue,
            kicked: kicked.clone(),
        };
        let resume = match last_id {
            None => Resume::Fresh,
            Some(last_id) => self.resume(&state, user_id, &mut slot, last_id),
        };
        state
            .sockets
            .entry(user_id.to_string())
            .or_default()
            .push(slot);
        state.connected += 1;
        Registration {
            socket_id,
            messages,
            kicked,
            resume,
        }
    }

    fn resume(&self, state: &HubState, user_id: &str, slot: &mut Slot, last_id: &str) -> Resume {
        let reload = |reason: &'static str| {
            let text = serde_json::json!({"type": "reload", "reason": reason}).to_string();
            let _ = slot.queue.try_send(text.into());
            Resume::Reload { reason }
        };
        let Some((epoch, last_seq)) = parse_message_id(last_id) else {
            return reload("that is not a message id");
        };
        if epoch != state.epoch {
            return reload("the server restarted since that message");
        }
        if state.last_seq == 0 {
            return reload("this server has not seen that message");
        }
        if last_seq >= state.last_seq {
            // Up to date, or ahead of this instance: skip what it has seen when it arrives.
            slot.after_seq = last_seq;
            return Resume::Resumed { replayed: 0 };
        }
        if state.complete_from.is_none_or(|from| last_seq + 1 < from) {
            return reload("the messages since then are no longer kept");
        }
        let missed: Vec<&Recent> = state
            .recent
            .iter()
            .filter(|r| {
                let for_me = match &r.audience {
                    Audience::User(user) => user == user_id,
                    Audience::Admins => slot.admin,
                };
                // Commands for a device are not replayed: a device back after a while must
                // not act on what was asked of it then.
                for_me
                    && r.replayable
                    && r.device_id.is_none()
                    && r.seq > last_seq
                    && r.at.elapsed() <= self.limits.replay_window
                    && slot.is_for(r.audience == Audience::Admins, r.device_id.as_deref())
            })
            .collect();
        if missed.len() >= self.limits.socket_queue {
            return reload("too many messages were missed");
        }
        for recent in &missed {
            let _ = slot.queue.try_send(recent.text.clone());
        }
        Resume::Resumed {
            replayed: missed.len(),
        }
    }

    pub fn unregister(&self, user_id: &str, socket_id: u64) {
        let mut state = self.lock();
        let mut removed = 0;
        if let Some(slots) = state.sockets.get_mut(user_id) {
            let before = slots.len();
            slots.retain(|slot| slot.id != socket_id);
            removed = before - slots.len();
            if slots.is_empty() {
                state.sockets.remove(user_id);
            }
        }
        state.connected -= removed;
    }

    /// Delivers a message to the sockets it is for and keeps it for resumes. A message of the
    /// channel's backlog (published before this instance listened) is only kept.
    pub fn deliver(&self, message: LiveMessage) {
        let now = Instant::now();
        let mut state = self.lock();
        if message.seq <= state.last_seq {
            // Sequence numbers started again (the stream was recreated): what clients hold
            // no longer means anything here.
            self.reload_everyone(&mut state, "the server's message channel restarted");
        }
        let text = with_id(&message_id(&state.epoch, message.seq), &message.payload);
        state.last_seq = message.seq;
        state.complete_from.get_or_insert(message.seq);
        let device = message.device_id.as_deref();
        let mut dropped = 0;
        match &message.audience {
            _ if message.backlog => {}
            Audience::User(user) => {
                if let Some(slots) = state.sockets.get_mut(user) {
                    let before = slots.len();
                    slots.retain(|slot| {
                        !slot.wants(false, device, message.seq) || slot.offer(&text)
                    });
                    dropped += before - slots.len();
                    if slots.is_empty() {
                        state.sockets.remove(user);
                    }
                }
            }
            Audience::Admins => {
                for slots in state.sockets.values_mut() {
                    let before = slots.len();
                    slots
                        .retain(|slot| !slot.wants(true, device, message.seq) || slot.offer(&text));
                    dropped += before - slots.len();
                }
                state.sockets.retain(|_, slots| !slots.is_empty());
            }
        }
        state.connected -= dropped;
        state.recent_bytes += text.len();
        state.recent.push_back(Recent {
            seq: message.seq,
            audience: message.audience,
            device_id: message.device_id,
            replayable: is_replayable(&message.payload),
            text,
            at: now,
        });
        while state.recent.len() > self.limits.replay_messages
            || state.recent_bytes > self.limits.replay_bytes
            || state
                .recent
                .front()
                .is_some_and(|r| now.duration_since(r.at) > self.limits.replay_window)
        {
            if let Some(gone) = state.recent.pop_front() {
                state.recent_bytes -= gone.text.len();
            }
            let next = state.recent.front().map_or(state.last_seq + 1, |r| r.seq);
            state.complete_from = Some(next);
        }
    }

    /// Messages were lost on the way here: every client must reload, and nothing before the
    /// next message can be replayed.
    pub fn lost_messages(&self) {
        let mut state = self.lock();
        self.reload_everyone(&mut state, "this server missed some messages");
    }

    /// Every client reloads, and numbering starts again under a new epoch, so no id held from
    /// before can be taken for one given after.
    fn reload_everyone(&self, state: &mut HubState, reason: &str) {
        state.restarts += 1;
        state.epoch = format!("{}r{}", self.base_epoch, state.restarts);
        let text: Utf8Bytes = serde_json::json!({"type": "reload", "reason": reason})
            .to_string()
            .into();
        state.recent.clear();
        state.recent_bytes = 0;
        state.complete_from = None;
        state.last_seq = 0;
        let mut dropped = 0;
        for slots in state.sockets.values_mut() {
            let before = slots.len();
            slots.retain(|slot| slot.offer(&text));
            dropped += before - slots.len();
            for slot in slots.iter_mut() {
                slot.after_seq = 0;
            }
        }
        state.sockets.retain(|_, slots| !slots.is_empty());
        state.connected -= dropped;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn message(seq: u64, user: &str, device: Option<&str>) -> LiveMessage {
        LiveMessage {
            seq,
            audience: Audience::User(user.into()),
            device_id: device.map(str::to_string),
            payload: format!(r#"{{"type":"t","n":{seq}}}"#).into(),
            backlog: false,
        }
    }

    fn limits(queue: usize) -> HubLimits {
        HubLimits {
            socket_queue: queue,
            ..HubLimits::default()
        }
    }

    fn drain(registration: &mut Registration) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(text) = registration.messages.try_recv() {
            out.push(text.as_str().to_string());
        }
        out
    }

    #[test]
    fn messages_reach_the_users_sockets_and_device_messages_only_that_device() {
        let hub = Hub::new("e1", limits(16));
        let mut phone = hub.register("alice", Some("phone"), false, None);
        let mut laptop = hub.register("alice", Some("laptop"), false, None);
        let mut bob = hub.register("bob", None, false, None);
        hub.deliver(message(1, "alice", None));
        hub.deliver(message(2, "alice", Some("phone")));
        assert_eq!(
            drain(&mut phone),
            vec![
                r#"{"id":"e1-1","type":"t","n":1}"#,
                r#"{"id":"e1-2","type":"t","n":2}"#
            ]
        );
        assert_eq!(
            drain(&mut laptop),
            vec![r#"{"id":"e1-1","type":"t","n":1}"#]
        );
        assert!(drain(&mut bob).is_empty());
        assert_eq!(hub.connected(), 3);
        hub.unregister("alice", phone.socket_id);
        assert_eq!(hub.connected(), 2);
    }

    #[test]
    fn a_reconnecting_client_gets_what_it_missed_or_is_told_to_reload() {
        let hub = Hub::new("e1", limits(16));
        for seq in 1..=5 {
            hub.deliver(message(seq, "alice", None));
        }
        let mut resumed = hub.register("alice", None, false, Some("e1-3"));
        assert_eq!(resumed.resume, Resume::Resumed { replayed: 2 });
        let texts = drain(&mut resumed);
        assert!(texts[0].starts_with(r#"{"id":"e1-4""#) && texts[1].starts_with(r#"{"id":"e1-5""#));
        // Nothing is delivered twice to a client ahead of this instance.
        let mut ahead = hub.register("alice", None, false, Some("e1-7"));
        hub.deliver(message(6, "alice", None));
        hub.deliver(message(8, "alice", None));
        assert_eq!(drain(&mut ahead), vec![r#"{"id":"e1-8","type":"t","n":8}"#]);

        let mut other_epoch = hub.register("alice", None, false, Some("e0-3"));
        assert!(matches!(other_epoch.resume, Resume::Reload { .. }));
        assert!(drain(&mut other_epoch)[0].contains(r#""type":"reload""#));
        let garbage = hub.register("alice", None, false, Some("nonsense"));
        assert!(matches!(garbage.resume, Resume::Reload { .. }));
    }

    #[test]
    fn forgotten_messages_mean_reload() {
        let hub = Hub::new(
            "e1",
            HubLimits {
                socket_queue: 16,
                replay_messages: 3,
                replay_window: Duration::from_secs(60),
                ..HubLimits::default()
            },
        );
        for seq in 1..=10 {
            hub.deliver(message(seq, "alice", None));
        }
        let kept = hub.register("alice", None, false, Some("e1-7"));
        assert_eq!(kept.resume, Resume::Resumed { replayed: 3 });
        let lost = hub.register("alice", None, false, Some("e1-5"));
        assert!(matches!(lost.resume, Resume::Reload { .. }));
    }

    #[test]
    fn a_socket_that_falls_behind_is_kicked_and_others_are_not() {
        let hub = Hub::new("e1", limits(4));
        let slow = hub.register("alice", None, false, None);
        let mut fast = hub.register("alice", None, false, None);
        for seq in 1..=10 {
            hub.deliver(message(seq, "alice", None));
            drain(&mut fast);
        }
        assert!(slow.kicked.is_cancelled());
        assert!(!fast.kicked.is_cancelled());
        assert_eq!(hub.connected(), 1);
    }

    #[test]
    fn device_commands_and_device_state_are_not_replayed_and_the_backlog_not_delivered() {
        let hub = Hub::new("e1", limits(16));
        hub.deliver(message(1, "alice", Some("phone")));
        hub.deliver(LiveMessage {
            payload: r#"{"device":{},"type":"player.state"}"#.into(),
            ..message(2, "alice", None)
        });
        hub.deliver(message(3, "alice", None));
        let mut phone = hub.register("alice", Some("phone"), false, Some("e1-0"));
        assert_eq!(phone.resume, Resume::Resumed { replayed: 1 });
        assert!(drain(&mut phone)[0].starts_with(r#"{"id":"e1-3""#));
        hub.deliver(LiveMessage {
            backlog: true,
            ..message(4, "alice", None)
        });
        assert!(drain(&mut phone).is_empty());
    }

    #[test]
    fn a_sequence_that_starts_again_is_a_new_epoch() {
        let hub = Hub::new("e1", limits(16));
        hub.deliver(message(7, "alice", None));
        let mut socket = hub.register("alice", None, false, None);
        hub.deliver(message(1, "alice", None));
        let texts = drain(&mut socket);
        assert!(texts[0].contains(r#""type":"reload""#), "{texts:?}");
        assert!(texts[1].starts_with(r#"{"id":"e1r1-1""#), "{texts:?}");
        assert_eq!(hub.epoch(), "e1r1");
        let old = hub.register("alice", None, false, Some("e1-7"));
        assert!(matches!(old.resume, Resume::Reload { .. }));
    }

    #[test]
    fn admin_messages_reach_only_admins() {
        let hub = Hub::new("e1", limits(4));
        let mut admin = hub.register("root", None, true, None);
        let mut user = hub.register("alice", None, false, None);
        hub.deliver(LiveMessage {
            seq: 1,
            audience: Audience::Admins,
            device_id: None,
            payload: r#"{"type":"scan.progress"}"#.into(),
            backlog: false,
        });
        assert_eq!(drain(&mut admin).len(), 1);
        assert!(drain(&mut user).is_empty());
    }
}
