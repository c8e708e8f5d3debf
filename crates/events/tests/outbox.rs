//! The outbox and inbox on both SQL backends, with the in-process bus.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use beatstream_db::{backend_tests, Db, Migrations};
use beatstream_events::consumer::spawn_consumer;
use beatstream_events::outbox::{self, OutboxRelay};
use beatstream_events::{inbox, Event, EventBus, MemoryBus};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use tokio_util::sync::CancellationToken;

static MIGRATIONS: Migrations = Migrations {
    sqlite: &sqlx::migrate!("tests/migrations/sqlite"),
    postgres: &sqlx::migrate!("tests/migrations/postgres"),
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Thing {
    id: String,
}

impl Event for Thing {
    const TOPIC: &'static str = "test.thing.made";
    const VERSION: u32 = 1;
}

async fn make_thing(db: &Db, id: &str, commit: bool) {
    let mut tx = db.begin_write().await.unwrap();
    sqlx::query("INSERT INTO effects (id) VALUES ($1)")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    outbox::append(&mut tx, &Thing { id: id.into() })
        .await
        .unwrap();
    if commit {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
}

async fn rolled_back_change_leaves_no_event(db: Db) {
    make_thing(&db, "a", false).await;
    assert_eq!(outbox::pending_count(&db).await.unwrap(), 0);
    make_thing(&db, "b", true).await;
    assert_eq!(outbox::pending_count(&db).await.unwrap(), 1);
}

async fn relay_publishes_in_order_and_empties_the_outbox(db: Db) {
    let bus = Arc::new(MemoryBus::new());
    let mut sub = bus.subscribe(Thing::TOPIC, "g").await.unwrap();
    for id in ["1", "2", "3"] {
        make_thing(&db, id, true).await;
    }
    let relay = OutboxRelay::new("test", db.clone(), bus.clone());
    let relaying = tokio::spawn(async move { relay.relay_pending().await.unwrap() });
    for id in ["1", "2", "3"] {
        let d = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(d.envelope.decode::<Thing>().unwrap().id, id);
        d.ack().await.unwrap();
    }
    assert_eq!(relaying.await.unwrap(), 3);
    assert_eq!(outbox::pending_count(&db).await.unwrap(), 0);
}

async fn inbox_sees_each_event_once(db: Db) {
    let mut conn = db.pool().acquire().await.unwrap();
    assert!(inbox::first_delivery(&mut conn, "c1", "e1").await.unwrap());
    assert!(!inbox::first_delivery(&mut conn, "c1", "e1").await.unwrap());
    assert!(
        inbox::first_delivery(&mut conn, "c2", "e1").await.unwrap(),
        "consumers are independent"
    );
}

async fn inbox_takes_a_batch_in_one_go(db: Db) {
    let mut conn = db.pool().acquire().await.unwrap();
    assert!(inbox::first_delivery(&mut conn, "c1", "seen")
        .await
        .unwrap());
    let set = |ids: &[&str]| ids.iter().map(|id| id.to_string()).collect();
    // A redelivery inside the batch ("new" twice) is one first delivery; "seen" is none.
    let first = inbox::first_deliveries(&mut conn, "c1", &["new", "seen", "new", "other"])
        .await
        .unwrap();
    assert_eq!(first, set(&["new", "other"]));
    assert_eq!(
        inbox::first_deliveries(&mut conn, "c1", &["new", "other"])
            .await
            .unwrap(),
        set(&[]),
        "a second delivery of the batch is no first delivery"
    );
    assert_eq!(
        inbox::first_deliveries(&mut conn, "c2", &["new"])
            .await
            .unwrap(),
        set(&["new"]),
        "consumers are independent"
    );
    let handled = inbox::handled_of(&mut conn, "c1", &["seen", "new", "never", "other"])
        .await
        .unwrap();
    assert_eq!(handled, set(&["seen", "new", "other"]));
    // More ids than one statement takes.
    let many: Vec<String> = (0..700).map(|n| format!("bulk-{n}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let first = inbox::first_deliveries(&mut conn, "c1", &many)
        .await
        .unwrap();
    assert_eq!(first.len(), 700);
    let handled = inbox::handled_of(&mut conn, "c1", &many).await.unwrap();
    assert_eq!(handled.len(), 700);
    assert!(inbox::handled_of(&mut conn, "c3", &many)
        .await
        .unwrap()
        .is_empty());
}

/// A relay that runs and is shut down flushes what was committed before shutdown.
async fn relay_delivers_to_an_idempotent_consumer_exactly_once(db: Db) {
    let bus: Arc<dyn EventBus> = Arc::new(MemoryBus::new());
    let shutdown = CancellationToken::new();
    let consumer_db = db.clone();
    let consumer = spawn_consumer(
        bus.clone(),
        Thing::TOPIC,
        "counter",
        move |envelope| {
            let db = consumer_db.clone();
            async move {
                let mut tx = db.begin_write().await?;
                if inbox::first_delivery(&mut tx, "counter", &envelope.id).await? {
                    let thing: Thing = envelope.decode()?;
                    sqlx::query("INSERT INTO effects (id) VALUES ($1)")
                        .bind(format!("seen-{}", thing.id))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        },
        shutdown.clone(),
    )
    .await
    .unwrap();
    let relay = OutboxRelay::new("test", db.clone(), bus.clone());
    let waker = relay.waker();
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    make_thing(&db, "x", true).await;
    waker.wake();
    // Publish the same envelope a second time, as a crash between publish and delete would.
    let text: String = sqlx::query("SELECT envelope FROM outbox")
        .fetch_optional(db.pool())
        .await
        .unwrap()
        .map(|row| row.try_get("envelope").unwrap())
        .unwrap_or_default();
    if !text.is_empty() {
        bus.publish(&serde_json::from_str(&text).unwrap())
            .await
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM effects WHERE id = 'seen-x'")
            .fetch_one(db.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        if n == 1 && outbox::pending_count(&db).await.unwrap() == 0 {
            break;
        }
        assert!(n <= 1, "applied twice");
        assert!(
            tokio::time::Instant::now() < deadline,
            "event not applied in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    relay_task.await.unwrap();
    consumer.await.unwrap();
}

backend_tests!("events", &MIGRATIONS;
    rolled_back_change_leaves_no_event,
    relay_publishes_in_order_and_empties_the_outbox,
    inbox_sees_each_event_once,
    inbox_takes_a_batch_in_one_go,
    relay_delivers_to_an_idempotent_consumer_exactly_once,
);
