//! The live channel on both backends: every subscriber (every realtime instance) gets every
//! message, in order, with the same sequence numbers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use beatstream_events::live::{Audience, LiveBus, LiveFeed, LiveMessage, MemoryLive, NatsLive};
use common::{nats_url, OwnNats};

async fn next(feed: &mut Box<dyn LiveFeed>) -> LiveMessage {
    tokio::time::timeout(Duration::from_secs(10), feed.next())
        .await
        .expect("a message within 10 s")
        .expect("feed open")
        .expect("no loss")
}

async fn every_subscriber_gets_every_message_in_order(live: Arc<dyn LiveBus>) {
    let mut first = live.subscribe(Duration::ZERO).await.unwrap();
    let mut second = live.subscribe(Duration::ZERO).await.unwrap();
    let alice = Audience::User("alice".into());
    let a = live.publish(&alice, None, r#"{"type":"a"}"#).await.unwrap();
    let b = live
        .publish(&alice, Some("phone"), r#"{"type":"b"}"#)
        .await
        .unwrap();
    let c = live
        .publish(&Audience::Admins, None, r#"{"type":"c"}"#)
        .await
        .unwrap();
    assert!(a < b && b < c, "{a} {b} {c}");
    for feed in [&mut first, &mut second] {
        let m = next(feed).await;
        assert_eq!((m.seq, &m.audience, &m.device_id), (a, &alice, &None));
        assert_eq!(&*m.payload, r#"{"type":"a"}"#);
        let m = next(feed).await;
        assert_eq!(m.seq, b);
        assert_eq!(m.device_id.as_deref(), Some("phone"));
        let m = next(feed).await;
        assert_eq!((m.seq, &m.audience), (c, &Audience::Admins));
    }
    assert!(!live.epoch().is_empty());
}

#[tokio::test]
async fn memory_every_subscriber_gets_every_message_in_order() {
    every_subscriber_gets_every_message_in_order(Arc::new(MemoryLive::new())).await;
}

#[tokio::test]
async fn nats_every_subscriber_gets_every_message_in_order() {
    let namespace = format!("t{}", uuid::Uuid::new_v4().simple());
    let live = NatsLive::connect(&nats_url(), &namespace)
        .await
        .expect("NATS with JetStream on 127.0.0.1:4222");
    every_subscriber_gets_every_message_in_order(Arc::new(live)).await;
    delete_live_stream(&namespace).await;
}

/// Two processes on one namespace share sequence numbers and epoch, and a late subscriber
/// asking for the recent past gets it (what lets a client resume on another instance).
#[tokio::test]
async fn nats_instances_share_the_sequence_and_late_subscribers_see_the_recent_past() {
    let namespace = format!("t{}", uuid::Uuid::new_v4().simple());
    let one = NatsLive::connect(&nats_url(), &namespace).await.unwrap();
    let two = NatsLive::connect(&nats_url(), &namespace).await.unwrap();
    assert_eq!(one.epoch(), two.epoch());
    let bob = Audience::User("bob@example".into());
    let first = one.publish(&bob, None, "{}").await.unwrap();
    let second = two.publish(&bob, None, "{}").await.unwrap();
    assert_eq!(second, first + 1);

    let mut late = two.subscribe(Duration::from_secs(60)).await.unwrap();
    let m = next(&mut late).await;
    assert_eq!((m.seq, m.audience), (first, bob.clone()));
    assert_eq!(next(&mut late).await.seq, second);
    let mut now_only = two.subscribe(Duration::ZERO).await.unwrap();
    let third = one.publish(&bob, None, "{}").await.unwrap();
    assert_eq!(next(&mut now_only).await.seq, third);
    delete_live_stream(&namespace).await;
}

async fn delete_live_stream(namespace: &str) {
    if let Ok(client) = async_nats::connect(nats_url()).await {
        let js = async_nats::jetstream::new(client);
        let _ = js
            .delete_stream(format!("{}_LIVE", namespace.to_uppercase()))
            .await;
    }
}

/// A broker that goes quiet for longer than two heartbeats (a busy machine) costs nothing: the
/// feed picks up after the last message it delivered. A restarted broker, whose memory stream
/// is gone, is reported as a loss, so clients reload.
#[tokio::test]
async fn nats_feed_rides_out_a_quiet_broker_and_reports_a_restart() {
    let mut nats = OwnNats::start();
    let url = nats.url();
    let live = NatsLive::connect(&url, "quiet").await.unwrap();
    let mut feed = live.subscribe(Duration::ZERO).await.unwrap();
    let carol = Audience::User("carol".into());
    let first = live.publish(&carol, None, "{}").await.unwrap();
    assert_eq!(next(&mut feed).await.seq, first);

    nats.signal("-STOP");
    let quiet = tokio::time::timeout(Duration::from_secs(12), feed.next()).await;
    nats.signal("-CONT");
    assert!(
        quiet.is_err(),
        "the feed said nothing while the broker was quiet: {:?}",
        quiet.map(|m| m.map(|m| m.map(|m| m.seq)))
    );
    let second = live.publish(&carol, None, "{}").await.unwrap();
    assert_eq!(second, first + 1);
    assert_eq!(next(&mut feed).await.seq, second);

    nats.stop();
    nats.start_again();
    let lost = tokio::time::timeout(Duration::from_secs(20), feed.next())
        .await
        .expect("the restart is noticed")
        .expect("the feed is open");
    assert!(lost.is_err(), "a restart is reported as lost messages");
}
