//! The recommendations service: songs a listener will like, and radio stations seeded by a
//! track. It learns from what listeners play, skip, like and put in playlists, from what they
//! say they like, and from the catalog's metadata, with models of its own: implicit-feedback
//! matrix factorisation ([`als`]), item-item neighbours over co-listening and public playlists
//! ([`knn`]), and content similarity by artist, album, genre and era ([`items`]) for the cold
//! start; [`model`] blends them with reasons and diversity. [`eval`] measures them offline.
//!
//! Owns the tables `tracks`, `listens`, `playlists`, `playlist_tracks` and `preferences`
//! (read models of the events below) and `processed_events`; the model lives in memory and is
//! retrained in the background. Routes: `GET /api/v1/me/recommendations`,
//! `GET /api/v1/tracks/{id}/radio`, `GET /api/v1/admin/recommendations`.
//!
//! Consumes (as consumer group `recommendations`): `catalog.track.added`,
//! `catalog.track.updated`, `catalog.track.removed`, `library.track.played`,
//! `library.track.liked`, `playlists.playlist.changed`, `playlists.playlist.deleted`,
//! `users.preferences.changed`. Emits nothing.

pub mod als;
pub mod error;
pub mod eval;
pub mod http;
pub mod items;
pub mod knn;
pub mod model;
pub mod service;
pub mod sparse;
pub mod store;

use std::sync::Arc;

use beatstream_db::Migrations;
use beatstream_events::consumer::spawn_consumers as spawn_consumers_for;
use beatstream_events::{BusError, EventBus};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error::RecommendError;
pub use http::{router, RecommendApi};
pub use service::{RecommendService, RecommendSettings};
pub use store::RecommendStore;

pub const SERVICE: &str = "recommendations";

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: &sqlx::migrate!("migrations/sqlite"),
    postgres: &sqlx::migrate!("migrations/postgres"),
};

/// Starts the consumers of the events this service reads.
pub async fn spawn_consumers(
    service: RecommendService,
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
