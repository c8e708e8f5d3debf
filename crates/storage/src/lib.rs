//! Blob storage behind one interface: a local directory by default, S3-compatible object
//! storage by URL. Uploads, cover-art caches and transcodes go through [`BlobStore`], so any
//! instance of a service can read what another wrote once storage is shared (S3).
//!
//! This crate owns no tables and emits no events.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage configuration: {0}")]
    Config(String),
    #[error("blob `{0}` not found")]
    NotFound(String),
    #[error("invalid blob key `{0}`")]
    InvalidKey(String),
    #[error("storage backend: {0}")]
    Backend(#[from] object_store::Error),
}

/// Where blobs live; cheap to clone.
#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    description: String,
}

/// S3 settings besides the URL (endpoint for non-AWS servers, region).
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    pub endpoint: String,
    pub region: String,
}

impl BlobStore {
    /// `url` empty means `default_dir`; otherwise `file:///abs/dir` or `s3://bucket/prefix`.
    /// S3 credentials come from the usual `AWS_*` environment variables.
    pub fn open(url: &str, default_dir: &Path, s3: &S3Options) -> Result<Self, StorageError> {
        if url.is_empty() {
            return Self::local(default_dir);
        }
        if let Some(dir) = url.strip_prefix("file://") {
            return Self::local(Path::new(dir));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StorageError::Config(format!("`{url}` names no bucket")));
            }
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_region(if s3.region.is_empty() {
                    "us-east-1"
                } else {
                    &s3.region
                });
            if !s3.endpoint.is_empty() {
                builder = builder
                    .with_endpoint(&s3.endpoint)
                    .with_allow_http(s3.endpoint.starts_with("http://"))
                    .with_virtual_hosted_style_request(false);
            }
            let store = builder.build()?;
            let store: Arc<dyn ObjectStore> = if prefix.trim_matches('/').is_empty() {
                Arc::new(store)
            } else {
                Arc::new(object_store::prefix::PrefixStore::new(
                    store,
                    prefix.trim_matches('/'),
                ))
            };
            return Ok(BlobStore {
                store,
                description: url.to_string(),
            });
        }
        Err(StorageError::Config(format!(
            "`{url}`: use file:///ABSOLUTE/DIR or s3://BUCKET/PREFIX"
        )))
    }

    fn local(dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError::Config(format!("cannot create {}: {e}", dir.display())))?;
        let store = LocalFileSystem::new_with_prefix(dir)?;
        Ok(BlobStore {
            store: Arc::new(store),
            description: format!("local {}", dir.display()),
        })
    }

    /// For start-up messages.
    pub fn describe(&self) -> &str {
        &self.description
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&object_key(key)?, PutPayload::from_bytes(bytes))
            .await?;
        Ok(())
    }

    /// Uploads a local file in parts, never holding it in memory whole.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        use tokio::io::AsyncReadExt;
        let upload = self.store.put_multipart(&object_key(key)?).await?;
        let mut writer = object_store::WriteMultipart::new(upload);
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| StorageError::Config(format!("reading {}: {e}", path.display())))?;
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = file
                .read(&mut buffer)
                .await
                .map_err(|e| StorageError::Config(format!("reading {}: {e}", path.display())))?;
            if n == 0 {
                break;
            }
            writer.write(&buffer[..n]);
        }
        writer.finish().await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        let result = self
            .store
            .get(&object_key(key)?)
            .await
            .map_err(|e| not_found(key, e))?;
        Ok(result.bytes().await?)
    }

    /// Bytes `start..end` (end exclusive) as a stream, for HTTP ranges.
    pub async fn get_range_stream(
        &self,
        key: &str,
        start: u64,
        end: u64,
    ) -> Result<BoxStream<'static, Result<Bytes, StorageError>>, StorageError> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(start..end)),
            ..Default::default()
        };
        let result = self
            .store
            .get_opts(&object_key(key)?, options)
            .await
            .map_err(|e| not_found(key, e))?;
        Ok(result
            .into_stream()
            .map(|chunk| chunk.map_err(StorageError::from))
            .boxed())
    }

    /// Size in bytes, or `NotFound`.
    pub async fn size(&self, key: &str) -> Result<u64, StorageError> {
        let meta = self
            .store
            .head(&object_key(key)?)
            .await
            .map_err(|e| not_found(key, e))?;
        Ok(meta.size)
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&object_key(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn not_found(key: &str, error: object_store::Error) -> StorageError {
    match error {
        object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_string()),
        other => StorageError::Backend(other),
    }
}

/// Keys are `/`-separated relative paths of safe parts: no `..`, no empty parts.
fn object_key(key: &str) -> Result<ObjectPath, StorageError> {
    let valid = !key.is_empty()
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if !valid {
        return Err(StorageError::InvalidKey(key.to_string()));
    }
    ObjectPath::parse(key).map_err(|_| StorageError::InvalidKey(key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_scheme_is_a_config_error() {
        let err = BlobStore::open("ftp://x", Path::new("/tmp"), &S3Options::default()).unwrap_err();
        assert!(err.to_string().contains("s3://"), "{err}");
    }

    #[test]
    fn an_s3_url_needs_a_bucket() {
        let err = BlobStore::open("s3://", Path::new("/tmp"), &S3Options::default()).unwrap_err();
        assert!(err.to_string().contains("bucket"), "{err}");
    }
}
