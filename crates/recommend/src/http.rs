//! `GET /api/v1/me/recommendations`, `GET /api/v1/tracks/{id}/radio` and the operators'
//! `GET /api/v1/admin/recommendations`, with their OpenAPI description.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use beatstream_core::{ApiError, ApiQuery, Caller};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::OpenApi;

use crate::model::ModelStats;
use crate::service::{
    RecommendService, DEFAULT_LIMIT, DEFAULT_RADIO_LIMIT, MAX_LIMIT, MAX_RADIO_LIMIT,
};

pub fn router(service: RecommendService) -> Router {
    Router::new()
        .route("/api/v1/me/recommendations", get(recommendations))
        .route("/api/v1/tracks/{id}/radio", get(radio))
        .route("/api/v1/admin/recommendations", get(status))
        .with_state(service)
}

#[derive(OpenApi)]
#[openapi(paths(recommendations, radio, status), components(schemas(ModelStats)))]
pub struct RecommendApi;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// How many tracks (recommendations: 1 to 100, default 20; radio: 1 to 200, default 50).
    pub limit: Option<u32>,
}

fn limit(query: &LimitQuery, default: usize, max: usize) -> Result<usize, ApiError> {
    let limit = query.limit.map_or(default, |l| l as usize);
    if limit == 0 || limit > max {
        return Err(ApiError::invalid(
            "invalid_limit",
            format!("limit must be between 1 and {max}"),
        ));
    }
    Ok(limit)
}

/// Tracks for the signed-in listener, each with why.
///
/// Replies `{items: [{track, reason, because}]}`: `reason` in words ("Because you played X",
/// "Because you like Y", "More Z", "Popular with listeners like you"), `because` as
/// `{kind: track|artist|genre|similar_listeners|popular|discover, ...}`. Learns from plays,
/// skips, likes, the listener's playlists and stated favourite genres and artists; new
/// signals count at the next request. Recently played and disliked (often skipped) tracks are
/// left out, and no artist takes more than a fifth of the list (a third when little else fits).
#[utoipa::path(get, path = "/api/v1/me/recommendations", tag = "recommendations", params(LimitQuery),
    responses((status = 200, description = "Recommendations, best first"),
        (status = 400, description = "Bad limit")),
    security(("bearer" = [])))]
pub async fn recommendations(
    State(service): State<RecommendService>,
    caller: Caller,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = limit(&query, DEFAULT_LIMIT, MAX_LIMIT)?;
    let items = service.recommendations(&caller.user_id, limit).await?;
    Ok(Json(json!({ "items": items })))
}

/// A radio station seeded by a track.
///
/// Replies `{items: [track]}`: the seed first, then tracks alike to it by what listeners play
/// and list together and by artist, genre and era, with the artists spread out.
#[utoipa::path(get, path = "/api/v1/tracks/{id}/radio", tag = "recommendations",
    params(("id" = String, Path, description = "The seed track"), LimitQuery),
    responses((status = 200, description = "The station, seed first"),
        (status = 400, description = "Bad limit"),
        (status = 404, description = "No such track")),
    security(("bearer" = [])))]
pub async fn radio(
    State(service): State<RecommendService>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = limit(&query, DEFAULT_RADIO_LIMIT, MAX_RADIO_LIMIT)?;
    let items = service.radio(&caller.user_id, &id, limit).await?;
    Ok(Json(json!({ "items": items })))
}

/// What the current model was trained on (admins).
#[utoipa::path(get, path = "/api/v1/admin/recommendations", tag = "recommendations",
    responses((status = 200, description = "The model's figures", body = ModelStats),
        (status = 403, description = "Not an admin")),
    security(("bearer" = [])))]
pub async fn status(
    State(service): State<RecommendService>,
    caller: Caller,
) -> Result<Json<ModelStats>, ApiError> {
    caller.require_admin()?;
    Ok(Json(service.stats()))
}
