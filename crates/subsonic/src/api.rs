//! The Beatstream API as the Subsonic calls use it: requests to the process's own `/api/v1`
//! router, which answers them in process or forwards them to the owning service elsewhere,
//! so this crate never knows the topology. Each request carries the caller's bearer token,
//! their address and the request id of the Subsonic call.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use std::sync::Arc;

use axum::Router;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::{code, Failure};

/// Largest JSON reply read from the API.
const MAX_REPLY_BYTES: usize = 64 << 20;

/// The API on behalf of one caller.
#[derive(Clone)]
pub struct Api {
    router: Router,
    /// Where paged lists left off: `path@offset` → the cursor at that offset (shared by every
    /// caller; catalog lists are the same for all).
    cursors: Arc<quick_cache::sync::Cache<String, String>>,
    bearer: Option<String>,
    client: Option<ConnectInfo<std::net::SocketAddr>>,
    request_id: Option<HeaderValue>,
}

impl Api {
    pub fn new(
        router: Router,
        cursors: Arc<quick_cache::sync::Cache<String, String>>,
        client: Option<ConnectInfo<std::net::SocketAddr>>,
        request_id: Option<HeaderValue>,
    ) -> Self {
        Api {
            router,
            cursors,
            bearer: None,
            client,
            request_id,
        }
    }

    /// The same API, signed in with `bearer`.
    pub fn signed_in(&self, bearer: &str) -> Api {
        Api {
            bearer: Some(bearer.to_string()),
            ..self.clone()
        }
    }

