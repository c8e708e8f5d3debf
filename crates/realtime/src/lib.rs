//! The realtime service: live updates and playback across a user's devices.
//!
//! Clients hold a WebSocket (`GET /api/v1/events`, see [`socket`]). Each open player is a
//! device; it reports its playback state and can be told what to do by the user's other
//! devices (`/api/v1/me/devices`, `/api/v1/me/player/transfer`). Other services' events become
//! messages for the users they concern. Every message travels through the live channel
//! (`beatstream_events::live`: in process, or a JetStream stream every instance reads), so it
//! reaches a user's sockets on whichever realtime instance they are connected to; each
//! instance's [`hub`] keeps the last minutes of messages so a reconnecting client resumes
//! where it left off, and disconnects clients too slow to keep up.
//!
//! Group sessions ([`session`]) let listeners hear the same queue together: the owner leads
//! playback, every member adds to the queue, and each player keeps in sync with a position at a
//! server time.
//!
//! Owns the tables `devices` and `connections` (which devices are online, per instance),
//! `sessions` and `session_members`, and `processed_events`.
//!
//! Consumes (as consumer group `realtime`): `playlists.playlist.changed`,
//! `playlists.playlist.deleted`, `library.track.liked`, `catalog.scan.progress`,
//! `catalog.scan.finished`. Emits no domain events; publishes live messages only.

pub mod error;
pub mod http;
pub mod hub;
pub mod playback;
pub mod service;
pub mod session;
mod session_service;
pub mod session_store;
pub mod socket;
pub mod store;

use std::sync::Arc;

use beatstream_db::Migrations;
use beatstream_events::consumer::spawn_consumers as spawn_consumers_for;
use beatstream_events::{BusError, EventBus};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error::RealtimeError;
pub use http::{router, RealtimeApi};
pub use service::{RealtimeService, RealtimeSettings};
pub use store::RealtimeStore;

pub const SERVICE: &str = "realtime";

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: &sqlx::migrate!("migrations/sqlite"),
    postgres: &sqlx::migrate!("migrations/postgres"),
};

/// Starts the consumers of the events this service turns into messages.
pub async fn spawn_consumers(
    service: RealtimeService,
    bus: Arc<dyn EventBus>,
    shutdown: CancellationToken,
) -> Result<Vec<JoinHandle<()>>, BusError> {
    spawn_consumers_for(
        bus,
        &service::TOPICS,
        SERVICE,
        move |batch: Vec<_>| {
            let service = service.clone();
            async move { service.apply_events(&batch).await }
        },
        shutdown,
    )
    .await
}
