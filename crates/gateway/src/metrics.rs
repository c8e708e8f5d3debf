//! Prometheus metrics: `http_requests_total{method,route,status}` and
//! `http_request_duration_seconds{method,route}` for every matched route.
//!
//! The recorder keeps every histogram sample until it is folded into the buckets, which it
//! does on a scrape or an upkeep. Without a scraper that was about 25 bytes per request for as
//! long as the process ran (a server at 99 MB reached 165 MB after a benchmark's million
//! requests), so a thread runs the upkeep every few seconds.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const DURATION: &str = "http_request_duration_seconds";
/// How often histogram samples are folded into their buckets when nothing scrapes.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Installs the process-wide recorder once; later calls return a handle to the same one.
pub fn install_recorder() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.to_string()), &buckets)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let handle = match builder.install_recorder() {
                Ok(handle) => handle,
                // Another recorder is installed (tests building several apps): use a local one.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            };
            keep_up(handle.clone());
            handle
        })
        .clone()
}

/// Runs the recorder's upkeep every [`UPKEEP_EVERY`], for the life of the process, on a thread
/// of its own (the recorder is process-wide and may be installed before any runtime exists).
fn keep_up(handle: PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "no metrics upkeep thread: histograms grow until scraped");
    }
}

pub async fn track(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let elapsed = start.elapsed().as_secs_f64();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(DURATION, "method" => method, "route" => route).record(elapsed);
    response
}

pub async fn render(State(handle): State<PrometheusHandle>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        handle.render(),
    )
}

#[cfg(test)]
mod tests {
    /// Installing the recorder starts the thread that folds histogram samples into buckets, so
    /// a server nobody scrapes does not grow with every request.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_recorder_comes_with_its_upkeep_thread() {
        super::install_recorder();
        super::install_recorder();
        let upkeep_threads = || {
            std::fs::read_dir("/proc/self/task")
                .unwrap()
                .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
                .filter(|name| name.trim() == "metrics-upkeep")
                .count()
        };
        // A new thread names itself once it runs.
        for _ in 0..100 {
            if upkeep_threads() > 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(
            upkeep_threads(),
            1,
            "one upkeep thread, however often it is installed"
        );
    }
}
