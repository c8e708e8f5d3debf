//! Thin handlers: extract, call [`PlaylistsService`], map to DTOs.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use beatstream_core::{ApiError, ApiJson, ApiQuery, Caller, PageQuery, Timestamp, UserId};

use super::dto::*;
use crate::error::PlaylistsError;
use crate::model::{MarkKind, NewPlaylist, PlayReport, PlaylistPatch};
use crate::service::PlaylistsService;
use crate::store::HistoryFilter;

/// The version an `If-Match` header names: `"7"`, `W/"7"` or a bare `7`. `*` (or no header)
/// asks for none; a value that is no version can never match (412).
fn if_match(headers: &HeaderMap) -> Option<i64> {
    let value = headers.get(header::IF_MATCH)?.to_str().unwrap_or("").trim();
    if value == "*" {
        return None;
    }
    let bare = value.trim_start_matches("W/").trim_matches('"');
    Some(bare.parse().unwrap_or(-1))
}

/// A path id that cannot name anything is simply not found (and never reaches the database).
fn known(id: &str, not_found: PlaylistsError) -> Result<(), ApiError> {
    if crate::service::plausible_id(id) {
        Ok(())
    } else {
        Err(not_found.into())
    }
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn with_etag(version: i64, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::ETAG, etag(version));
    response
}

#[utoipa::path(post, path = "/api/v1/playlists", tag = "playlists", request_body = CreatePlaylistRequest,
    responses((status = 201, body = PlaylistDto), (status = 400)), security(("bearer" = [])))]
pub async fn create_playlist(
    State(service): State<PlaylistsService>,
    caller: Caller,
    ApiJson(body): ApiJson<CreatePlaylistRequest>,
) -> Result<Response, ApiError> {
    let new = NewPlaylist {
        name: body.name,
        description: body.description,
        public: body.public,
        collaborative: body.collaborative,
    };
    let playlist = service.create_playlist(&caller, new).await?;
    Ok(with_etag(
        playlist.version,
        (StatusCode::CREATED, Json(PlaylistDto::from(&playlist))),
    ))
}

#[utoipa::path(get, path = "/api/v1/me/playlists", tag = "playlists", params(MyPlaylistsQuery),
    responses((status = 200, body = PlaylistList)), security(("bearer" = [])))]
pub async fn my_playlists(
    State(service): State<PlaylistsService>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MyPlaylistsQuery>,
) -> Result<Json<PlaylistList>, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let with_public = query.include_public.unwrap_or(false);
    let paged = service.my_playlists(&caller, with_public, &page).await?;
    Ok(Json(PlaylistList {
        items: paged.items.iter().map(PlaylistDto::from).collect(),
        next_cursor: paged.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/playlists/{id}", tag = "playlists", params(EntriesQuery),
    responses((status = 200, body = PlaylistWithTracks, description = "with an ETag carrying the version"), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_playlist(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<EntriesQuery>,
) -> Result<Response, ApiError> {
    known(&id, PlaylistsError::NotFound("playlist"))?;
    let offset = query.offset.unwrap_or(0);
    let limit = query.limit.unwrap_or(i64::MAX);
    if offset < 0 || limit < 0 {
        return Err(ApiError::invalid(
            "invalid_argument",
            "offset and limit must not be negative",
        ));
    }
    if query.offset.is_some() || query.limit.is_some() {
        let (playlist, entries) = service
            .playlist_with_entries(&caller, &id, offset, limit)
            .await?;
        let body = PlaylistWithTracks {
            playlist: PlaylistDto::from(&playlist),
            tracks: entries.iter().map(EntryDto::from).collect(),
        };
        return Ok(with_etag(playlist.version, Json(body)));
    }
    // The whole playlist: rendered once per version and kept (see `documents`).
    let head = service.playlist(&caller, &id).await?;
    let document = service
        .documents()
        .get_or_render(&id, head.version, || async {
            let (playlist, entries) = service
                .playlist_with_entries(&caller, &id, 0, i64::MAX)
                .await?;
            let body = PlaylistWithTracks {
                playlist: PlaylistDto::from(&playlist),
                tracks: entries.iter().map(EntryDto::from).collect(),
            };
            serde_json::to_vec(&body)
                .map(|json| (playlist.version, json))
                .map_err(|e| ApiError::internal("rendering a playlist", &e))
        })
        .await?;
    let gzip = !document.gzip.is_empty() && accepts_gzip(&headers);
    let body = if gzip {
        document.gzip.clone()
    } else {
        document.json.clone()
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::VARY, "accept-encoding"),
        ],
        body,
    )
        .into_response();
    if gzip {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
        .headers_mut()
        .insert(header::ETAG, etag(document.version));
    Ok(response)
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

#[utoipa::path(patch, path = "/api/v1/playlists/{id}", tag = "playlists", request_body = PatchPlaylistRequest,
    responses((status = 200, body = PlaylistDto), (status = 403), (status = 404), (status = 412)),
    security(("bearer" = [])))]
pub async fn patch_playlist(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchPlaylistRequest>,
) -> Result<Response, ApiError> {
    known(&id, PlaylistsError::NotFound("playlist"))?;
    let patch = PlaylistPatch {
        name: body.name,
        description: body.description,
        public: body.public,
        collaborative: body.collaborative,
    };
    let playlist = service
        .update_playlist(&caller, &id, if_match(&headers), patch)
        .await?;
    Ok(with_etag(
        playlist.version,
        Json(PlaylistDto::from(&playlist)),
    ))
}

#[utoipa::path(delete, path = "/api/v1/playlists/{id}", tag = "playlists",
    responses((status = 204), (status = 403), (status = 404), (status = 412)), security(("bearer" = [])))]