    /// Sends a request and returns the response as it is (streams, covers).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: HeaderMap,
    ) -> Response {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(h) = request.headers_mut() {
            h.extend(headers);
            if let Some(bearer) = &self.bearer {
                if let Ok(value) = HeaderValue::from_str(&format!("Bearer {bearer}")) {
                    h.insert(header::AUTHORIZATION, value);
                }
            }
            if let Some(id) = &self.request_id {
                h.insert("x-request-id", id.clone());
            }
            if body.is_some() {
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        let mut request = match request.body(body) {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(path, "a Subsonic call built a bad request: {e}");
                return Response::builder()
                    .status(StatusCode::BAD_REQUEST)
                    .body(Body::empty())
                    .unwrap_or_default();
            }
        };
        if let Some(client) = self.client {
            request.extensions_mut().insert(client);
        }
        match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// Sends a request and reads its JSON reply (`Null` for 204); API errors become Subsonic
    /// failures.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let response = self.raw(method, path, body, HeaderMap::new()).await;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_REPLY_BYTES)
            .await
            .map_err(|e| {
                tracing::warn!(path, "reading an API reply: {e}");
                Failure::new(code::GENERIC, "the server could not answer")
            })?;
        if status == StatusCode::NO_CONTENT || bytes.is_empty() {
            return if status.is_success() {
                Ok(Value::Null)
            } else {
                Err(failure_of(status, &Value::Null, path))
            };
        }
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            Ok(value)
        } else {
            Err(failure_of(status, &value, path))
        }
    }

    pub async fn get(&self, path: &str) -> Result<Value, Failure> {
        self.call(Method::GET, path, None).await
    }

    /// A GET of something that may not exist: `None` when it does not, any other failure as
    /// it is.
    pub async fn find(&self, path: &str) -> Result<Option<Value>, Failure> {
        match self.get(path).await {
            Ok(value) => Ok(Some(value)),
            Err(f) if f.code == crate::code::NOT_FOUND => Ok(None),
            Err(f) => Err(f),
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, Failure> {
        self.call(Method::POST, path, Some(body)).await
    }
}

/// An API error as a Subsonic failure, keeping the API's message (it never holds internals).
pub fn failure_of(status: StatusCode, body: &Value, path: &str) -> Failure {
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or("the request failed")
        .to_string();
    match status {
        StatusCode::NOT_FOUND => Failure::new(code::NOT_FOUND, message),
        StatusCode::UNAUTHORIZED => Failure::new(code::WRONG_CREDENTIALS, message),
        StatusCode::FORBIDDEN => Failure::new(code::NOT_AUTHORIZED, message),
        s if s.is_client_error() => Failure::new(code::GENERIC, message),
        s => {
            tracing::warn!(
                path,
                status = s.as_u16(),
                "an API call of a Subsonic call failed"
            );
            Failure::new(
                code::GENERIC,
                "the server could not answer; try again later",
            )
        }
    }
}

/// `s` made safe for a path segment or a query value. `.` and `..` (which URL parsers would
/// resolve as path steps, even percent-encoded) become `_`, which names nothing.
pub fn enc(s: &str) -> String {
    if s == "." || s == ".." {
        return "_".into();
    }
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Every item of a cursor-paginated list at `path` (which has a `?`), up to `max` items.
pub async fn all_pages(api: &Api, path: &str, max: usize) -> Result<Vec<Value>, Failure> {
    Ok(pages_from(api, path, None, max).await?.0)
}

/// Up to `max` items from `cursor` on, and the cursor after the last of them.
async fn pages_from(
    api: &Api,
    path: &str,
    mut cursor: Option<String>,
    max: usize,
) -> Result<(Vec<Value>, Option<String>), Failure> {
    let mut items = Vec::new();
    while items.len() < max {
        let limit = (max - items.len()).clamp(1, 500);
        let page_path = match &cursor {
            Some(c) => format!("{path}&limit={limit}&cursor={}", enc(c)),
            None => format!("{path}&limit={limit}"),
        };
        let page = api.get(&page_path).await?;
        if let Some(list) = page["items"].as_array() {
            items.extend(list.iter().cloned());
        }
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    items.truncate(max);
    Ok((items, cursor))
}

/// Items `offset..offset + count` of a cursor-paginated list at `path` (which has a `?`).
/// Clients page through whole libraries (`search3` with an empty query, offset 0, 500,
/// 1000...): where the previous page ended is remembered, so each page costs its own size,
/// not everything before it.
pub async fn page_at(
    api: &Api,
    path: &str,
    offset: usize,
    count: usize,
) -> Result<Vec<Value>, Failure> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let known = match offset {
        0 => Some(None),
        _ => api.cursors.get(&format!("{path}@{offset}")).map(Some),
    };
    let (items, next) = match known {
        Some(cursor) => pages_from(api, path, cursor, count).await?,
        None => {
            let (mut items, next) = pages_from(api, path, None, offset + count).await?;
            (items.split_off(offset.min(items.len())), next)
        }
    };
    if let (Some(next), true) = (next, items.len() == count) {
        api.cursors
            .insert(format!("{path}@{}", offset + count), next);
    }
    Ok(items)
}

/// `tracks` as the catalog has them in full (another service's replies carry fewer fields);
/// a track the catalog no longer has stays as it was.
pub async fn full_tracks(api: &Api, tracks: Vec<Value>) -> Result<Vec<Value>, Failure> {
    let ids: Vec<&str> = tracks.iter().filter_map(|t| t["id"].as_str()).collect();
    let mut full = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let joined: Vec<String> = chunk.iter().map(|id| enc(id)).collect();
        let page = api
            .get(&format!("/api/v1/tracks?ids={}", joined.join(",")))
            .await?;
        for track in page["items"].as_array().into_iter().flatten() {
            if let Some(id) = track["id"].as_str() {
                full.insert(id.to_string(), track.clone());
            }
        }
    }
    Ok(tracks
        .into_iter()
        .map(|t| {
            t["id"]
                .as_str()
                .and_then(|id| full.get(id).cloned())
                .unwrap_or(t)
        })
        .collect())
}

/// The songs with these ids, in full and in order; error 70 naming the first that does not
/// exist, so a call can check every id before it changes anything.
pub async fn songs_by_ids(api: &Api, ids: &[&str]) -> Result<Vec<Value>, Failure> {
    let wanted: Vec<Value> = ids
        .iter()
        .map(|id| serde_json::json!({ "id": id }))
        .collect();
    let found = full_tracks(api, wanted).await?;
    match found.iter().find(|t| t.get("title").is_none()) {
        Some(missing) => Err(Failure::not_found(&format!(
            "song {}",
            missing["id"].as_str().unwrap_or_default()
        ))),
        None => Ok(found),
    }
}

/// `albums` as the catalog has them in full (search results carry fewer fields).
pub async fn full_albums(api: &Api, albums: Vec<Value>) -> Result<Vec<Value>, Failure> {
    let mut out = Vec::with_capacity(albums.len());
    for album in albums {
        let id = album["id"].as_str().unwrap_or_default();
        match api.get(&format!("/api/v1/albums/{}", enc(id))).await {
            Ok(full) => out.push(full),
            Err(f) if f.code == code::NOT_FOUND => {}
            Err(f) => return Err(f),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_step_out_of_their_path_segment() {
        assert_eq!(enc("a/b?c&d"), "a%2Fb%3Fc%26d");
        assert_eq!(enc(".."), "_");
        assert_eq!(enc("."), "_");
        assert_eq!(enc("v1.2"), "v1.2");
    }
}
