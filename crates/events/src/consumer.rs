//! The consumer loop: subscribe with a durable group, hand each event to a handler, ack on
//! success, redeliver later on failure, and resubscribe if the bus drops the subscription.
//! Consumers run on the background runtime (`beatstream_core::runtimes`) when `serve` started
//! it.

use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{BusError, Delivery, Envelope, EventBus, Subscription};

pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

const RETRY_DELAY: Duration = Duration::from_secs(2);

/// The most events a batch handler gets in one call.
pub const MAX_BATCH: usize = 100;

/// A consumer for each of `topics`, with one handler that takes events in batches: the events
/// already waiting when it is free, up to [`MAX_BATCH`], in order. A service applies a batch in
/// one transaction, which under a burst costs one commit instead of one per event. When a batch
/// fails, its events are handed over again one at a time, so that an event that cannot be
/// applied holds up only itself. The handler may fail with its service's own error type.
pub async fn spawn_consumers<H, F, E>(
    bus: Arc<dyn EventBus>,
    topics: &[&'static str],
    group: &'static str,
    handler: H,
    shutdown: CancellationToken,
) -> Result<Vec<JoinHandle<()>>, BusError>
where
    H: Fn(Vec<Envelope>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<(), E>> + Send,
    E: Into<HandlerError>,
{
    let mut handles = Vec::with_capacity(topics.len());
    for &topic in topics {
        let handler = handler.clone();
        let boxed = move |batch| {
            let applying = handler(batch);
            async move { applying.await.map_err(Into::into) }
        };
        let consumer = Consumer {
            topic,
            group,
            max_batch: MAX_BATCH,
            handler: boxed,
        };
        handles.push(consumer.spawn(bus.clone(), shutdown.clone()).await?);
    }
    Ok(handles)
}

/// Subscribes `group` to `topic` (before returning, so no event published afterwards is
/// missed) and runs `handler` for every delivery, one at a time, until `shutdown`.
pub async fn spawn_consumer<H, F>(
    bus: Arc<dyn EventBus>,
    topic: &'static str,
    group: &'static str,
    handler: H,
    shutdown: CancellationToken,
) -> Result<JoinHandle<()>, BusError>
where
    H: Fn(Envelope) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), HandlerError>> + Send,
{
    let handler = Arc::new(handler);
    let consumer = Consumer {
        topic,
        group,
        max_batch: 1,
        handler: move |batch: Vec<Envelope>| {
            let handler = handler.clone();
            async move {
                for envelope in batch {
                    handler(envelope).await?;
                }
                Ok(())
            }
        },
    };
    consumer.spawn(bus, shutdown).await
}

struct Consumer<H> {
    topic: &'static str,
    group: &'static str,
    max_batch: usize,
    handler: H,
}

impl<H, F> Consumer<H>
where
    H: Fn(Vec<Envelope>) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), HandlerError>> + Send,
{
    async fn spawn(
        self,
        bus: Arc<dyn EventBus>,
        shutdown: CancellationToken,
    ) -> Result<JoinHandle<()>, BusError> {
        let (topic, group) = (self.topic, self.group);
        let first = bus.subscribe(topic, group).await?;
        Ok(beatstream_core::runtimes::spawn_background(async move {
            let mut subscription = Some(first);
            loop {
                let current = match subscription.take() {
                    Some(current) => current,
                    None => tokio::select! {
                        _ = shutdown.cancelled() => return,
                        result = bus.subscribe(topic, group) => match result {
                            Ok(current) => current,
                            Err(e) => {
                                tracing::warn!(topic, group, error = %e, "subscribe failed; retrying");
                                tokio::select! {
                                    _ = shutdown.cancelled() => return,
                                    _ = tokio::time::sleep(RETRY_DELAY) => continue,
                                }
                            }
                        },
                    },
                };
                if self.consume(current, &shutdown).await.is_break() {
                    return;
                }
                tracing::info!(topic, group, "subscription ended; resubscribing");
                tokio::time::sleep(RETRY_DELAY).await;
            }
        }))
    }

    /// Handles deliveries until the subscription ends (`Continue`) or shutdown (`Break`).
    async fn consume(
        &self,
        mut subscription: Box<dyn Subscription>,
        shutdown: &CancellationToken,
    ) -> ControlFlow<()> {
        let (topic, group) = (self.topic, self.group);
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => return ControlFlow::Break(()),
                next = subscription.next() => next,
            };
            let first = match delivery {
                None => return ControlFlow::Continue(()),
                Some(Err(e)) => {
                    tracing::warn!(topic, group, error = %e, "receive failed");
                    tokio::time::sleep(RETRY_DELAY).await;
                    continue;
                }
                Some(Ok(delivery)) => delivery,
            };
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match subscription.next_ready() {
                    Some(delivery) => batch.push(delivery),
                    None => break,
                }
            }
            if batch.len() > 1 {
                let envelopes = batch.iter().map(|d| d.envelope.clone()).collect();
                match (self.handler)(envelopes).await {
                    Ok(()) => {
                        // Together: on NATS each ack waits for the server's confirmation, and
                        // a batch's acks then cost one round trip instead of one each.
                        futures_util::future::join_all(
                            batch.into_iter().map(|delivery| self.acknowledge(delivery)),
                        )
                        .await;
                        continue;
                    }
                    Err(e) => tracing::info!(
                        topic, group, events = batch.len(), error = %e,
                        "a batch failed; handling its events one at a time"
                    ),
                }
            }
            for delivery in batch {
                match (self.handler)(vec![delivery.envelope.clone()]).await {
                    Ok(()) => self.acknowledge(delivery).await,
                    Err(e) => {
                        metrics::counter!("beatstream_events_failed_total", "topic" => topic, "group" => group)
                            .increment(1);
                        let event_id = &delivery.envelope.id;
                        tracing::warn!(topic, group, %event_id, error = %e, "handler failed; redelivering later");
                        let _ = delivery.nak(RETRY_DELAY).await;
                    }
                }
            }
        }
    }

    async fn acknowledge(&self, delivery: Delivery) {
        let (topic, group) = (self.topic, self.group);
        let event_id = delivery.envelope.id.clone();
        // Test hook: FAILPOINTS=consumer-before-ack=return drops the ack, as a crash right
        // after the handler committed would.
        if fail::eval("consumer-before-ack", |_| ()).is_some() {
            tracing::warn!(topic, group, %event_id, "failpoint: not acknowledging");
            drop(delivery);
            tokio::time::sleep(Duration::from_millis(200)).await;
            return;
        }
        if let Err(e) = delivery.ack().await {
            tracing::warn!(topic, group, %event_id, error = %e, "ack failed; the event will come again");
        }
        metrics::counter!("beatstream_events_handled_total", "topic" => topic, "group" => group)
            .increment(1);
    }
}
