//! The catalog's errors and their one mapping to HTTP.

use beatstream_core::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("range not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    #[error("track file missing")]
    FileMissing,
    #[error("cover not found")]
    CoverNotFound,
    #[error("upload too large")]
    UploadTooLarge { limit: u64 },
    #[error("not an audio file: {0}")]
    NotAudio(String),
    #[error("transcoding unavailable: {0}")]
    TranscodingUnavailable(String),
    #[error("storage: {0}")]
    Database(#[from] sqlx::Error),
    #[error("outbox: {0}")]
    Outbox(#[from] beatstream_events::outbox::OutboxError),
    #[error("blob storage: {0}")]
    Blob(#[from] beatstream_storage::StorageError),
    #[error("{0}")]
    Internal(String),
}

impl From<CatalogError> for ApiError {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::NotFound(what) => ApiError::not_found(
                match what {
                    "artist" => "artist_not_found",
                    "album" => "album_not_found",
                    "scan" => "scan_not_found",
                    _ => "track_not_found",
                },
                format!("no such {what}"),
            ),
            CatalogError::Invalid { field, reason } => ApiError::invalid("invalid_argument", format!("{field}: {reason}")),
            CatalogError::RangeNotSatisfiable { .. } => ApiError::new(
                ErrorCode::RangeNotSatisfiable,
                "range_not_satisfiable",
                "the requested range is outside the file",
            ),
            CatalogError::FileMissing => ApiError::new(
                ErrorCode::NotFound,
                "track_unavailable",
                "the track's file is missing; a rescan will update the catalog",
            ),
            CatalogError::CoverNotFound => ApiError::not_found("cover_not_found", "this album has no cover art"),
            CatalogError::UploadTooLarge { limit } => ApiError::new(
                ErrorCode::PayloadTooLarge,
                "upload_too_large",
                format!("uploads are limited to {limit} bytes"),
            ),
            CatalogError::NotAudio(reason) => ApiError::invalid("not_audio", format!("not an audio file this server reads: {reason}")),
            CatalogError::TranscodingUnavailable(reason) => ApiError::new(
                ErrorCode::Unavailable,
                "transcoding_unavailable",
                format!("transcoding is unavailable on this server ({reason}); stream the original instead"),
            ),
            CatalogError::Database(e) => ApiError::unavailable("catalog database", &e),
            CatalogError::Outbox(e) => ApiError::internal("catalog outbox", &e),
            CatalogError::Blob(e) => ApiError::internal("catalog blob storage", &e),
            CatalogError::Internal(e) => ApiError::internal("catalog", &e),
        }
    }
}
