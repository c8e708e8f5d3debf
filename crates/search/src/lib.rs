//! The search service: instant, typo-tolerant search over tracks, albums, artists and
//! playlists, from an embedded tantivy index in its own folder (`<data dir>/search`) that no
//! other service reads.
//!
//! Owns the tables `tracks`, `track_artists`, `track_plays` and `playlists` (read models of the
//! events below), `index_changes` (what the index must rebuild, in order),
//! `reindex_requests`, `jobs_done` and `processed_events`, and the index folder. Routes:
//! `GET /api/v1/search`, `GET /api/v1/admin/search`, `POST /api/v1/admin/search/reindex`.
//!
//! Consumes (as consumer group `search`): `catalog.track.added`, `catalog.track.updated`,
//! `catalog.track.removed`, `library.track.played` (popularity), `playlists.playlist.changed`,
//! `playlists.playlist.deleted`. Tracks that existed before this service did come from a
//! [`beatstream_events::directory::TrackDirectory`] (the catalog, in process or not).
//!
//! Emits nothing.

pub mod cache;
pub mod documents;
pub mod error;
pub mod http;
pub mod index;
pub mod query;
pub mod schema;
pub mod searcher;
pub mod service;
pub mod store;
pub mod text;

use std::sync::Arc;

use beatstream_db::Migrations;
use beatstream_events::consumer::spawn_consumers as spawn_consumers_for;
use beatstream_events::{BusError, EventBus};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error::SearchError;
pub use http::{router, SearchApi};
pub use service::SearchService;
pub use store::SearchStore;

pub const SERVICE: &str = "search";

pub static MIGRATIONS: Migrations = Migrations {
    sqlite: &sqlx::migrate!("migrations/sqlite"),
    postgres: &sqlx::migrate!("migrations/postgres"),
};

/// Starts the consumers of the events this service reads.
pub async fn spawn_consumers(
    service: SearchService,
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
