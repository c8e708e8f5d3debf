//! Forwarding the routes of services this process does not run to instances that do, found
//! through service discovery. Which routes belong to which service comes from each service's
//! OpenAPI document (compiled into every binary), so a process knows the whole API.
//!
//! Per request: the instances serving the role (as discovery named them in the last second),
//! round robin, skipping those whose circuit is open (three failures in a row open it for
//! 10 s). A request with a body of up to 1 MiB goes to another instance (three in all) when
//! one cannot be connected to; an idempotent one (GET, HEAD, PUT, DELETE, OPTIONS) also when
//! one times out or answers 502, 503 or 504. A larger body streams to one instance only. The
//! time limit covers the answer's head, not a stream. Bodies stream both ways (audio,
//! uploads); the caller's headers (its credential, the request id) go along. WebSockets are
//! relayed frame by frame ([`crate::proxy_ws`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use beatstream_core::{ApiError, ErrorCode};
use beatstream_discovery::{instances_of, Discovery, DiscoveryError, Instance};
use futures_util::TryStreamExt;

const ATTEMPTS: usize = 3;
/// Routes that are WebSockets (OpenAPI cannot say so).
const WEBSOCKETS: [&str; 1] = ["/api/v1/events"];
const RETRY_BODY_LIMIT: usize = 1024 * 1024;
const FAILURES_TO_OPEN: u32 = 3;
const OPEN_FOR: Duration = Duration::from_secs(10);
/// How long the instances discovery named for a role serve requests before it is asked again.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// How long a request waits for discovery when instances named before are known; then it uses
/// those. Without it, a broker outage held every forwarded request for the discovery client's
/// own timeout (10 s).
const ASK_AT_MOST: Duration = Duration::from_millis(500);

/// The routes of one service that runs elsewhere.
pub struct RemoteService {
    /// Its role, as instances announce it.
    pub role: &'static str,
    pub openapi: utoipa::openapi::OpenApi,
}

pub struct Proxy {
    discovery: Arc<dyn Discovery>,
    client: reqwest::Client,
    next: AtomicUsize,
    /// Per instance address: failures in a row, and until when it is skipped.
    circuits: Mutex<HashMap<String, (u32, Option<Instant>)>>,
    /// The instances discovery last named per role, and when: used for [`FRESH_FOR`] without
    /// asking, and whenever discovery cannot be asked (a broker outage must not take every
    /// forwarded route down with it).
    last_known: Mutex<HashMap<&'static str, (Vec<Instance>, Instant)>>,
    timeout: Duration,
}

/// Headers that belong to one connection, not to the request.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str()) || name == "host"
}

