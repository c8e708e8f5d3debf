//! The access log: one line per request under the target `access`, written at DEBUG, so the
//! default `info` level leaves it out; `log.level = "info,access=debug"` turns it on. A
//! server error (5xx) is logged at ERROR and a slow answer at WARN, so the default level shows
//! them, with the method, path, status, time to the response head and request id. (Uploads
//! are not called slow: a large file on a slow link takes what it takes.)
//!
//! The request's span (method, path, request id), around everything a handler logs, is at
//! DEBUG too: at `info` a handler's own error line does not carry the request id, and the
//! ERROR line of its 5xx that follows does.
//!
//! Off by default because it is the dearest part of a small request: formatting and writing a
//! line, and a span entered on every poll, took 30% of the CPU of a 64 KiB range request on a
//! 2-core machine (docs/benchmarks.md). Navidrome and Jellyfin log requests at debug too.

use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// Answers slower than this to their response head are logged at WARN.
const SLOW: Duration = Duration::from_secs(1);

pub async fn log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // Cheap: the URI and header value share the request's buffers.
    let uri = request.uri().clone();
    let request_id = request.headers().get(super::REQUEST_ID).cloned();
    let upload = super::is_upload(&request);
    let request_id = request_id
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let span = tracing::debug_span!(target: "access", "http", method = %method, path = %uri.path(), request_id);
    let response = next.run(request).instrument(span).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let path = uri.path();
    if response.status().is_server_error() {
        tracing::error!(target: "access", %method, path, status, latency_ms, request_id, "server error");
    } else if elapsed > SLOW && !upload {
        tracing::warn!(target: "access", %method, path, status, latency_ms, request_id, "slow answer");
    } else {
        tracing::debug!(target: "access", %method, path, status, latency_ms, request_id, "answered");
    }
    response
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    /// Log lines written to memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn lines_at(level: tracing::Level, paths: &[&str]) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route("/fine", get(|| async { "fine" }))
            .route(
                "/broken",
                get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
            )
            .layer(axum::middleware::from_fn(super::log));
        for path in paths {
            let request = Request::get(*path)
                .header(super::super::REQUEST_ID, "req-7")
                .body(Body::empty())
                .unwrap();
            app.clone().oneshot(request).await.unwrap();
        }
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[tokio::test]
    async fn at_info_only_server_errors_are_logged_with_their_request_id() {
        let lines = lines_at(tracing::Level::INFO, &["/fine", "/broken"]).await;
        assert_eq!(lines.lines().count(), 1, "{lines}");
        for part in ["ERROR", "server error", "/broken", "status=500", "req-7"] {
            assert!(lines.contains(part), "{part} missing from {lines}");
        }
    }

    #[tokio::test]
    async fn at_debug_every_request_is_logged() {
        let lines = lines_at(tracing::Level::DEBUG, &["/fine", "/broken"]).await;
        assert!(
            lines.contains("answered") && lines.contains("/fine") && lines.contains("status=200"),
            "{lines}"
        );
        assert!(lines.contains("server error"), "{lines}");
    }
}
