//! Request and response bodies of the auth routes. Requests reject unknown fields.

use beatstream_core::{Timestamp, UserRole};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::keys::Jwks;
use crate::model::{ApiToken, AppPassword, Credentials, Session};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// `user` (default) or `admin`.
    pub role: Option<UserRole>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDto {
    pub id: String,
    pub username: String,
    pub role: UserRole,
    pub created_at: Timestamp,
}

impl From<&Credentials> for AccountDto {
    fn from(c: &Credentials) -> Self {
        AccountDto {
            id: c.user_id.to_string(),
            username: c.username.clone(),
            role: c.role,
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub user: AccountDto,
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl From<Session> for SessionResponse {
    fn from(s: Session) -> Self {
        SessionResponse {
            user: AccountDto::from(&s.user),
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            token_type: "Bearer",
            expires_in: s.expires_in,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
}

/// A new personal API token; `token` is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenResponse {
    pub id: String,
    pub name: String,
    pub token: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl From<ApiToken> for TokenDto {
    fn from(t: ApiToken) -> Self {
        TokenDto {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedKeyResponse {
    pub kid: String,
}

pub type JwksResponse = Jwks;

/// `POST /api/v1/auth/introspect`: is this bearer credential good, and whose is it?
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntrospectRequest {
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntrospectResponse {
    pub active: bool,
    /// The caller the token stands for, when it is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<IntrospectedUser>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntrospectedUser {
    pub id: String,
    pub username: String,
    pub role: beatstream_core::UserRole,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppPasswordRequest {
    pub name: String,
}

/// A new app password; `password` is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAppPasswordResponse {
    pub id: String,
    pub name: String,
    pub password: String,
    pub created_at: Timestamp,
}

impl From<AppPassword> for TokenDto {
    fn from(p: AppPassword) -> Self {
        TokenDto {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}

/// A Subsonic client's credentials: `password` (the `p` parameter, `enc:` already decoded), or
/// `token` and `salt` (`t` and `s`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubsonicSignInRequest {
    pub username: String,
    pub password: Option<String>,
    pub token: Option<String>,
    pub salt: Option<String>,
}

/// An access token for a Subsonic client's calls; no refresh token.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantResponse {
    pub user: AccountDto,
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
}
