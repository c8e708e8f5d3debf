//! Events the auth service emits.

use beatstream_core::{Timestamp, UserId, UserRole};
use serde::{Deserialize, Serialize};

use crate::Event;

/// `auth.user.created`: an account was created (sign-up or by an admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user_id: UserId,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub role: UserRole,
    pub created_at: Timestamp,
}

impl Event for UserCreated {
    const TOPIC: &'static str = "auth.user.created";
    const VERSION: u32 = 1;
}
