//! Bearer authentication: turns `Authorization: Bearer <credential>` into an [`AuthOutcome`]
//! in the request's extensions. Routes decide whether they need a caller (the `Caller`
//! extractor answers 401); this layer never rejects on its own.
//!
//! Browsers cannot set headers on a WebSocket, so a WebSocket request may instead offer the
//! credential as a subprotocol `bearer.<credential>` (next to the protocol it speaks), which
//! keeps it out of URLs and logs.

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
    let headers = request.headers();
    let credential = match headers.get(axum::http::header::AUTHORIZATION) {
        Some(header) => Some(header.to_str().ok().and_then(bearer)),
        None => headers
            .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .and_then(websocket_bearer)
            .map(Some),
    };
    if let Some(credential) = credential {
        let outcome = match credential {
            Some(credential) => match authenticator.authenticate(credential).await {
                Ok(caller) => AuthOutcome::Authenticated(caller),
                Err(error) => AuthOutcome::Rejected(error),
            },
            None => AuthOutcome::Rejected(ApiError::unauthenticated(
                "the Authorization header must be `Bearer <token>`",
            )),
        };
        request.extensions_mut().insert(outcome);
    }
    next.run(request).await
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
    use super::{bearer, websocket_bearer};

    #[test]
    fn a_websocket_may_offer_its_credential_as_a_subprotocol() {
        assert_eq!(
            websocket_bearer("beatstream, bearer.abc.def"),
            Some("abc.def")
        );
        assert_eq!(websocket_bearer("bearer.x"), Some("x"));
        assert_eq!(websocket_bearer("beatstream"), None);
        assert_eq!(websocket_bearer("beatstream, bearer."), None);
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
