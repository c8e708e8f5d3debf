//! The catalog service: artists, albums and tracks read from audio files, cover art, and
//! streaming (originals with ranges, transcodes through ffmpeg).
//!
//! Owns the tables `artists`, `albums`, `album_artists`, `tracks`, `track_artists`,
//! `track_genres`, `scans` and `secrets` (plus its `outbox` and `processed_events`), and the
//! blob prefixes `covers/` and `transcodes/`. Routes: `/api/v1/artists`, `/api/v1/albums`,
//! `/api/v1/tracks`, `/api/v1/genres`, `/api/v1/library/scan`, streams and covers.
//!
//! Emits `catalog.track.added`, `catalog.track.updated`, `catalog.track.removed` and
//! `catalog.scan.finished`. Consumes `users.preferences.changed` (group `catalog`) for each
//! listener's streaming quality.

mod blocks;
#[cfg(target_os = "linux")]
mod buffers;
pub mod cache;
pub mod cover;
pub mod error;
pub mod format;
pub mod http;
pub mod model;
pub mod preferences;
pub mod scan;
pub mod service;
pub mod signing;
pub mod store;
pub mod stream;
pub mod tags;
pub mod transcode;
pub mod upload;
pub mod watch;

use beatstream_db::Migrations;

pub use error::CatalogError;
pub use http::{router, CatalogApi};
pub use service::{CatalogService, CatalogSettings};
pub use store::CatalogStore;

pub const SERVICE: &str = "catalog";
/// The `library` of tracks uploaded over HTTP; their `path` is a blob key.
pub const UPLOADS_LIBRARY: &str = "uploads";

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: &sqlx::migrate!("migrations/sqlite"),
    postgres: &sqlx::migrate!("migrations/postgres"),
};

/// Starts the consumers of the events this service reads.
pub async fn spawn_consumers(
    catalog: CatalogService,
    bus: std::sync::Arc<dyn beatstream_events::EventBus>,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<Vec<tokio::task::JoinHandle<()>>, beatstream_events::BusError> {
    use beatstream_events::Event;
    Ok(vec![
        beatstream_events::consumer::spawn_consumer(
            bus,
            beatstream_events::users::PreferencesChanged::TOPIC,
            preferences::CONSUMER,
            move |envelope| {
                let catalog = catalog.clone();
                async move {
                    catalog
                        .store()
                        .apply_preferences_changed(&envelope)
                        .await
                        .map_err(|e| Box::new(e) as beatstream_events::consumer::HandlerError)
                }
            },
            shutdown,
        )
        .await?,
    ])
}
