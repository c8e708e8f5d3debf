//! The NATS JetStream bus: one stream per namespace (`BEATSTREAM` for the default namespace)
//! holding every subject `<namespace>.<topic>`, and one durable pull consumer per
//! (group, topic). Publishes carry the envelope id as `Nats-Msg-Id`, so JetStream drops
//! duplicates an outbox replay would otherwise add within its two-minute window.
//!
//! After a lost connection, async-nats reconnects and asks for messages again on its own. A
//! pull request lost some other way (made in the outage, answered by nobody) is replaced when
//! it expires, so pull requests are kept short: [`PULL_EXPIRES`]. A consumer that has
//! received nothing for [`STALL_CHECK`] asks the server whether messages are waiting for it;
//! if they are and stay undelivered, it pulls afresh (see [`NatsSubscription::stalled`]).

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
/// How long a consumer waits with nothing received before it asks the server whether
/// messages are waiting for it. Longer than a pull request's expiry plus the client's own
/// margin, so the client has renewed its pull request on its own by then.
const STALL_CHECK: Duration = Duration::from_secs(20);
/// How long a stall must last between two looks at the consumer's state.
const STALL_CONFIRM: Duration = Duration::from_secs(2);

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
        Ok(Box::new(self.pull_consumer(topic, group).await?))
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

impl NatsBus {
    /// `group`'s durable consumer of `topic`, created if new, and a stream of its messages.
    async fn pull_consumer(&self, topic: &str, group: &str) -> Result<NatsSubscription, BusError> {
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
        let messages = pull(&consumer)
            .await
            .map_err(|e| subscribe_err(e.to_string()))?;
        Ok(NatsSubscription {
            consumer,
            messages,
            stall_check: STALL_CHECK,
            renewals: 0,
        })
    }
}

/// A fresh stream of messages: pull requests from a new inbox.
async fn pull(
    consumer: &consumer::PullConsumer,
) -> Result<consumer::pull::Stream, consumer::StreamError> {
    consumer
        .stream()
        .expires(PULL_EXPIRES)
        .heartbeat(PULL_HEARTBEAT)
        .messages()
        .await
}

struct NatsSubscription {
    consumer: consumer::PullConsumer,
    messages: consumer::pull::Stream,
    stall_check: Duration,
    /// How often the stream was replaced after a stall.
    renewals: u32,
}

impl NatsSubscription {
    /// Whether messages wait on the server for this idle consumer and stay undelivered: seen
    /// twice, [`STALL_CONFIRM`] apart, with nothing delivered in between. A test once saw a
    /// consumer get nothing for a minute after NATS restarted (Debian's 2.9), without a missed
    /// heartbeat; why is not known, and pulling afresh does not need to know. A consumer that
    /// cannot ask (NATS is away) is not called stalled: the client's reconnection deals with
    /// that.
    async fn stalled(&self) -> Option<consumer::Info> {
        let first = self.undelivered().await?;
        tokio::time::sleep(STALL_CONFIRM).await;
        let second = self.undelivered().await?;
        (second.delivered.consumer_sequence == first.delivered.consumer_sequence).then_some(second)
    }

    /// The consumer's state when the server holds messages not yet delivered to it.
    async fn undelivered(&self) -> Option<consumer::Info> {
        let info = tokio::time::timeout(Duration::from_secs(5), self.consumer.get_info())
            .await
            .ok()?
            .ok()?;
        (info.num_pending > 0).then_some(info)
    }
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
            let next = tokio::select! {
                next = self.messages.next() => next?,
                _ = tokio::time::sleep(self.stall_check) => {
                    // Messages that arrive meanwhile wait in the stream for the next call.
                    if let Some(info) = self.stalled().await {
                        tracing::warn!(
                            consumer = %info.name,
                            undelivered = info.num_pending,
                            waiting_pulls = info.num_waiting,
                            "messages wait for this consumer but none arrived; pulling afresh"
                        );
                        match pull(&self.consumer).await {
                            Ok(messages) => {
                                self.messages = messages;
                                self.renewals += 1;
                            }
                            Err(e) => return Some(Err(BusError::Receive(e.to_string()))),
                        }
                    }
                    continue;
                }
            };
            match next {
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

    fn nats_url() -> String {
        std::env::var("BEATSTREAM_TEST_NATS")
            .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_string())
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Probe;

    impl crate::Event for Probe {
        const TOPIC: &'static str = "test.stalled";
        const VERSION: u32 = 1;
    }

    /// A subscription whose stream hears nothing of its consumer, as a stalled one: the
    /// stream of another consumer stands in for its own.
    async fn deaf_subscription(bus: &NatsBus, topic: &str) -> NatsSubscription {
        let mut subscription = bus.pull_consumer(topic, "listener").await.unwrap();
        subscription.messages = bus
            .pull_consumer("test.elsewhere", "listener")
            .await
            .unwrap()
            .messages;
        subscription.stall_check = Duration::from_millis(500);
        subscription
    }

    #[tokio::test]
    async fn a_stalled_consumer_pulls_afresh_and_gets_what_waits() {
        let namespace = format!("t{}", uuid::Uuid::new_v4().simple());
        let bus = NatsBus::connect(&nats_url(), &namespace).await.unwrap();
        let mut idle = deaf_subscription(&bus, "test.idle").await;
        let mut stalled = deaf_subscription(&bus, "test.stalled").await;
        let envelope = Envelope::new(&Probe).unwrap();
        bus.publish(&envelope).await.unwrap();

        let delivery = tokio::time::timeout(Duration::from_secs(20), stalled.next())
            .await
            .expect("the stalled consumer gets the waiting message")
            .unwrap()
            .unwrap();
        assert_eq!(delivery.envelope.id, envelope.id);
        assert_eq!(stalled.renewals, 1);
        delivery.ack().await.unwrap();

        // With nothing waiting, an idle consumer keeps its stream.
        let nothing = tokio::time::timeout(Duration::from_secs(4), idle.next()).await;
        assert!(nothing.is_err(), "nothing was published for it");
        assert_eq!(idle.renewals, 0);

        let _ = bus.js.delete_stream(bus.stream_name()).await;
    }

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
