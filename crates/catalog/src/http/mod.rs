//! The catalog's routes and their OpenAPI description.

mod dto;
mod handlers;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use crate::service::CatalogService;

pub fn router(catalog: CatalogService) -> Router {
    // Multipart overhead on top of the file itself.
    let upload_limit = usize::try_from(catalog.settings().max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    Router::new()
        .route("/api/v1/artists", get(handlers::list_artists))
        .route("/api/v1/artists/{id}", get(handlers::get_artist))
        .route("/api/v1/albums", get(handlers::list_albums))
        .route("/api/v1/albums/{id}", get(handlers::get_album))
        .route("/api/v1/albums/{id}/cover", get(handlers::get_cover))
        .route(
            "/api/v1/tracks",
            get(handlers::list_tracks)
                .post(handlers::upload_track)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/v1/tracks/{id}", get(handlers::get_track))
        .route("/api/v1/tracks/{id}/stream", get(handlers::stream_track))
        .route("/api/v1/tracks/{id}/lyrics", get(handlers::get_lyrics))
        .route("/api/v1/genres", get(handlers::list_genres))
        .route(
            "/api/v1/library/scan",
            post(handlers::start_scan).get(handlers::get_scan),
        )
        .with_state(catalog)
}

#[derive(OpenApi)]
#[openapi(paths(
    handlers::list_artists,
    handlers::get_artist,
    handlers::list_albums,
    handlers::get_album,
    handlers::get_cover,
    handlers::list_tracks,
    handlers::upload_track,
    handlers::get_track,
    handlers::get_lyrics,
    handlers::stream_track,
    handlers::list_genres,
    handlers::start_scan,
    handlers::get_scan,
))]
pub struct CatalogApi;
