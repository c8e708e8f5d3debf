//! Shared by the bus tests: a bus of each kind, with NATS on a unique namespace per test, and a
//! NATS server of a test's own for outages. Each test file uses a part of it.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use beatstream_events::{Envelope, Event, EventBus, MemoryBus, NatsBus};
use serde::{Deserialize, Serialize};

/// The event the bus tests publish: a number, to tell events apart and check their order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pinged {
    pub n: u32,
}

impl Event for Pinged {
    const TOPIC: &'static str = "test.pinged";
    const VERSION: u32 = 1;
}

pub fn ping(n: u32) -> Envelope {
    Envelope::new(&Pinged { n }).unwrap()
}

pub fn nats_url() -> String {
    std::env::var("BEATSTREAM_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_string())
}

pub enum Kind {
    Memory,
    Nats,
}

/// A bus and, for NATS, the namespace to delete when done.
pub struct TestBus {
    pub bus: Arc<dyn EventBus>,
    pub namespace: String,
    kind: Kind,
}

impl TestBus {
    pub async fn new(kind: Kind) -> Self {
        let namespace = format!("t{}", uuid::Uuid::new_v4().simple());
        let bus: Arc<dyn EventBus> = match kind {
            Kind::Memory => Arc::new(MemoryBus::new()),
            Kind::Nats => Arc::new(
                NatsBus::connect(&nats_url(), &namespace)
                    .await
                    .expect("NATS with JetStream on 127.0.0.1:4222"),
            ),
        };
        TestBus {
            bus,
            namespace,
            kind,
        }
    }

    /// Another connection to the same bus, as a restarted process would make.
    pub async fn reconnect(&self) -> Arc<dyn EventBus> {
        match self.kind {
            Kind::Memory => self.bus.clone(),
            Kind::Nats => Arc::new(
                NatsBus::connect(&nats_url(), &self.namespace)
                    .await
                    .expect("reconnect"),
            ),
        }
    }

    pub async fn finish(self) {
        if let Kind::Nats = self.kind {
            if let Ok(client) = async_nats::connect(nats_url()).await {
                let js = async_nats::jetstream::new(client);
                let _ = js.delete_stream(self.namespace.to_uppercase()).await;
            }
        }
    }
}

/// Runs each named async test (taking a `&TestBus`) on the in-process bus and on NATS.
#[macro_export]
macro_rules! bus_tests {
    ($($test:ident),+ $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $test() {
                    let bus = $crate::common::TestBus::new($crate::common::Kind::Memory).await;
                    super::$test(&bus).await;
                    bus.finish().await;
                }
            )+
        }
        mod nats {
            $(
                #[tokio::test]
                async fn $test() {
                    let bus = $crate::common::TestBus::new($crate::common::Kind::Nats).await;
                    super::$test(&bus).await;
                    bus.finish().await;
                }
            )+
        }
    };
}

/// A `nats-server -js` of a test's own on a free port, with its own store, which the test may
/// pause, stop and start again (on the same port, with the same stored streams).
pub struct OwnNats {
    child: Option<Child>,
    port: u16,
    store: tempfile::TempDir,
}

impl OwnNats {
    pub fn start() -> OwnNats {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut nats = OwnNats {
            child: None,
            port,
            store: tempfile::tempdir().unwrap(),
        };
        nats.start_again();
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the stopped server, and waits until it takes connections.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let child = Command::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (Debian's nats-server package)");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nats-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, and wait for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            send_signal(&child, "-TERM");
            let _ = child.wait();
        }
    }

    /// Sends `signal` (`-STOP`, `-CONT`) to the running server.
    pub fn signal(&self, signal: &str) {
        send_signal(self.child.as_ref().expect("running"), signal);
    }
}

fn send_signal(child: &Child, signal: &str) {
    Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
