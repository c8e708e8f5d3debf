//! `GET /api/v1/events` (the WebSocket), the user's devices and remote control, with their
//! OpenAPI description.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use beatstream_core::{ApiError, ApiJson, ApiQuery, Caller};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::OpenApi;

use crate::playback::{Command, PlaybackState};
use crate::service::{DeviceInfo, DeviceView, RealtimeService, StateView};
use crate::session::{MemberView, Playback, QueueEntry, SessionView};
use crate::socket::{self, SocketParams};

/// Largest message a client may send (a state with a long queue fits).
const MAX_CLIENT_MESSAGE: usize = 1024 * 1024;

pub fn router(service: RealtimeService) -> Router {
    Router::new()
        .route("/api/v1/events", get(events))
        .route("/api/v1/me/devices", get(devices))
        .route("/api/v1/me/devices/{id}/commands", post(command))
        .route("/api/v1/me/player/transfer", post(transfer))
        .route("/api/v1/sessions", post(create_session))
        .route("/api/v1/sessions/join", post(join_session))
        .route("/api/v1/me/session", get(current_session))
        .route("/api/v1/sessions/{id}", get(session).delete(end_session))
        .route("/api/v1/sessions/{id}/leave", post(leave_session))
        .route("/api/v1/sessions/{id}/queue", post(add_to_session))
        .route("/api/v1/sessions/{id}/playback", post(session_playback))
        .with_state(service)
}

#[derive(OpenApi)]
#[openapi(
    paths(
        events,
        devices,
        command,
        transfer,
        create_session,
        join_session,
        current_session,
        session,
        end_session,
        leave_session,
        add_to_session,
        session_playback
    ),
    components(schemas(
        DeviceView,
        StateView,
        PlaybackState,
        Command,
        TransferRequest,
        SessionView,
        MemberView,
        QueueEntry,
        Playback,
        JoinRequest,
        AddRequest
    ))
)]
pub struct RealtimeApi;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// This player's id (1 to 64 letters, digits, `-` or `_`), stable across its reconnects.
    /// Without it the socket only listens and is not a device.
    pub device_id: Option<String>,
    /// Shown in the devices menu, e.g. "Firefox on Linux".
    pub device_name: Option<String>,
    /// `web`, `desktop`, `phone`, `tablet`, `speaker`, `tv` or `other` (default `web`).
    pub device_kind: Option<String>,
    /// The id of the last message this client saw, to get what it missed since (also read as
    /// `last_event_id`, or from a `Last-Event-ID` header).
    #[serde(alias = "last_event_id")]
    pub last_id: Option<String>,
    /// A short-lived access token, for clients that can send neither a header nor a
    /// subprotocol (read by the authentication layer).
    pub access_token: Option<String>,
}

const KINDS: [&str; 7] = [
    "web", "desktop", "phone", "tablet", "speaker", "tv", "other",
];

fn device_info(query: &EventsQuery) -> Result<Option<DeviceInfo>, ApiError> {
    let Some(id) = &query.device_id else {
        if query.device_name.is_some() || query.device_kind.is_some() {
            return Err(ApiError::invalid(
                "invalid_device",
                "device_name and device_kind need a device_id",
            ));
        }
        return Ok(None);
    };
    let valid_id = (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_id {
        return Err(ApiError::invalid(
            "invalid_device",
            "device_id must be 1 to 64 letters, digits, `-` or `_`",
        ));
    }
    let name = query.device_name.as_deref().unwrap_or("").trim();
    if name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "invalid_device",
            "device_name is longer than 100 characters",
        ));
    }
    let kind = query.device_kind.as_deref().unwrap_or("web");
    if !KINDS.contains(&kind) {
        return Err(ApiError::invalid(
            "invalid_device",
            format!("device_kind must be one of {}", KINDS.join(", ")),
        ));
    }
    Ok(Some(DeviceInfo {
        id: id.clone(),
        name: if name.is_empty() {
            "Unnamed device".into()
        } else {
            name.to_string()
        },
        kind: kind.to_string(),
    }))
}

