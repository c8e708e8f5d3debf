//! `bus-bench [EVENTS_URL] [EVENTS]`
//!
//! How fast a consumer group takes in a burst of events: one group, with a handler that does
//! nothing, subscribes to the bus at `EVENTS_URL` (default `nats://127.0.0.1:4222`, or
//! `memory://`) in a namespace of its own; then `EVENTS` (default 20,000) small events are
//! published in bursts of 500, timed until the group has handled them all. On NATS the time is
//! mostly the publishes', pull requests' and acks' round trips. The namespace's stream is
//! deleted at the end.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use beatstream_events::consumer::{spawn_consumers, HandlerError};
use beatstream_events::{Envelope, Event, EventBus};
use tokio_util::sync::CancellationToken;

#[derive(serde::Serialize, serde::Deserialize)]
struct Counted {
    n: usize,
}

impl Event for Counted {
    const TOPIC: &'static str = "bench.counted";
    const VERSION: u32 = 1;
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let events: usize = args.next().map_or(20_000, |n| n.parse().expect("EVENTS"));
    let namespace = format!("busbench{}", std::process::id());
    let bus: Arc<dyn EventBus> = beatstream_events::connect(&url, &namespace)
        .await
        .expect("the bus");
    let envelopes: Vec<Envelope> = (0..events)
        .map(|n| Envelope::new(&Counted { n }).unwrap())
        .collect();
    // Counted as handled. A consumer takes its next batch only once the acks of the one before
    // are through, so the time covers every ack but the last batch's.
    let handled = Arc::new(AtomicUsize::new(0));
    let counting = handled.clone();
    let shutdown = CancellationToken::new();
    spawn_consumers(
        bus.clone(),
        &[Counted::TOPIC],
        "bench",
        move |batch: Vec<Envelope>| {
            counting.fetch_add(batch.len(), Ordering::SeqCst);
            async { Ok::<_, HandlerError>(()) }
        },
        shutdown.clone(),
    )
    .await
    .expect("subscribe");
    let started = Instant::now();
    for burst in envelopes.chunks(500) {
        bus.publish_all(burst).await.expect("publish");
    }
    while handled.load(Ordering::SeqCst) < events {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = started.elapsed();
    shutdown.cancel();
    println!(
        "{events} events taken in by one group on {url} in {:.3} s: {:.0} events/s",
        took.as_secs_f64(),
        events as f64 / took.as_secs_f64()
    );
    if url.starts_with("nats://") {
        if let Ok(client) = async_nats::connect(&url).await {
            let _ = async_nats::jetstream::new(client)
                .delete_stream(namespace.to_uppercase())
                .await;
        }
    }
}
