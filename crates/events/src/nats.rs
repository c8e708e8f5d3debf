//! The NATS JetStream bus: one stream per namespace (`BEATSTREAM` for the default namespace)
//! holding every subject `<namespace>.<topic>`, and one durable pull consumer per
//! (group, topic). Publishes carry the envelope id as `Nats-Msg-Id`, so JetStream drops
//! duplicates an outbox replay would otherwise add within its two-minute window.
//!
//! After a lost connection, async-nats reconnects and asks for messages again on its own. A
//! pull request lost some other way (made in the outage, answered by nobody) is replaced when
//! it expires, so pull requests are kept short: [`PULL_EXPIRES`].

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream, AckKind};
use futures_util::{FutureExt, StreamExt};

use crate::bus::{Acker, BusError, Delivery, EventBus, Subscription};
use crate::Envelope;

/// How long a pull request waits for messages before the client sends a new one. The
/// library's default is 30 s, which is also how long a consumer could sit idle behind a pull
/// request that the server never saw.
const PULL_EXPIRES: Duration = Duration::from_secs(10);
/// While a pull request waits, the server sends a heartbeat this often.
const PULL_HEARTBEAT: Duration = Duration::from_secs(5);

pub struct NatsBus {
    client: async_nats::Client,
    js: jetstream::Context,
    namespace: String,
    stream_name: String,
}

impl NatsBus {
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, BusError> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .retry_on_initial_connect()
            .connect(url)
            .await
            .map_err(|e| BusError::Connection(format!("{url}: {e}")))?;
        let js = jetstream::new(client.clone());
        let stream_name = stream_name(namespace);
        let bus = NatsBus {
            client,
            js,
            namespace: namespace.to_string(),
            stream_name,
        };
        bus.ensure_stream().await?;
        Ok(bus)
    }

    async fn ensure_stream(&self) -> Result<(), BusError> {
        tokio::time::timeout(
            Duration::from_secs(10),
            self.js.get_or_create_stream(stream::Config {
                name: self.stream_name.clone(),
                subjects: vec![format!("{}.>", self.namespace)],
                storage: stream::StorageType::File,
                max_age: Duration::from_secs(7 * 24 * 3600),
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            }),
        )
        .await
        .map_err(|_| {
            BusError::Connection(
                "NATS did not answer within 10 s; is JetStream enabled (-js)?".into(),
            )
        })?
        .map_err(|e| BusError::Connection(format!("creating stream {}: {e}", self.stream_name)))?;
        Ok(())
    }

    fn subject(&self, topic: &str) -> String {
        format!("{}.{}", self.namespace, topic)
    }

    /// The JetStream stream this bus uses.
    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }
}