/// Live updates for the signed-in user, over a WebSocket.
///
/// Authenticate with `Authorization: Bearer <token>`, or, from a browser (which cannot set
/// headers on a WebSocket), by offering the subprotocols `beatstream` and
/// `bearer.<access token>`: the server selects `beatstream`. Clients that can do neither may
/// put a (short-lived) access token in the query as `access_token`; personal API tokens are
/// refused there, being long-lived.
///
/// The first message is `{type: "hello", connection_id, device_id, server_time_ms, resume,
/// replayed, devices}`. Then JSON messages `{id, type, ...}`: `playlist.changed` (with its new
/// `version`, for the owner and collaborators), `playlist.deleted`, `like.changed`,
/// `scan.progress` (admins), `devices.changed`, `player.state` (a device's playback state),
/// `player.command` (to this device: `{command: {action, ...}, from_device}`), and `reload`
/// (what was missed is unknown: fetch state again). Reconnect with `last_id` set to the last
/// `id` seen to get what was missed within the last five minutes. A client may send
/// `{type: "state", state}` (its playback state), `{type: "command", device_id, command}` and
/// `{type: "ping", t}` (answered with `pong` and the server's time); a bad message gets
/// `{type: "error", code, message}`. A client too slow to take its messages is closed with code
/// 4008.
#[utoipa::path(get, path = "/api/v1/events", tag = "realtime", params(EventsQuery),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket request, or a bad device"),
        (status = 401, description = "Not signed in")),
    security(("bearer" = [])))]
pub async fn events(
    State(service): State<RealtimeService>,
    caller: Caller,
    ApiQuery(query): ApiQuery<EventsQuery>,
    headers: axum::http::HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|_| {
        ApiError::invalid(
            "websocket_expected",
            "this route speaks WebSocket: send an Upgrade request",
        )
    })?;
    let device = device_info(&query)?;
    let last_id = query.last_id.or_else(|| {
        headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let params = SocketParams {
        caller,
        device,
        last_id,
    };
    Ok(upgrade
        .protocols(["beatstream"])
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |ws| socket::run(service, ws, params))
        .into_response())
}

/// The signed-in user's devices, most recently used first.
///
/// Replies `{items: [{id, name, kind, online, active, state}]}`; `state` is the device's last
/// reported playback state with `position_ms` moved on to `as_of` while it plays.
#[utoipa::path(get, path = "/api/v1/me/devices", tag = "realtime",
    responses((status = 200, description = "The devices")),
    security(("bearer" = [])))]
pub async fn devices(
    State(service): State<RealtimeService>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let devices = service.devices(caller.user_id.as_str()).await?;
    Ok(Json(json!({ "items": devices })))
}

/// Tells one of your devices to do something: `{action: "play"}`, `pause`, `next`,
/// `previous`, `{action: "seek", position_ms}`, `{action: "volume", volume}` (0 to 1),
/// `{action: "set_queue", track_ids, index, position_ms}`, `{action: "add_to_queue",
/// track_ids}`. The device gets it as a `player.command` message.
#[utoipa::path(post, path = "/api/v1/me/devices/{id}/commands", tag = "realtime",
    params(("id" = String, Path, description = "The device")),
    request_body = Command,
    responses((status = 202, description = "Sent to the device"),
        (status = 400, description = "A bad command"),
        (status = 404, description = "No such device of yours"),
        (status = 409, description = "The device is offline")),
    security(("bearer" = [])))]
pub async fn command(
    State(service): State<RealtimeService>,
    caller: Caller,
    Path(device_id): Path<String>,
    ApiJson(command): ApiJson<Command>,
) -> Result<StatusCode, ApiError> {
    service
        .command(caller.user_id.as_str(), &device_id, &command, None)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The device to play on.
    pub device_id: String,
    /// Play (true) or stay paused (false) there; default: as it was.
    #[serde(default)]
    pub play: Option<bool>,
}

/// Moves playback to another device.
///
/// The device that played last is paused and the target gets `player.command` with
/// `{action: "transfer", state, play}`: the queue, the track and the position now. Replies
/// with the target device and the state it was given.
#[utoipa::path(post, path = "/api/v1/me/player/transfer", tag = "realtime",
    request_body = TransferRequest,
    responses((status = 200, description = "The target device, with the state it got"),
        (status = 404, description = "No such device of yours"),
        (status = 409, description = "The device is offline, or nothing has played yet")),
    security(("bearer" = [])))]
pub async fn transfer(
    State(service): State<RealtimeService>,
    caller: Caller,
    ApiJson(request): ApiJson<TransferRequest>,
) -> Result<Json<DeviceView>, ApiError> {
    let device = service
        .transfer(caller.user_id.as_str(), &request.device_id, request.play)
        .await?;
    Ok(Json(device))
}

