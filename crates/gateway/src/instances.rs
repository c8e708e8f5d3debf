//! `GET /api/v1/admin/instances`: the running instances that service discovery knows, for
//! operators.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use beatstream_core::{ApiError, Caller};
use beatstream_discovery::Discovery;
use serde_json::{json, Value};

/// The instances service discovery knows now (admins only).
///
/// Replies `{discovery: "none" | "nats" | "static", items: [{id, address, roles, started_at}]}`.
/// A process that runs every service alone announces nothing (`discovery: "none"`).
#[utoipa::path(get, path = "/api/v1/admin/instances", tag = "operations",
    responses((status = 200, description = "The instances"),
        (status = 403, description = "Not an admin"),
        (status = 503, description = "Service discovery cannot be reached")),
    security(("bearer" = [])))]
pub async fn list(
    State(discovery): State<Option<Arc<dyn Discovery>>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let Some(discovery) = discovery else {
        return Ok(Json(json!({"discovery": "none", "items": []})));
    };
    let mut items = discovery
        .instances()
        .await
        .map_err(|e| ApiError::unavailable("service discovery", &e))?;
    items.sort_by(|a, b| a.address.cmp(&b.address).then(a.id.cmp(&b.id)));
    let items: Vec<Value> = items
        .into_iter()
        .map(|i| {
            json!({
                "id": i.id,
                "address": i.address,
                "roles": i.roles,
                "started_at": beatstream_core::Timestamp::from_millis(i.started_at).to_rfc3339(),
            })
        })
        .collect();
    Ok(Json(json!({"discovery": discovery.kind(), "items": items})))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list))]
pub struct InstancesApi;
