//! The auth service's domain types: no SQL, no HTTP.

use beatstream_core::{Timestamp, UserId, UserRole};

/// What the auth service knows of an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Credentials {
    pub user_id: UserId,
    pub username: String,
    pub password_hash: String,
    pub role: UserRole,
    pub disabled: bool,
    pub created_at: Timestamp,
}

/// A stored refresh token (only its hash is kept).
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshToken {
    pub token_hash: String,
    pub user_id: UserId,
    pub family_id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A personal API token, without its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// An app password for Subsonic clients, without its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct AppPassword {
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// How a Subsonic client proves who it is, besides an API key.
#[derive(Debug, Clone)]
pub enum SubsonicProof {
    /// `p=`: the password itself (an app password or the account's password).
    Password(String),
    /// `t=md5(password + s)` with the salt `s`: an app password only.
    Token { token: String, salt: String },
}

/// An access token handed to a Subsonic client's calls (no refresh token: the client signs
/// in again with its app password).
#[derive(Debug, Clone)]
pub struct Grant {
    pub user: Credentials,
    pub access_token: String,
    pub expires_in: u64,
}

/// An Ed25519 signing key as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredKey {
    pub kid: String,
    pub private_der: Vec<u8>,
    pub public_x: String,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

/// The tokens a successful sign-up, login or refresh returns.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: Credentials,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// Input of sign-up and of an admin creating an account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
}
