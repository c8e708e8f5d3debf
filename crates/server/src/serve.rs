//! `beatstream serve`: bind, serve until SIGINT/SIGTERM, then shut down in order: stop
//! accepting, let in-flight requests finish (up to `http.shutdown_grace_secs`), stop the outbox
//! relays after a last flush (consumers still running, so in process it is delivered), stop the
//! consumers, close the databases.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use beatstream_config::Config;

use crate::wiring;

pub async fn serve(config: Config) -> anyhow::Result<()> {
    beatstream_core::runtimes::start().context("starting the background threads")?;
    let wired = wiring::wire(&config).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr().context("reading the bound address")?;
    let data_dir =
        std::fs::canonicalize(&config.data_dir).unwrap_or_else(|_| config.data_dir.clone());
    println!("Beatstream listening on http://{address}");
    println!("  data: {}", data_dir.display());
    for line in &wired.locations {
        println!("  {line}");
    }
    let roles: Vec<&str> = config.roles.iter().map(|r| r.as_str()).collect();
    tracing::info!(%address, data_dir = %data_dir.display(), roles = ?roles, "serving");
    let stop_announcing = tokio_util::sync::CancellationToken::new();
    let announcing = match &wired.discovery {
        Some(discovery) => {
            let me = beatstream_discovery::Instance {
                id: uuid::Uuid::new_v4().simple().to_string(),
                address: if config.discovery.advertise.is_empty() {
                    format!("http://{address}")
                } else {
                    config.discovery.advertise.clone()
                },
                roles: roles.iter().map(|r| r.to_string()).collect(),
                started_at: beatstream_core::Timestamp::now().millis(),
            };
            let every = Duration::from_secs(config.discovery.ttl_secs).div_f64(3.0);
            Some(
                beatstream_discovery::keep_announced(
                    discovery.clone(),
                    me,
                    every,
                    stop_announcing.clone(),
                )
                .await
                .context("announcing this instance")?,
            )
        }
        None => None,
    };

    let stop_trimming = tokio_util::sync::CancellationToken::new();
    tokio::spawn(release_freed_memory(stop_trimming.clone()));
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let stop_accepting = tokio_util::sync::CancellationToken::new();
    let server = axum::serve(
        listener,
        wired
            .router
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop_accepting.clone().cancelled_owned());
    let mut server = std::pin::pin!(std::future::IntoFuture::into_future(server));

    tokio::select! {
        result = &mut server => result.context("HTTP server failed")?,
        signal = shutdown_signal() => {
            tracing::info!(signal, "shutting down: finishing in-flight requests");
            // Leave discovery first, so no new request is routed here.
            stop_announcing.cancel();
            if let Some(announcing) = announcing {
                let _ = tokio::time::timeout(Duration::from_secs(2), announcing).await;
            }
            stop_accepting.cancel();
            let grace = Duration::from_secs(config.http.shutdown_grace_secs);
            match tokio::time::timeout(grace, &mut server).await {
                Ok(result) => result.context("HTTP server failed")?,
                Err(_) => tracing::warn!(?grace, "in-flight requests did not finish in time"),
            }
        }
    }

    stop_trimming.cancel();
    // Relays first: their last flush may need the consumers (in-process bus).
    wired.stop_relays.cancel();
    join_all_within(wired.relays, "outbox relay").await;
    wired.stop_consumers.cancel();
    join_all_within(wired.consumers, "event consumer").await;
    for db in &wired.dbs {
        db.close().await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// How often the allocator's freed memory is checked (often enough that a burst's leftovers go
/// within seconds of its end), by how much the process may grow since the last trim, and how
/// much glibc must hold freed, before it trims.
const TRIM_EVERY: Duration = Duration::from_secs(2);
const TRIM_GROWTH: usize = 8 << 20;
const TRIM_ABOVE: usize = 16 << 20;

/// Hands freed memory back to the system when the process grew by over [`TRIM_GROWTH`] since
/// the last trim and glibc holds at least [`TRIM_ABOVE`] in free chunks. The services trim after
/// their own bursts (a scan, a search rebuild, a training); this catches the rest, such as the
/// other services' intake of a first scan's events, which left a server at 150 to 164 MB for
/// as long as nothing else trimmed. Growth is measured on the resident size: a trim gives the
/// pages of free chunks back but keeps the chunks counted, so their count alone would either
/// trim every time or miss chunks used and freed again between two checks.
async fn release_freed_memory(stop: tokio_util::sync::CancellationToken) {
    use beatstream_core::memory;
    let mut after_last_trim = 0usize;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(TRIM_EVERY) => {}
        }
        // mallinfo2 and malloc_trim lock each heap in turn: off the async workers.
        let checked = tokio::task::spawn_blocking(move || {
            let resident = memory::resident()?;
            let held = memory::held_freed()?;
            if resident < after_last_trim.saturating_add(TRIM_GROWTH) || held < TRIM_ABOVE {
                return Some((resident, None));
            }
            let started = std::time::Instant::now();
            memory::release_freed();
            let took = started.elapsed();
            Some((memory::resident()?, Some((resident, took))))
        })
        .await;
        let Ok(Some((resident, trimmed))) = checked else {
            continue;
        };
        // Measured from the last trim, or from the lowest size since (another trim, say).
        after_last_trim = match trimmed {
            Some((before, took)) => {
                tracing::debug!(
                    before_mb = before >> 20,
                    after_mb = resident >> 20,
                    ?took,
                    "gave freed memory back"
                );
                resident
            }
            None => after_last_trim.min(resident),
        };
    }
}

async fn join_all_within(tasks: Vec<tokio::task::JoinHandle<()>>, what: &str) {
    for task in tasks {
        if tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .is_err()
        {
            tracing::warn!(what, "did not stop in time");
        }
    }
}

async fn shutdown_signal() -> &'static str {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => "SIGINT",
        _ = terminate => "SIGTERM",
    }
}
