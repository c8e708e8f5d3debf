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
                scope: beatstream_core::Scope::Full,
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
    app_with_web(None)
}

fn app_with_web(web_dir: Option<std::path::PathBuf>) -> Router {
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
        web_dir,
        discovery: None,
        remote: Vec::new(),
        rate_limit: (0, 0),
        facades: vec![Box::new(|api: Router| {
            // A facade that asks the API who calls, with the token it was given.
            Router::new().route(
                "/facade/{token}",
                get(
                    move |axum::extract::Path(token): axum::extract::Path<String>| {
                        let api = api.clone();
                        async move {
                            let request = Request::get("/api/v1/whoami")
                                .header("authorization", format!("Bearer {token}"))
                                .body(Body::empty())
                                .unwrap();
                            let response = api.oneshot(request).await.unwrap();
                            let status = response.status();
                            let body = axum::body::to_bytes(response.into_body(), 1024)
                                .await
                                .unwrap();
                            format!("{} {}", status.as_u16(), String::from_utf8_lossy(&body))
                        }
                    },
                ),
            )
        })],
    })
}

#[tokio::test]
async fn a_facade_calls_the_api_with_its_authentication() {
    for (token, expected) in [("good", "200 una"), ("bad", "401")] {
        let response = test_app()
            .oneshot(
                Request::get(format!("/facade/{token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body).to_string();
        assert!(body.starts_with(expected), "{token}: {body}");
    }
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

async fn fetch(app: Router, path: &str, gzip: bool) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut request = Request::builder().uri(path);
    if gzip {
        request = request.header("accept-encoding", "gzip");
    }
    let response = app
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    (parts.status, parts.headers, bytes.to_vec())
}

#[tokio::test]
async fn the_web_player_is_served_with_its_routes_and_cached_assets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><p>player</p>",
    )
    .unwrap();
    std::fs::write(dir.path().join("assets/app-1234.js"), "console.log(1)").unwrap();
    std::fs::write(dir.path().join("assets/app-1234.js.gz"), b"gzipped bytes").unwrap();
    let app = || app_with_web(crate::web::locate(dir.path()));

    let (status, headers, body) = fetch(app(), "/", false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"<!doctype html><p>player</p>");
    assert_eq!(headers["cache-control"], "no-cache");
    // A route of the player, loaded directly (a reload, a shared link), is the player too.
    let (status, _, body) = fetch(app(), "/playlists/abc", false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"<!doctype html><p>player</p>");

    let (status, headers, body) = fetch(app(), "/assets/app-1234.js", false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"console.log(1)");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    let (_, headers, body) = fetch(app(), "/assets/app-1234.js", true).await;
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(body, b"gzipped bytes");

    // API paths never fall back to the player.
    let (status, _, body) = fetch(app(), "/api/v1/nothing-here", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error"]["code"], "route_not_found");
}

#[tokio::test]
async fn without_a_built_player_the_root_says_how_to_build_it() {
    let missing = tempfile::tempdir().unwrap();
    assert_eq!(crate::web::locate(missing.path()), None);
    let (status, headers, body) = fetch(test_app(), "/", false).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("make web"), "{page}");
}
