//! Forwarding a WebSocket (`GET /api/v1/events`) to an instance of the service that serves it:
//! the gateway opens a socket to the instance with the caller's credential (header or
//! subprotocol) and resume id, and only then accepts the caller's upgrade, with the
//! subprotocol the instance chose; from there it relays frames both ways until either side
//! closes.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use beatstream_core::{ApiError, ErrorCode};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame as UpstreamCloseFrame;
use tokio_tungstenite::tungstenite::Message as Upstream;

use super::proxy::Proxy;

/// Headers that go along to the instance.
const FORWARDED: [&str; 4] = [
    "authorization",
    "sec-websocket-protocol",
    "last-event-id",
    "x-request-id",
];

pub async fn forward(proxy: Arc<Proxy>, role: &'static str, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let upgrade =
        match <WebSocketUpgrade as axum::extract::FromRequestParts<()>>::from_request_parts(
            &mut parts,
            &(),
        )
        .await
        {
            Ok(upgrade) => upgrade,
            Err(_) => {
                return ApiError::invalid(
                    "websocket_expected",
                    "this route speaks WebSocket: send an Upgrade request",
                )
                .into_response()
            }
        };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let candidates = match proxy.candidates(role).await {
        Ok(candidates) => candidates,
        Err(error) => return error.into_response(),
    };
    for instance in candidates.iter().take(3) {
        let url = format!(
            "{}{}",
            instance
                .address
                .trim_end_matches('/')
                .replacen("http", "ws", 1),
            path_and_query
        );
        let Ok(mut upstream_request) = url.as_str().into_client_request() else {
            continue;
        };
        for name in FORWARDED {
            if let Some(value) = parts.headers.get(name) {
                upstream_request.headers_mut().insert(name, value.clone());
            }
        }
        match tokio_tungstenite::connect_async(upstream_request).await {
            Ok((upstream, response)) => {
                proxy.record(&instance.address, true);
                let protocol = response
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let upgrade = match protocol {
                    Some(protocol) => upgrade.protocols([protocol]),
                    None => upgrade,
                };
                return upgrade
                    .on_upgrade(move |socket| relay(socket, upstream))
                    .into_response();
            }
            // The instance answered, but not with an upgrade (401, 400): pass that on.
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                proxy.record(&instance.address, true);
                let (parts, body) = response.into_parts();
                return Response::from_parts(
                    parts,
                    axum::body::Body::from(body.unwrap_or_default()),
                );
            }
            Err(e) => {
                proxy.record(&instance.address, false);
                tracing::warn!(role, address = %instance.address, error = %e, "proxy: a WebSocket could not be opened");
            }
        }
    }
    ApiError::new(
        ErrorCode::Unavailable,
        "service_unavailable",
        format!("the {role} service could not answer; try again shortly"),
    )
    .into_response()
}

type UpstreamSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Relays frames until either side closes; a close on one side closes the other.
async fn relay(mut client: WebSocket, mut upstream: UpstreamSocket) {
    loop {
        tokio::select! {
            from_client = client.recv() => match from_client {
                Some(Ok(Message::Close(frame))) => {
                    let frame = frame.map(|f| UpstreamCloseFrame { code: CloseCode::from(f.code), reason: f.reason.as_str().to_string().into() });
                    let _ = upstream.close(frame).await;
                    return;
                }
                Some(Ok(message)) => {
                    let message = match message {
                        Message::Text(text) => Upstream::Text(text.as_str().to_string().into()),
                        Message::Binary(bytes) => Upstream::Binary(bytes),
                        Message::Ping(bytes) => Upstream::Ping(bytes),
                        Message::Pong(bytes) => Upstream::Pong(bytes),
                        Message::Close(_) => continue,
                    };
                    if upstream.send(message).await.is_err() {
                        return;
                    }
                }
                _ => {
                    let _ = upstream.close(None).await;
                    return;
                }
            },
            from_upstream = upstream.next() => match from_upstream {
                Some(Ok(Upstream::Close(frame))) => {
                    let frame = frame.map(|f| CloseFrame { code: u16::from(f.code), reason: f.reason.as_str().to_string().into() });
                    let _ = client.send(Message::Close(frame)).await;
                    return;
                }
                Some(Ok(message)) => {
                    let message = match message {
                        Upstream::Text(text) => Message::Text(text.as_str().to_string().into()),
                        Upstream::Binary(bytes) => Message::Binary(bytes),
                        Upstream::Ping(bytes) => Message::Ping(bytes),
                        Upstream::Pong(bytes) => Message::Pong(bytes),
                        Upstream::Close(_) | Upstream::Frame(_) => continue,
                    };
                    if client.send(message).await.is_err() {
                        let _ = upstream.close(None).await;
                        return;
                    }
                }
                _ => {
                    let _ = client.send(Message::Close(Some(CloseFrame { code: 1011, reason: "the service went away; reconnect".into() }))).await;
                    return;
                }
            },
        }
    }
}
