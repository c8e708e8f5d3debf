//! Service discovery: which Beatstream instances run, where they answer and which roles they
//! serve. Each process announces itself and keeps the announcement alive; an instance that
//! stops (or dies) drops out within the time-to-live. Callers ask for the instances of a role
//! and never care how they were found.
//!
//! Two registries implement [`Discovery`]: [`NatsDiscovery`] keeps announcements in a NATS
//! JetStream key-value bucket `<NAMESPACE>_instances` whose entries expire after the TTL (the
//! NATS the deployment already runs; no home-made membership protocol), and
//! [`StaticDiscovery`] is a fixed list from the configuration, for simple deployments.
//!
//! This crate owns no tables and emits no events.

mod nats;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use nats::NatsDiscovery;

/// One running process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// Unique per process start.
    pub id: String,
    /// Where others reach it: `http://host:port`.
    pub address: String,
    /// The roles it serves (`catalog`, `search`, ...).
    pub roles: Vec<String>,
    /// When it started (Unix ms).
    pub started_at: i64,
}

impl Instance {
    pub fn serves(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("service discovery unreachable: {0}")]
    Unreachable(String),
    #[error("service discovery: {0}")]
    Failed(String),
}

#[async_trait::async_trait]
pub trait Discovery: Send + Sync + 'static {
    /// Announces (or re-announces, to keep it alive) an instance.
    async fn announce(&self, instance: &Instance) -> Result<(), DiscoveryError>;

    /// Removes an instance's announcement at once (a clean stop).
    async fn withdraw(&self, id: &str) -> Result<(), DiscoveryError>;

    /// The instances alive now.
    async fn instances(&self) -> Result<Vec<Instance>, DiscoveryError>;

    /// `nats` or `static`, for logs.
    fn kind(&self) -> &'static str;
}

/// The instances alive now that serve `role`.
pub async fn instances_of(
    discovery: &dyn Discovery,
    role: &str,
) -> Result<Vec<Instance>, DiscoveryError> {
    let mut found: Vec<Instance> = discovery
        .instances()
        .await?
        .into_iter()
        .filter(|i| i.serves(role))
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// A fixed list of instances, from the configuration. Announcing changes nothing.
pub struct StaticDiscovery {
    instances: Vec<Instance>,
}

impl StaticDiscovery {
    pub fn new(instances: Vec<Instance>) -> Self {
        StaticDiscovery { instances }
    }
}

#[async_trait::async_trait]
impl Discovery for StaticDiscovery {
    async fn announce(&self, _instance: &Instance) -> Result<(), DiscoveryError> {
        Ok(())
    }

    async fn withdraw(&self, _id: &str) -> Result<(), DiscoveryError> {
        Ok(())
    }

    async fn instances(&self) -> Result<Vec<Instance>, DiscoveryError> {
        Ok(self.instances.clone())
    }

    fn kind(&self) -> &'static str {
        "static"
    }
}

/// Announces `me` now and every `every` until `shutdown`, then withdraws it. A failed
/// announcement is logged and tried again at the next beat (an outage of the registry makes
/// the instance drop out until it is back, not stop).
pub async fn keep_announced(
    discovery: Arc<dyn Discovery>,
    me: Instance,
    every: Duration,
    shutdown: CancellationToken,
) -> Result<JoinHandle<()>, DiscoveryError> {
    discovery.announce(&me).await?;
    Ok(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = discovery.announce(&me).await {
                tracing::warn!(error = %e, "discovery: could not renew this instance's announcement");
            }
        }
        if let Err(e) = discovery.withdraw(&me.id).await {
            tracing::warn!(error = %e, "discovery: could not withdraw this instance");
        }
    }))
}
