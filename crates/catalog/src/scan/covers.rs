//! Finding each album's cover after a scan: a folder image next to its tracks (`cover.*`,
//! `folder.*`, `front.*`, `album.*`) wins; else the first track with an embedded picture.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;

use crate::error::CatalogError;
use crate::store::CatalogStore;

const NAMES: [&str; 4] = ["cover", "folder", "front", "album"];
const EXTENSIONS: [&str; 6] = ["jpg", "jpeg", "png", "webp", "gif", "bmp"];

/// Where a file named as a folder image stands in `NAMES` (lower is preferred); `None` for
/// any other name. Only the name is looked at.
fn cover_rank(path: &Path) -> Option<usize> {
    let (stem, ext) = (path.file_stem()?, path.extension()?);
    let ext = ext.to_string_lossy().to_lowercase();
    if !EXTENSIONS.contains(&ext.as_str()) {
        return None;
    }
    let stem = stem.to_string_lossy().to_lowercase();
    NAMES.iter().position(|n| *n == stem)
}

/// Whether `path` is named as a folder image: `cover.jpg`, `Folder.PNG` and so on.
pub fn is_cover_image(path: &Path) -> bool {
    cover_rank(path).is_some()
}

/// A folder image in `dir`, preferring the names in `NAMES` order.
pub fn folder_image(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut best: Option<(usize, PathBuf)> = None;
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(rank) = cover_rank(&path) else {
            continue;
        };
        if path.is_file() && best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, path));
        }
    }
    best.map(|(_, path)| path)
}

/// A folder's path in one spelling, so that `a/b/` and `a/b` are the same key.
pub fn folder_key(dir: &Path) -> PathBuf {
    dir.components().collect()
}

/// Looks for covers: every album without one gets a folder-image check (cheap, so a
/// `cover.jpg` added later is found); albums this scan touched are also probed for embedded
/// pictures (their first two tracks: an album's tracks share their art). The albums are
/// shared out among blocking threads, two per core.
///
/// `image_folders` holds the folders ([`folder_key`]) in which the scan's walk saw a file
/// named as a folder image: no other folder is listed again, and when there is none, albums
/// the scan left as they were are not looked at.
pub async fn find_covers(
    store: &CatalogStore,
    touched: &[String],
    image_folders: &HashSet<PathBuf>,
) -> Result<(), CatalogError> {
    let candidates = store.albums_for_cover_search(touched).await?;
    if candidates.is_empty() {
        return Ok(());
    }
    let touched: HashSet<&String> = touched.iter().collect();
    let (probed, mut checked): (Vec<String>, Vec<String>) =
        candidates.into_iter().partition(|id| touched.contains(id));
    if image_folders.is_empty() {
        checked.clear();
    }
    // Of an album left as it was, only its folders matter: one row per folder, not per track.
    let mut albums: Vec<AlbumFiles> = store
        .album_folders_of(&checked)
        .await?
        .into_iter()
        .map(|(album_id, folders)| AlbumFiles::of_folders(album_id, &folders))
        .collect();
    albums.extend(
        store
            .album_files_of(&probed)
            .await?
            .into_iter()
            .map(|(album_id, files)| AlbumFiles::of_files(album_id, &files)),
    );
    for album in &mut albums {
        album
            .dirs
            .retain(|dir| image_folders.contains(&folder_key(dir)));
    }
    albums.retain(|album| album.touched || !album.dirs.is_empty());
    let parallel = super::blocking_parallelism();
    let per_share = albums.len().div_ceil(parallel * 4).max(1);
    let found: Vec<Vec<Cover>> = futures_util::stream::iter(super::shares(albums, per_share))
        .map(|share| {
            tokio::task::spawn_blocking(move || share.into_iter().filter_map(cover_of).collect())
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

/// What the cover search looks at for one album.
struct AlbumFiles {
    album_id: String,
    /// Touched by this scan: probed for embedded pictures, and its cover is set even to none.
    touched: bool,
    /// The folders holding its tracks (uploads have none).
    dirs: Vec<PathBuf>,
    /// Its first two tracks as (id, file), in disc/track order, uploads left out.
    first_tracks: Vec<(String, PathBuf)>,
}

impl AlbumFiles {
    /// An album this scan left as it was, from its folders as (library, folder).
    fn of_folders(album_id: String, folders: &[(String, String)]) -> Self {
        AlbumFiles {
            album_id,
            touched: false,
            dirs: folders
                .iter()
                .filter(|(library, _)| library != crate::UPLOADS_LIBRARY)
                .map(|(library, folder)| Path::new(library).join(folder))
                .collect(),
            first_tracks: Vec::new(),
        }
    }

    /// A touched album, from its live files as (id, library, path) in disc/track order.
    fn of_files(album_id: String, files: &[(String, String, String)]) -> Self {
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut first_tracks = Vec::new();
        for (id, library, path) in files {
            if library == crate::UPLOADS_LIBRARY {
                continue;
            }
            let file = Path::new(library).join(path);
            if let Some(dir) = file.parent() {
                if !dirs.iter().any(|d| d == dir) {
                    dirs.push(dir.to_path_buf());
                }
            }
            if first_tracks.len() < 2 {
                first_tracks.push((id.clone(), file));
            }
        }
        AlbumFiles {
            album_id,
            touched: true,
            dirs,
            first_tracks,
        }
    }
}

/// The cover of one album. `None` when there is nothing to set: no folder image, and the
/// album was not touched.
fn cover_of(album: AlbumFiles) -> Option<Cover> {
    if let Some(image) = album.dirs.iter().find_map(|d| folder_image(d)) {
        return Some((
            album.album_id,
            Some(image.to_string_lossy().into_owned()),
            None,
        ));
    }
    if !album.touched {
        return None;
    }
    let embedded = album
        .first_tracks
        .iter()
        .find(|(_, file)| crate::tags::read_picture(file).is_some())
        .map(|(id, _)| id.clone());
    Some((album.album_id, None, embedded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_images_are_told_by_name() {
        for named in [
            "a/cover.jpg",
            "a/Folder.PNG",
            "front.webp",
            "a/b/ALBUM.jpeg",
        ] {
            assert!(is_cover_image(Path::new(named)), "{named}");
        }
        for other in ["a/cover.txt", "a/backcover.jpg", "a/cover", "a/.cover.jpg"] {
            assert!(!is_cover_image(Path::new(other)), "{other}");
        }
    }

    #[test]
    fn a_folder_has_one_key_however_spelled() {
        assert_eq!(
            folder_key(Path::new("/m/a/b/")),
            folder_key(Path::new("/m/a/b"))
        );
        assert_eq!(
            folder_key(&Path::new("/m").join("")),
            folder_key(Path::new("/m"))
        );
    }
}
