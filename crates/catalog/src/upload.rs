//! Uploads: an admin sends an audio file over HTTP (multipart). It is streamed to a temporary
//! file under a size limit, read exactly like a scanned file (a file that is not audio is
//! refused), stored in blob storage under `uploads/`, and added to the catalog.

use std::path::PathBuf;

use axum::extract::Multipart;
use beatstream_core::Timestamp;
use beatstream_events::catalog::TrackAdded;
use beatstream_events::outbox;
use tokio::io::AsyncWriteExt;

use crate::error::CatalogError;
use crate::format::AudioFormat;
use crate::scan::{summary_of, track_write, FoundFile};
use crate::service::CatalogService;
use crate::store::{CatalogStore, WriteCache};
use crate::tags::read_file;
use crate::UPLOADS_LIBRARY;

/// A temporary file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Takes the first file part of the form and adds it to the catalog; returns the track id.
pub async fn upload(catalog: &CatalogService, mut form: Multipart) -> Result<String, CatalogError> {
    let limit = catalog.settings().max_upload_bytes;
    let invalid = |reason: String| CatalogError::Invalid {
        field: "file",
        reason,
    };
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| invalid(e.body_text()))?
    {
        let Some(file_name) = field.file_name().map(str::to_string) else {
            continue;
        };
        let extension = std::path::Path::new(&file_name)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .filter(|e| AudioFormat::from_extension(e).is_some())
            .ok_or_else(|| {
                CatalogError::NotAudio(format!(
                    "`{file_name}` does not have an audio file extension"
                ))
            })?;
        let temp = TempFile(std::env::temp_dir().join(format!(
            "beatstream-upload-{}.{extension}",
            uuid::Uuid::new_v4()
        )));
        let mut out = tokio::fs::File::create(&temp.0)
            .await
            .map_err(|e| CatalogError::Internal(format!("creating an upload file: {e}")))?;
        let mut size: u64 = 0;
        while let Some(chunk) = field.chunk().await.map_err(|e| invalid(e.body_text()))? {
            size += chunk.len() as u64;
            if size > limit {
                return Err(CatalogError::UploadTooLarge { limit });
            }
            out.write_all(&chunk)
                .await
                .map_err(|e| CatalogError::Internal(format!("writing an upload file: {e}")))?;
        }
        out.flush()
            .await
            .map_err(|e| CatalogError::Internal(format!("writing an upload file: {e}")))?;
        drop(out);
        let path = temp.0.clone();
        let separators = catalog.settings().separators.clone();
        let tags = tokio::task::spawn_blocking(move || read_file(&path, &separators))
            .await
            .map_err(|e| CatalogError::Internal(format!("reading an upload: {e}")))?
            .map_err(|e| CatalogError::NotAudio(e.to_string()))?;
        let id = uuid::Uuid::now_v7().to_string();
        let key = format!("uploads/{id}.{extension}");
        catalog.blobs().put_file(&key, &temp.0).await?;
        let found = FoundFile {
            library: UPLOADS_LIBRARY.to_string(),
            path: key,
            absolute: temp.0.clone(),
            size: i64::try_from(size).unwrap_or(i64::MAX),
            mtime: Timestamp::now().millis(),
        };
        let mut write = track_write(&found, &id, &tags);
        if tags.title.is_none() {
            // Named after the uploaded file, not the storage key.
            write.title = std::path::Path::new(&file_name)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or(file_name.clone());
        }
        let store = catalog.store();
        let mut tx = store.db().begin_write().await?;
        CatalogStore::write_tracks(
            &mut tx,
            &[(write.clone(), true)],
            Timestamp::now(),
            &mut WriteCache::default(),
        )
        .await?;
        outbox::append(
            &mut tx,
            &TrackAdded {
                track: summary_of(&write),
            },
        )
        .await?;
        tx.commit().await?;
        catalog.waker().wake();
        store.refresh_aggregates().await?;
        catalog.changed();
        tracing::info!(track_id = %id, size, "track uploaded");
        return Ok(id);
    }
    Err(invalid(
        "send the audio file as a multipart form field with a file name".into(),
    ))
}
