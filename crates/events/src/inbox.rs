//! Idempotent consumption: a consumer records each event id it has applied, in the same
//! transaction as the effect. A redelivered event finds its id and is skipped.

use std::collections::HashSet;

use beatstream_core::Timestamp;
use sqlx::{AnyConnection, Row};

/// True the first time `consumer` sees `event_id`; false for a redelivery. Call it inside the
/// transaction that applies the event, and skip the effect when it returns false.
pub async fn first_delivery(
    conn: &mut AnyConnection,
    consumer: &str,
    event_id: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(consumer)
    .bind(event_id)
    .bind(Timestamp::now().millis())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Ids per statement in the batch forms below (three values a row, within both backends'
/// parameter limits).
const CHUNK: usize = 256;

/// `ids` padded with copies of its last id to a power of two: a repeated id changes nothing in
/// these statements, and a handful of statement shapes stay in the connection's cache of
/// prepared statements where one shape per batch length would crowd it out.
fn padded<'a>(ids: &[&'a str]) -> Vec<&'a str> {
    let mut padded = ids.to_vec();
    if let Some(last) = ids.last() {
        padded.resize(ids.len().next_power_of_two(), last);
    }
    padded
}

/// [`first_delivery`] for a batch, in one statement per few hundred ids: records every id and
/// returns those `consumer` had not seen before. An id given twice is returned once, so a
/// caller that applies an event when it can take its id out of the set applies it once.
pub async fn first_deliveries(
    conn: &mut AnyConnection,
    consumer: &str,
    event_ids: &[&str],
) -> Result<HashSet<String>, sqlx::Error> {
    let now = Timestamp::now().millis();
    let mut first = HashSet::with_capacity(event_ids.len());
    // In one order, so that two instances of a group inserting overlapping batches take
    // PostgreSQL's key locks in the same order and never deadlock.
    let mut event_ids = event_ids.to_vec();
    event_ids.sort_unstable();
    event_ids.dedup();
    for chunk in event_ids.chunks(CHUNK) {
        let chunk = padded(chunk);
        let sql = format!(
            "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES {} \
             ON CONFLICT DO NOTHING RETURNING event_id",
            beatstream_db::value_rows(conn, chunk.len(), 3)
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(consumer).bind(id).bind(now);
        }
        for row in query.fetch_all(&mut *conn).await? {
            first.insert(row.try_get::<String, _>("event_id")?);
        }
    }
    Ok(first)
}

/// The ids among `event_ids` that `consumer` has recorded, in one query per few hundred.
pub async fn handled_of(
    conn: &mut AnyConnection,
    consumer: &str,
    event_ids: &[&str],
) -> Result<HashSet<String>, sqlx::Error> {
    let mut handled = HashSet::new();
    for chunk in event_ids.chunks(CHUNK) {
        let chunk = padded(chunk);
        let sql = format!(
            "SELECT event_id FROM processed_events WHERE consumer = {} AND event_id IN ({})",
            beatstream_db::bulk_placeholders(conn, 1, 1),
            beatstream_db::bulk_placeholders(conn, 2, chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(consumer);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            handled.insert(row.try_get::<String, _>("event_id")?);
        }
    }
    Ok(handled)
}
