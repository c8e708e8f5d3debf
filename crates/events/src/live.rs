//! The live channel: short-lived messages for connected clients ("this playlist changed",
//! "device X: pause"), carried to every realtime instance so a user's sockets get them
//! whichever instance they are connected to.
//!
//! Unlike domain events ([`crate::EventBus`]) these are not durable business facts: nobody
//! acknowledges them, each instance receives every one, and they are kept only for a bounded
//! window so a reconnecting client can catch up. Each message has a sequence number, increasing
//! in publication order and the same on every instance, and the channel has an `epoch` that
//! changes when the sequence restarts (a new in-process channel, a recreated stream): together
//! they make the resumable message ids clients see.
//!
//! Two backends, chosen by `events.url` like the event bus: [`MemoryLive`] (a broadcast channel
//! in the all-in-one process) and [`NatsLive`] (a JetStream stream `<NAMESPACE>_LIVE` kept in
//! memory for ten minutes, read by every instance through an ordered consumer).

mod memory;
mod nats;

use std::sync::Arc;
use std::time::Duration;

pub use memory::MemoryLive;
pub use nats::NatsLive;

use crate::BusError;

/// Who a live message is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every socket of one user (or one of their devices, see [`LiveMessage::device_id`]).
    User(String),
    /// Every socket of every admin.
    Admins,
}

#[derive(Debug, Clone)]
pub struct LiveMessage {
    /// Increases by one per message, on every instance alike.
    pub seq: u64,
    pub audience: Audience,
    /// Only for this device of the user, when set.
    pub device_id: Option<String>,
    /// The JSON object sent to the client (without its id).
    pub payload: Arc<str>,
    /// Published before this feed was opened (the recent past a new instance reads to be able
    /// to replay it): for resumes only, not for sockets connected now.
    pub backlog: bool,
}

#[async_trait::async_trait]
pub trait LiveBus: Send + Sync + 'static {
    /// Sends `payload` to every instance; returns its sequence number.
    async fn publish(
        &self,
        audience: &Audience,
        device_id: Option<&str>,
        payload: &str,
    ) -> Result<u64, BusError>;

    /// Every message from now on (on NATS, also those of the last `since`), in sequence order.
    async fn subscribe(&self, since: Duration) -> Result<Box<dyn LiveFeed>, BusError>;

    /// Changes whenever sequence numbers start again.
    fn epoch(&self) -> &str;
}

#[async_trait::async_trait]
pub trait LiveFeed: Send {
    /// The next message; `Err` when messages were lost (the reader fell behind); `None` when
    /// the channel closed.
    async fn next(&mut self) -> Option<Result<LiveMessage, BusError>>;
}

/// Connects the live channel of the bus named by `events.url`.
pub async fn connect(url: &str, namespace: &str) -> Result<Arc<dyn LiveBus>, BusError> {
    if url == "memory://" {
        Ok(Arc::new(MemoryLive::new()))
    } else if url.starts_with("nats://") {
        Ok(Arc::new(NatsLive::connect(url, namespace).await?))
    } else {
        Err(BusError::Config(format!(
            "events.url `{url}`: use memory:// or nats://HOST:PORT"
        )))
    }
}
