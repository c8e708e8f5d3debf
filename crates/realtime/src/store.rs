//! The realtime service's tables: a listener's devices with their last playback state, and the
//! open connections of those devices on each realtime instance (what makes a device online).

use beatstream_db::Db;
use sqlx::Row;

use crate::playback::PlaybackState;

#[derive(Clone)]
pub struct RealtimeStore {
    db: Db,
}

/// What a socket says about its device when it connects.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    pub id: String,
    pub name: String,
    pub kind: String,
}

/// A device as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRow {
    pub device_id: String,
    pub name: String,
    pub kind: String,
    pub state: Option<PlaybackState>,
    /// When `state` was reported (Unix ms).
    pub state_at: Option<i64>,
    pub last_connected_at: i64,
    pub online: bool,
}

impl RealtimeStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Records a device's socket: the device (created or renamed) and the connection.
    pub async fn connect(
        &self,
        connection_id: &str,
        user_id: &str,
        device: &DeviceInfo,
        instance_id: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO devices (user_id, device_id, name, kind, last_connected_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, device_id) DO UPDATE SET \
             name = excluded.name, kind = excluded.kind, last_connected_at = excluded.last_connected_at",
        )
        .bind(user_id)
        .bind(&device.id)
        .bind(&device.name)
        .bind(&device.kind)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO connections (connection_id, user_id, device_id, instance_id, connected_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(connection_id)
        .bind(user_id)
        .bind(&device.id)
        .bind(instance_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    pub async fn disconnect(&self, connection_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        sqlx::query("DELETE FROM connections WHERE connection_id = $1")
            .bind(connection_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Keeps this instance's connections fresh, forgets those of instances that stopped
    /// refreshing theirs before `stale_before`, and devices unseen since `forget_before`.
    pub async fn heartbeat(
        &self,
        instance_id: &str,
        now: i64,
        stale_before: i64,
        forget_before: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE connections SET last_seen_at = $1 WHERE instance_id = $2")
            .bind(now)
            .bind(instance_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM connections WHERE last_seen_at < $1")
            .bind(stale_before)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM devices WHERE last_connected_at < $1 AND NOT EXISTS \
             (SELECT 1 FROM connections c WHERE c.user_id = devices.user_id AND c.device_id = devices.device_id)",
        )
        .bind(forget_before)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Stores a device's state; false when the device is unknown.
    pub async fn save_state(
        &self,
        user_id: &str,
        device_id: &str,
        state: &PlaybackState,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let text = serde_json::to_string(state).unwrap_or_default();
        let mut tx = self.db.begin_write().await?;
        let done = sqlx::query(
            "UPDATE devices SET state = $1, state_at = $2 WHERE user_id = $3 AND device_id = $4",
        )
        .bind(text)
        .bind(now)
        .bind(user_id)
        .bind(device_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The user's devices, most recently used first; a device is online when one of its
    /// connections was seen since `online_since`.
    pub async fn devices(
        &self,
        user_id: &str,
        online_since: i64,
    ) -> Result<Vec<DeviceRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT d.device_id, d.name, d.kind, d.state, d.state_at, d.last_connected_at, \
             (SELECT COUNT(*) FROM connections c WHERE c.user_id = d.user_id \
                AND c.device_id = d.device_id AND c.last_seen_at >= $2) AS online \
             FROM devices d WHERE d.user_id = $1 \
             ORDER BY COALESCE(d.state_at, 0) DESC, d.last_connected_at DESC, d.device_id",
        )
        .bind(user_id)
        .bind(online_since)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let state: Option<String> = row.try_get("state")?;
                Ok(DeviceRow {
                    device_id: row.try_get("device_id")?,
                    name: row.try_get("name")?,
                    kind: row.try_get("kind")?,
                    state: state.and_then(|text| serde_json::from_str(&text).ok()),
                    state_at: row.try_get("state_at")?,
                    last_connected_at: row.try_get("last_connected_at")?,
                    online: row.try_get::<i64, _>("online")? > 0,
                })
            })
            .collect()
    }
}
