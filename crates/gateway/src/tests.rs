//! The process-level layers, around a stand-in service: errors in the house format, the
//! authentication outcome handlers see, metrics and request ids.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use beatstream_core::{ApiError, Authenticator, Caller, UserId, UserRole};
use tower::ServiceExt;

use super::*;

struct OneToken;

#[async_trait::async_trait]
impl Authenticator for OneToken {
    async fn authenticate(&self, bearer: &str) -> Result<Caller, ApiError> {
        if bearer == "good" {
            Ok(Caller {
                user_id: UserId("u1".into()),
                username: "una".into(),
                role: UserRole::User,
            })
        } else {
            Err(ApiError::unauthenticated("bad token"))
        }
    }
}

async fn whoami(caller: Caller) -> String {
    caller.username
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

fn test_app() -> Router {
    let service = Router::new()
        .route("/api/v1/whoami", get(whoami))
        .route("/api/v1/slow", get(slow));
    app(AppParts {
        services: vec![service],
        openapi: utoipa::openapi::OpenApiBuilder::new().build(),
        authenticator: Arc::new(OneToken),
        probes: Vec::new(),
        metrics: install_recorder(),
        max_body_bytes: 1024,
        request_timeout: Duration::from_millis(100),
    })
}

async fn send(request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = test_app().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

fn get_with(path: &str, authorization: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().uri(path);
    if let Some(value) = authorization {
        builder = builder.header("authorization", value);
    }
    builder.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn a_slow_request_times_out_with_a_json_408() {
    let (status, body) = send(get_with("/api/v1/slow", None)).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(body["error"]["code"], "timeout");
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/whoami")
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(request).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn handlers_see_the_caller_of_a_valid_bearer() {
    let response = test_app()
        .oneshot(get_with("/api/v1/whoami", Some("Bearer good")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"una");
}

#[tokio::test]
async fn a_bad_or_malformed_credential_is_401_not_anonymous() {
    for header in ["Bearer bad", "Basic dXNlcjpwYXNz", "Bearer"] {
        let (status, body) = send(get_with("/api/v1/whoami", Some(header))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header}");
        assert_eq!(body["error"]["code"], "unauthenticated", "{header}");
    }
}
