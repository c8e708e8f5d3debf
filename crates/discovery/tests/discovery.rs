//! Discovery on real NATS: instances announce themselves and are found by role; a withdrawn
//! instance is gone at once, one that stops renewing its announcement within the TTL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use beatstream_discovery::{
    instances_of, keep_announced, Discovery, Instance, NatsDiscovery, StaticDiscovery,
};
use tokio_util::sync::CancellationToken;

fn nats_url() -> String {
    std::env::var("BEATSTREAM_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_string())
}

fn instance(id: &str, roles: &[&str]) -> Instance {
    Instance {
        id: id.into(),
        address: format!("http://127.0.0.1:{}", 4000 + id.len()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        started_at: 1,
    }
}

async fn delete_bucket(namespace: &str) {
    if let Ok(client) = async_nats::connect(nats_url()).await {
        let js = async_nats::jetstream::new(client);
        let _ = js
            .delete_key_value(format!("{}_instances", namespace.to_uppercase()))
            .await;
    }
}

#[tokio::test]
async fn instances_are_found_by_role_and_drop_out_when_they_stop() {
    let namespace = format!("t{}", uuid::Uuid::new_v4().simple());
    let ttl = Duration::from_secs(2);
    let discovery: Arc<dyn Discovery> = Arc::new(
        NatsDiscovery::connect(&nats_url(), &namespace, ttl)
            .await
            .expect("NATS with JetStream on 127.0.0.1:4222"),
    );
    // Another process on the same namespace sees the same registry.
    let other = NatsDiscovery::connect(&nats_url(), &namespace, ttl)
        .await
        .unwrap();

    let stop_a = CancellationToken::new();
    let a = keep_announced(
        discovery.clone(),
        instance("a", &["catalog", "search"]),
        Duration::from_millis(500),
        stop_a.clone(),
    )
    .await
    .unwrap();
    let stop_b = CancellationToken::new();
    let _b = keep_announced(
        discovery.clone(),
        instance("bb", &["catalog"]),
        Duration::from_millis(500),
        stop_b.clone(),
    )
    .await
    .unwrap();
    // One that announces once and then dies without a word.
    other
        .announce(&instance("ccc", &["catalog"]))
        .await
        .unwrap();

    let catalogs = instances_of(&other, "catalog").await.unwrap();
    assert_eq!(
        catalogs.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["a", "bb", "ccc"]
    );
    assert_eq!(
        instances_of(&other, "search").await.unwrap()[0].address,
        "http://127.0.0.1:4001"
    );
    assert!(instances_of(&other, "playlists").await.unwrap().is_empty());

    // A clean stop withdraws at once.
    stop_a.cancel();
    a.await.unwrap();
    let ids = |found: Vec<Instance>| found.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(instances_of(&other, "catalog").await.unwrap()),
        ["bb", "ccc"]
    );

    // The dead one drops out within the TTL; the one renewing stays.
    let started = Instant::now();
    loop {
        let found = ids(instances_of(&other, "catalog").await.unwrap());
        if found == ["bb"] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still listed: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop_b.cancel();
    delete_bucket(&namespace).await;
}

#[tokio::test]
async fn a_static_list_is_what_it_says() {
    let discovery =
        StaticDiscovery::new(vec![instance("a", &["catalog"]), instance("b", &["auth"])]);
    assert_eq!(instances_of(&discovery, "auth").await.unwrap()[0].id, "b");
    discovery.announce(&instance("c", &["auth"])).await.unwrap();
    assert_eq!(instances_of(&discovery, "auth").await.unwrap().len(), 1);
}
