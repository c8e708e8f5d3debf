//! The users service's domain types.

use beatstream_core::{Timestamp, UserId, UserRole};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub user_id: UserId,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: UserRole,
    pub disabled: bool,
    pub preferences: Preferences,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StreamingQuality {
    Low,
    Normal,
    High,
    Lossless,
}

impl StreamingQuality {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamingQuality::Low => "low",
            StreamingQuality::Normal => "normal",
            StreamingQuality::High => "high",
            StreamingQuality::Lossless => "lossless",
        }
    }
}

/// What a listener says they like, and how they want to stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Preferences {
    pub favorite_genres: Vec<String>,
    pub favorite_artists: Vec<String>,
    pub streaming_quality: StreamingQuality,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            favorite_genres: Vec::new(),
            favorite_artists: Vec::new(),
            streaming_quality: StreamingQuality::High,
        }
    }
}

/// A partial update of the caller's profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    /// `Some(None)` clears the display name.
    pub display_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub favorite_genres: Option<Vec<String>>,
    pub favorite_artists: Option<Vec<String>>,
    pub streaming_quality: Option<StreamingQuality>,
}

/// An admin's change to an account.
#[derive(Debug, Clone, Default)]
pub struct AccountPatch {
    pub role: Option<UserRole>,
    pub disabled: Option<bool>,
}
