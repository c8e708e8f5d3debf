//! One suite for both kinds of blob storage: a local folder, and S3 as moto's server speaks it
//! (signed requests, ranges, multipart uploads). Each S3 test starts its own `moto_server`
//! (PyPI `moto[s3,server]`; `.ci/run` installs it) on a free port, with a fresh bucket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use beatstream_storage::{BlobStore, S3Options, StorageError};
use bytes::Bytes;
use futures_util::StreamExt;

/// A store and what keeps it alive (a folder, or a moto server).
struct TestStore {
    store: BlobStore,
    dir: tempfile::TempDir,
    _moto: Option<Moto>,
}

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn local() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open("", dir.path(), &S3Options::default()).unwrap();
    TestStore {
        store,
        dir,
        _moto: None,
    }
}

async fn s3() -> TestStore {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server (pip install 'moto[s3,server]')");
    let moto = Moto(child);
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Credentials as the AWS SDKs read them; moto accepts any.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/blobs"))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "creating the bucket: {}",
        created.status()
    );
    let options = S3Options {
        endpoint,
        region: "us-east-1".into(),
    };
    let store =
        BlobStore::open("s3://blobs/beatstream", Path::new("/nonexistent"), &options).unwrap();
    TestStore {
        store,
        dir: tempfile::tempdir().unwrap(),
        _moto: Some(moto),
    }
}

async fn put_then_get_returns_the_same_bytes(t: TestStore) {
    let store = &t.store;
    store
        .put("uploads/a.ogg", Bytes::from_static(b"OggS-data"))
        .await
        .unwrap();
    assert_eq!(
        store.get("uploads/a.ogg").await.unwrap(),
        Bytes::from_static(b"OggS-data")
    );
    assert_eq!(store.size("uploads/a.ogg").await.unwrap(), 9);
}

async fn range_stream_returns_the_asked_bytes(t: TestStore) {
    t.store
        .put("x", Bytes::from_static(b"0123456789"))
        .await
        .unwrap();
    let chunks: Vec<_> = t
        .store
        .get_range_stream("x", 2, 5)
        .await
        .unwrap()
        .collect()
        .await;
    let bytes: Vec<u8> = chunks
        .into_iter()
        .flat_map(|c| c.unwrap().to_vec())
        .collect();
    assert_eq!(bytes, b"234");
}

async fn put_file_uploads_a_local_file_in_parts(t: TestStore) {
    let source = t.dir.path().join("source.bin");
    // Over 5 MiB: more than one part of a multipart upload.
    let content: Vec<u8> = (0..7_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&source, &content).unwrap();
    t.store.put_file("uploads/big.bin", &source).await.unwrap();
    assert_eq!(
        t.store.size("uploads/big.bin").await.unwrap(),
        content.len() as u64
    );
    assert_eq!(
        t.store.get("uploads/big.bin").await.unwrap().as_ref(),
        &content[..]
    );
}

async fn missing_blob_is_not_found_and_delete_is_idempotent(t: TestStore) {
    assert!(matches!(
        t.store.get("nope").await,
        Err(StorageError::NotFound(_))
    ));
    assert!(matches!(
        t.store.size("nope").await,
        Err(StorageError::NotFound(_))
    ));
    t.store.put("gone", Bytes::from_static(b"x")).await.unwrap();
    t.store.delete("gone").await.unwrap();
    t.store.delete("gone").await.unwrap();
    assert!(matches!(
        t.store.get("gone").await,
        Err(StorageError::NotFound(_))
    ));
}

async fn keys_cannot_escape_the_store(t: TestStore) {
    for key in ["../etc/passwd", "a//b", "", "a/../../b"] {
        assert!(
            matches!(
                t.store.put(key, Bytes::new()).await,
                Err(StorageError::InvalidKey(_))
            ),
            "{key}"
        );
    }
}

macro_rules! on_both {
    ($($test:ident),+ $(,)?) => {
        mod local_folder {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(super::local()).await;
                }
            )+
        }
        mod s3_on_moto {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(super::s3().await).await;
                }
            )+
        }
    };
}

on_both!(
    put_then_get_returns_the_same_bytes,
    range_stream_returns_the_asked_bytes,
    put_file_uploads_a_local_file_in_parts,
    missing_blob_is_not_found_and_delete_is_idempotent,
    keys_cannot_escape_the_store,
);
