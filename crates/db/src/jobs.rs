//! One-off jobs a service does once in its life (filling a read model from the catalog, say),
//! recorded in its own `jobs_done (name TEXT PRIMARY KEY, done_at)` table.

use sqlx::{AnyConnection, AnyPool};

/// Whether the job `name` is recorded as done.
pub async fn is_done(pool: &AnyPool, name: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 AS one FROM jobs_done WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?
            .is_some(),
    )
}

/// Records the job `name` as done now (again: no change). Call it in the transaction that
/// finishes the job.
pub async fn mark_done(
    conn: &mut AnyConnection,
    name: &str,
    now_millis: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO jobs_done (name, done_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(now_millis)
    .execute(conn)
    .await?;
    Ok(())
}
