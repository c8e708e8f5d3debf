//! The access log: one line per request under the target `access`, written at DEBUG, so the
//! default `info` level leaves it out; `log.level = "info,access=debug"` turns it on. A
//! server error (5xx) and a slow answer are logged at WARN whatever the level, with the
//! method, path, status, time to the response head and request id.
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
        tracing::warn!(target: "access", %method, path, status, latency_ms, request_id, "server error");
    } else if elapsed > SLOW {
        tracing::warn!(target: "access", %method, path, status, latency_ms, request_id, "slow answer");
    } else {
        tracing::debug!(target: "access", %method, path, status, latency_ms, request_id, "answered");
    }
    response
}
