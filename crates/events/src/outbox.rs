//! The transactional outbox: events are rows in the service's own database, written in the
//! same transaction as the change they describe, and relayed to the bus afterwards.
//!
//! Every service's migrations create the same two tables (see `docs/events.md`):
//! `outbox (seq, event_id, topic, envelope)` and `processed_events (consumer, event_id,
//! processed_at)`, the latter used by [`crate::inbox`].

use std::sync::Arc;
use std::time::Duration;

use beatstream_db::Db;
use sqlx::{AnyConnection, Row};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{Envelope, Event, EventBus};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("event does not serialize: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("outbox database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Appends `event` to the outbox inside the caller's transaction; returns its envelope.
pub async fn append<E: Event>(
    conn: &mut AnyConnection,
    event: &E,
) -> Result<Envelope, OutboxError> {
    let envelope = Envelope::new(event)?;
    let text = serde_json::to_string(&envelope)?;
    sqlx::query("INSERT INTO outbox (event_id, topic, envelope) VALUES ($1, $2, $3)")
        .bind(&envelope.id)
        .bind(&envelope.topic)
        .bind(text)
        .execute(conn)
        .await?;
    Ok(envelope)
}

/// Appends many events in one statement per few hundred (bulk changes such as a library scan).
pub async fn append_all(
    conn: &mut AnyConnection,
    envelopes: &[Envelope],
) -> Result<(), OutboxError> {
    for chunk in envelopes.chunks(300) {
        let sql = format!(
            "INSERT INTO outbox (event_id, topic, envelope) VALUES {}",
            beatstream_db::value_rows(conn, chunk.len(), 3)
        );
        let mut query = sqlx::query(&sql);
        for envelope in chunk {
            query = query
                .bind(envelope.id.clone())
                .bind(envelope.topic.clone())
                .bind(serde_json::to_string(envelope)?);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Wakes a relay right after a commit, so events go out at once instead of at the next poll.
#[derive(Clone, Default)]
pub struct OutboxWaker(Arc<Notify>);

impl OutboxWaker {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Publishes one service database's outbox to the bus, in order.
pub struct OutboxRelay {
    service: &'static str,
    db: Db,
    bus: Arc<dyn EventBus>,
    waker: OutboxWaker,
}

/// Rows are polled this often even without a wake-up (covers rows left by a crash).
const POLL_INTERVAL: Duration = Duration::from_secs(1);
const BATCH: i64 = 100;
/// How long a wake-up waits for more commits before relaying.
const GATHER: Duration = Duration::from_millis(5);

impl OutboxRelay {
    pub fn new(service: &'static str, db: Db, bus: Arc<dyn EventBus>) -> Self {
        OutboxRelay {
            service,
            db,
            bus,
            waker: OutboxWaker::default(),
        }
    }

    pub fn waker(&self) -> OutboxWaker {
        self.waker.clone()
    }

    /// Relays until `shutdown`, then relays what is left once more (the shutdown flush).
    pub async fn run(self, shutdown: CancellationToken) {
        let mut failures: u32 = 0;
        loop {
            match self.relay_pending().await {
                Ok(_) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(service = self.service, error = %e, "outbox relay failed; retrying");
                }
            }
            let wait = if failures == 0 {
                POLL_INTERVAL
            } else {
                POLL_INTERVAL * failures.min(10)
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                // Let the commits of a busy moment land, so that they go out (and are deleted,
                // and taken in by consumers) in one batch rather than one by one.
                _ = self.waker.0.notified() => tokio::time::sleep(GATHER).await,
                _ = tokio::time::sleep(wait) => {}
            }
        }
        match tokio::time::timeout(Duration::from_secs(10), self.relay_pending()).await {
            Ok(Ok(n)) => tracing::info!(service = self.service, flushed = n, "outbox flushed"),
            Ok(Err(e)) => {
                tracing::warn!(service = self.service, error = %e, "outbox flush failed; rows stay for the next start")
            }
            Err(_) => tracing::warn!(
                service = self.service,
                "outbox flush timed out; rows stay for the next start"
            ),
        }
    }

    /// Publishes every pending row in order, deleting each once the bus accepted it.
    /// Returns how many were published.
    pub async fn relay_pending(&self) -> Result<usize, RelayError> {
        // Test hook: FAILPOINTS=outbox-relay=return holds events in the outbox.
        if fail::eval("outbox-relay", |_| ()).is_some() {
            return Ok(0);
        }
        let mut published = 0;
        loop {
            let rows = sqlx::query("SELECT seq, envelope FROM outbox ORDER BY seq LIMIT $1")
                .bind(BATCH)
                .fetch_all(self.db.pool())
                .await?;
            if rows.is_empty() {
                return Ok(published);
            }
            let mut done: Vec<i64> = Vec::with_capacity(rows.len());
            let mut envelopes = Vec::with_capacity(rows.len());
            for row in rows {
                let seq: i64 = row.try_get("seq")?;
                let text: String = row.try_get("envelope")?;
                match serde_json::from_str::<Envelope>(&text) {
                    Ok(envelope) => envelopes.push(envelope),
                    Err(e) => {
                        tracing::error!(service = self.service, seq, error = %e, "dropping an outbox row that does not parse");
                    }
                }
                done.push(seq);
            }
            // The batch goes out as one burst. If the bus fails part-way, every row stays and
            // goes out again: consumers skip what they already handled.
            self.bus
                .publish_all(&envelopes)
                .await
                .map_err(|e| RelayError::Bus(e.to_string()))?;
            published += envelopes.len();
            metrics::counter!("beatstream_events_published_total", "service" => self.service)
                .increment(envelopes.len() as u64);
            // One delete per batch. By the rows' own numbers, not "up to the last one": on
            // PostgreSQL a lower number can commit after a higher one was relayed.
            self.delete(&done).await?;
        }
    }

    async fn delete(&self, seqs: &[i64]) -> Result<(), sqlx::Error> {
        if seqs.is_empty() {
            return Ok(());
        }
        let list = seqs
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        self.db
            .execute_write(sqlx::query(&format!(
                "DELETE FROM outbox WHERE seq IN ({list})"
            )))
            .await?;
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("reading the outbox: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Bus(String),
}

/// Rows still waiting in the outbox (for tests and `/metrics`).
pub async fn pending_count(db: &Db) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox")
        .fetch_one(db.pool())
        .await?;
    row.try_get("n")
}
