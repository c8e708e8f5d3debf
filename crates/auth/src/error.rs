//! The auth service's errors and their one mapping to HTTP.

use beatstream_core::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("username taken")]
    UsernameTaken,
    #[error("sign-up is closed")]
    SignupClosed,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("account disabled")]
    AccountDisabled,
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("refresh token reused")]
    RefreshTokenReused,
    #[error("invalid access token: {0}")]
    InvalidAccessToken(String),
    #[error("too many login attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("api token not found")]
    TokenNotFound,
    #[error("app password not found")]
    AppPasswordNotFound,
    #[error("storage: {0}")]
    Database(#[from] sqlx::Error),
    #[error("outbox: {0}")]
    Outbox(#[from] beatstream_events::outbox::OutboxError),
    #[error("crypto: {0}")]
    Crypto(String),
    /// The auth service, asked from another process, cannot be reached.
    #[error("auth service unavailable: {0}")]
    Unavailable(String),
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Unavailable(e) => ApiError::unavailable("auth service", &e),
            AuthError::Invalid { field, reason } => {
                ApiError::invalid("invalid_argument", format!("{field}: {reason}"))
            }
            AuthError::UsernameTaken => ApiError::new(
                ErrorCode::AlreadyExists,
                "username_taken",
                "that username is taken",
            ),
            AuthError::SignupClosed => ApiError::new(
                ErrorCode::Forbidden,
                "signup_closed",
                "sign-up is closed on this server; ask an admin for an account",
            ),
            AuthError::InvalidCredentials => ApiError::new(
                ErrorCode::Unauthenticated,
                "invalid_credentials",
                "wrong username or password",
            ),
            AuthError::AccountDisabled => ApiError::new(
                ErrorCode::Forbidden,
                "account_disabled",
                "this account is disabled",
            ),
            AuthError::InvalidRefreshToken => ApiError::new(
                ErrorCode::Unauthenticated,
                "invalid_refresh_token",
                "the refresh token is invalid, expired or already used; sign in again",
            ),
            AuthError::RefreshTokenReused => ApiError::new(
                ErrorCode::Unauthenticated,
                "refresh_token_reused",
                "this refresh token was already used; the session was ended for safety, sign in again",
            ),
            AuthError::InvalidAccessToken(reason) => ApiError::new(
                ErrorCode::Unauthenticated,
                "invalid_token",
                format!("the access token is not valid ({reason}); refresh it or sign in again"),
            ),
            AuthError::RateLimited { retry_after_secs } => ApiError::new(
                ErrorCode::TooManyRequests,
                "too_many_attempts",
                "too many login attempts; wait and try again",
            )
            .with_retry_after(retry_after_secs),
            AuthError::TokenNotFound => ApiError::not_found("token_not_found", "no such API token"),
            AuthError::AppPasswordNotFound => {
                ApiError::not_found("app_password_not_found", "no such app password")
            }
            AuthError::Database(e) => ApiError::unavailable("auth database", &e),
            AuthError::Outbox(e) => ApiError::internal("auth outbox", &e),
            AuthError::Crypto(e) => ApiError::internal("auth crypto", &e),
        }
    }
}
