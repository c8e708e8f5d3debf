//! Who is calling: the identity an [`Authenticator`] derives from a bearer credential, put in
//! the request's extensions by the gateway's authentication layer and extracted by handlers.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::ids::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserRole {
    Admin,
    User,
}

impl UserRole {
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Admin => "admin",
            UserRole::User => "user",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(UserRole::Admin),
            "user" => Some(UserRole::User),
            _ => None,
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub username: String,
    pub role: UserRole,
    pub scope: Scope,
}

/// What a credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Everything the account may do (a login, a personal API token).
    #[default]
    Full,
    /// What a music app does (signed in with an app password): everything but managing the
    /// account's credentials and other accounts.
    Listening,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == UserRole::Admin
    }

    /// 403 unless the caller signed in with a full credential: managing tokens, app passwords
    /// and accounts is not for a music app's sign-in.
    pub fn require_full_scope(&self) -> Result<(), ApiError> {
        match self.scope {
            Scope::Full => Ok(()),
            Scope::Listening => Err(ApiError::forbidden(
                "signed in with an app password: sign in with your password to manage tokens, app passwords and accounts",
            )),
        }
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs an admin account"))
        }
    }
}

/// Turns a bearer credential (an access token or a personal API token) into a [`Caller`].
/// Implemented by the auth service, in process or through JWKS when it runs elsewhere.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync + 'static {
    async fn authenticate(&self, bearer: &str) -> Result<Caller, ApiError>;
}

/// Extracting a `Caller` fails with 401 when the request carried no valid credential.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<AuthOutcome>() {
            Some(AuthOutcome::Authenticated(caller)) => Ok(caller.clone()),
            Some(AuthOutcome::Rejected(error)) => Err(error.clone()),
            None => Err(ApiError::unauthenticated(
                "sign in: send `Authorization: Bearer <access token>`",
            )),
        }
    }
}

/// `Option<Caller>`: `None` without a credential, 401 with an invalid one.
impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match parts.extensions.get::<AuthOutcome>() {
            Some(AuthOutcome::Authenticated(caller)) => Ok(Some(caller.clone())),
            Some(AuthOutcome::Rejected(error)) => Err(error.clone()),
            None => Ok(None),
        }
    }
}

/// The client's IP address, when the server was started with connection info.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(ClientAddr(addr))
    }
}

/// What the authentication layer found, stored in request extensions.
#[derive(Debug, Clone)]
pub enum AuthOutcome {
    Authenticated(Caller),
    /// A credential was sent but is not valid (expired, revoked, malformed).
    Rejected(ApiError),
}
