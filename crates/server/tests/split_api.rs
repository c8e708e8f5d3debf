//! Split processes on one PostgreSQL and one NATS: a process without the catalog forwards the
//! catalog's routes to the instances that run it (found through discovery), streams audio
//! through with ranges, answers the Subsonic API in every process, and keeps answering when
//! one catalog instance is killed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;

use support::{copy_fixture_library, credentials, get, post, upload, upload_fixture, Env};

fn nats_url() -> String {
    std::env::var("BEATSTREAM_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

#[tokio::test]
async fn a_process_forwards_the_routes_of_services_it_does_not_run() {
    let env = Env::external().await;
    let nats = nats_url();
    let library = env.dir.path().join("library");
    copy_fixture_library(&library);
    let library = library.display().to_string();
    let dir = |name: &str| env.dir.path().join(name).display().to_string();
    let (front_dir, one_dir, two_dir) = (dir("front"), dir("catalog-1"), dir("catalog-2"));
    let front = env.start(&[
        ("BEATSTREAM_DISCOVERY__URL", nats.as_str()),
        (
            "BEATSTREAM_ROLES",
            "auth,users,playlists,search,recommendations,realtime",
        ),
        ("BEATSTREAM_DATA_DIR", front_dir.as_str()),
    ]);
    let catalog_one = env.start(&[
        ("BEATSTREAM_DISCOVERY__URL", nats.as_str()),
        ("BEATSTREAM_ROLES", "catalog"),
        ("BEATSTREAM_DATA_DIR", one_dir.as_str()),
        ("BEATSTREAM_LIBRARY", library.as_str()),
    ]);
    let catalog_two = env.start(&[
        ("BEATSTREAM_DISCOVERY__URL", nats.as_str()),
        ("BEATSTREAM_ROLES", "catalog"),
        ("BEATSTREAM_DATA_DIR", two_dir.as_str()),
    ]);
    let client = reqwest::Client::new();
    let (status, session) = post(
        &client,
        &front.url("/api/v1/auth/signup"),
        credentials("admin"),
        None,
    )
    .await;
    assert_eq!(status, 201, "{session}");
    let token = session["access_token"].as_str().unwrap().to_string();

    // The catalog's routes, through the process that does not run it.
    let started = Instant::now();
    let tracks = loop {
        let (status, body) = get(
            &client,
            &front.url("/api/v1/tracks?limit=100"),
            Some(&token),
        )
        .await;
        if status == 200 && body["items"].as_array().unwrap().len() == 16 {
            break body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{status} {body}\n{}",
            catalog_one.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let id = tracks["items"][0]["id"].as_str().unwrap();
    let response = client
        .get(front.url(&format!("/api/v1/tracks/{id}/stream")))
        .bearer_auth(&token)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    assert!(response.headers()["content-range"]
        .to_str()
        .unwrap()
        .starts_with("bytes 0-99/"));
    assert_eq!(response.bytes().await.unwrap().len(), 100);
    let (_, doc) = get(&client, &front.url("/api/openapi.json"), None).await;
    assert!(
        doc["paths"].get("/api/v1/tracks/{id}/stream").is_some(),
        "the whole API is documented"
    );
    // Errors of the service come through as they are.
    let (status, body) = get(&client, &front.url("/api/v1/tracks/nope"), Some(&token)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("track_not_found"))
    );

    // The Subsonic API answers in every process, whatever it runs: signed in by the auth
    // service elsewhere, reading the catalog here or elsewhere, starring in the playlists
    // service elsewhere.
    let (status, made) = post(
        &client,
        &front.url("/api/v1/me/app-passwords"),
        json!({"name": "phone"}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let auth = format!("u=admin&p={}&f=json", made["password"].as_str().unwrap());
    for process in [&front, &catalog_one] {
        let (_, reply) = get(
            &client,
            &process.url(&format!("/rest/getSong.view?{auth}&id={id}")),
            None,
        )
        .await;
        assert_eq!(reply["subsonic-response"]["song"]["id"], id, "{reply}");
        let (_, starred) = get(
            &client,
            &process.url(&format!("/rest/star?{auth}&id={id}")),
            None,
        )
        .await;
        assert_eq!(starred["subsonic-response"]["status"], "ok", "{starred}");
    }
    let (_, likes) = get(&client, &front.url("/api/v1/me/likes/tracks"), Some(&token)).await;
    assert_eq!(likes["items"][0]["track"]["id"], id);
    let ranged = client
        .get(front.url(&format!("/rest/stream?{auth}&id={id}")))
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.unwrap().len(), 100);

    // One catalog instance dies: reads keep working (retried on the other).
    catalog_two.kill();
    for _ in 0..30 {
        let (status, body) = get(&client, &front.url("/api/v1/tracks?limit=5"), Some(&token)).await;
        assert_eq!(status, 200, "{body}");
    }
    drop(catalog_one);
    drop(front);
    env.finish().await;
}

/// A moto S3 server of the test's own, with a bucket.
struct Moto(std::process::Child, String);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("moto_server (pip install 'moto[s3,server]')");
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto_server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/media"))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    Moto(child, endpoint)
}

/// Two catalog instances on one S3 bucket: a file uploaded to one streams from the other.
#[tokio::test]
async fn an_upload_to_one_catalog_instance_streams_from_another() {
    let env = Env::external().await;
    let s3 = moto().await;
    let nats = nats_url();
    let dir = |name: &str| env.dir.path().join(name).display().to_string();
    let (one_dir, two_dir) = (dir("one"), dir("two"));
    let shared = [
        ("BEATSTREAM_DISCOVERY__URL", nats.as_str()),
        ("BEATSTREAM_STORAGE__URL", "s3://media/beatstream"),
        ("BEATSTREAM_STORAGE__S3_ENDPOINT", s3.1.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];
    let mut first_env = shared.to_vec();
    first_env.push(("BEATSTREAM_DATA_DIR", one_dir.as_str()));
    let first = env.start(&first_env);
    let mut second_env = shared.to_vec();
    second_env.extend([
        ("BEATSTREAM_DATA_DIR", two_dir.as_str()),
        ("BEATSTREAM_ROLES", "catalog"),
    ]);
    let second = env.start(&second_env);

    let client = reqwest::Client::new();
    let (_, session) = post(
        &client,
        &first.url("/api/v1/auth/signup"),
        credentials("admin"),
        None,
    )
    .await;
    let token = session["access_token"].as_str().unwrap().to_string();
    let content = upload_fixture();
    let uploaded = upload(&client, &first.base, &token, "upload.ogg", &content).await;
    assert_eq!(uploaded.status(), 201);
    let track: serde_json::Value = uploaded.json().await.unwrap();

    // Straight from the other instance, which never saw the upload.
    let response = client
        .get(second.url(&format!(
            "/api/v1/tracks/{}/stream",
            track["id"].as_str().unwrap()
        )))
        .bearer_auth(&token)
        .header("range", "bytes=4-7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206, "{}", second.log_text());
    assert_eq!(&response.bytes().await.unwrap()[..], &content[4..8]);
    drop(second);
    drop(first);
    env.finish().await;
}