pub async fn delete_playlist(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    known(&id, PlaylistsError::NotFound("playlist"))?;
    service
        .delete_playlist(&caller, &id, if_match(&headers))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/playlists/{id}/tracks", tag = "playlists", request_body = AddTracksRequest,
    responses((status = 201, body = VersionResponse), (status = 400), (status = 403), (status = 404), (status = 412)),
    security(("bearer" = [])))]
pub async fn add_tracks(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AddTracksRequest>,
) -> Result<Response, ApiError> {
    known(&id, PlaylistsError::NotFound("playlist"))?;
    let version = service
        .add_tracks(
            &caller,
            &id,
            if_match(&headers),
            body.track_ids,
            body.position,
        )
        .await?;
    Ok(with_etag(
        version,
        (StatusCode::CREATED, Json(VersionResponse { version })),
    ))
}

#[utoipa::path(delete, path = "/api/v1/playlists/{id}/tracks", tag = "playlists", request_body = RemoveTracksRequest,
    responses((status = 200, body = VersionResponse), (status = 400), (status = 403), (status = 404), (status = 412)),
    security(("bearer" = [])))]
pub async fn remove_tracks(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RemoveTracksRequest>,
) -> Result<Response, ApiError> {
    known(&id, PlaylistsError::NotFound("playlist"))?;
    let version = service
        .remove_tracks(&caller, &id, if_match(&headers), body.positions)
        .await?;
    Ok(with_etag(version, Json(VersionResponse { version })))
}

#[utoipa::path(post, path = "/api/v1/playlists/{id}/tracks/move", tag = "playlists", request_body = MoveTracksRequest,
    responses((status = 200, body = VersionResponse), (status = 400), (status = 403), (status = 404), (status = 412)),
    security(("bearer" = [])))]
pub async fn move_tracks(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MoveTracksRequest>,
) -> Result<Response, ApiError> {
    known(&id, PlaylistsError::NotFound("playlist"))?;
    let version = service
        .move_tracks(
            &caller,
            &id,
            if_match(&headers),
            body.from,
            body.to,
            body.count.unwrap_or(1),
        )
        .await?;
    Ok(with_etag(version, Json(VersionResponse { version })))
}

#[utoipa::path(put, path = "/api/v1/playlists/{id}/collaborators/{user_id}", tag = "playlists",
    responses((status = 200, body = PlaylistDto), (status = 403), (status = 404), (status = 409, description = "already a collaborator")),
    security(("bearer" = [])))]
pub async fn add_collaborator(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    known(&id, PlaylistsError::NotFound("playlist"))?;
    known(&user_id, PlaylistsError::NotFound("user"))?;
    let playlist = service
        .add_collaborator(&caller, &id, if_match(&headers), &UserId(user_id))
        .await?;
    Ok(with_etag(
        playlist.version,
        Json(PlaylistDto::from(&playlist)),
    ))
}

#[utoipa::path(delete, path = "/api/v1/playlists/{id}/collaborators/{user_id}", tag = "playlists",
    responses((status = 200, body = PlaylistDto), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn remove_collaborator(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    known(&id, PlaylistsError::NotFound("playlist"))?;
    known(&user_id, PlaylistsError::NotFound("user"))?;
    let playlist = service
        .remove_collaborator(&caller, &id, if_match(&headers), &UserId(user_id))
        .await?;
    Ok(with_etag(
        playlist.version,
        Json(PlaylistDto::from(&playlist)),
    ))
}

#[utoipa::path(get, path = "/api/v1/playlists/{id}/export.m3u8", tag = "playlists",
    responses((status = 200, content_type = "audio/x-mpegurl", description = "extended M3U8 with library-relative paths"), (status = 404)),
    security(("bearer" = [])))]
