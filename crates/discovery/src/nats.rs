//! Announcements in a NATS JetStream key-value bucket: one key per instance (its id), the
//! value its [`Instance`] as JSON, and the bucket's maximum age as the time-to-live, so an
//! instance that stops renewing its key drops out on its own.

use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use futures_util::TryStreamExt;

use crate::{Discovery, DiscoveryError, Instance};

pub struct NatsDiscovery {
    js: jetstream::Context,
    bucket: String,
    ttl: Duration,
    store: kv::Store,
}

/// `beatstream` → `BEATSTREAM_instances` (bucket names take letters, digits, `_` and `-`).
fn bucket_name(namespace: &str) -> String {
    let upper: String = namespace
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{upper}_instances")
}

impl NatsDiscovery {
    /// Opens (or creates) the namespace's bucket; announcements live `ttl` unless renewed.
    pub async fn connect(
        url: &str,
        namespace: &str,
        ttl: Duration,
    ) -> Result<Self, DiscoveryError> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .retry_on_initial_connect()
            .connect(url)
            .await
            .map_err(|e| DiscoveryError::Unreachable(format!("{url}: {e}")))?;
        let js = jetstream::new(client);
        let bucket = bucket_name(namespace);
        let store = open_bucket(&js, &bucket, ttl).await?;
        Ok(NatsDiscovery {
            js,
            bucket,
            ttl,
            store,
        })
    }
}

/// The bucket, its stream made if missing, as `create_key_value` would make it; that call first
/// asks for the account's details in a form older servers (2.9, Debian's) do not answer.
async fn open_bucket(
    js: &jetstream::Context,
    bucket: &str,
    ttl: Duration,
) -> Result<kv::Store, DiscoveryError> {
    let unreachable = |e: String| DiscoveryError::Unreachable(format!("bucket {bucket}: {e}"));
    tokio::time::timeout(
        Duration::from_secs(10),
        js.get_or_create_stream(stream::Config {
            name: format!("KV_{bucket}"),
            subjects: vec![format!("$KV.{bucket}.>")],
            max_messages_per_subject: 1,
            max_age: ttl,
            storage: stream::StorageType::Memory,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            duplicate_window: ttl.min(Duration::from_secs(120)),
            ..Default::default()
        }),
    )
    .await
    .map_err(|_| {
        unreachable("NATS did not answer within 10 s; is JetStream enabled (-js)?".into())
    })?
    .map_err(|e| unreachable(e.to_string()))?;
    js.get_key_value(bucket)
        .await
        .map_err(|e| unreachable(e.to_string()))
}

#[async_trait::async_trait]
impl Discovery for NatsDiscovery {
    async fn announce(&self, instance: &Instance) -> Result<(), DiscoveryError> {
        let value: bytes::Bytes = serde_json::to_vec(instance)
            .map_err(|e| DiscoveryError::Failed(e.to_string()))?
            .into();
        if self.store.put(&instance.id, value.clone()).await.is_ok() {
            return Ok(());
        }
        // A broker restart may have lost the bucket (kept in memory): make it again, once.
        let store = open_bucket(&self.js, &self.bucket, self.ttl).await?;
        store
            .put(&instance.id, value)
            .await
            .map_err(|e| DiscoveryError::Unreachable(format!("announcing {}: {e}", instance.id)))?;
        Ok(())
    }

    async fn withdraw(&self, id: &str) -> Result<(), DiscoveryError> {
        self.store
            .purge(id)
            .await
            .map_err(|e| DiscoveryError::Unreachable(format!("withdrawing {id}: {e}")))
    }

    async fn instances(&self) -> Result<Vec<Instance>, DiscoveryError> {
        let unreachable =
            |e: String| DiscoveryError::Unreachable(format!("listing instances: {e}"));
        let keys: Vec<String> = self
            .store
            .keys()
            .await
            .map_err(|e| unreachable(e.to_string()))?
            .try_collect()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let mut instances = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(value) = self
                .store
                .get(&key)
                .await
                .map_err(|e| unreachable(e.to_string()))?
            else {
                continue; // expired or withdrawn meanwhile
            };
            match serde_json::from_slice::<Instance>(&value) {
                Ok(instance) => instances.push(instance),
                Err(e) => {
                    tracing::warn!(key = %key, error = %e, "discovery: skipping an announcement it cannot read")
                }
            }
        }
        Ok(instances)
    }

    fn kind(&self) -> &'static str {
        "nats"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bucket_names_are_valid() {
        assert_eq!(super::bucket_name("beatstream"), "BEATSTREAM_instances");
        assert_eq!(super::bucket_name("ci-run.42"), "CI_RUN_42_instances");
    }
}
