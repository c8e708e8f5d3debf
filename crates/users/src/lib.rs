//! The users service: profiles and preferences.
//!
//! Owns the tables `profiles` and `play_queues` (plus its `outbox` and `processed_events`).
//! Routes: `GET/PATCH /api/v1/me`, `GET/PUT /api/v1/me/play-queue`, `GET /api/v1/users/{id}`,
//! `GET /api/v1/admin/users`, `PATCH /api/v1/admin/users/{id}`.
//!
//! Consumes `auth.user.created` (as consumer group `users`) to create profiles: it never reads
//! the auth service's tables. Emits `users.account.changed` (role, disabled) and
//! `users.preferences.changed`.

pub mod error;
pub mod http;
pub mod model;
pub mod play_queue;
pub mod service;
pub mod store;

use std::sync::Arc;

use beatstream_db::Migrations;
use beatstream_events::auth::UserCreated;
use beatstream_events::consumer::{spawn_consumer, HandlerError};
use beatstream_events::{BusError, Event, EventBus};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error::UsersError;
pub use http::{router, UsersApi};
pub use service::UsersService;
pub use store::UsersStore;

pub const SERVICE: &str = "users";

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: &sqlx::migrate!("migrations/sqlite"),
    postgres: &sqlx::migrate!("migrations/postgres"),
};

/// Starts the consumers of the events this service reads.
pub async fn spawn_consumers(
    users: UsersService,
    bus: Arc<dyn EventBus>,
    shutdown: CancellationToken,
) -> Result<Vec<JoinHandle<()>>, BusError> {
    Ok(vec![
        spawn_consumer(
            bus,
            UserCreated::TOPIC,
            SERVICE,
            move |envelope| {
                let users = users.clone();
                async move {
                    users
                        .apply_user_created(&envelope)
                        .await
                        .map_err(|e| Box::new(e) as HandlerError)
                }
            },
            shutdown,
        )
        .await?,
    ])
}