pub async fn export_m3u(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    known(&id, PlaylistsError::NotFound("playlist"))?;
    let (name, text) = service.export_m3u(&caller, &id).await?;
    let file_name: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{}.m3u8\"", file_name.trim());
    let mut response = (
        [(header::CONTENT_TYPE, "audio/x-mpegurl; charset=utf-8")],
        text,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[utoipa::path(post, path = "/api/v1/playlists/import", tag = "playlists", params(ImportQuery),
    request_body(content = String, content_type = "audio/x-mpegurl", description = "M3U or M3U8 text"),
    responses((status = 201, body = ImportResponse), (status = 400)), security(("bearer" = [])))]
pub async fn import_m3u(
    State(service): State<PlaylistsService>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ImportQuery>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let text = String::from_utf8_lossy(&body);
    let import = service.import_m3u(&caller, &text, query.name).await?;
    Ok(with_etag(
        import.playlist.version,
        (StatusCode::CREATED, Json(ImportResponse::from(&import))),
    ))
}

#[utoipa::path(put, path = "/api/v1/me/likes/tracks/{id}", tag = "library",
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn like_track(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    known(&id, PlaylistsError::NotFound("track"))?;
    service.like(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/me/likes/tracks/{id}", tag = "library",
    responses((status = 204)), security(("bearer" = [])))]
pub async fn unlike_track(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    known(&id, PlaylistsError::NotFound("track"))?;
    service.unlike(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me/likes/tracks", tag = "library", params(PageQuery),
    responses((status = 200, body = LikeList)), security(("bearer" = [])))]
pub async fn list_likes(
    State(service): State<PlaylistsService>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<LikeList>, ApiError> {
    let page = query.page()?;
    let paged = service.likes(&caller, &page).await?;
    Ok(Json(LikeList {
        items: paged.items.iter().map(LikeDto::from).collect(),
        next_cursor: paged.next_cursor,
    }))
}

#[utoipa::path(post, path = "/api/v1/me/plays", tag = "library", request_body = PlayRequest,
    responses((status = 202, body = PlayDto), (status = 400), (status = 404)), security(("bearer" = [])))]
pub async fn record_play(
    State(service): State<PlaylistsService>,
    caller: Caller,
    ApiJson(body): ApiJson<PlayRequest>,
) -> Result<(StatusCode, Json<PlayDto>), ApiError> {
    let started_at = match body.started_at.as_deref() {
        None => None,
        Some(text) => Some(Timestamp::parse_rfc3339(text).ok_or_else(|| {
            ApiError::invalid(
                "invalid_argument",
                "started_at: not an RFC 3339 time such as 2026-01-31T20:15:00Z",
            )
        })?),
    };
    let report = PlayReport {
        track_id: body.track_id,
        played_ms: body.played_ms,
        started_at,
    };
    let play = service.record_play(&caller, report).await?;
    Ok((StatusCode::ACCEPTED, Json(PlayDto::from(&play))))
}

#[utoipa::path(get, path = "/api/v1/me/history", tag = "library", params(HistoryQuery),
    responses((status = 200, body = PlayList)), security(("bearer" = [])))]
pub async fn history(
    State(service): State<PlaylistsService>,
    caller: Caller,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<PlayList>, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let filter = if query.include_skips.unwrap_or(false) {
        HistoryFilter::PlaysAndSkips
    } else {
        HistoryFilter::Plays
    };
    let paged = service.history(&caller, filter, &page).await?;
    Ok(Json(PlayList {
        items: paged.items.iter().map(PlayDto::from).collect(),
        next_cursor: paged.next_cursor,
    }))
}

fn kind_of(segment: &str) -> Result<MarkKind, ApiError> {
    MarkKind::parse(segment)
        .ok_or_else(|| ApiError::not_found("route_not_found", "use tracks, albums or artists"))
}

