//! The playlists and library routes and their OpenAPI description.

mod dto;
mod handlers;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;
use utoipa::OpenApi;

use crate::service::PlaylistsService;

/// An M3U file of 10,000 entries with long paths.
const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;

pub fn router(service: PlaylistsService) -> Router {
    Router::new()
        .route("/api/v1/playlists", post(handlers::create_playlist))
        .route(
            "/api/v1/playlists/import",
            post(handlers::import_m3u).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/api/v1/me/playlists", get(handlers::my_playlists))
        .route(
            "/api/v1/playlists/{id}",
            get(handlers::get_playlist)
                .patch(handlers::patch_playlist)
                .delete(handlers::delete_playlist),
        )
        .route(
            "/api/v1/playlists/{id}/tracks",
            post(handlers::add_tracks).delete(handlers::remove_tracks),
        )
        .route(
            "/api/v1/playlists/{id}/tracks/move",
            post(handlers::move_tracks),
        )
        .route(
            "/api/v1/playlists/{id}/collaborators/{user_id}",
            put(handlers::add_collaborator).delete(handlers::remove_collaborator),
        )
        .route(
            "/api/v1/playlists/{id}/export.m3u8",
            get(handlers::export_m3u),
        )
        .route("/api/v1/me/likes/tracks", get(handlers::list_likes))
        .route(
            "/api/v1/me/likes/tracks/{id}",
            put(handlers::like_track).delete(handlers::unlike_track),
        )
        .route("/api/v1/me/likes/{kind}", get(handlers::list_item_likes))
        .route(
            "/api/v1/me/likes/{kind}/{id}",
            put(handlers::like_item).delete(handlers::unlike_item),
        )
        .route("/api/v1/me/marks", get(handlers::marks))
        .route("/api/v1/me/ratings/{kind}", get(handlers::list_ratings))
        .route(
            "/api/v1/me/ratings/{kind}/{id}",
            put(handlers::rate).delete(handlers::clear_rating),
        )
        .route("/api/v1/me/now-playing", put(handlers::report_now_playing))
        .route("/api/v1/now-playing", get(handlers::now_playing))
        .route("/api/v1/me/plays", post(handlers::record_play))
        .route("/api/v1/me/history", get(handlers::history))
        .with_state(service)
}

#[derive(OpenApi)]
#[openapi(paths(
    handlers::create_playlist,
    handlers::my_playlists,
    handlers::get_playlist,
    handlers::patch_playlist,
    handlers::delete_playlist,
    handlers::add_tracks,
    handlers::remove_tracks,
    handlers::move_tracks,
    handlers::add_collaborator,
    handlers::remove_collaborator,
    handlers::export_m3u,
    handlers::import_m3u,
    handlers::like_track,
    handlers::unlike_track,
    handlers::list_likes,
    handlers::like_item,
    handlers::unlike_item,
    handlers::list_item_likes,
    handlers::rate,
    handlers::clear_rating,
    handlers::list_ratings,
    handlers::marks,
    handlers::report_now_playing,
    handlers::now_playing,
    handlers::record_play,
    handlers::history,
))]
pub struct PlaylistsApi;
