//! Watching library folders: file-system events (notify) ask for an incremental scan once the
//! folders have been quiet for a moment, so a copy of a whole album is one scan, not hundreds.

use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio_util::sync::CancellationToken;

use crate::service::CatalogService;

/// How long the folders must be quiet before the scan starts.
const QUIET: Duration = Duration::from_secs(2);

/// Starts watching; returns `None` (and logs why) when the platform refuses.
pub fn spawn_watcher(
    catalog: CatalogService,
    shutdown: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let changed = std::sync::Arc::new(tokio::sync::Notify::new());
    let signal = changed.clone();
    let mut watcher =
        match notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event {
                if !event.kind.is_access() {
                    signal.notify_one();
                }
            }
        }) {
            Ok(watcher) => watcher,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the library folders; changes need a scan");
                return None;
            }
        };
    for library in &catalog.settings().libraries {
        match watcher.watch(library, RecursiveMode::Recursive) {
            Ok(()) => tracing::info!(library = %library.display(), "watching for changes"),
            Err(e) => {
                tracing::warn!(library = %library.display(), error = %e, "cannot watch a library folder")
            }
        }
    }
    Some(tokio::spawn(async move {
        let _watcher = watcher; // dropped (unwatched) when the task ends
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = changed.notified() => {}
            }
            // Wait for a quiet spell.
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = changed.notified() => continue,
                    _ = tokio::time::sleep(QUIET) => break,
                }
            }
            let id = catalog.request_scan();
            tracing::info!(scan_id = %id, "library changed; scanning");
        }
    }))
}
