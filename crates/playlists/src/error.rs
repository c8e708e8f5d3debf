//! The playlists service's errors and their one mapping to HTTP.

use beatstream_core::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum PlaylistsError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("unknown tracks: {0:?}")]
    UnknownTracks(Vec<String>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("only the owner may {0}")]
    NotOwner(&'static str),
    #[error("not allowed to edit this playlist's tracks")]
    CannotEdit,
    #[error("the playlist changed: it is at version {current}")]
    VersionMismatch { current: i64 },
    #[error("{1}")]
    Conflict(&'static str, &'static str),
    #[error("the catalog could not be asked: {0}")]
    Directory(String),
    #[error("storage: {0}")]
    Database(#[from] sqlx::Error),
    /// A storage failure shared by every request of a batch.
    #[error("storage: {0}")]
    Batch(String),
    #[error("outbox: {0}")]
    Outbox(#[from] beatstream_events::outbox::OutboxError),
}

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> PlaylistsError {
    PlaylistsError::Invalid {
        field,
        reason: reason.into(),
    }
}

impl From<PlaylistsError> for ApiError {
    fn from(error: PlaylistsError) -> Self {
        match error {
            PlaylistsError::Invalid { field, reason } => {
                ApiError::invalid("invalid_argument", format!("{field}: {reason}"))
            }
            PlaylistsError::UnknownTracks(ids) => {
                let shown: Vec<&str> = ids.iter().take(10).map(String::as_str).collect();
                let more = if ids.len() > shown.len() {
                    format!(" and {} more", ids.len() - shown.len())
                } else {
                    String::new()
                };
                ApiError::invalid(
                    "unknown_track",
                    format!("no playable track with id {}{more}", shown.join(", ")),
                )
            }
            PlaylistsError::NotFound("playlist") => {
                ApiError::not_found("playlist_not_found", "no such playlist")
            }
            PlaylistsError::NotFound("track") => {
                ApiError::not_found("track_not_found", "no such track")
            }
            PlaylistsError::NotFound("user") => {
                ApiError::not_found("user_not_found", "no such user")
            }
            PlaylistsError::NotFound("collaborator") => ApiError::not_found(
                "collaborator_not_found",
                "that user is not a collaborator of this playlist",
            ),
            PlaylistsError::NotFound(what) => {
                ApiError::not_found("not_found", format!("no such {what}"))
            }
            PlaylistsError::NotOwner(action) => {
                ApiError::forbidden(format!("only the playlist's owner may {action}"))
            }
            PlaylistsError::CannotEdit => ApiError::forbidden(
                "only the owner and collaborators of a collaborative playlist may change its tracks",
            ),
            PlaylistsError::VersionMismatch { current } => ApiError::new(
                ErrorCode::PreconditionFailed,
                "version_mismatch",
                format!(
                    "the playlist changed since you read it: it is at version {current}; reload it and try again"
                ),
            ),
            PlaylistsError::Conflict(code, message) => {
                ApiError::new(ErrorCode::Conflict, code, message)
            }
            PlaylistsError::Directory(e) => ApiError::unavailable("track directory", &e),
            PlaylistsError::Database(e) => ApiError::unavailable("playlists database", &e),
            PlaylistsError::Batch(e) => ApiError::unavailable("playlists database", &e),
            PlaylistsError::Outbox(e) => ApiError::internal("playlists outbox", &e),
        }
    }
}
