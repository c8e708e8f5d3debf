//! Scan reports, kept so `GET /api/v1/library/scan` survives restarts.

use beatstream_core::Timestamp;
use sqlx::{AnyConnection, Row};

use super::CatalogStore;
use crate::scan::{ScanProblem, ScanReport, ScanState};

impl CatalogStore {
    pub async fn save_scan(
        &self,
        conn: &mut AnyConnection,
        report: &ScanReport,
    ) -> Result<(), sqlx::Error> {
        let errors: Vec<serde_json::Value> = report
            .errors
            .iter()
            .map(|e| serde_json::json!({"path": e.path, "reason": e.reason}))
            .collect();
        sqlx::query(
            "INSERT INTO scans (id, state, files_seen, tracks_added, tracks_updated, tracks_removed, errors, started_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, files_seen = excluded.files_seen, \
             tracks_added = excluded.tracks_added, tracks_updated = excluded.tracks_updated, \
             tracks_removed = excluded.tracks_removed, errors = excluded.errors, \
             started_at = excluded.started_at, finished_at = excluded.finished_at",
        )
        .bind(&report.id)
        .bind("idle")
        .bind(report.files_seen as i64)
        .bind(report.tracks_added as i64)
        .bind(report.tracks_updated as i64)
        .bind(report.tracks_removed as i64)
        .bind(serde_json::Value::Array(errors).to_string())
        .bind(report.started_at.map(Timestamp::millis))
        .bind(report.finished_at.map(Timestamp::millis))
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn latest_scan(&self) -> Result<Option<ScanReport>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, files_seen, tracks_added, tracks_updated, tracks_removed, errors, started_at, finished_at \
             FROM scans ORDER BY started_at DESC, id DESC LIMIT 1",
        )
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let errors: String = row.try_get("errors")?;
        let errors: Vec<ScanProblem> = serde_json::from_str::<Vec<serde_json::Value>>(&errors)
            .unwrap_or_default()
            .into_iter()
            .map(|v| ScanProblem {
                path: v["path"].as_str().unwrap_or_default().to_string(),
                reason: v["reason"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        Ok(Some(ScanReport {
            id: row.try_get("id")?,
            state: ScanState::Idle,
            files_seen: row.try_get::<i64, _>("files_seen")? as u64,
            tracks_added: row.try_get::<i64, _>("tracks_added")? as u64,
            tracks_updated: row.try_get::<i64, _>("tracks_updated")? as u64,
            tracks_removed: row.try_get::<i64, _>("tracks_removed")? as u64,
            error_count: errors.len() as u64,
            errors,
            started_at: row
                .try_get::<Option<i64>, _>("started_at")?
                .map(Timestamp::from_millis),
            finished_at: row
                .try_get::<Option<i64>, _>("finished_at")?
                .map(Timestamp::from_millis),
        }))
    }

    /// A named secret of this service, created with `make` on first use.
    pub async fn secret(
        &self,
        name: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, sqlx::Error> {
        if let Some(row) = sqlx::query("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(self.db.pool())
            .await?
        {
            return row.try_get("value");
        }
        self.db
            .execute_write(
                sqlx::query(
                    "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(name)
                .bind(make()),
            )
            .await?;
        sqlx::query("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_one(self.db.pool())
            .await?
            .try_get("value")
    }
}
