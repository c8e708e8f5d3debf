//! The users service's routes and their OpenAPI description.

mod dto;
mod handlers;

use axum::routing::{get, patch};
use axum::Router;
use utoipa::OpenApi;

use crate::service::UsersService;

pub fn router(users: UsersService) -> Router {
    Router::new()
        .route(
            "/api/v1/me",
            get(handlers::get_me).patch(handlers::patch_me),
        )
        .route(
            "/api/v1/me/play-queue",
            get(handlers::get_play_queue).put(handlers::put_play_queue),
        )
        .route("/api/v1/users/{id}", get(handlers::get_user))
        .route("/api/v1/admin/users", get(handlers::list_users))
        .route("/api/v1/admin/users/{id}", patch(handlers::patch_user))
        .with_state(users)
}

#[derive(OpenApi)]
#[openapi(paths(
    handlers::get_me,
    handlers::patch_me,
    handlers::get_user,
    handlers::list_users,
    handlers::patch_user,
    handlers::get_play_queue,
    handlers::put_play_queue,
))]
pub struct UsersApi;
