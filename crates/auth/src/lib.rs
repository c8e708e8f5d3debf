//! The auth service: accounts' credentials, sessions and the keys that sign access tokens.
//!
//! Owns the tables `credentials`, `refresh_tokens`, `signing_keys`, `api_tokens` and
//! `app_passwords` (plus its `outbox` and `processed_events`). Routes: `/api/v1/auth/*`
//! (`/api/v1/auth/subsonic` signs Subsonic clients in with app passwords),
//! `/.well-known/jwks.json`, `/api/v1/me/tokens`, `/api/v1/me/app-passwords`,
//! `POST /api/v1/admin/users`, `POST /api/v1/admin/auth/rotate-key`.
//!
//! Emits `auth.user.created`. Consumes `users.account.changed` (role changes and disabled
//! accounts) as consumer group `auth`.
//!
//! Access tokens are EdDSA JWTs, so other services verify them with the public keys alone;
//! in one process they share the [`TokenVerifier`], split apart they fetch the JWKS.

mod app_passwords;
pub mod error;
pub mod http;
pub mod keys;
pub mod model;
mod password;
mod rate_limit;
pub mod remote;
pub mod secrets;
pub mod service;
pub mod store;
pub mod tokens;

use std::sync::Arc;

use beatstream_db::Migrations;
use beatstream_events::consumer::spawn_consumer;
use beatstream_events::users::AccountChanged;
use beatstream_events::{BusError, Event, EventBus};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error::AuthError;
pub use http::{router, AuthApi};
pub use service::{AuthService, AuthSettings};
pub use tokens::TokenVerifier;

pub const SERVICE: &str = "auth";

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: &sqlx::migrate!("migrations/sqlite"),
    postgres: &sqlx::migrate!("migrations/postgres"),
};

/// Starts the consumers of the events this service reads.
pub async fn spawn_consumers(
    auth: AuthService,
    bus: Arc<dyn EventBus>,
    shutdown: CancellationToken,
) -> Result<Vec<JoinHandle<()>>, BusError> {
    Ok(vec![
        spawn_consumer(
            bus,
            AccountChanged::TOPIC,
            SERVICE,
            move |envelope| {
                let auth = auth.clone();
                async move {
                    auth.apply_account_changed(&envelope)
                        .await
                        .map_err(|e| Box::new(e) as beatstream_events::consumer::HandlerError)
                }
            },
            shutdown,
        )
        .await?,
    ])
}
