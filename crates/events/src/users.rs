//! Events the users service emits.

use beatstream_core::{UserId, UserRole};
use serde::{Deserialize, Serialize};

use crate::Event;

/// `users.account.changed`: an admin changed a user's role or disabled/enabled the account.
/// The auth service applies it to new tokens and revokes a disabled user's refresh tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountChanged {
    pub user_id: UserId,
    pub role: UserRole,
    pub disabled: bool,
}

impl Event for AccountChanged {
    const TOPIC: &'static str = "users.account.changed";
    const VERSION: u32 = 1;
}

/// `users.preferences.changed`: a user's stated taste changed (for recommendations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreferencesChanged {
    pub user_id: UserId,
    pub favorite_genres: Vec<String>,
    pub favorite_artists: Vec<String>,
    pub streaming_quality: String,
}

impl Event for PreferencesChanged {
    const TOPIC: &'static str = "users.preferences.changed";
    const VERSION: u32 = 1;
}
