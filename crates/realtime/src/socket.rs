//! One client's WebSocket: it registers with the hub (resuming after `last_id` when asked),
//! says hello, then forwards the hub's messages to the client and the client's messages
//! (playback state, commands, clock pings) to the service, until either side closes.
//!
//! Close codes: 1000 normal, 1001 the server is shutting down or the client stopped answering
//! pings, 4008 too slow (more messages waited than the queue allows: reconnect with `last_id`
//! to resume). A client that takes nothing at all cannot be sent a close frame: its connection
//! is dropped when its queue overflows, or when a write has waited 10 s.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use beatstream_core::{ApiError, Caller, Timestamp};
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::hub::Resume;
use crate::playback::{Command, PlaybackState};
use crate::service::{DeviceInfo, RealtimeService};

const PING_EVERY: Duration = Duration::from_secs(25);
/// A client that sends nothing (not even a pong) for this long is gone.
const SILENCE_LIMIT: Duration = Duration::from_secs(70);
/// A write the client does not take within this long means it is stuck.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Client messages per second before they are refused.
const MAX_MESSAGES_PER_SECOND: u32 = 20;

/// What a client may send.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ClientMessage {
    /// This device's playback state changed.
    State { state: PlaybackState },
    /// Tell another of the user's devices to do something.
    Command { device_id: String, command: Command },
    /// Clock sync: answered with `pong` carrying the server's time and `t` as sent.
    Ping {
        #[serde(default)]
        t: Option<serde_json::Value>,
    },
}

pub struct SocketParams {
    pub caller: Caller,
    pub device: Option<DeviceInfo>,
    pub last_id: Option<String>,
}

pub async fn run(service: RealtimeService, mut socket: WebSocket, params: SocketParams) {
    let SocketParams {
        caller,
        device,
        last_id,
    } = params;
    let user_id = caller.user_id.as_str().to_string();
    let device_id = device.as_ref().map(|d| d.id.clone());
    let connection_id = uuid::Uuid::new_v4().simple().to_string();
    let mut registration = service.hub().register(
        &user_id,
        device_id.as_deref(),
        caller.is_admin(),
        last_id.as_deref(),
    );
    if let Some(device) = &device {
        if let Err(e) = service
            .device_connected(&user_id, &connection_id, device)
            .await
        {
            tracing::warn!(error = %e, "realtime: could not record a device's connection");
        }
    }
    let devices = service.devices(&user_id).await.unwrap_or_default();
    let (resume, replayed) = match &registration.resume {
        Resume::Fresh => ("fresh", 0),
        Resume::Resumed { replayed } => ("resumed", *replayed),
        Resume::Reload { .. } => ("reload", 0),
    };
    let hello = json!({
        "type": "hello",
        "connection_id": connection_id,
        "device_id": device_id,
        "server_time_ms": Timestamp::now().millis(),
        "resume": resume,
        "replayed": replayed,
        "devices": devices,
    });
    let closing = service.closing();
    let close = if send(&mut socket, hello.to_string().into()).await {
        serve(
            &service,
            &mut socket,
            &mut registration,
            &caller,
            device_id.as_deref(),
            &closing,
        )
        .await
    } else {
        None
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            socket.send(Message::Close(Some(frame))),
        )
        .await;
    }
    service.hub().unregister(&user_id, registration.socket_id);
    if device.is_some() {
        if let Err(e) = service.device_disconnected(&user_id, &connection_id).await {
            tracing::warn!(error = %e, "realtime: could not record a device's disconnection");
        }
    }
}

/// Sends one text message; false when the client is gone or stuck.
async fn send(socket: &mut WebSocket, text: Utf8Bytes) -> bool {
    matches!(
        tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Text(text))).await,
        Ok(Ok(()))
    )
}

/// The socket's loop; returns the close frame to send, if any.
async fn serve(
    service: &RealtimeService,
    socket: &mut WebSocket,
    registration: &mut crate::hub::Registration,
    caller: &Caller,
    device_id: Option<&str>,
    closing: &CancellationToken,
) -> Option<(u16, &'static str)> {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let (mut window_start, mut window_count) = (Instant::now(), 0u32);
    loop {
        tokio::select! {
            biased;
            _ = closing.cancelled() => return Some((1001, "the server is shutting down")),
            _ = registration.kicked.cancelled() => return Some((4008, "too slow: messages were waiting; reconnect with last_id to resume")),
            text = registration.messages.recv() => match text {
                Some(text) => {
                    // A client that takes nothing may be kicked mid-write: drop it at once.
                    let sent = tokio::select! {
                        sent = send(socket, text) => sent,
                        _ = registration.kicked.cancelled() => false,
                    };
                    if !sent { return None }
                }
                None => return Some((4008, "too slow: messages were waiting; reconnect with last_id to resume")),
            },
            incoming = socket.recv() => {
                let message = match incoming {
                    Some(Ok(message)) => message,
                    _ => return None,
                };
                last_heard = Instant::now();
                let text = match message {
                    Message::Text(text) => text,
                    Message::Close(_) => return None,
                    Message::Binary(_) => {
                        let reply = error_message("binary_unsupported", "send JSON text messages");
                        if !send(socket, reply).await { return None }
                        continue;
                    }
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                if window_start.elapsed() >= Duration::from_secs(1) {
                    (window_start, window_count) = (Instant::now(), 0);
                }
                window_count += 1;
                let reply = if window_count > MAX_MESSAGES_PER_SECOND {
                    Some(error_message("rate_limited", "too many messages; at most 20 a second"))
                } else {
                    handle(service, caller, device_id, text.as_str()).await
                };
                if let Some(reply) = reply {
                    if !send(socket, reply).await { return None }
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    return Some((1001, "no answer to pings"));
                }
                let sent = tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Ping(Default::default()))).await;
                if !matches!(sent, Ok(Ok(()))) { return None }
            }
        }
    }
}

fn error_message(code: &str, message: &str) -> Utf8Bytes {
    json!({"type": "error", "code": code, "message": message})
        .to_string()
        .into()
}

/// Applies one client message; the direct reply, if any.
async fn handle(
    service: &RealtimeService,
    caller: &Caller,
    device_id: Option<&str>,
    text: &str,
) -> Option<Utf8Bytes> {
    let message: ClientMessage = match serde_json::from_str(text) {
        Ok(message) => message,
        Err(e) => {
            return Some(error_message(
                "invalid_message",
                &format!("not a message this server understands: {e}"),
            ))
        }
    };
    let user_id = caller.user_id.as_str();
    let outcome = match message {
        ClientMessage::Ping { t } => {
            let pong = json!({"type": "pong", "t": t, "server_time_ms": Timestamp::now().millis()});
            return Some(pong.to_string().into());
        }
        ClientMessage::State { state } => match device_id {
            Some(device_id) => service.report_state(user_id, device_id, &state).await,
            None => Err(ApiError::invalid(
                "not_a_device",
                "connect with device_id to report playback state",
            )
            .into()),
        },
        ClientMessage::Command {
            device_id: target,
            command,
        } => service.command(user_id, &target, &command, device_id).await,
    };
    match outcome {
        Ok(()) => None,
        Err(e) => {
            let error = ApiError::from(e);
            Some(error_message(error.code, &error.message))
        }
    }
}
