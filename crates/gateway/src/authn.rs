//! Bearer authentication: turns `Authorization: Bearer <credential>` into an [`AuthOutcome`]
//! in the request's extensions. Routes decide whether they need a caller (the `Caller`
//! extractor answers 401); this layer never rejects on its own.
//!
//! Browsers cannot set headers on a WebSocket, so a WebSocket request may instead offer the
//! credential as a subprotocol `bearer.<credential>` (next to the protocol it speaks), which
//! keeps it out of URLs and logs. For clients that can do neither, a WebSocket request may put
//! a short-lived access token in the query (`?access_token=`); long-lived personal API tokens
//! are refused there.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use beatstream_core::{ApiError, AuthOutcome, Authenticator};

pub async fn authenticate(
    State(authenticator): State<Arc<dyn Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let outcome = match credential_of(&request) {
        None => None,
        Some(Err(message)) => Some(AuthOutcome::Rejected(ApiError::unauthenticated(message))),
        Some(Ok(credential)) => Some(match authenticator.authenticate(&credential).await {
            Ok(caller) => AuthOutcome::Authenticated(caller),
            Err(error) => AuthOutcome::Rejected(error),
        }),
    };
    if let Some(outcome) = outcome {
        request.extensions_mut().insert(outcome);
    }
    next.run(request).await
}

/// The credential a request carries: `None` without one, `Err` with a message for one that
/// is malformed or sent where it must not be.
fn credential_of(request: &Request) -> Option<Result<String, &'static str>> {
    let headers = request.headers();
    if let Some(header) = headers.get(axum::http::header::AUTHORIZATION) {
        return Some(
            header
                .to_str()
                .ok()
                .and_then(bearer)
                .map(str::to_string)
                .ok_or("the Authorization header must be `Bearer <token>`"),
        );
    }
    let protocols = headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok());
    if let Some(credential) = protocols.and_then(websocket_bearer) {
        return Some(Ok(credential.to_string()));
    }
    let websocket = headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let token = request.uri().query().and_then(query_access_token);
    match token {
        Some(token) if websocket && token.starts_with(API_TOKEN_PREFIX) => Some(Err(
            "a personal API token is long-lived: keep it out of URLs; offer it as the subprotocol `bearer.<token>` or in the Authorization header",
        )),
        Some(token) if websocket => Some(Ok(token.to_string())),
        _ => None,
    }
}

/// Personal API tokens start with this (auth's `API_TOKEN_PREFIX`).
const API_TOKEN_PREFIX: &str = "bsp_";

/// `...&access_token=<token>&...` → the token.
fn query_access_token(query: &str) -> Option<&str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("access_token="))
        .filter(|token| !token.is_empty())
}

/// `beatstream, bearer.<credential>` → the credential.
fn websocket_bearer(protocols: &str) -> Option<&str> {
    protocols
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("bearer."))
        .filter(|credential| !credential.is_empty())
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, credential) = value.split_once(' ')?;
    let credential = credential.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty()).then_some(credential)
}

#[cfg(test)]
mod tests {
    use super::{bearer, query_access_token, websocket_bearer};

    #[test]
    fn a_websocket_may_offer_its_credential_as_a_subprotocol() {
        assert_eq!(
            websocket_bearer("beatstream, bearer.abc.def"),
            Some("abc.def")
        );
        assert_eq!(websocket_bearer("bearer.x"), Some("x"));
        assert_eq!(websocket_bearer("beatstream"), None);
        assert_eq!(websocket_bearer("beatstream, bearer."), None);
        assert_eq!(
            query_access_token("device_id=x&access_token=a.b.c"),
            Some("a.b.c")
        );
        assert_eq!(query_access_token("access_token="), None);
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_credential() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
