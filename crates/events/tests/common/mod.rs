//! Shared by the bus tests: a bus of each kind, with NATS on a unique namespace per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use beatstream_events::{EventBus, MemoryBus, NatsBus};

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
