//! The in-process bus of the all-in-one binary: a queue per (topic, group) inside the process.
//!
//! `publish` waits until each group with a running consumer has acknowledged the event, so the
//! outbox relay deletes a row only after its consumers handled it: a crash then loses nothing,
//! the row is still in the outbox. A group with no running consumer keeps its queue and drains
//! it when a consumer subscribes again. Groups subscribe at start-up; a group that has never
//! subscribed does not receive earlier events (JetStream, which keeps a log, does).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};

use crate::bus::{Acker, BusError, Delivery, EventBus, Subscription};
use crate::Envelope;

/// How long `publish` waits for running consumers before the relay retries later.
const ACK_WAIT: Duration = Duration::from_secs(30);

#[derive(Default, Clone)]
pub struct MemoryBus {
    inner: Arc<Mutex<Topics>>,
}

type Topics = HashMap<String, HashMap<String, Arc<GroupQueue>>>;

#[derive(Default)]
struct GroupQueue {
    state: Mutex<QueueState>,
    notify: Notify,
}

#[derive(Default)]
struct QueueState {
    /// In order of `seq`.
    pending: VecDeque<Pending>,
    subscribers: usize,
    next_seq: u64,
}

struct Pending {
    /// Its place in the queue, kept when it is delivered again.
    seq: u64,
    envelope: Envelope,
    on_ack: Option<oneshot::Sender<()>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the queues half-updated: recover.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MemoryBus {
    pub fn new() -> Self {
        Self::default()
    }

    fn group(&self, topic: &str, group: &str) -> Arc<GroupQueue> {
        let mut topics = lock(&self.inner);
        topics
            .entry(topic.to_string())
            .or_default()
            .entry(group.to_string())
            .or_default()
            .clone()
    }
}

impl GroupQueue {
    /// Queues an event (again, for a nak'ed one) behind everything queued.
    fn push_back(&self, envelope: Envelope, on_ack: Option<oneshot::Sender<()>>) {
        let mut state = lock(&self.state);
        let seq = state.next_seq;
        state.next_seq += 1;
        state.pending.push_back(Pending {
            seq,
            envelope,
            on_ack,
        });
        drop(state);
        self.notify.notify_one();
    }

    /// Puts back a delivery neither acked nor nak'ed, in its old place: a batch dropped
    /// whole (its deliveries put back first to last) comes again in its order.
    fn put_back(&self, pending: Pending) {
        let mut state = lock(&self.state);
        let at = state
            .pending
            .partition_point(|queued| queued.seq < pending.seq);
        state.pending.insert(at, pending);
        drop(state);
        self.notify.notify_one();
    }
}

#[async_trait::async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, envelope: &Envelope) -> Result<(), BusError> {
        self.publish_all(std::slice::from_ref(envelope)).await
    }

    /// Queues every envelope for every group first, then waits for the acks: the groups take
    /// a burst in one go instead of one event per round trip.
    async fn publish_all(&self, envelopes: &[Envelope]) -> Result<(), BusError> {
        let mut acks = Vec::new();
        for envelope in envelopes {
            let groups: Vec<Arc<GroupQueue>> = lock(&self.inner)
                .get(&envelope.topic)
                .map(|groups| groups.values().cloned().collect())
                .unwrap_or_default();
            for group in groups {
                let running = lock(&group.state).subscribers > 0;
                let on_ack = if running {
                    let (tx, rx) = oneshot::channel();
                    acks.push((&envelope.topic, rx));
                    Some(tx)
                } else {
                    None
                };
                group.push_back(envelope.clone(), on_ack);
            }
        }
        // Each ack gets its own wait, counted from the one before, as when they went one by
        // one: a burst of slow events is not a failure.
        for (topic, ack) in acks {
            match tokio::time::timeout(ACK_WAIT, ack).await {
                Ok(Ok(())) => {}
                // The sender is gone only when the queue itself was dropped: nothing to wait for.
                Ok(Err(_)) => {}
                Err(_) => {
                    return Err(BusError::Publish {
                        topic: topic.clone(),
                        reason: "a consumer did not acknowledge in time; it stays queued".into(),
                    })
                }
            }
        }
        Ok(())
    }

    async fn subscribe(&self, topic: &str, group: &str) -> Result<Box<dyn Subscription>, BusError> {
        let queue = self.group(topic, group);
        lock(&queue.state).subscribers += 1;
        Ok(Box::new(MemorySubscription { queue }))
    }

    async fn ping(&self) -> Result<(), BusError> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

