//! Request and response bodies of the users routes. Requests reject unknown fields.

use beatstream_core::{Timestamp, UserRole};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::model::{Preferences, Profile, StreamingQuality};
use crate::play_queue::PlayQueue;

/// `GET /api/v1/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: UserRole,
    pub preferences: Preferences,
    pub created_at: Timestamp,
}

impl From<Profile> for MeResponse {
    fn from(p: Profile) -> Self {
        MeResponse {
            id: p.user_id.to_string(),
            username: p.username,
            display_name: p.display_name,
            email: p.email,
            role: p.role,
            preferences: p.preferences,
            created_at: p.created_at,
        }
    }
}

/// Deserializes a present field as `Some(value)`, where `value` may be null: tells "set to
/// null" apart from "absent".
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMeRequest {
    /// A string, or null to clear it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    /// A string, or null to clear it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    pub preferences: Option<PreferencesPatch>,
}

/// Only the fields given are changed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesPatch {
    pub favorite_genres: Option<Vec<String>>,
    pub favorite_artists: Option<Vec<String>>,
    pub streaming_quality: Option<StreamingQuality>,
}

/// `GET /api/v1/users/{id}`: what anyone signed in may see of a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicProfile {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub created_at: Timestamp,
}

impl From<Profile> for PublicProfile {
    fn from(p: Profile) -> Self {
        PublicProfile {
            id: p.user_id.to_string(),
            username: p.username,
            display_name: p.display_name,
            created_at: p.created_at,
        }
    }
}

/// A user as admins see them.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUser {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: UserRole,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Profile> for AdminUser {
    fn from(p: Profile) -> Self {
        AdminUser {
            id: p.user_id.to_string(),
            username: p.username,
            display_name: p.display_name,
            email: p.email,
            role: p.role,
            disabled: p.disabled,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUserList {
    pub items: Vec<AdminUser>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUserRequest {
    pub role: Option<UserRole>,
    pub disabled: Option<bool>,
}

/// A saved play queue. Empty (no tracks, `updated_at` null) until one is saved.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlayQueueDto {
    pub track_ids: Vec<String>,
    pub current_index: Option<usize>,
    pub position_ms: i64,
    pub changed_by: String,
    pub updated_at: Option<Timestamp>,
}

impl From<PlayQueue> for PlayQueueDto {
    fn from(q: PlayQueue) -> Self {
        PlayQueueDto {
            track_ids: q.track_ids,
            current_index: q.current_index,
            position_ms: q.position_ms,
            changed_by: q.changed_by,
            updated_at: q.updated_at,
        }
    }
}

/// The whole queue, replacing the saved one: up to 10,000 track ids, the index of the
/// current one, the position in it, and which client saved it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavePlayQueueRequest {
    pub track_ids: Vec<String>,
    pub current_index: Option<usize>,
    pub position_ms: Option<i64>,
    pub changed_by: Option<String>,
}
