//! `beatstream scan`: scan the library folders once with a progress bar, print a summary, exit.
//!
//! It writes the catalog directly. The events it records wait in the catalog's outbox until a
//! `beatstream serve` relays them (at once if one is running on the same data).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use beatstream_catalog::scan::{ScanProgress, ScanReport};
use beatstream_config::Config;
use indicatif::{ProgressBar, ProgressStyle};

use crate::wiring;

/// Problems listed in the summary; the rest are counted.
const LISTED_PROBLEMS: usize = 20;

pub async fn scan_once(config: &Config) -> anyhow::Result<()> {
    if config.library.is_empty() {
        bail!("no library folders to scan: pass --library DIR (repeatable) or set `library` in the config");
    }
    let (catalog, db, location) = wiring::open_catalog(config).await?;
    println!("Scanning {} into {}", describe(config), location.describe());

    let progress: ScanProgress = Arc::new(Mutex::new(ScanReport::queued(
        uuid::Uuid::now_v7().to_string(),
    )));
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    let ticker = {
        let bar = bar.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            loop {
                let report = progress.lock().unwrap_or_else(|p| p.into_inner()).clone();
                bar.set_message(format!(
                    "{} files, {} added, {} updated, {} removed, {} problems",
                    report.files_seen,
                    report.tracks_added,
                    report.tracks_updated,
                    report.tracks_removed,
                    report.error_count
                ));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let started = Instant::now();
    let result = catalog.scan_now(&progress).await;
    ticker.abort();
    bar.finish_and_clear();
    let report = result
        .map_err(|e| anyhow::anyhow!("the scan failed: {e}"))
        .context("scanning")?;
    println!(
        "Scanned {} files in {:.1} s: {} added, {} updated, {} removed, {} problems.",
        report.files_seen,
        started.elapsed().as_secs_f64(),
        report.tracks_added,
        report.tracks_updated,
        report.tracks_removed,
        report.error_count
    );
    for problem in report.errors.iter().take(LISTED_PROBLEMS) {
        println!(
            "  {}: {}",
            if problem.path.is_empty() {
                "(library)"
            } else {
                &problem.path
            },
            problem.reason
        );
    }
    if report.error_count as usize > LISTED_PROBLEMS {
        println!(
            "  ... and {} more (GET /api/v1/library/scan lists them)",
            report.error_count as usize - LISTED_PROBLEMS
        );
    }
    db.close().await;
    Ok(())
}

fn describe(config: &Config) -> String {
    config
        .library
        .iter()
        .map(|l| l.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