struct MemorySubscription {
    queue: Arc<GroupQueue>,
}

impl Drop for MemorySubscription {
    fn drop(&mut self) {
        let mut state = lock(&self.queue.state);
        state.subscribers = state.subscribers.saturating_sub(1);
    }
}

#[async_trait::async_trait]
impl Subscription for MemorySubscription {
    async fn next(&mut self) -> Option<Result<Delivery, BusError>> {
        let queue = self.queue.clone();
        loop {
            let notified = queue.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(delivery) = self.next_ready() {
                return Some(Ok(delivery));
            }
            notified.await;
        }
    }

    fn next_ready(&mut self) -> Option<Delivery> {
        let pending = lock(&self.queue.state).pending.pop_front()?;
        let envelope = pending.envelope.clone();
        let acker = MemoryAcker {
            queue: self.queue.clone(),
            pending: Some(pending),
        };
        Some(Delivery::new(envelope, Box::new(acker)))
    }
}

struct MemoryAcker {
    queue: Arc<GroupQueue>,
    pending: Option<Pending>,
}

impl Drop for MemoryAcker {
    /// Neither acked nor nak'ed (the consumer stopped mid-way): deliver it again.
    fn drop(&mut self) {
        if let Some(pending) = self.pending.take() {
            self.queue.put_back(pending);
        }
    }
}

#[async_trait::async_trait]
impl Acker for MemoryAcker {
    async fn ack(mut self: Box<Self>) -> Result<(), BusError> {
        if let Some(pending) = self.pending.take() {
            if let Some(on_ack) = pending.on_ack {
                let _ = on_ack.send(());
            }
        }
        Ok(())
    }

    async fn nak(mut self: Box<Self>, delay: Duration) -> Result<(), BusError> {
        if let Some(pending) = self.pending.take() {
            let queue = self.queue.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                queue.push_back(pending.envelope, pending.on_ack);
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Numbered {
        n: u32,
    }

    impl Event for Numbered {
        const TOPIC: &'static str = "test.numbered";
        const VERSION: u32 = 1;
    }

    fn number_of(delivery: &Delivery) -> u32 {
        delivery.envelope.decode::<Numbered>().unwrap().n
    }

    #[tokio::test]
    async fn a_batch_dropped_unacknowledged_comes_again_in_order() {
        let bus = MemoryBus::new();
        let mut sub = bus.subscribe(Numbered::TOPIC, "group").await.unwrap();
        let publisher = {
            let bus = bus.clone();
            tokio::spawn(async move {
                let envelopes: Vec<Envelope> = (0..5)
                    .map(|n| Envelope::new(&Numbered { n }).unwrap())
                    .collect();
                bus.publish_all(&envelopes).await.unwrap();
            })
        };
        let first = sub.next().await.unwrap().unwrap();
        let mut batch = vec![first];
        while let Some(delivery) = sub.next_ready() {
            if batch.len() == 3 {
                // The fourth stays queued behind the batch.
                drop(delivery);
                break;
            }
            batch.push(delivery);
        }
        assert_eq!(batch.iter().map(number_of).collect::<Vec<_>>(), [0, 1, 2]);
        drop(batch); // the consumer stopped mid-batch: first to last are put back

        let mut again = Vec::new();
        for _ in 0..5 {
            let delivery = sub.next().await.unwrap().unwrap();
            again.push(number_of(&delivery));
            delivery.ack().await.unwrap();
        }
        assert_eq!(again, [0, 1, 2, 3, 4]);
        publisher.await.unwrap();
    }
}
