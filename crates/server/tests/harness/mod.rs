//! The one-process app built in the test, driven with `oneshot` requests (no socket).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use beatstream_config::{CliOverrides, Config};
use beatstream_server::wiring::{self, Wired};
use bytes::Bytes;
use serde_json::{json, Value};
use tower::ServiceExt;

pub struct App {
    pub router: Router,
    stop: Vec<tokio_util::sync::CancellationToken>,
    pub dir: tempfile::TempDir,
}

pub async fn app_with(file: &str) -> App {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("data_dir = \"{}\"\n{file}", dir.path().display());
    let config = Config::load(
        Some((std::path::Path::new("test.toml"), &text)),
        &Default::default(),
        &CliOverrides::default(),
    )
    .unwrap();
    let Wired {
        router,
        stop_relays,
        stop_consumers,
        ..
    } = wiring::wire(&config).await.unwrap();
    App {
        router,
        stop: vec![stop_relays, stop_consumers],
        dir,
    }
}

pub async fn app() -> App {
    app_with("").await
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop.iter().for_each(|token| token.cancel());
    }
}

impl App {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
            None => request.body(Body::empty()).unwrap(),
        };
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
            .await
            .unwrap();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, json, headers)
    }

    pub async fn signup(&self, username: &str) -> Value {
        let (status, body, _) = self
            .call(
                "POST",
                "/api/v1/auth/signup",
                None,
                Some(json!({"username": username, "password": "long enough password"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }
}

impl App {
    /// A request with extra headers and a raw body; returns status, headers and body as JSON
    /// (or as a JSON string when it is not JSON).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> (StatusCode, Value, HeaderMap) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(body.into()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, json, headers)
    }

    /// A request with extra headers; returns status, headers and raw body.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        (status, headers, bytes)
    }
}

pub const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../catalog/tests/fixtures/library"
);

pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The app with a copy of the fixture library, scanned, and an admin token.
pub async fn scanned() -> (App, String, tempfile::TempDir) {
    let library = tempfile::tempdir().unwrap();
    copy_dir(std::path::Path::new(FIXTURES), library.path());
    let app = app_with(&format!("library = [\"{}\"]\n", library.path().display())).await;
    let admin = token(&app.signup("admin").await);
    // The start-up scan runs on its own; wait for it.
    for _ in 0..200 {
        let (status, scan, _) = app
            .call("GET", "/api/v1/library/scan", Some(&admin), None)
            .await;
        if status == StatusCode::OK && scan["state"] == "idle" {
            assert_eq!(scan["tracks_added"], 16, "{scan}");
            return (app, admin, library);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the start-up scan did not finish");
}

pub fn token(session: &Value) -> String {
    session["access_token"].as_str().unwrap().to_string()
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}
