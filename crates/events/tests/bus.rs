//! One contract suite for both event buses: what a consumer can count on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beatstream_events::consumer::{spawn_consumers, MAX_BATCH};
use beatstream_events::{Envelope, Event, Subscription};
use common::{ping, Pinged, TestBus};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Next delivery within 10 s, acked.
async fn next_acked(sub: &mut Box<dyn Subscription>) -> Envelope {
    let delivery = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("a delivery within 10 s")
        .expect("subscription open")
        .expect("delivery ok");
    let envelope = delivery.envelope.clone();
    delivery.ack().await.unwrap();
    envelope
}

/// Nothing is delivered within `wait`.
async fn assert_quiet(sub: &mut Box<dyn Subscription>, wait: Duration) {
    if let Ok(Some(Ok(delivery))) = tokio::time::timeout(wait, sub.next()).await {
        panic!("unexpected delivery: {:?}", delivery.envelope);
    }
}

/// On the memory bus `publish` waits for running consumers, so publish in the background.
fn publish_in_background(bus: &TestBus, envelope: Envelope) -> tokio::task::JoinHandle<()> {
    let bus = bus.bus.clone();
    tokio::spawn(async move { bus.publish(&envelope).await.unwrap() })
}

async fn delivers_published_events_in_order_with_payload(bus: &TestBus) {
    let mut sub = bus.bus.subscribe(Pinged::TOPIC, "g1").await.unwrap();
    let publisher = {
        let bus = bus.bus.clone();
        tokio::spawn(async move {
            for n in 0..5 {
                bus.publish(&ping(n)).await.unwrap();
            }
        })
    };
    for n in 0..5 {
        let envelope = next_acked(&mut sub).await;
        assert_eq!(envelope.decode::<Pinged>().unwrap(), Pinged { n });
    }
    publisher.await.unwrap();
}

async fn every_group_gets_every_event(bus: &TestBus) {
    let mut a = bus.bus.subscribe(Pinged::TOPIC, "group-a").await.unwrap();
    let mut b = bus.bus.subscribe(Pinged::TOPIC, "group-b").await.unwrap();
    let sent = ping(7);
    let publisher = publish_in_background(bus, sent.clone());
    assert_eq!(next_acked(&mut a).await.id, sent.id);
    assert_eq!(next_acked(&mut b).await.id, sent.id);
    publisher.await.unwrap();
}

