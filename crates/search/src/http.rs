//! `GET /api/v1/search` and the operators' routes, with their OpenAPI description.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use beatstream_core::{ApiError, ApiQuery, Caller};
use serde::Deserialize;
use utoipa::OpenApi;

use crate::error::SearchError;
use crate::schema::Kind;
use crate::service::{IndexStatus, SearchResults, SearchService, DEFAULT_LIMIT, MAX_LIMIT};

pub fn router(service: SearchService) -> Router {
    Router::new()
        .route("/api/v1/search", get(search))
        .route("/api/v1/admin/search", get(status))
        .route("/api/v1/admin/search/reindex", post(reindex))
        .with_state(service)
}

#[derive(OpenApi)]
#[openapi(paths(search, status, reindex), components(schemas(IndexStatus)))]
pub struct SearchApi;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// What was typed. The last word matches as a prefix unless a space follows it; typos
    /// are forgiven; `artist:`, `album:`, `genre:` and `year:1990..1999` filter.
    pub q: Option<String>,
    /// Comma-separated kinds: track, album, artist, playlist (default: all).
    pub types: Option<String>,
    /// Entries per kind, 1 to 100 (default 20).
    pub limit: Option<u32>,
}

fn kinds(types: Option<&str>) -> Result<Vec<Kind>, SearchError> {
    let mut out = Vec::new();
    for name in types.unwrap_or("").split(',').map(str::trim) {
        if name.is_empty() {
            continue;
        }
        // "tracks" is accepted for "track", as the reply's keys are plural.
        let kind = Kind::parse(name)
            .or_else(|| name.strip_suffix('s').and_then(Kind::parse))
            .ok_or_else(|| SearchError::UnknownType(name.chars().take(40).collect()))?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

fn plural(kind: Kind) -> &'static str {
    match kind {
        Kind::Track => "tracks",
        Kind::Album => "albums",
        Kind::Artist => "artists",
        Kind::Playlist => "playlists",
    }
}

/// The reply, written from the stored JSON of each hit without parsing it again.
fn render(results: &SearchResults) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("{\"top\":");
    match results.top() {
        Some(hit) => {
            out.push_str("{\"type\":\"");
            out.push_str(hit.kind.as_str());
            out.push_str("\",\"item\":");
            out.push_str(&hit.body);
            out.push('}');
        }
        None => out.push_str("null"),
    }
    for kind in Kind::ALL {
        out.push_str(",\"");
        out.push_str(plural(kind));
        out.push_str("\":{\"items\":[");
        if let Some((_, hits)) = results.kinds.iter().find(|(k, _)| *k == kind) {
            for (i, hit) in hits.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&hit.body);
            }
        }
        out.push_str("]}");
    }
    out.push('}');
    out
}

/// Search songs, albums, artists and playlists as you type.
///
/// Replies `{top, tracks: {items}, albums: {items}, artists: {items}, playlists: {items}}`;
/// `top` is the single best hit (`{type, item}`) or null. Items have the shapes of the catalog
/// and playlist routes. Private playlists are found only by their owner and collaborators.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchQuery),
    responses((status = 200, description = "Hits per kind, best first"),
        (status = 400, description = "Query over 500 characters, unknown type or bad limit")),
    security(("bearer" = [])))]
pub async fn search(
    State(service): State<SearchService>,
    caller: Caller,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT as u32) as usize;
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::invalid(
            "invalid_limit",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let types = kinds(query.types.as_deref())?;
    let q = query.q.unwrap_or_default();
    let results = service.search(&q, &types, limit, caller.user_id.as_str())?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        render(&results),
    )
        .into_response())
}

/// The search index's state (admin).
#[utoipa::path(get, path = "/api/v1/admin/search", tag = "search",
    responses((status = 200, body = IndexStatus)), security(("bearer" = [])))]
pub async fn status(
    State(service): State<SearchService>,
    caller: Caller,
) -> Result<Json<IndexStatus>, ApiError> {
    caller.require_admin()?;
    Ok(Json(service.status().await?))
}

/// Rebuild the search index from the catalog (admin); the current index answers meanwhile.
#[utoipa::path(post, path = "/api/v1/admin/search/reindex", tag = "search",
    responses((status = 202, body = IndexStatus)), security(("bearer" = [])))]
pub async fn reindex(
    State(service): State<SearchService>,
    caller: Caller,
) -> Result<(StatusCode, Json<IndexStatus>), ApiError> {
    caller.require_admin()?;
    service.request_rebuild();
    Ok((StatusCode::ACCEPTED, Json(service.status().await?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_parsed_and_checked() {
        assert_eq!(kinds(None).unwrap(), Vec::<Kind>::new());
        assert_eq!(
            kinds(Some("track, albums,track")).unwrap(),
            vec![Kind::Track, Kind::Album]
        );
        assert!(matches!(
            kinds(Some("track,song")),
            Err(SearchError::UnknownType(t)) if t == "song"
        ));
    }
}
