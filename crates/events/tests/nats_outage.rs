//! NATS going away under running consumers (a server of the test's own, so nobody else's is
//! stopped): once it is back, events published afterwards arrive within seconds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use beatstream_events::consumer::{spawn_consumers, HandlerError};
use beatstream_events::{Envelope, Event, EventBus, NatsBus};
use common::{ping, OwnNats, Pinged};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Publishes until JetStream acknowledges, as the outbox relay does.
async fn publish_when_back(bus: &Arc<dyn EventBus>, n: u32) {
    let envelope = ping(n);
    let started = Instant::now();
    while let Err(e) = bus.publish(&envelope).await {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "NATS took no publish within 30 s: {e}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn received(handled: &mut mpsc::UnboundedReceiver<u32>, limit: Duration) -> u32 {
    tokio::time::timeout(limit, handled.recv())
        .await
        .unwrap_or_else(|_| panic!("nothing arrived within {limit:?}"))
        .unwrap()
}

#[tokio::test]
async fn consumers_carry_on_after_nats_restarts() {
    let mut nats = OwnNats::start();
    let bus: Arc<dyn EventBus> = Arc::new(NatsBus::connect(&nats.url(), "outage").await.unwrap());
    let (handled_tx, mut handled) = mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    spawn_consumers(
        bus.clone(),
        &[Pinged::TOPIC],
        "carrying-on",
        move |batch: Vec<Envelope>| {
            for envelope in &batch {
                handled_tx
                    .send(envelope.decode::<Pinged>().unwrap().n)
                    .unwrap();
            }
            async { Ok::<_, HandlerError>(()) }
        },
        shutdown.clone(),
    )
    .await
    .unwrap();
    publish_when_back(&bus, 1).await;
    assert_eq!(received(&mut handled, Duration::from_secs(10)).await, 1);

    // A restart: stopped, and back at once with its stored stream and consumer.
    nats.stop();
    nats.start_again();
    publish_when_back(&bus, 2).await;
    assert_eq!(
        received(&mut handled, Duration::from_secs(15)).await,
        2,
        "an event published after the restart arrives"
    );

    // A longer outage. When it ends, another client publishes at once, likely before this
    // one has reconnected, then this one publishes: both events arrive, once each.
    tokio::time::sleep(Duration::from_secs(1)).await;
    nats.stop();
    tokio::time::sleep(Duration::from_secs(4)).await;
    nats.start_again();
    let other: Arc<dyn EventBus> = Arc::new(NatsBus::connect(&nats.url(), "outage").await.unwrap());
    publish_when_back(&other, 3).await;
    publish_when_back(&bus, 4).await;
    let mut got = vec![
        received(&mut handled, Duration::from_secs(15)).await,
        received(&mut handled, Duration::from_secs(15)).await,
    ];
    got.sort_unstable();
    assert_eq!(got, vec![3, 4]);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), handled.recv())
            .await
            .is_err(),
        "nothing arrives twice"
    );
    shutdown.cancel();
}
