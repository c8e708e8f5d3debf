//! One contract suite for both event buses: what a consumer can count on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use beatstream_events::{Envelope, Event, Subscription};
use common::TestBus;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pinged {
    n: u32,
}

impl Event for Pinged {
    const TOPIC: &'static str = "test.pinged";
    const VERSION: u32 = 1;
}

fn ping(n: u32) -> Envelope {
    Envelope::new(&Pinged { n }).unwrap()
}

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
);
