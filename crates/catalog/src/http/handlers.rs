//! Thin handlers: extract, call [`CatalogService`], map to DTOs.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Json;
use beatstream_core::{ApiError, ApiQuery, Caller, PageQuery};

use super::dto::*;
use crate::model::{Album, AlbumSort, Track};
use crate::service::CatalogService;
use crate::signing::Signature;
use crate::store::{AlbumFilter, TrackFilter};

fn page(limit: Option<u32>, cursor: Option<String>) -> Result<beatstream_core::Page, ApiError> {
    PageQuery { limit, cursor }.page()
}

/// The caller's user id, from a bearer credential or a valid signed URL.
fn authorize(
    catalog: &CatalogService,
    caller: Option<Caller>,
    uri: &Uri,
    u: Option<String>,
    exp: Option<i64>,
    sig: Option<String>,
) -> Result<String, ApiError> {
    if let Some(caller) = caller {
        return Ok(caller.user_id.to_string());
    }
    match (u, exp, sig) {
        (Some(user), Some(expires), Some(sig)) => catalog
            .signer()
            .verify(uri.path(), &Signature { user, expires, sig })
            .ok_or_else(|| {
                ApiError::unauthenticated(
                    "the signed URL is invalid or expired; ask for a fresh one",
                )
            }),
        _ => Err(ApiError::unauthenticated(
            "sign in: send `Authorization: Bearer <access token>` or use a signed URL",
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/artists", tag = "catalog", params(PageQuery),
    responses((status = 200, body = List<ArtistDto>)), security(("bearer" = [])))]
pub async fn list_artists(
    State(catalog): State<CatalogService>,
    _caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<List<ArtistDto>>, ApiError> {
    let paged = catalog.artists(&query.page()?).await?;
    Ok(Json(List::of(&paged.items, paged.next_cursor, |a| {
        ArtistDto::from(a)
    })))
}

#[utoipa::path(get, path = "/api/v1/artists/{id}", tag = "catalog",
    responses((status = 200, body = ArtistDetail), (status = 404)), security(("bearer" = [])))]
pub async fn get_artist(
    State(catalog): State<CatalogService>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ArtistDetail>, ApiError> {
    let (artist, albums) = catalog.artist(&id).await?;
    let user = caller.user_id.to_string();
    Ok(Json(ArtistDetail {
        artist: ArtistDto::from(&artist),
        albums: albums
            .iter()
            .map(|a| AlbumDto::new(a, catalog.signer(), &user))
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/albums", tag = "catalog", params(AlbumQuery),
    responses((status = 200, body = List<AlbumDto>), (status = 400)), security(("bearer" = [])))]
pub async fn list_albums(
    State(catalog): State<CatalogService>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AlbumQuery>,
) -> Result<Json<List<AlbumDto>>, ApiError> {
    let user = caller.user_id.to_string();
    let list = |albums: &[Album], next_cursor| {
        Json(List::of(albums, next_cursor, |a| {
            AlbumDto::new(a, catalog.signer(), &user)
        }))
    };
    let filter = AlbumFilter {
        genre: query.genre,
        artist_id: query.artist_id,
        from_year: query.from_year,
        to_year: query.to_year,
    };
    let sort = match query.sort.as_deref() {
        None | Some("name") => AlbumSort::Name,
        Some("newest") => AlbumSort::Newest,
        Some("year") => AlbumSort::Year,
        Some("random") => {
            let limit = page(query.limit, None)?.limit;
            let albums = catalog.random_albums(&filter, limit).await?;
            return Ok(list(&albums, None));
        }
        Some(other) => {
            return Err(ApiError::invalid(
                "invalid_sort",
                format!("sort `{other}`: use name, newest, year or random"),
            ))
        }
    };
    let paged = catalog
        .albums(sort, &filter, &page(query.limit, query.cursor)?)
        .await?;
    Ok(list(&paged.items, paged.next_cursor))
}

#[utoipa::path(get, path = "/api/v1/albums/{id}", tag = "catalog",
    responses((status = 200, body = AlbumDetail), (status = 404)), security(("bearer" = [])))]
pub async fn get_album(
    State(catalog): State<CatalogService>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AlbumDetail>, ApiError> {
    let (album, tracks) = catalog.album(&id).await?;
    let user = caller.user_id.to_string();
    Ok(Json(AlbumDetail {
        album: AlbumDto::new(&album, catalog.signer(), &user),
        tracks: tracks
            .iter()
            .map(|t| TrackDto::new(t, catalog.signer(), &user))
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/albums/{id}/cover", tag = "catalog", params(CoverQuery),
    responses((status = 200, description = "JPEG (resized) or the original image"), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_cover(
    State(catalog): State<CatalogService>,
    caller: Option<Caller>,
    uri: Uri,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<CoverQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&catalog, caller, &uri, query.u, query.exp, query.sig)?;
    Ok(catalog.cover(&id, query.size, &headers).await?)
}

#[utoipa::path(get, path = "/api/v1/tracks", tag = "catalog", params(TrackQuery),
    responses((status = 200, body = List<TrackDto>)), security(("bearer" = [])))]
pub async fn list_tracks(
    State(catalog): State<CatalogService>,
    caller: Caller,
    ApiQuery(query): ApiQuery<TrackQuery>,
) -> Result<Json<List<TrackDto>>, ApiError> {
    let user = caller.user_id.to_string();
    let list = |tracks: &[Track], next_cursor| {
        Json(List::of(tracks, next_cursor, |t| {
            TrackDto::new(t, catalog.signer(), &user)
        }))
    };
    if let Some(ids) = query.ids.as_deref() {
        let ids = beatstream_core::ids::comma_separated(ids);
        if ids.len() > 500 {
            return Err(ApiError::invalid(
                "invalid_argument",
                "ids: at most 500 at once",
            ));
        }
        let tracks = catalog.tracks_by_ids(&ids).await?;
        return Ok(list(&tracks, None));
    }
    match query.sort.as_deref() {
        None => {}
        Some("random") => {
            let limit = page(query.limit, None)?.limit;
            let tracks = catalog
                .random_tracks(
                    query.genre.as_deref(),
                    (query.from_year, query.to_year),
                    limit,
                )
                .await?;
            return Ok(list(&tracks, None));
        }
        Some(other) => {
            return Err(ApiError::invalid(
                "invalid_sort",
                format!("sort `{other}`: tracks sort by title, or `random`"),
            ))
        }
    }
    let filter = TrackFilter {
        album_id: query.album_id,
        artist_id: query.artist_id,
        genre: query.genre,
    };
    let paged = catalog
        .tracks(&filter, &page(query.limit, query.cursor)?)
        .await?;
    Ok(list(&paged.items, paged.next_cursor))
}

#[utoipa::path(get, path = "/api/v1/tracks/{id}", tag = "catalog",
    responses((status = 200, body = TrackDto), (status = 404)), security(("bearer" = [])))]
pub async fn get_track(
    State(catalog): State<CatalogService>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TrackDto>, ApiError> {
    let track = catalog.track(&id).await?;
    Ok(Json(TrackDto::new(
        &track,
        catalog.signer(),
        caller.user_id.as_str(),
    )))
}

#[utoipa::path(get, path = "/api/v1/tracks/{id}/lyrics", tag = "catalog",
    responses((status = 200, body = LyricsDto), (status = 404)), security(("bearer" = [])))]
pub async fn get_lyrics(
    State(catalog): State<CatalogService>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<LyricsDto>, ApiError> {
    Ok(Json(LyricsDto {
        lyrics: catalog.lyrics(&id).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/tracks/{id}/stream", tag = "catalog", params(StreamQuery),
    responses((status = 200, description = "the audio"), (status = 206, description = "a range of it"),
              (status = 304), (status = 404), (status = 416)),
    security(("bearer" = [])))]
pub async fn stream_track(
    State(catalog): State<CatalogService>,
    caller: Option<Caller>,
    uri: Uri,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = authorize(
        &catalog,
        caller,
        &uri,
        query.u.clone(),
        query.exp,
        query.sig.clone(),
    )?;
    let offset_ms = query.offset_ms.unwrap_or(0);
    if query.format.is_some() || query.bitrate.is_some() || offset_ms > 0 {
        return Ok(crate::transcode::stream_transcoded(
            &catalog,
            &id,
            query.format.as_deref(),
            query.bitrate,
            offset_ms,
            &user,
            &headers,
        )
        .await?);
    }
    Ok(catalog.stream_original(&id, &headers).await?)
}

#[utoipa::path(get, path = "/api/v1/genres", tag = "catalog",
    responses((status = 200, body = List<GenreDto>)), security(("bearer" = [])))]
pub async fn list_genres(
    State(catalog): State<CatalogService>,
    _caller: Caller,
) -> Result<Json<List<GenreDto>>, ApiError> {
    let genres = catalog.genres().await?;
    Ok(Json(List::of(&genres, None, |g| GenreDto::from(g))))
}

#[utoipa::path(post, path = "/api/v1/library/scan", tag = "catalog",
    responses((status = 202, body = ScanStarted), (status = 403)), security(("bearer" = [])))]
pub async fn start_scan(
    State(catalog): State<CatalogService>,
    caller: Caller,
) -> Result<(StatusCode, Json<ScanStarted>), ApiError> {
    caller.require_admin()?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ScanStarted {
            id: catalog.request_scan(),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/library/scan", tag = "catalog",
    responses((status = 200, body = ScanDto), (status = 404, description = "no scan yet")), security(("bearer" = [])))]
pub async fn get_scan(
    State(catalog): State<CatalogService>,
    _caller: Caller,
) -> Result<Json<ScanDto>, ApiError> {
    catalog
        .scan_status()
        .await?
        .map(|report| Json(ScanDto::from(report)))
        .ok_or_else(|| {
            ApiError::not_found(
                "scan_not_found",
                "no scan has run yet; POST /api/v1/library/scan starts one",
            )
        })
}

#[utoipa::path(post, path = "/api/v1/tracks", tag = "catalog",
    request_body(content_type = "multipart/form-data", description = "one audio file as a form field with a file name"),
    responses((status = 201, body = TrackDto), (status = 400, description = "not an audio file"),
              (status = 403), (status = 413, description = "over catalog.max_upload_bytes")),
    security(("bearer" = [])))]
pub async fn upload_track(
    State(catalog): State<CatalogService>,
    caller: Caller,
    form: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<TrackDto>), ApiError> {
    caller.require_admin()?;
    let form = form.map_err(|e| {
        ApiError::new(
            beatstream_core::ErrorCode::UnsupportedMediaType,
            "unsupported_media_type",
            format!("send the file as multipart/form-data ({})", e.body_text()),
        )
    })?;
    let id = crate::upload::upload(&catalog, form).await?;
    let track = catalog.track(&id).await?;
    Ok((
        StatusCode::CREATED,
        Json(TrackDto::new(
            &track,
            catalog.signer(),
            caller.user_id.as_str(),
        )),
    ))
}
