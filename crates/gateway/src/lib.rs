//! The public HTTP entry point: what every request passes through before it reaches a service,
//! and the routes that belong to the process rather than to a service.
//!
//! In one process, [`app`] nests each service's `router(state)` under one axum app and adds:
//! request ids (`x-request-id`, generated or passed on), an access log ([`access_log`]: at DEBUG,
//! server errors and slow answers at WARN),
//! Prometheus metrics per route, bearer authentication (the caller lands in the request's
//! extensions for handlers to extract), JSON errors for unknown routes and panics, body limits
//! and timeouts. It serves `/healthz`, `/readyz`, `/metrics`, `/api/openapi.json`,
//! `/api/docs`, and the web player at `/` (every other path that is not an API route; see
//! [`web`]).
//!
//! It also answers `GET /api/v1/admin/instances` from service discovery and, in a split
//! deployment, forwards the routes of services this process does not run to instances that do
//! ([`proxy`]). This crate owns no tables and emits no events.

mod access_log;
mod authn;
mod docs;
mod health;
mod instances;
mod metrics;
pub mod proxy;
mod proxy_ws;
mod rate_limit;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use beatstream_core::{ApiError, Authenticator, ErrorCode};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use health::{Probe, ProbeFn};
pub use metrics::install_recorder;

/// Everything the process-level app is built from.
pub struct AppParts {
    /// Each service's router.
    pub services: Vec<Router>,
    /// The OpenAPI document of every mounted service, merged.
    pub openapi: utoipa::openapi::OpenApi,
    pub authenticator: Arc<dyn Authenticator>,
    /// Checked by `/readyz`.
    pub probes: Vec<Probe>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// The built web player (see [`web::locate`]); `None` serves a page saying how to build it.
    pub web_dir: Option<std::path::PathBuf>,
    /// Service discovery, when this process announces itself (split deployments).
    pub discovery: Option<Arc<dyn beatstream_discovery::Discovery>>,
    /// Services that run elsewhere: their routes are forwarded (needs `discovery`).
    pub remote: Vec<proxy::RemoteService>,
    /// Requests a second per client address, and the burst allowed; 0 turns the limit off.
    pub rate_limit: (u32, u32),
    /// APIs built on top of this one (the Subsonic API): each is given the `/api/v1` router,
    /// authentication and forwarding included, and returns the routes it adds.
    pub facades: Vec<Facade>,
}

/// See [`AppParts::facades`].
pub type Facade = Box<dyn FnOnce(Router) -> Router + Send>;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn app(parts: AppParts) -> Router {
    let mut api = Router::new().route(
        "/api/v1/admin/instances",
        get(instances::list).with_state(parts.discovery.clone()),
    );
    for service in parts.services {
        api = api.merge(service);
    }
    let mut openapi = parts.openapi;
    if let (Some(discovery), false) = (parts.discovery.clone(), parts.remote.is_empty()) {
        for service in &parts.remote {
            openapi.merge(service.openapi.clone());
        }
        let proxy = Arc::new(proxy::Proxy::new(discovery, parts.request_timeout));
        api = api.merge(proxy::router(parts.remote, proxy));
    }
    openapi.merge(<instances::InstancesApi as utoipa::OpenApi>::openapi());
    let openapi_json = docs::render_openapi(openapi);
    let web_dir = parts.web_dir;
    let api = api
        // Inner to outer: metrics see the matched route; authentication runs before handlers.
        .route_layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn_with_state(
            parts.authenticator,
            authn::authenticate,
        ));

    let facades = parts
        .facades
        .into_iter()
        .fold(Router::new(), |routes, facade| {
            routes.merge(facade(api.clone()))
        });

    let rate_limit = (parts.rate_limit.0 > 0).then(|| {
        Arc::new(rate_limit::RateLimit::new(
            parts.rate_limit.0,
            parts.rate_limit.1,
        ))
    });
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route(
            "/readyz",
            get(health::readyz).with_state(Arc::new(parts.probes)),
        )
        .route("/metrics", get(metrics::render).with_state(parts.metrics))
        .route(
            "/api/openapi.json",
            get(docs::openapi_json).with_state(openapi_json),
        )
        .route("/api/docs", get(docs::docs_page))
        .merge(api)
        .merge(facades)
        .fallback(move |request: Request<axum::body::Body>| {
            let web_dir = web_dir.clone();
            async move {
                // Unknown API routes get the JSON error; every other path is the player's.
                let path = request.uri().path();
                if path == "/api" || path.starts_with("/api/") || path.starts_with("/.well-known/")
                {
                    route_not_found().await.into_response()
                } else {
                    web::serve(web_dir, request).await
                }
            }
        })
        .layer(DefaultBodyLimit::max(parts.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            parts.request_timeout,
            request_timeout,
        ))
        // Outside the timeout, so the 408 it makes gets a JSON body too.
        .layer(axum::middleware::map_response(json_error_bodies))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(access_log::log))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid));
    match rate_limit {
        // Outermost: a client over its limit costs nothing further.
        Some(limit) => router.layer(axum::middleware::from_fn_with_state(
            limit,
            rate_limit::limit,
        )),
        None => router,
    }
}

async fn route_not_found() -> ApiError {
    ApiError::not_found("route_not_found", "no such route; see /api/docs")
}

/// Layers below the services answer some errors with an empty body (a wrong method, a
/// timeout); give those the house error body too.
async fn json_error_bodies(response: Response) -> Response {
    let (code, message) = match response.status() {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not accept that method",
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long and was stopped"),
        _ => return response,
    };
    if response.headers().contains_key("content-type") {
        return response;
    }
    let status = response.status();
    let allow = response.headers().get("allow").cloned();
    let mut json = ApiError::new(ErrorCode::InvalidArgument, code, message).into_response();
    *json.status_mut() = status;
    if let Some(allow) = allow {
        json.headers_mut().insert("allow", allow);
    }
    json
}

/// A multipart body: an upload, which may take long on a slow link (its size is limited).
fn is_upload(request: &axum::extract::Request) -> bool {
    request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/"))
}

/// Ends a request that takes longer than `limit` with 408 `timeout`. Uploads (multipart bodies)
/// are exempt: a large file on a slow link may take longer, and its size is limited anyway.
/// Only producing the response is timed: a long download streams for as long as it takes.
async fn request_timeout(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if is_upload(&request) {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let mut response = ApiError::new(
                ErrorCode::InvalidArgument,
                "timeout",
                "the request took too long and was stopped",
            )
            .into_response();
            *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
            response
        }
    }
}

#[cfg(test)]
mod tests;

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("handler panicked", &"panic").into_response()
}
