//! Bearer authentication: turns `Authorization: Bearer <credential>` into an [`AuthOutcome`]
//! in the request's extensions. Routes decide whether they need a caller (the `Caller`
//! extractor answers 401); this layer never rejects on its own.

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
    if let Some(header) = request.headers().get(axum::http::header::AUTHORIZATION) {
        let outcome = match header.to_str().ok().and_then(bearer) {
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

fn bearer(value: &str) -> Option<&str> {
    let (scheme, credential) = value.split_once(' ')?;
    let credential = credential.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty()).then_some(credential)
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_credential() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
