//! The users service's errors and their one mapping to HTTP.

use beatstream_core::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("user not found")]
    NotFound,
    #[error("this change would leave no active admin")]
    LastAdmin,
    #[error("storage: {0}")]
    Database(#[from] sqlx::Error),
    #[error("outbox: {0}")]
    Outbox(#[from] beatstream_events::outbox::OutboxError),
}

impl From<UsersError> for ApiError {
    fn from(error: UsersError) -> Self {
        match error {
            UsersError::Invalid { field, reason } => {
                ApiError::invalid("invalid_argument", format!("{field}: {reason}"))
            }
            UsersError::NotFound => ApiError::not_found("user_not_found", "no such user"),
            UsersError::LastAdmin => ApiError::new(
                ErrorCode::Conflict,
                "last_admin",
                "this would leave the server without an active admin; make another admin first",
            ),
            UsersError::Database(e) => ApiError::unavailable("users database", &e),
            UsersError::Outbox(e) => ApiError::internal("users outbox", &e),
        }
    }
}
