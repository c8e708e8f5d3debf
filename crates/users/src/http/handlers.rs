//! Thin handlers: extract, call [`UsersService`], map to DTOs.

use axum::extract::{Path, State};
use axum::Json;
use beatstream_core::{ApiError, ApiJson, ApiQuery, Caller, PageQuery, UserId};

use super::dto::*;
use crate::model::{AccountPatch, ProfilePatch};
use crate::play_queue::PlayQueue;
use crate::service::UsersService;

#[utoipa::path(get, path = "/api/v1/me", tag = "users",
    responses((status = 200, body = MeResponse), (status = 401)), security(("bearer" = [])))]
pub async fn get_me(
    State(users): State<UsersService>,
    caller: Caller,
) -> Result<Json<MeResponse>, ApiError> {
    Ok(Json(users.me(&caller).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "users", request_body = PatchMeRequest,
    responses((status = 200, body = MeResponse), (status = 400)), security(("bearer" = [])))]
pub async fn patch_me(
    State(users): State<UsersService>,
    caller: Caller,
    ApiJson(body): ApiJson<PatchMeRequest>,
) -> Result<Json<MeResponse>, ApiError> {
    let preferences = body.preferences;
    let patch = ProfilePatch {
        display_name: body.display_name,
        email: body.email,
        favorite_genres: preferences.as_ref().and_then(|p| p.favorite_genres.clone()),
        favorite_artists: preferences
            .as_ref()
            .and_then(|p| p.favorite_artists.clone()),
        streaming_quality: preferences.as_ref().and_then(|p| p.streaming_quality),
    };
    Ok(Json(users.update_me(&caller, patch).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    responses((status = 200, body = PublicProfile), (status = 404)), security(("bearer" = [])))]
pub async fn get_user(
    State(users): State<UsersService>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PublicProfile>, ApiError> {
    Ok(Json(users.public_profile(&UserId(id)).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", params(PageQuery),
    responses((status = 200, body = AdminUserList), (status = 403)), security(("bearer" = [])))]
pub async fn list_users(
    State(users): State<UsersService>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<AdminUserList>, ApiError> {
    caller.require_full_scope()?;
    caller.require_admin()?;
    let page = query.page()?;
    let paged = users.list(&page).await?;
    Ok(Json(AdminUserList {
        items: paged.items.into_iter().map(AdminUser::from).collect(),
        next_cursor: paged.next_cursor,
    }))
}

#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", request_body = PatchUserRequest,
    responses((status = 200, body = AdminUser), (status = 403), (status = 404), (status = 409, description = "would leave no admin")),
    security(("bearer" = [])))]
pub async fn patch_user(
    State(users): State<UsersService>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchUserRequest>,
) -> Result<Json<AdminUser>, ApiError> {
    caller.require_full_scope()?;
    caller.require_admin()?;
    let patch = AccountPatch {
        role: body.role,
        disabled: body.disabled,
    };
    Ok(Json(users.update_account(&UserId(id), patch).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/me/play-queue", tag = "users",
    responses((status = 200, body = PlayQueueDto)), security(("bearer" = [])))]
pub async fn get_play_queue(
    State(users): State<UsersService>,
    caller: Caller,
) -> Result<Json<PlayQueueDto>, ApiError> {
    Ok(Json(users.play_queue(&caller).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/me/play-queue", tag = "users", request_body = SavePlayQueueRequest,
    responses((status = 200, body = PlayQueueDto), (status = 400)), security(("bearer" = [])))]
pub async fn put_play_queue(
    State(users): State<UsersService>,
    caller: Caller,
    ApiJson(body): ApiJson<SavePlayQueueRequest>,
) -> Result<Json<PlayQueueDto>, ApiError> {
    let queue = PlayQueue {
        track_ids: body.track_ids,
        current_index: body.current_index,
        position_ms: body.position_ms.unwrap_or(0),
        changed_by: body.changed_by.unwrap_or_default(),
        updated_at: None,
    };
    Ok(Json(users.save_play_queue(&caller, queue).await?.into()))
}
