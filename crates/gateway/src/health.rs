//! `/healthz` (the process is up) and `/readyz` (it can serve: databases migrated and
//! answering, the event bus reachable).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};

pub type ProbeFn = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// A named readiness check, e.g. `auth database`.
#[derive(Clone)]
pub struct Probe {
    pub name: String,
    pub check: ProbeFn,
}

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(probes): State<Arc<Vec<Probe>>>) -> (StatusCode, Json<Value>) {
    let checks = probes.iter().map(|probe| {
        let check = probe.check.clone();
        let name = probe.name.clone();
        async move {
            let result = tokio::time::timeout(std::time::Duration::from_secs(3), check()).await;
            match result {
                Ok(Ok(())) => None,
                Ok(Err(reason)) => {
                    tracing::warn!(probe = %name, %reason, "not ready");
                    Some(name)
                }
                Err(_) => {
                    tracing::warn!(probe = %name, "readiness check timed out");
                    Some(name)
                }
            }
        }
    });
    let failing: Vec<String> = futures_util::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect();
    if failing.is_empty() {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "failing": failing})),
        )
    }
}
