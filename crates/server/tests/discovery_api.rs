//! Service discovery through the real binary: two processes on one PostgreSQL and one NATS
//! announce themselves with their roles; the one without the auth service checks tokens with
//! the keys the other publishes; one that stops leaves at once; a process alone announces
//! nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{credentials, get, post, Env};

fn nats_url() -> String {
    std::env::var("BEATSTREAM_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// The addresses and roles `/api/v1/admin/instances` lists, once it lists `count`.
async fn instances(base: &str, token: &str, count: usize) -> Vec<(String, Vec<String>)> {
    let started = Instant::now();
    loop {
        let (status, body) = get(
            &reqwest::Client::new(),
            &format!("{base}/api/v1/admin/instances"),
            Some(token),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["discovery"], "nats");
        let found: Vec<(String, Vec<String>)> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let roles = i["roles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect();
                (i["address"].as_str().unwrap().to_string(), roles)
            })
            .collect();
        if found.len() == count {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "expected {count} instances: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn instances_announce_their_roles_and_leave_when_they_stop() {
    let env = Env::external().await;
    let discovery = [("BEATSTREAM_DISCOVERY__URL", nats_url())];
    let discovery: Vec<(&str, &str)> = discovery.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = env.start(&discovery);
    let second_dir = env.dir.path().join("second");
    let second_dir = second_dir.display().to_string();
    let mut with_roles = discovery.clone();
    with_roles.extend([
        ("BEATSTREAM_ROLES", "realtime"),
        ("BEATSTREAM_DATA_DIR", second_dir.as_str()),
    ]);
    let second = env.start(&with_roles);

    let (_, session) = post(
        &reqwest::Client::new(),
        &first.url("/api/v1/auth/signup"),
        credentials("admin"),
        None,
    )
    .await;
    let token = session["access_token"].as_str().unwrap().to_string();
    let (_, user) = post(
        &reqwest::Client::new(),
        &first.url("/api/v1/auth/signup"),
        credentials("someone"),
        None,
    )
    .await;

    let listed = instances(&second.base, &token, 2).await;
    let first_roles = &listed
        .iter()
        .find(|(address, _)| *address == first.base)
        .expect("the first is listed")
        .1;
    assert_eq!(first_roles.len(), 8, "{first_roles:?}");
    let second_roles = &listed
        .iter()
        .find(|(address, _)| *address == second.base)
        .expect("the second is listed")
        .1;
    assert_eq!(second_roles, &["realtime"]);

    // The second runs no auth service: it checks access tokens with the published keys, and
    // asks the auth service about personal API tokens.
    let client = reqwest::Client::new();
    let (status, body) = get(&client, &second.url("/api/v1/me/devices"), Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    let (status, created) = post(
        &client,
        &first.url("/api/v1/me/tokens"),
        serde_json::json!({"name": "script"}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let api_token = created["token"].as_str().unwrap();
    let (status, body) = get(&client, &second.url("/api/v1/me/devices"), Some(api_token)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(
        &client,
        &second.url("/api/v1/me/devices"),
        Some("not.a.token"),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = get(
        &client,
        &second.url("/api/v1/me/devices"),
        Some("bsp_made_up"),
    )
    .await;
    assert_eq!(status, 401);
    // Admins only.
    let (status, _) = get(
        &reqwest::Client::new(),
        &first.url("/api/v1/admin/instances"),
        user["access_token"].as_str(),
    )
    .await;
    assert_eq!(status, 403);

    // A clean stop withdraws the announcement.
    assert!(second.terminate().success());
    let left = instances(&first.base, &token, 1).await;
    assert_eq!(left[0].0, first.base);
    drop(first);
    env.finish().await;
}

#[tokio::test]
async fn a_process_alone_announces_nothing() {
    let env = Env::embedded().await;
    let server = env.start(&[]);
    let (_, session) = post(
        &reqwest::Client::new(),
        &server.url("/api/v1/auth/signup"),
        credentials("admin"),
        None,
    )
    .await;
    let (status, body): (u16, Value) = get(
        &reqwest::Client::new(),
        &server.url("/api/v1/admin/instances"),
        session["access_token"].as_str(),
    )
    .await;
    assert_eq!((status, body["discovery"].as_str()), (200, Some("none")));
    assert_eq!(body["items"].as_array().unwrap().len(), 0);
    drop(server);
    env.finish().await;
}
