//! The event bus: typed, versioned events, the transactional outbox that publishes them, and the
//! consumer loop that delivers them at least once.
//!
//! How the pieces meet:
//! 1. A service changes its tables and, in the same transaction, appends an [`Envelope`] to its
//!    own `outbox` table with [`outbox::append`]. Either both are committed or neither.
//! 2. An [`outbox::OutboxRelay`] per service database publishes committed rows to the
//!    [`EventBus`] and deletes them only once the bus accepted them. A crash in between publishes
//!    the row again on restart: delivery is at least once.
//! 3. Consumers subscribe with a topic and a durable group name ([`consumer::spawn_consumer`],
//!    or [`consumer::spawn_consumers`] for a handler that takes what is waiting in batches).
//!    Every group gets every event; instances within a group share the work. A group that was
//!    down gets what it missed. Handlers make delivery idempotent with [`inbox::first_delivery`]
//!    (or [`inbox::first_deliveries`] for a batch) in the same transaction as their effect.
//!
//! Two buses implement [`EventBus`]: [`MemoryBus`] for the all-in-one process and [`NatsBus`] on
//! NATS JetStream (durable pull consumers) for deployments that split services apart. Event
//! payloads live in this crate (one module per producing service) so a consumer never depends
//! on the producer's crate. The full list is in `docs/events.md`.

pub mod auth;
mod bus;
pub mod catalog;
pub mod consumer;
pub mod directory;
mod envelope;
pub mod inbox;
pub mod library;
pub mod live;
mod memory;
mod nats;
pub mod outbox;
pub mod playlists;
pub mod users;

pub use bus::{BusError, Delivery, EventBus, Subscription};
pub use envelope::{Envelope, Event};
pub use memory::MemoryBus;
pub use nats::NatsBus;

use std::sync::Arc;

/// Connects the bus named by `events.url`: `memory://` or `nats://...`.
pub async fn connect(url: &str, namespace: &str) -> Result<Arc<dyn EventBus>, BusError> {
    if url == "memory://" {
        Ok(Arc::new(MemoryBus::new()))
    } else if url.starts_with("nats://") {
        Ok(Arc::new(NatsBus::connect(url, namespace).await?))
    } else {
        Err(BusError::Config(format!(
            "events.url `{url}`: use memory:// or nats://HOST:PORT"
        )))
    }
}
