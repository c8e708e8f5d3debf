//! Finding each album's cover after a scan: a folder image next to its tracks (`cover.*`,
//! `folder.*`, `front.*`, `album.*`) wins; else the first track with an embedded picture.

use std::path::{Path, PathBuf};

use crate::error::CatalogError;
use crate::store::CatalogStore;

const NAMES: [&str; 4] = ["cover", "folder", "front", "album"];
const EXTENSIONS: [&str; 6] = ["jpg", "jpeg", "png", "webp", "gif", "bmp"];

/// A folder image in `dir`, preferring the names in `NAMES` order.
pub fn folder_image(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut best: Option<(usize, PathBuf)> = None;
    for entry in entries.flatten() {
        let path = entry.path();
        let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else {
            continue;
        };
        let stem = stem.to_string_lossy().to_lowercase();
        let ext = ext.to_string_lossy().to_lowercase();
        if !EXTENSIONS.contains(&ext.as_str()) || !path.is_file() {
            continue;
        }
        if let Some(rank) = NAMES.iter().position(|n| *n == stem) {
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, path));
            }
        }
    }
    best.map(|(_, path)| path)
}

/// Looks for covers: every album without one gets a folder-image check (cheap, so a
/// `cover.jpg` added later is found); albums this scan touched are also probed for embedded
/// pictures (their first two tracks: an album's tracks share their art).
pub async fn find_covers(store: &CatalogStore, touched: &[String]) -> Result<(), CatalogError> {
    let candidates = store.albums_for_cover_search(touched).await?;
    if candidates.is_empty() {
        return Ok(());
    }
    let files = store.album_files_of(&candidates).await?;
    let touched: std::collections::HashSet<String> = touched.iter().cloned().collect();
    let found = tokio::task::spawn_blocking(move || {
        let mut found = Vec::new();
        for (album_id, files) in files {
            let mut dirs: Vec<PathBuf> = Vec::new();
            for (_, library, path) in &files {
                if library == crate::UPLOADS_LIBRARY {
                    continue;
                }
                if let Some(dir) = Path::new(library).join(path).parent() {
                    if !dirs.iter().any(|d| d == dir) {
                        dirs.push(dir.to_path_buf());
                    }
                }
            }
            if let Some(image) = dirs.iter().find_map(|d| folder_image(d)) {
                found.push((album_id, Some(image.to_string_lossy().into_owned()), None));
                continue;
            }
            if !touched.contains(&album_id) {
                continue;
            }
            let embedded = files
                .iter()
                .take(2)
                .filter(|(_, library, _)| library != crate::UPLOADS_LIBRARY)
                .find(|(_, library, path)| {
                    crate::tags::read_picture(&Path::new(library).join(path)).is_some()
                })
                .map(|(id, _, _)| id.clone());
            found.push((album_id, None, embedded));
        }
        found
    })
    .await
    .map_err(|e| CatalogError::Internal(format!("cover search: {e}")))?;
    store.set_covers(&found).await?;
    Ok(())
}