impl Proxy {
    pub fn new(discovery: Arc<dyn Discovery>, timeout: Duration) -> Self {
        Proxy {
            discovery,
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(2))
                .pool_idle_timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            next: AtomicUsize::new(0),
            circuits: Mutex::new(HashMap::new()),
            last_known: Mutex::new(HashMap::new()),
            timeout,
        }
    }

    fn is_open(&self, address: &str) -> bool {
        let circuits = self.circuits.lock().unwrap_or_else(|p| p.into_inner());
        circuits
            .get(address)
            .and_then(|(_, until)| *until)
            .is_some_and(|until| Instant::now() < until)
    }

    pub(crate) fn record(&self, address: &str, ok: bool) {
        let mut circuits = self.circuits.lock().unwrap_or_else(|p| p.into_inner());
        let entry = circuits.entry(address.to_string()).or_insert((0, None));
        if ok {
            *entry = (0, None);
        } else {
            entry.0 += 1;
            if entry.0 >= FAILURES_TO_OPEN {
                tracing::warn!(
                    address,
                    "proxy: circuit open for 10 s after failures in a row"
                );
                *entry = (0, Some(Instant::now() + OPEN_FOR));
            }
        }
    }

    /// The instances to try, in order: round robin, closed circuits first.
    pub(crate) async fn candidates(&self, role: &'static str) -> Result<Vec<Instance>, ApiError> {
        let known = self
            .last_known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(role)
            .cloned();
        let mut all = match known {
            Some((found, at)) if at.elapsed() < FRESH_FOR => found,
            known => {
                let asking = instances_of(self.discovery.as_ref(), role);
                let outcome = if known.is_some() {
                    tokio::time::timeout(ASK_AT_MOST, asking)
                        .await
                        .unwrap_or_else(|_| {
                            Err(DiscoveryError::Unreachable(format!(
                                "no answer within {ASK_AT_MOST:?}"
                            )))
                        })
                } else {
                    asking.await
                };
                let mut last = self.last_known.lock().unwrap_or_else(|p| p.into_inner());
                match (outcome, known) {
                    (Ok(found), _) if !found.is_empty() => {
                        last.insert(role, (found.clone(), Instant::now()));
                        found
                    }
                    // Discovery unreachable, or empty (a broker restart lost the announcements
                    // until they are renewed): the instances it named last are the best guess,
                    // for another while before it is asked again.
                    (outcome, Some((found, _))) => {
                        tracing::warn!(role, error = ?outcome.err(), "proxy: discovery has no answer; using the instances it named last");
                        last.insert(role, (found.clone(), Instant::now()));
                        found
                    }
                    (Err(e), None) => return Err(ApiError::unavailable("service discovery", &e)),
                    (Ok(empty), None) => empty,
                }
            }
        };
        if all.is_empty() {
            return Err(no_instance(role));
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % all.len();
        all.rotate_left(start);
        let (closed, open): (Vec<Instance>, Vec<Instance>) =
            all.into_iter().partition(|i| !self.is_open(&i.address));
        // Closed circuits first; open ones last, rather than fail without asking.
        Ok(closed.into_iter().chain(open).collect())
    }

    async fn forward(&self, role: &'static str, request: Request) -> Response {
        match self.try_forward(role, request).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        }
    }

    async fn try_forward(
        &self,
        role: &'static str,
        request: Request,
    ) -> Result<Response, ApiError> {
        let (parts, body) = request.into_parts();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        let idempotent = matches!(
            parts.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        // A body of unknown length (chunked) or a large one is streamed; no length and no
        // chunking is no body.
        let length = parts
            .headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let chunked = parts
            .headers
            .contains_key(axum::http::header::TRANSFER_ENCODING);
        let streams = chunked || length.is_some_and(|length| length > RETRY_BODY_LIMIT);
        // A body read once can be sent again; a streamed one only once.
        let (buffered, mut streamed) = if !streams {
            let bytes = axum::body::to_bytes(body, RETRY_BODY_LIMIT)
                .await
                .map_err(|_| {
                    ApiError::invalid("invalid_body", "the request body could not be read")
                })?;
            (Some(bytes), None)
        } else {
            (None, Some(body))
        };
        let candidates = self.candidates(role).await?;
        let attempts = if buffered.is_some() { ATTEMPTS } else { 1 };
        let mut last_error = None;
        // Round the candidates again when there are fewer than attempts: a pooled connection
        // the instance had just closed fails once and works the next time.
        for instance in candidates.iter().cycle().take(attempts) {
            let url = format!(
                "{}{}",
                instance.address.trim_end_matches('/'),
                path_and_query
            );
            let mut outgoing = self.client.request(parts.method.clone(), &url);
            for (name, value) in &parts.headers {
                if !is_hop_by_hop(name) {
                    outgoing = outgoing.header(name, value);
                }
            }
            outgoing = match (&buffered, streamed.take()) {
                (Some(bytes), _) => outgoing.body(bytes.clone()),
                (None, Some(body)) => {
                    outgoing.body(reqwest::Body::wrap_stream(body.into_data_stream()))
                }
                (None, None) => outgoing,
            };
            // The time limit covers the answer's head only: a long stream is not cut.
            let sent = match tokio::time::timeout(self.timeout, outgoing.send()).await {
                Ok(sent) => sent,
                Err(_) => {
                    self.record(&instance.address, false);
                    last_error = Some(format!(
                        "{}: no answer within {:?}",
                        instance.address, self.timeout
                    ));
                    // It may have acted on it: only an idempotent request is sent again.
                    if buffered.is_none() || !idempotent {
                        break;
                    }
                    continue;
                }
            };
            match sent {
                Ok(response)
                    if matches!(
                        response.status(),
                        StatusCode::BAD_GATEWAY
                            | StatusCode::SERVICE_UNAVAILABLE
                            | StatusCode::GATEWAY_TIMEOUT
                    ) && attempts > 1
                        && idempotent =>
                {
                    self.record(&instance.address, false);
                    last_error = Some(format!(
                        "{} answered {}",
                        instance.address,
                        response.status()
                    ));
                }
                Ok(response) => {
                    self.record(&instance.address, true);
                    return Ok(relay(response));
                }
                Err(e) => {
                    self.record(&instance.address, false);
                    tracing::warn!(role, address = %instance.address, error = %e, "proxy: an instance failed");
                    last_error = Some(format!("{}: {e}", instance.address));
                    // A request that never reached the instance may go to another, whatever
                    // its method; one that may have been acted on, only if idempotent.
                    if !e.is_connect() && !idempotent {
                        break;
                    }
                }
            }
            if buffered.is_none() {
                break;
            }
        }
        tracing::warn!(
            role,
            error = last_error.as_deref().unwrap_or(""),
            "proxy: no instance answered"
        );
        Err(ApiError::new(
            ErrorCode::Unavailable,
            "service_unavailable",
            format!("the {role} service could not answer; try again shortly"),
        ))
    }
}

fn no_instance(role: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        "service_unavailable",
        format!("no {role} instance is running"),
    )
}

/// The instance's response, streamed back.
fn relay(response: reqwest::Response) -> Response {
    let status = response.status();
    let mut builder = Response::builder().status(status);
    for (name, value) in response.headers() {
        if !is_hop_by_hop(name) {
            builder = builder.header(name, value);
        }
    }
    let stream = response.bytes_stream().map_err(std::io::Error::other);
    builder
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

/// A router with every route of `services`, each forwarding to its service's instances.
pub fn router(services: Vec<RemoteService>, proxy: Arc<Proxy>) -> Router {
    let mut router = Router::new();
    for service in services {
        for (path, item) in service.openapi.paths.paths {
            let methods = [
                (item.get.is_some(), MethodFilter::GET),
                (item.post.is_some(), MethodFilter::POST),
                (item.put.is_some(), MethodFilter::PUT),
                (item.patch.is_some(), MethodFilter::PATCH),
                (item.delete.is_some(), MethodFilter::DELETE),
                (item.head.is_some(), MethodFilter::HEAD),
            ];
            if WEBSOCKETS.contains(&path.as_str()) {
                let (proxy, role) = (proxy.clone(), service.role);
                router = router.route(
                    &path,
                    on(MethodFilter::GET, move |request: Request| async move {
                        crate::proxy_ws::forward(proxy, role, request).await
                    }),
                );
                continue;
            }
            for (present, filter) in methods {
                if !present {
                    continue;
                }
                let (proxy, role) = (proxy.clone(), service.role);
                router = router.route(
                    &path,
                    on(filter, move |request: Request| async move {
                        proxy.forward(role, request).await
                    }),
                );
            }
        }
    }
    router
}
