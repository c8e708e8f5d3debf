//! The consumer loop: subscribe with a durable group, hand each event to a handler, ack on
//! success, redeliver later on failure, and resubscribe if the bus drops the subscription.

use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{BusError, Envelope, EventBus, Subscription};

pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

const RETRY_DELAY: Duration = Duration::from_secs(2);

/// [`spawn_consumer`] for each of `topics`, with one handler: a service that applies every
/// event it follows in one place. The handler may fail with its service's own error type.
pub async fn spawn_consumers<H, F, E>(
    bus: Arc<dyn EventBus>,
    topics: &[&'static str],
    group: &'static str,
    handler: H,
    shutdown: CancellationToken,
) -> Result<Vec<JoinHandle<()>>, BusError>
where
    H: Fn(Envelope) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<(), E>> + Send,
    E: Into<HandlerError>,
{
    let mut handles = Vec::with_capacity(topics.len());
    for &topic in topics {
        let handler = handler.clone();
        let boxed = move |envelope| {
            let applying = handler(envelope);
            async move { applying.await.map_err(Into::into) }
        };
        handles.push(spawn_consumer(bus.clone(), topic, group, boxed, shutdown.clone()).await?);
    }
    Ok(handles)
}

/// Subscribes `group` to `topic` (before returning, so no event published afterwards is
/// missed) and runs `handler` for every delivery until `shutdown`.
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
    let first = bus.subscribe(topic, group).await?;
    Ok(tokio::spawn(async move {
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
            if consume(current, topic, group, &handler, &shutdown)
                .await
                .is_break()
            {
                return;
            }
            tracing::info!(topic, group, "subscription ended; resubscribing");
            tokio::time::sleep(RETRY_DELAY).await;
        }
    }))
}

/// Handles deliveries until the subscription ends (`Continue`) or shutdown (`Break`).
async fn consume<H, F>(
    mut subscription: Box<dyn Subscription>,
    topic: &'static str,
    group: &'static str,
    handler: &H,
    shutdown: &CancellationToken,
) -> ControlFlow<()>
where
    H: Fn(Envelope) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), HandlerError>> + Send,
{
    loop {
        let delivery = tokio::select! {
            _ = shutdown.cancelled() => return ControlFlow::Break(()),
            next = subscription.next() => next,
        };
        let delivery = match delivery {
            None => return ControlFlow::Continue(()),
            Some(Err(e)) => {
                tracing::warn!(topic, group, error = %e, "receive failed");
                tokio::time::sleep(RETRY_DELAY).await;
                continue;
            }
            Some(Ok(delivery)) => delivery,
        };
        let event_id = delivery.envelope.id.clone();
        match handler(delivery.envelope.clone()).await {
            Ok(()) => {
                // Test hook: FAILPOINTS=consumer-before-ack=return drops the ack, as a crash
                // right after the handler committed would.
                if fail::eval("consumer-before-ack", |_| ()).is_some() {
                    tracing::warn!(topic, group, %event_id, "failpoint: not acknowledging");
                    drop(delivery);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                if let Err(e) = delivery.ack().await {
                    tracing::warn!(topic, group, %event_id, error = %e, "ack failed; the event will come again");
                }
                metrics::counter!("beatstream_events_handled_total", "topic" => topic, "group" => group)
                    .increment(1);
            }
            Err(e) => {
                metrics::counter!("beatstream_events_failed_total", "topic" => topic, "group" => group)
                    .increment(1);
                tracing::warn!(topic, group, %event_id, error = %e, "handler failed; redelivering later");
                let _ = delivery.nak(RETRY_DELAY).await;
            }
        }
    }
}
