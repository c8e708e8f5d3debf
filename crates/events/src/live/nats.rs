//! The live channel on NATS JetStream: a stream `<NAMESPACE>_LIVE` in memory, subjects
//! `<namespace>_live.u.<user>` and `<namespace>_live.admins`, messages kept ten minutes (at
//! most 200,000 of at most 1 MiB each). Each
//! instance reads all of it through its own ordered consumer; the stream sequence is the
//! message's sequence and the stream's creation time the epoch.
//!
//! A feed reports lost messages only when they may really be lost: after a reconnect to a
//! server that no longer holds the stream it reads (a NATS restart empties memory streams).
//! Missed heartbeats and connection blips are ridden out by the ordered consumer, which
//! recreates itself after the last message it delivered. (Connect events reach the callback
//! through a channel, so the first one may arrive after a feed opened: it must not count.)

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;

use super::{Audience, LiveBus, LiveFeed, LiveMessage};
use crate::BusError;

/// How long the stream keeps messages: the longest replay window an instance can ask for.
const KEEP: Duration = Duration::from_secs(600);
const USER_HEADER: &str = "Beatstream-User";
const DEVICE_HEADER: &str = "Beatstream-Device";

pub struct NatsLive {
    /// Counts (re)connections: after a reconnect the stream may have been emptied and its
    /// sequence restarted, which an ordered consumer does not notice.
    connects: tokio::sync::watch::Receiver<u64>,
    js: jetstream::Context,
    client: async_nats::Client,
    stream_name: String,
    prefix: String,
    epoch: String,
}

/// The live stream, created if missing (at start, and again after a NATS restart emptied the
/// server's memory).
async fn ensure_stream(
    js: &jetstream::Context,
    stream_name: &str,
    prefix: &str,
) -> Result<stream::Stream, BusError> {
    tokio::time::timeout(
        Duration::from_secs(10),
        js.get_or_create_stream(stream::Config {
            name: stream_name.to_string(),
            subjects: vec![format!("{prefix}.>")],
            storage: stream::StorageType::Memory,
            max_age: KEEP,
            // No byte limit: JetStream reserves a memory stream's byte limit up front, which
            // adds up across namespaces. Count, age and message size bound it instead.
            max_messages: 200_000,
            max_message_size: 1024 * 1024,
            discard: stream::DiscardPolicy::Old,
            duplicate_window: Duration::from_secs(60),
            ..Default::default()
        }),
    )
    .await
    .map_err(|_| {
        BusError::Connection("NATS did not answer within 10 s; is JetStream enabled (-js)?".into())
    })?
    .map_err(|e| BusError::Connection(format!("creating stream {stream_name}: {e}")))
}

impl NatsLive {
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, BusError> {
        let (connected, connects) = tokio::sync::watch::channel(0u64);
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .retry_on_initial_connect()
            .event_callback(move |event| {
                if matches!(event, async_nats::Event::Connected) {
                    connected.send_modify(|n| *n += 1);
                }
                std::future::ready(())
            })
            .connect(url)
            .await
            .map_err(|e| BusError::Connection(format!("{url}: {e}")))?;
        let js = jetstream::new(client.clone());
        let prefix = format!("{namespace}_live");
        let stream_name = format!("{}_LIVE", crate::nats::stream_name(namespace));
        let stream = ensure_stream(&js, &stream_name, &prefix).await?;
        let created = stream.cached_info().created.unix_timestamp_nanos();
        Ok(NatsLive {
            connects,
            js,
            client,
            stream_name,
            prefix,
            epoch: format!("{created:x}"),
        })
    }

    fn subject(&self, audience: &Audience) -> String {
        match audience {
            Audience::User(user) => format!("{}.u.{}", self.prefix, subject_token(user)),
            Audience::Admins => format!("{}.admins", self.prefix),
        }
    }
}