/// Starts a group session ("listening together") led by the caller.
///
/// Replies 201 with the session: `{id, owner, members, invite_code, queue, queue_index,
/// position_ms, playing, as_of, version, created_at}`. Others join with the invite code (the
/// web player's link is `/join/<invite_code>`). Every change reaches every member's sockets as
/// `session.changed`; a player is in sync when it is at `position_ms` plus the time since
/// `as_of` (while `playing`), by the server's clock (`ping` on the socket gives it).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "realtime",
    responses((status = 201, description = "The new session", body = SessionView)),
    security(("bearer" = [])))]
pub async fn create_session(
    State(service): State<RealtimeService>,
    caller: Caller,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(service.create_session(&caller).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    pub invite_code: String,
}

/// Joins a session by its invite code (joining again changes nothing).
#[utoipa::path(post, path = "/api/v1/sessions/join", tag = "realtime", request_body = JoinRequest,
    responses((status = 200, description = "The session", body = SessionView),
        (status = 404, description = "No live session has this invite")),
    security(("bearer" = [])))]
pub async fn join_session(
    State(service): State<RealtimeService>,
    caller: Caller,
    ApiJson(request): ApiJson<JoinRequest>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(
        service.join_session(&caller, &request.invite_code).await?,
    ))
}

/// The live session the caller joined last; 404 `no_session` when none.
#[utoipa::path(get, path = "/api/v1/me/session", tag = "realtime",
    responses((status = 200, description = "The session", body = SessionView),
        (status = 404, description = "In no session")),
    security(("bearer" = [])))]
pub async fn current_session(
    State(service): State<RealtimeService>,
    caller: Caller,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(service.current_session(&caller).await?))
}

/// A session the caller is a member of.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "realtime",
    params(("id" = String, Path, description = "The session")),
    responses((status = 200, description = "The session", body = SessionView),
        (status = 404, description = "No such session of yours")),
    security(("bearer" = [])))]
pub async fn session(
    State(service): State<RealtimeService>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(service.session(&caller, &id).await?))
}

/// Ends the session for everyone (owner only): members get `session.ended`.
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "realtime",
    params(("id" = String, Path, description = "The session")),
    responses((status = 204, description = "Ended"),
        (status = 403, description = "Not the owner"),
        (status = 404, description = "No such session of yours")),
    security(("bearer" = [])))]
pub async fn end_session(
    State(service): State<RealtimeService>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    service.end_session(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leaves a session (a guest; the owner ends it instead).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/leave", tag = "realtime",
    params(("id" = String, Path, description = "The session")),
    responses((status = 204, description = "Left"),
        (status = 404, description = "No such session of yours"),
        (status = 409, description = "The owner cannot leave")),
    security(("bearer" = [])))]
pub async fn leave_session(
    State(service): State<RealtimeService>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    service.leave_session(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddRequest {
    /// 1 to 100 track ids, added at the end.
    pub track_ids: Vec<String>,
}

/// Adds tracks to the shared queue (any member; at most 1,000 in the queue).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/queue", tag = "realtime",
    params(("id" = String, Path, description = "The session")), request_body = AddRequest,
    responses((status = 200, description = "The session", body = SessionView),
        (status = 400, description = "No or too many tracks"),
        (status = 404, description = "No such session of yours"),
        (status = 409, description = "The queue is full")),
    security(("bearer" = [])))]
pub async fn add_to_session(
    State(service): State<RealtimeService>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AddRequest>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(
        service
            .add_to_session(&caller, &id, &request.track_ids)
            .await?,
    ))
}

/// Controls the shared playback (owner only): `{action: "play"}`, `pause`, `next`,
/// `previous`, `{action: "seek", position_ms}`, `{action: "jump", index}`.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/playback", tag = "realtime",
    params(("id" = String, Path, description = "The session")), request_body = Playback,
    responses((status = 200, description = "The session", body = SessionView),
        (status = 400, description = "A bad action"),
        (status = 403, description = "Not the owner"),
        (status = 404, description = "No such session of yours"),
        (status = 409, description = "The queue is empty")),
    security(("bearer" = [])))]
pub async fn session_playback(
    State(service): State<RealtimeService>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(action): ApiJson<Playback>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(service.session_playback(&caller, &id, &action).await?))
}
