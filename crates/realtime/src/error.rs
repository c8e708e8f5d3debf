//! The realtime service's errors and their one mapping to HTTP.

use beatstream_core::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum RealtimeError {
    /// A client error, already in its public form.
    #[error("{}", .0.message)]
    Api(#[from] ApiError),
    #[error("live channel: {0}")]
    Live(#[from] beatstream_events::BusError),
    #[error("storage: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

impl From<RealtimeError> for ApiError {
    fn from(error: RealtimeError) -> Self {
        match error {
            RealtimeError::Api(e) => e,
            RealtimeError::Live(e) => ApiError::unavailable("live channel", &e),
            RealtimeError::Database(e) => ApiError::unavailable("realtime database", &e),
            RealtimeError::Internal(e) => ApiError::internal("realtime", &e),
        }
    }
}