pub(crate) fn stream_name(namespace: &str) -> String {
    namespace
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Durable names may not contain `.`: `users` + `auth.user.created` → `users__auth_user_created`.
fn durable_name(group: &str, topic: &str) -> String {
    format!("{group}__{}", topic.replace(['.', '*', '>'], "_"))
}

#[async_trait::async_trait]
impl EventBus for NatsBus {
    async fn publish(&self, envelope: &Envelope) -> Result<(), BusError> {
        self.publish_all(std::slice::from_ref(envelope)).await
    }

    /// Sends every envelope, then waits for JetStream's acknowledgements: one round trip for
    /// the burst rather than one per event. They are sent in order on one connection.
    async fn publish_all(&self, envelopes: &[Envelope]) -> Result<(), BusError> {
        let publish_err = |envelope: &Envelope, reason: String| BusError::Publish {
            topic: envelope.topic.clone(),
            reason,
        };
        let mut acks = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", envelope.id.as_str());
            let ack = self
                .js
                .publish_with_headers(
                    self.subject(&envelope.topic),
                    headers,
                    envelope.to_bytes().into(),
                )
                .await
                .map_err(|e| publish_err(envelope, e.to_string()))?;
            acks.push((envelope, ack));
        }
        for (envelope, ack) in acks {
            tokio::time::timeout(Duration::from_secs(10), ack)
                .await
                .map_err(|_| {
                    publish_err(
                        envelope,
                        "no acknowledgement from JetStream within 10 s".into(),
                    )
                })?
                .map_err(|e| publish_err(envelope, e.to_string()))?;
        }
        Ok(())
    }

    async fn subscribe(&self, topic: &str, group: &str) -> Result<Box<dyn Subscription>, BusError> {
        let subscribe_err = |reason: String| BusError::Subscribe {
            topic: topic.to_string(),
            group: group.to_string(),
            reason,
        };
        let durable = durable_name(group, topic);
        let stream = self
            .js
            .get_stream(&self.stream_name)
            .await
            .map_err(|e| subscribe_err(e.to_string()))?;
        let consumer: consumer::PullConsumer = stream
            .get_or_create_consumer(
                &durable,
                consumer::pull::Config {
                    durable_name: Some(durable.clone()),
                    filter_subject: self.subject(topic),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(30),
                    deliver_policy: consumer::DeliverPolicy::All,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| subscribe_err(e.to_string()))?;
        let messages = consumer
            .stream()
            .expires(PULL_EXPIRES)
            .heartbeat(PULL_HEARTBEAT)
            .messages()
            .await
            .map_err(|e| subscribe_err(e.to_string()))?;
        Ok(Box::new(NatsSubscription { messages }))
    }

    async fn ping(&self) -> Result<(), BusError> {
        match self.client.connection_state() {
            async_nats::connection::State::Connected => Ok(()),
            state => Err(BusError::Connection(format!(
                "NATS connection is {state:?}"
            ))),
        }
    }

    fn kind(&self) -> &'static str {
        "nats"
    }
}

struct NatsSubscription {
    messages: consumer::pull::Stream,
}

/// The delivery of a message; a message that is not an envelope will never decode, so it is
/// dropped and not redelivered.
fn delivery(message: jetstream::Message) -> Option<Delivery> {
    match Envelope::from_bytes(&message.payload) {
        Ok(envelope) => Some(Delivery::new(envelope, Box::new(NatsAcker { message }))),
        Err(e) => {
            tracing::error!(subject = %message.subject, error = %e, "dropping a malformed event");
            tokio::spawn(async move {
                let _ = message.ack_with(AckKind::Term).await;
            });
            None
        }
    }
}

#[async_trait::async_trait]
impl Subscription for NatsSubscription {
    async fn next(&mut self) -> Option<Result<Delivery, BusError>> {
        loop {
            match self.messages.next().await? {
                Ok(message) => {
                    if let Some(delivery) = delivery(message) {
                        return Some(Ok(delivery));
                    }
                }
                Err(e) => return Some(Err(BusError::Receive(e.to_string()))),
            }
        }
    }

    fn next_ready(&mut self) -> Option<Delivery> {
        loop {
            // A stream's `next` holds no state of its own: dropping it when pending loses nothing.
            match self.messages.next().now_or_never()?? {
                Ok(message) => {
                    if let Some(delivery) = delivery(message) {
                        return Some(delivery);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "receive failed");
                    return None;
                }
            }
        }
    }
}

struct NatsAcker {
    message: jetstream::Message,
}

#[async_trait::async_trait]
impl Acker for NatsAcker {
    async fn ack(self: Box<Self>) -> Result<(), BusError> {
        // Double ack waits for the server's confirmation, so an ack is not lost in flight.
        self.message
            .double_ack()
            .await
            .map_err(|e| BusError::Receive(format!("ack: {e}")))
    }

    async fn nak(self: Box<Self>, delay: Duration) -> Result<(), BusError> {
        self.message
            .ack_with(AckKind::Nak(Some(delay)))
            .await
            .map_err(|e| BusError::Receive(format!("nak: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_for_jetstream() {
        assert_eq!(stream_name("beatstream"), "BEATSTREAM");
        assert_eq!(stream_name("ci-run-42"), "CI_RUN_42");
        assert_eq!(
            durable_name("users", "auth.user.created"),
            "users__auth_user_created"
        );
    }
}