async fn members_of_one_group_share_events(bus: &TestBus) {
    let mut first = bus.bus.subscribe(Pinged::TOPIC, "shared").await.unwrap();
    let mut second = bus.bus.subscribe(Pinged::TOPIC, "shared").await.unwrap();
    let publisher = {
        let bus = bus.bus.clone();
        tokio::spawn(async move {
            for n in 0..4 {
                bus.publish(&ping(n)).await.unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    while seen.len() < 4 {
        tokio::select! {
            Some(Ok(d)) = first.next() => { seen.push(d.envelope.decode::<Pinged>().unwrap().n); d.ack().await.unwrap(); }
            Some(Ok(d)) = second.next() => { seen.push(d.envelope.decode::<Pinged>().unwrap().n); d.ack().await.unwrap(); }
            _ = tokio::time::sleep(Duration::from_secs(10)) => panic!("only got {seen:?}"),
        }
    }
    seen.sort();
    assert_eq!(seen, vec![0, 1, 2, 3], "each event once across the group");
    assert_quiet(&mut first, Duration::from_millis(300)).await;
    assert_quiet(&mut second, Duration::from_millis(300)).await;
    publisher.await.unwrap();
}

async fn consumer_that_restarts_gets_what_it_missed(bus: &TestBus) {
    let sub = bus
        .bus
        .subscribe(Pinged::TOPIC, "restarting")
        .await
        .unwrap();
    drop(sub); // the consumer goes down
    for n in 0..3 {
        bus.bus.publish(&ping(n)).await.unwrap();
    }
    let restarted = bus.reconnect().await;
    let mut sub = restarted
        .subscribe(Pinged::TOPIC, "restarting")
        .await
        .unwrap();
    let got: Vec<u32> = {
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(next_acked(&mut sub).await.decode::<Pinged>().unwrap().n);
        }
        got
    };
    assert_eq!(got, vec![0, 1, 2]);
    assert_quiet(&mut sub, Duration::from_millis(300)).await;
}

async fn unacknowledged_delivery_comes_again(bus: &TestBus) {
    let mut sub = bus.bus.subscribe(Pinged::TOPIC, "nak").await.unwrap();
    let sent = ping(1);
    let publisher = publish_in_background(bus, sent.clone());
    let first = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.envelope.id, sent.id);
    first.nak(Duration::from_millis(100)).await.unwrap();
    let again = next_acked(&mut sub).await;
    assert_eq!(again.id, sent.id, "a nak'ed event is redelivered");
    publisher.await.unwrap();
    assert_quiet(&mut sub, Duration::from_millis(300)).await;
}

async fn acked_events_are_not_redelivered_after_restart(bus: &TestBus) {
    let mut sub = bus.bus.subscribe(Pinged::TOPIC, "acked").await.unwrap();
    let publisher = publish_in_background(bus, ping(1));
    next_acked(&mut sub).await;
    publisher.await.unwrap();
    drop(sub);
    let restarted = bus.reconnect().await;
    let mut sub = restarted.subscribe(Pinged::TOPIC, "acked").await.unwrap();
    assert_quiet(&mut sub, Duration::from_millis(500)).await;
}

/// A consumer that calls `handler` with each batch, its first batch held until `gate` opens,
/// recording the numbers of each batch handled successfully.
struct BatchConsumer {
    handled: Arc<Mutex<Vec<Vec<u32>>>>,
    gate: Arc<Semaphore>,
    shutdown: CancellationToken,
}

impl BatchConsumer {
    async fn start(bus: &TestBus, group: &'static str, poison: Option<u32>) -> Self {
        let handled: Arc<Mutex<Vec<Vec<u32>>>> = Arc::default();
        let gate = Arc::new(Semaphore::new(0));
        let first = Arc::new(AtomicBool::new(true));
        let shutdown = CancellationToken::new();
        let (seen, opened) = (handled.clone(), gate.clone());
        let handler = move |batch: Vec<Envelope>| {
            let (seen, opened, first) = (seen.clone(), opened.clone(), first.clone());
            async move {
                if first.swap(false, Ordering::SeqCst) {
                    opened.acquire().await.unwrap().forget();
                }
                let ns: Vec<u32> = batch
                    .iter()
                    .map(|e| e.decode::<Pinged>().unwrap().n)
                    .collect();
                if poison.is_some_and(|p| ns.contains(&p)) {
                    return Err(format!("batch {ns:?} holds the poison"));
                }
                seen.lock().unwrap().push(ns);
                Ok(())
            }
        };
        spawn_consumers(
            bus.bus.clone(),
            &[Pinged::TOPIC],
            group,
            handler,
            shutdown.clone(),
        )
        .await
        .unwrap();
        BatchConsumer {
            handled,
            gate,
            shutdown,
        }
    }

    /// Waits until `count` events were handled; returns the batches.
    async fn batches_once(&self, count: usize) -> Vec<Vec<u32>> {
        for _ in 0..200 {
            let batches = self.handled.lock().unwrap().clone();
            if batches.iter().map(Vec::len).sum::<usize>() >= count {
                return batches;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("handled only {:?}", self.handled.lock().unwrap());
    }
}

async fn a_consumer_takes_a_burst_in_batches(bus: &TestBus) {
    let consumer = BatchConsumer::start(bus, "batched", None).await;
    let burst: Vec<Envelope> = (0..150).map(ping).collect();
    let publisher = {
        let (bus, burst) = (bus.bus.clone(), burst.clone());
        tokio::spawn(async move { bus.publish_all(&burst).await.unwrap() })
    };
    // The consumer holds its first batch while the rest of the burst arrives.
    tokio::time::sleep(Duration::from_millis(500)).await;
    consumer.gate.add_permits(1);
    let batches = consumer.batches_once(150).await;
    let order: Vec<u32> = batches.iter().flatten().copied().collect();
    assert_eq!(order, (0..150).collect::<Vec<_>>(), "each once, in order");
    assert!(
        batches.iter().any(|b| b.len() > 1),
        "the waiting events came in batches: {batches:?}"
    );
    assert!(batches.iter().all(|b| b.len() <= MAX_BATCH), "{batches:?}");
    publisher.await.unwrap();
    consumer.shutdown.cancel();
}

async fn an_event_that_fails_holds_up_only_itself(bus: &TestBus) {
    let consumer = BatchConsumer::start(bus, "poisoned", Some(3)).await;
    let burst: Vec<Envelope> = (0..10).map(ping).collect();
    // On the memory bus the publish waits for the poisoned event's ack, which never comes.
    let publisher = {
        let bus = bus.bus.clone();
        tokio::spawn(async move { bus.publish_all(&burst).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    consumer.gate.add_permits(1);
    let batches = consumer.batches_once(9).await;
    let mut handled: Vec<u32> = batches.iter().flatten().copied().collect();
    handled.sort_unstable();
    assert_eq!(handled, vec![0, 1, 2, 4, 5, 6, 7, 8, 9]);
    publisher.abort();
    consumer.shutdown.cancel();
}

async fn ping_answers(bus: &TestBus) {
    bus.bus.ping().await.unwrap();
}

bus_tests!(
    delivers_published_events_in_order_with_payload,
    every_group_gets_every_event,
    members_of_one_group_share_events,
    consumer_that_restarts_gets_what_it_missed,
    unacknowledged_delivery_comes_again,
    acked_events_are_not_redelivered_after_restart,
    ping_answers,
    a_consumer_takes_a_burst_in_batches,
    an_event_that_fails_holds_up_only_itself,
);
