//! The playlists service: playlists (ordered, versioned, shareable, collaborative, M3U in and
//! out) and the listener's library (likes of tracks, albums and artists, ratings, play history).
//!
//! Owns the tables `playlists`, `playlist_collaborators`, `playlist_entries`, `likes`, `plays`,
//! `item_likes` (albums and artists), `ratings`, `now_playing`, two read models: `tracks` (from catalog events)
//! and `users` (from auth events), `jobs_done`, and its `outbox` and `processed_events`. Routes:
//! `/api/v1/playlists...`, `/api/v1/me/playlists`, `/api/v1/me/likes/{tracks,albums,artists}...`,
//! `/api/v1/me/ratings/{kind}...`, `/api/v1/me/now-playing`, `/api/v1/now-playing`,
//! `/api/v1/me/plays`, `/api/v1/me/history`. Likes of albums and
//! artists and ratings emit no events yet.
//!
//! Consumes (as consumer group `playlists`): `catalog.track.added`, `catalog.track.updated`,
//! `catalog.track.removed`, `auth.user.created`. Tracks it has not heard of yet are looked up
//! through a [`beatstream_events::directory::TrackDirectory`] (the catalog, in process or not).
//!
//! Emits: `playlists.playlist.changed`, `playlists.playlist.deleted`, `library.track.liked`,
//! `library.track.played`.

pub mod documents;
pub mod error;
pub mod http;
pub mod m3u;
pub mod model;
pub mod service;
pub mod store;

use std::sync::Arc;

use beatstream_db::Migrations;
use beatstream_events::auth::UserCreated;
use beatstream_events::catalog::{TrackAdded, TrackRemoved, TrackUpdated};
use beatstream_events::consumer::spawn_consumers as spawn_consumers_for;
use beatstream_events::{BusError, Event, EventBus};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error::PlaylistsError;
pub use http::{router, PlaylistsApi};
pub use service::PlaylistsService;
pub use store::PlaylistsStore;

pub const SERVICE: &str = "playlists";

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: &sqlx::migrate!("migrations/sqlite"),
    postgres: &sqlx::migrate!("migrations/postgres"),
};

/// Starts the consumers of the events this service reads.
pub async fn spawn_consumers(
    service: PlaylistsService,
    bus: Arc<dyn EventBus>,
    shutdown: CancellationToken,
) -> Result<Vec<JoinHandle<()>>, BusError> {
    spawn_consumers_for(
        bus,
        &[
            TrackAdded::TOPIC,
            TrackUpdated::TOPIC,
            TrackRemoved::TOPIC,
            UserCreated::TOPIC,
        ],
        SERVICE,
        move |batch: Vec<_>| {
            let service = service.clone();
            async move { service.apply_events(&batch).await }
        },
        shutdown,
    )
    .await
}