/// A subject token cannot hold `.`, `*`, `>` or white space; ids never do, but be safe.
fn subject_token(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[async_trait::async_trait]
impl LiveBus for NatsLive {
    async fn publish(
        &self,
        audience: &Audience,
        device_id: Option<&str>,
        payload: &str,
    ) -> Result<u64, BusError> {
        let publish_err = |reason: String| BusError::Publish {
            topic: "live".into(),
            reason,
        };
        let mut headers = async_nats::HeaderMap::new();
        if let Audience::User(user) = audience {
            headers.insert(USER_HEADER, user.as_str());
        }
        if let Some(device) = device_id {
            headers.insert(DEVICE_HEADER, device);
        }
        let ack = self
            .js
            .publish_with_headers(self.subject(audience), headers, payload.to_string().into())
            .await
            .map_err(|e| publish_err(e.to_string()))?;
        let ack = tokio::time::timeout(Duration::from_secs(5), ack)
            .await
            .map_err(|_| publish_err("no acknowledgement from JetStream within 5 s".into()))?
            .map_err(|e| publish_err(e.to_string()))?;
        Ok(ack.sequence)
    }

    async fn subscribe(&self, since: Duration) -> Result<Box<dyn LiveFeed>, BusError> {
        let subscribe_err = |reason: String| BusError::Subscribe {
            topic: "live".into(),
            group: "(every instance)".into(),
            reason,
        };
        let stream = ensure_stream(&self.js, &self.stream_name, &self.prefix)
            .await
            .map_err(|e| subscribe_err(e.to_string()))?;
        let deliver_policy = if since.is_zero() {
            consumer::DeliverPolicy::New
        } else {
            consumer::DeliverPolicy::ByStartTime {
                start_time: time::OffsetDateTime::now_utc() - since.min(KEEP),
            }
        };
        let consumer = stream
            .create_consumer(consumer::push::OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(|e| subscribe_err(e.to_string()))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| subscribe_err(e.to_string()))?;
        let mut connects = self.connects.clone();
        connects.borrow_and_update();
        Ok(Box::new(NatsFeed {
            connects,
            messages,
            js: self.js.clone(),
            stream_name: self.stream_name.clone(),
            stream_created: stream.cached_info().created,
            prefix: self.prefix.clone(),
            opened: time::OffsetDateTime::now_utc(),
        }))
    }

    fn epoch(&self) -> &str {
        &self.epoch
    }
}

struct NatsFeed {
    connects: tokio::sync::watch::Receiver<u64>,
    messages: consumer::push::Ordered,
    js: jetstream::Context,
    stream_name: String,
    /// When the stream this feed reads was created: another time means another stream.
    stream_created: time::OffsetDateTime,
    prefix: String,
    opened: time::OffsetDateTime,
}

/// Whether the server still holds the stream a feed reads, created at `created`. After a
/// connection blip it does, and the ordered consumer resumes after the last message it
/// delivered; after a NATS restart the memory stream is gone (or is a new one, numbered from 1
/// again).
async fn stream_survived(
    js: jetstream::Context,
    stream_name: String,
    created: time::OffsetDateTime,
) -> bool {
    let info = tokio::time::timeout(Duration::from_secs(5), js.get_stream(stream_name)).await;
    matches!(info, Ok(Ok(stream)) if stream.cached_info().created == created)
}

#[async_trait::async_trait]
impl LiveFeed for NatsFeed {
    async fn next(&mut self) -> Option<Result<LiveMessage, BusError>> {
        loop {
            let next = tokio::select! {
                changed = self.connects.changed() => {
                    let survived = stream_survived(
                        self.js.clone(),
                        self.stream_name.clone(),
                        self.stream_created,
                    );
                    if changed.is_ok() && !survived.await {
                        // The stream is new: its numbering restarted; the reader starts afresh.
                        return Some(Err(BusError::Receive(
                            "reconnected to NATS, which no longer holds the live stream".into(),
                        )));
                    }
                    continue;
                }
                next = self.messages.next() => next,
            };
            let message = match next? {
                Ok(message) => message,
                Err(e) if e.kind() == consumer::push::OrderedErrorKind::MissingHeartbeat => {
                    // The server went quiet for two heartbeats (a busy machine, a broker
                    // restart): the ordered consumer recreates itself after the last message
                    // it delivered, so nothing is lost. A restart shows as a reconnect above.
                    tracing::debug!("live channel: missed heartbeats; the consumer is recreated");
                    continue;
                }
                Err(e) => return Some(Err(BusError::Receive(e.to_string()))),
            };
            let (seq, backlog) = match message.info() {
                Ok(info) => (info.stream_sequence, info.published < self.opened),
                Err(e) => return Some(Err(BusError::Receive(e.to_string()))),
            };
            let header = |name: &str| {
                message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(name))
                    .map(|v| v.as_str().to_string())
            };
            let audience = if message.subject.as_str() == format!("{}.admins", self.prefix) {
                Audience::Admins
            } else if let Some(user) = header(USER_HEADER) {
                Audience::User(user)
            } else {
                tracing::warn!(subject = %message.subject, "dropping a live message without an audience");
                continue;
            };
            let Ok(payload) = std::str::from_utf8(&message.payload) else {
                tracing::warn!(subject = %message.subject, "dropping a live message that is not UTF-8");
                continue;
            };
            return Some(Ok(LiveMessage {
                seq,
                audience,
                device_id: header(DEVICE_HEADER),
                payload: payload.into(),
                backlog,
            }));
        }
    }
}
