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

pub fn token(session: &Value) -> String {
    session["access_token"].as_str().unwrap().to_string()
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}
