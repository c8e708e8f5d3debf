//! Finding each album's cover after a scan: a folder image next to its tracks (`cover.*`,
//! `folder.*`, `front.*`, `album.*`) wins; else the first track with an embedded picture.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;

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
/// pictures (their first two tracks: an album's tracks share their art). The albums are
/// shared out among blocking threads, two per core.
pub async fn find_covers(store: &CatalogStore, touched: &[String]) -> Result<(), CatalogError> {
    let candidates = store.albums_for_cover_search(touched).await?;
    if candidates.is_empty() {
        return Ok(());
    }
    let files = store.album_files_of(&candidates).await?;
    let touched: Arc<HashSet<String>> = Arc::new(touched.iter().cloned().collect());
    let parallel = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(2)
        * 2;
    let per_share = files.len().div_ceil(parallel * 4).max(1);
    let mut albums = files.into_iter().peekable();
    let mut shares = Vec::new();
    while albums.peek().is_some() {
        shares.push(albums.by_ref().take(per_share).collect::<Vec<_>>());
    }
    let found: Vec<Vec<Cover>> = futures_util::stream::iter(shares)
        .map(|share| {
            let touched = touched.clone();
            tokio::task::spawn_blocking(move || {
                share
                    .into_iter()
                    .filter_map(|(album_id, files)| cover_of(album_id, &files, &touched))
                    .collect()
            })
        })
        .buffer_unordered(parallel)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| CatalogError::Internal(format!("cover search: {e}")))?;
    store.set_covers(&found.concat()).await?;
    Ok(())
}

/// An album's cover: (album id, folder image, track with an embedded picture).
type Cover = (String, Option<String>, Option<String>);

/// The cover of one album, from its live files as (id, library, path) in disc/track order.
/// `None` when there is nothing to set: no folder image, and the album was not touched.
fn cover_of(
    album_id: String,
    files: &[(String, String, String)],
    touched: &HashSet<String>,
) -> Option<Cover> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (_, library, path) in files {
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
        return Some((album_id, Some(image.to_string_lossy().into_owned()), None));
    }
    if !touched.contains(&album_id) {
        return None;
    }
    let embedded = files
        .iter()
        .take(2)
        .filter(|(_, library, _)| library != crate::UPLOADS_LIBRARY)
        .find(|(_, library, path)| {
            crate::tags::read_picture(&Path::new(library).join(path)).is_some()
        })
        .map(|(id, _, _)| id.clone());
    Some((album_id, None, embedded))
}
