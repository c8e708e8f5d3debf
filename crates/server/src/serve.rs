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