#[utoipa::path(put, path = "/api/v1/me/likes/{kind}/{id}", tag = "library",
    params(("kind" = String, Path, description = "albums or artists (tracks: see above)")),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn like_item(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path((kind, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    service.like_item(&caller, kind_of(&kind)?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/me/likes/{kind}/{id}", tag = "library",
    params(("kind" = String, Path, description = "albums or artists")),
    responses((status = 204)), security(("bearer" = [])))]
pub async fn unlike_item(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path((kind, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    service.unlike_item(&caller, kind_of(&kind)?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me/likes/{kind}", tag = "library",
    params(("kind" = String, Path, description = "albums or artists"), PageQuery),
    responses((status = 200, body = ItemLikeList)), security(("bearer" = [])))]
pub async fn list_item_likes(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path(kind): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ItemLikeList>, ApiError> {
    let kind = kind_of(&kind)?;
    if kind == MarkKind::Track {
        return Err(ApiError::not_found(
            "route_not_found",
            "use /api/v1/me/likes/tracks",
        ));
    }
    let page = query.page()?;
    let paged = service.item_likes(&caller, kind, &page).await?;
    Ok(Json(ItemLikeList {
        items: paged.items.iter().map(ItemLikeDto::from).collect(),
        next_cursor: paged.next_cursor,
    }))
}

#[utoipa::path(put, path = "/api/v1/me/ratings/{kind}/{id}", tag = "library", request_body = RateRequest,
    params(("kind" = String, Path, description = "tracks, albums or artists")),
    responses((status = 204), (status = 400), (status = 404)), security(("bearer" = [])))]
pub async fn rate(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path((kind, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<RateRequest>,
) -> Result<StatusCode, ApiError> {
    service
        .rate(&caller, kind_of(&kind)?, &id, body.rating)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/me/ratings/{kind}/{id}", tag = "library",
    params(("kind" = String, Path, description = "tracks, albums or artists")),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn clear_rating(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path((kind, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    service.rate(&caller, kind_of(&kind)?, &id, 0).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me/ratings/{kind}", tag = "library",
    params(("kind" = String, Path, description = "tracks, albums or artists")),
    responses((status = 200, body = RatingList)), security(("bearer" = [])))]
pub async fn list_ratings(
    State(service): State<PlaylistsService>,
    caller: Caller,
    Path(kind): Path<String>,
) -> Result<Json<RatingList>, ApiError> {
    let ratings = service.ratings(&caller, kind_of(&kind)?).await?;
    Ok(Json(RatingList {
        items: ratings
            .into_iter()
            .map(|r| RatingDto {
                id: r.id,
                rating: r.rating,
                rated_at: r.rated_at,
            })
            .collect(),
    }))
}

#[utoipa::path(put, path = "/api/v1/me/now-playing", tag = "library", request_body = NowPlayingRequest,
    responses((status = 204), (status = 400), (status = 404)), security(("bearer" = [])))]
pub async fn report_now_playing(
    State(service): State<PlaylistsService>,
    caller: Caller,
    ApiJson(body): ApiJson<NowPlayingRequest>,
) -> Result<StatusCode, ApiError> {
    known(&body.track_id, PlaylistsError::NotFound("track"))?;
    service
        .report_now_playing(&caller, &body.track_id, &body.player)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What every listener's players reported playing in the last 15 minutes, newest first.
#[utoipa::path(get, path = "/api/v1/now-playing", tag = "library",
    responses((status = 200, body = NowPlayingList)), security(("bearer" = [])))]
pub async fn now_playing(
    State(service): State<PlaylistsService>,
    _caller: Caller,
) -> Result<Json<NowPlayingList>, ApiError> {
    let items = service.now_playing().await?;
    Ok(Json(NowPlayingList {
        items: items.iter().map(NowPlayingDto::from).collect(),
    }))
}

/// The caller's likes and ratings of the given tracks, albums and artists, in one call.
#[utoipa::path(get, path = "/api/v1/me/marks", tag = "library", params(MarksQuery),
    responses((status = 200, body = MarkList), (status = 400)), security(("bearer" = [])))]
pub async fn marks(
    State(service): State<PlaylistsService>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MarksQuery>,
) -> Result<Json<MarkList>, ApiError> {
    let mut ids = beatstream_core::ids::comma_separated(&query.ids);
    ids.sort_unstable();
    ids.dedup();
    let marks = service.marks_of(&caller, &ids).await?;
    let items = ids
        .into_iter()
        .filter_map(|id| {
            let liked_at = marks.liked.get(&id).copied();
            let rating = marks.ratings.get(&id).copied();
            (liked_at.is_some() || rating.is_some()).then_some(MarkDto {
                id,
                liked_at,
                rating,
            })
        })
        .collect();
    Ok(Json(MarkList { items }))
}
