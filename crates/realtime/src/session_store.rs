//! The tables of group sessions: `sessions` (the shared state, changed by compare-and-set on
//! `version`) and `session_members`.

use beatstream_db::Db;
use sqlx::Row;

use crate::session::{Session, SessionState};

#[derive(Clone)]
pub struct SessionStore {
    db: Db,
}

impl SessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn create(
        &self,
        id: &str,
        owner: (&str, &str),
        invite_code: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let state = serde_json::to_string(&SessionState {
            at: now,
            ..SessionState::default()
        })
        .unwrap_or_default();
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (id, owner_id, invite_code, state, version, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5)",
        )
        .bind(id)
        .bind(owner.0)
        .bind(invite_code)
        .bind(state)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO session_members (session_id, user_id, username, joined_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(owner.0)
        .bind(owner.1)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// A session that has not ended, with its members.
    pub async fn get(&self, id: &str) -> Result<Option<Session>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, owner_id, invite_code, state, version, created_at FROM sessions \
             WHERE id = $1 AND ended_at IS NULL",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let members = sqlx::query(
            "SELECT user_id, username, joined_at FROM session_members WHERE session_id = $1 \
             ORDER BY joined_at, user_id",
        )
        .bind(id)
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(|m| {
            Ok((
                m.try_get("user_id")?,
                m.try_get("username")?,
                m.try_get("joined_at")?,
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let state: String = row.try_get("state")?;
        Ok(Some(Session {
            id: row.try_get("id")?,
            owner_id: row.try_get("owner_id")?,
            invite_code: row.try_get("invite_code")?,
            state: serde_json::from_str(&state).unwrap_or_default(),
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            members,
        }))
    }

    pub async fn id_by_invite(&self, invite_code: &str) -> Result<Option<String>, sqlx::Error> {
        let row =
            sqlx::query("SELECT id FROM sessions WHERE invite_code = $1 AND ended_at IS NULL")
                .bind(invite_code)
                .fetch_optional(self.db.pool())
                .await?;
        row.map(|r| r.try_get("id")).transpose()
    }

    /// The live sessions `user_id` is in: `(id, owner id)`.
    pub async fn sessions_of(&self, user_id: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
        sqlx::query(
            "SELECT s.id, s.owner_id FROM sessions s JOIN session_members m ON m.session_id = s.id \
             WHERE m.user_id = $1 AND s.ended_at IS NULL",
        )
        .bind(user_id)
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("owner_id")?)))
        .collect()
    }

    /// The live session `user_id` joined last.
    pub async fn current_of(&self, user_id: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT s.id FROM sessions s JOIN session_members m ON m.session_id = s.id \
             WHERE m.user_id = $1 AND s.ended_at IS NULL ORDER BY m.joined_at DESC LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(self.db.pool())
        .await?;
        row.map(|r| r.try_get("id")).transpose()
    }

    /// Stores `state` if the session is still at `version`; false when someone changed it first.
    pub async fn save_state(
        &self,
        id: &str,
        version: i64,
        state: &SessionState,
    ) -> Result<bool, sqlx::Error> {
        let text = serde_json::to_string(state).unwrap_or_default();
        let mut tx = self.db.begin_write().await?;
        let done = sqlx::query(
            "UPDATE sessions SET state = $1, version = version + 1 \
             WHERE id = $2 AND version = $3 AND ended_at IS NULL",
        )
        .bind(text)
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Adds a member (again: nothing changes) and bumps the version.
    pub async fn add_member(
        &self,
        id: &str,
        user: (&str, &str),
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        let added = sqlx::query(
            "INSERT INTO session_members (session_id, user_id, username, joined_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, user_id) DO NOTHING",
        )
        .bind(id)
        .bind(user.0)
        .bind(user.1)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if added.rows_affected() > 0 {
            sqlx::query("UPDATE sessions SET version = version + 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    pub async fn remove_member(&self, id: &str, user_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        sqlx::query("DELETE FROM session_members WHERE session_id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE sessions SET version = version + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    pub async fn end(&self, id: &str, now: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}
