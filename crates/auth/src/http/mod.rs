//! The auth service's routes and their OpenAPI description.

pub(crate) mod dto;
mod handlers;

use axum::routing::{delete, get, post};
use axum::Router;
use utoipa::OpenApi;

use crate::service::AuthService;

pub fn router(auth: AuthService) -> Router {
    Router::new()
        .route("/api/v1/auth/signup", post(handlers::signup))
        .route("/api/v1/auth/login", post(handlers::login))
        .route("/api/v1/auth/refresh", post(handlers::refresh))
        .route("/api/v1/auth/logout", post(handlers::logout))
        .route("/api/v1/auth/introspect", post(handlers::introspect))
        .route("/.well-known/jwks.json", get(handlers::jwks))
        .route(
            "/api/v1/me/tokens",
            post(handlers::create_token).get(handlers::list_tokens),
        )
        .route("/api/v1/me/tokens/{id}", delete(handlers::revoke_token))
        .route(
            "/api/v1/me/app-passwords",
            post(handlers::create_app_password).get(handlers::list_app_passwords),
        )
        .route(
            "/api/v1/me/app-passwords/{id}",
            delete(handlers::revoke_app_password),
        )
        .route("/api/v1/auth/subsonic", post(handlers::subsonic_sign_in))
        .route("/api/v1/admin/users", post(handlers::create_user))
        .route("/api/v1/admin/auth/rotate-key", post(handlers::rotate_key))
        .with_state(auth)
}

#[derive(OpenApi)]
#[openapi(paths(
    handlers::signup,
    handlers::login,
    handlers::refresh,
    handlers::logout,
    handlers::introspect,
    handlers::jwks,
    handlers::create_token,
    handlers::list_tokens,
    handlers::revoke_token,
    handlers::create_app_password,
    handlers::list_app_passwords,
    handlers::revoke_app_password,
    handlers::subsonic_sign_in,
    handlers::create_user,
    handlers::rotate_key,
))]
pub struct AuthApi;
