//! The recommendations service's errors and their one mapping to HTTP.

use beatstream_core::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum RecommendError {
    #[error("no such track")]
    TrackNotFound,
    #[error("the catalog could not be asked: {0}")]
    Directory(String),
    #[error("training: {0}")]
    Training(String),
    #[error("storage: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<RecommendError> for ApiError {
    fn from(error: RecommendError) -> Self {
        match error {
            RecommendError::TrackNotFound => {
                ApiError::not_found("track_not_found", "no track has this id")
            }
            RecommendError::Directory(e) => ApiError::unavailable("track directory", &e),
            RecommendError::Training(e) => ApiError::internal("recommendation model", &e),
            RecommendError::Database(e) => ApiError::unavailable("recommendations database", &e),
        }
    }
}
