//! The search service's errors and their one mapping to HTTP.

use beatstream_core::ApiError;

use crate::index::IndexError;
use crate::query::MAX_QUERY_CHARS;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the query is longer than {MAX_QUERY_CHARS} characters")]
    QueryTooLong,
    #[error("unknown type {0:?}")]
    UnknownType(String),
    #[error("{0}")]
    Index(#[from] IndexError),
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("the catalog could not be asked: {0}")]
    Directory(String),
    #[error("storage: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::QueryTooLong => ApiError::invalid(
                "query_too_long",
                format!("a search query may have at most {MAX_QUERY_CHARS} characters"),
            ),
            SearchError::UnknownType(t) => ApiError::invalid(
                "invalid_argument",
                format!("types: unknown type {t:?}; use track, album, artist or playlist"),
            ),
            SearchError::Index(e) => ApiError::internal("search index", &e),
            SearchError::Tantivy(e) => ApiError::internal("search index", &e),
            SearchError::Directory(e) => ApiError::unavailable("track directory", &e),
            SearchError::Database(e) => ApiError::unavailable("search database", &e),
        }
    }
}
