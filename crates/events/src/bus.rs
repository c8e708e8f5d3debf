//! The bus interface both backends implement.

use std::time::Duration;

use crate::Envelope;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("event bus configuration: {0}")]
    Config(String),
    #[error("event bus unreachable: {0}")]
    Connection(String),
    #[error("publishing {topic} failed: {reason}")]
    Publish { topic: String, reason: String },
    #[error("subscribing to {topic} as {group} failed: {reason}")]
    Subscribe {
        topic: String,
        group: String,
        reason: String,
    },
    #[error("receiving from the bus failed: {0}")]
    Receive(String),
}

#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Returns once the bus has durably accepted the event (JetStream ack) or, in process,
    /// once every running consumer group has handled it.
    async fn publish(&self, envelope: &Envelope) -> Result<(), BusError>;

    /// Publishes `envelopes` in order and returns once the bus accepted all of them (as
    /// [`EventBus::publish`] does for one). On an error some may have gone out: the caller
    /// publishes them all again, and consumers skip what they already handled.
    async fn publish_all(&self, envelopes: &[Envelope]) -> Result<(), BusError> {
        for envelope in envelopes {
            self.publish(envelope).await?;
        }
        Ok(())
    }

    /// A durable subscription: `group` names the consumer group; every group receives every
    /// event on `topic`, and the members of one group share them.
    async fn subscribe(&self, topic: &str, group: &str) -> Result<Box<dyn Subscription>, BusError>;

    /// Whether the bus answers, for `/readyz`.
    async fn ping(&self) -> Result<(), BusError>;

    /// `memory` or `nats`, for logs.
    fn kind(&self) -> &'static str;
}

#[async_trait::async_trait]
pub trait Subscription: Send {
    /// The next delivery; `None` when the bus is closing.
    async fn next(&mut self) -> Option<Result<Delivery, BusError>>;

    /// A delivery that is already waiting, without waiting for one; `None` when there is none
    /// at hand (consumers use it to take a burst of events in one transaction).
    fn next_ready(&mut self) -> Option<Delivery>;
}

/// One delivered event. Ack it once handled; nak it to have it redelivered later. Dropping it
/// unacknowledged also gets it redelivered (at once in process, after the ack wait on NATS).
pub struct Delivery {
    pub envelope: Envelope,
    acker: Box<dyn Acker>,
}

impl Delivery {
    pub(crate) fn new(envelope: Envelope, acker: Box<dyn Acker>) -> Self {
        Delivery { envelope, acker }
    }

    pub async fn ack(self) -> Result<(), BusError> {
        self.acker.ack().await
    }

    pub async fn nak(self, delay: Duration) -> Result<(), BusError> {
        self.acker.nak(delay).await
    }
}

#[async_trait::async_trait]
pub(crate) trait Acker: Send {
    async fn ack(self: Box<Self>) -> Result<(), BusError>;
    async fn nak(self: Box<Self>, delay: Duration) -> Result<(), BusError>;
}
