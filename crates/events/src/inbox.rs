//! Idempotent consumption: a consumer records each event id it has applied, in the same
//! transaction as the effect. A redelivered event finds its id and is skipped.

use beatstream_core::Timestamp;
use sqlx::AnyConnection;

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
