//! The Subsonic API (1.16.1) with OpenSubsonic extensions at `/rest/*`, so existing music apps
//! work with Beatstream. This first part is the transport and sign-in every call shares:
//! `GET` with query parameters or `POST` with a form body, paths with and without `.view`, the
//! `subsonic-response` envelope in XML (the default), JSON (`f=json`) or JSONP
//! (`f=jsonp&callback=`), Subsonic error codes (always HTTP 200, as clients expect), and the
//! calls that need no other service: `ping`, `getLicense`, `getOpenSubsonicExtensions`,
//! `tokenInfo`. Sign-in is the OpenSubsonic `apiKey` (a personal API token); `u` with `p` or
//! `t`+`s` needs app passwords, which are not built yet, and is refused with code 42.
//!
//! Owns no tables and emits no events.

mod envelope;
mod params;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use beatstream_core::{Authenticator, Caller};
use serde_json::{json, Value};

use envelope::{Format, Reply};
pub use envelope::{API_VERSION, SERVER_TYPE};
use params::Params;

/// Subsonic error codes.
pub mod code {
    pub const GENERIC: u32 = 0;
    pub const MISSING_PARAMETER: u32 = 10;
    pub const WRONG_CREDENTIALS: u32 = 40;
    pub const MECHANISM_NOT_SUPPORTED: u32 = 42;
    pub const CONFLICTING_MECHANISMS: u32 = 43;
    pub const INVALID_API_KEY: u32 = 44;
    pub const NOT_FOUND: u32 = 70;
}

/// A failed call: its Subsonic code and message.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: u32,
    pub message: String,
}

impl Failure {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

#[derive(Clone)]
struct Subsonic {
    authenticator: Arc<dyn Authenticator>,
}

pub fn router(authenticator: Arc<dyn Authenticator>) -> Router {
    Router::new()
        .route("/rest/{method}", get(call).post(call))
        .with_state(Subsonic { authenticator })
}

async fn call(
    State(subsonic): State<Subsonic>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let params = Params::parse(query.as_deref(), form.then_some(&body[..]));
    let format = Format::of(&params);
    let method = method.strip_suffix(".view").unwrap_or(&method).to_string();
    let reply = match dispatch(&subsonic, &method, &params).await {
        Ok(payload) => Reply::Ok(payload),
        Err(failure) => Reply::Failed(failure),
    };
    envelope::render(reply, &format)
}

/// Calls that need no signed-in user.
const OPEN: [&str; 1] = ["getOpenSubsonicExtensions"];

async fn dispatch(subsonic: &Subsonic, method: &str, params: &Params) -> Result<Value, Failure> {
    let caller = if OPEN.contains(&method) {
        None
    } else {
        Some(sign_in(subsonic, params).await?)
    };
    match method {
        "ping" => Ok(json!({})),
        "getLicense" => Ok(json!({"license": {"valid": true}})),
        "getOpenSubsonicExtensions" => Ok(json!({"openSubsonicExtensions": [
            {"name": "apiKeyAuthentication", "versions": [1]},
            {"name": "formPost", "versions": [1]},
        ]})),
        "tokenInfo" => {
            let caller = caller.ok_or_else(|| Failure::new(code::GENERIC, "not signed in"))?;
            Ok(json!({"tokenInfo": {"username": caller.username}}))
        }
        _ => Err(Failure::new(
            code::NOT_FOUND,
            format!("this server does not know the method `{method}`"),
        )),
    }
}

/// Who calls: the OpenSubsonic `apiKey` (a personal API token, `POST /api/v1/me/tokens`).
async fn sign_in(subsonic: &Subsonic, params: &Params) -> Result<Caller, Failure> {
    let api_key = params.get("apiKey");
    let user = params.get("u");
    match (api_key, user) {
        (Some(_), Some(_)) => Err(Failure::new(
            code::CONFLICTING_MECHANISMS,
            "send either apiKey or u, not both",
        )),
        (Some(key), None) => subsonic
            .authenticator
            .authenticate(key)
            .await
            .map_err(|_| Failure::new(code::INVALID_API_KEY, "the API key is not valid")),
        (None, Some(_)) => Err(Failure::new(
            code::MECHANISM_NOT_SUPPORTED,
            "sign in with apiKey (a personal API token from your settings); app passwords for u+p and t+s are not available yet",
        )),
        (None, None) => Err(Failure::new(
            code::MISSING_PARAMETER,
            "required parameter is missing: apiKey (or u)",
        )),
    }
}
