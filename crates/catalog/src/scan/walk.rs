//! Walking library folders: every audio file with its size and modification time. Symlinks
//! are followed, loops are reported and skipped, hidden entries are ignored.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::format::is_audio_path;

/// An audio file found on disk.
#[derive(Debug, Clone)]
pub struct FoundFile {
    pub library: String,
    /// Relative to the library folder, `/`-separated.
    pub path: String,
    pub absolute: PathBuf,
    pub size: i64,
    pub mtime: i64,
}

/// Something the walk could not read, relative to its library folder.
#[derive(Debug, Clone)]
pub struct WalkProblem {
    pub path: String,
    pub reason: String,
}

/// The name a library folder is stored under: its canonical absolute path.
pub fn library_name(root: &Path) -> String {
    std::fs::canonicalize(root)
        .unwrap_or_else(|_| root.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Walks one library folder. Blocking: run it on a blocking thread.
pub fn walk_library(
    root: &Path,
    on_file: &mut dyn FnMut(FoundFile),
    problems: &mut Vec<WalkProblem>,
) {
    walk_library_noting_covers(root, on_file, &mut |_| {}, problems);
}

/// [`walk_library`], also calling `on_cover_image` with every file named as a folder image
/// (see [`super::covers::is_cover_image`]), so the cover search need not list folders again.
pub fn walk_library_noting_covers(
    root: &Path,
    on_file: &mut dyn FnMut(FoundFile),
    on_cover_image: &mut dyn FnMut(&Path),
    problems: &mut Vec<WalkProblem>,
) {
    let library = library_name(root);
    let root = PathBuf::from(&library);
    if !root.is_dir() {
        problems.push(WalkProblem {
            path: String::new(),
            reason: "the library folder does not exist or is not a folder".into(),
        });
        return;
    }
    let walker = walkdir::WalkDir::new(&root)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().map(|p| relative(&root, p)).unwrap_or_default();
                let reason = if e.loop_ancestor().is_some() {
                    "symbolic link loop; skipped".to_string()
                } else {
                    e.io_error()
                        .map(|io| io.kind().to_string())
                        .unwrap_or_else(|| "unreadable".into())
                };
                problems.push(WalkProblem { path, reason });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        if !is_audio_path(entry.path()) {
            if super::covers::is_cover_image(entry.path()) {
                on_cover_image(entry.path());
            }
            continue;
        }
        let metadata = match entry.metadata() {
            Ok(m) => m,
            Err(e) => {
                problems.push(WalkProblem {
                    path: relative(&root, entry.path()),
                    reason: e
                        .io_error()
                        .map(|io| io.kind().to_string())
                        .unwrap_or_else(|| "unreadable".into()),
                });
                continue;
            }
        };
        let mtime = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        on_file(FoundFile {
            library: library.clone(),
            path: relative(&root, entry.path()),
            absolute: entry.path().to_path_buf(),
            size: i64::try_from(metadata.len()).unwrap_or(i64::MAX),
            mtime,
        });
    }
}
