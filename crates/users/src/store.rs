//! The users service's table. SQL is written once for SQLite and PostgreSQL (see the db crate).

use beatstream_core::{Page, Timestamp, UserId, UserRole};
use beatstream_db::Db;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::model::{Preferences, Profile};

#[derive(Clone)]
pub struct UsersStore {
    db: Db,
}

const COLUMNS: &str =
    "user_id, username, display_name, email, role, disabled, preferences, created_at, updated_at";

fn profile_from_row(row: &AnyRow) -> Result<Profile, sqlx::Error> {
    let role: String = row.try_get("role")?;
    let preferences: String = row.try_get("preferences")?;
    Ok(Profile {
        user_id: UserId(row.try_get("user_id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        role: UserRole::parse(&role).unwrap_or(UserRole::User),
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        // A row this service wrote always parses; fall back rather than fail the whole read.
        preferences: serde_json::from_str(&preferences).unwrap_or_default(),
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
    })
}

fn preferences_json(preferences: &Preferences) -> String {
    serde_json::to_string(preferences).unwrap_or_else(|_| "{}".into())
}

impl UsersStore {
    pub fn new(db: Db) -> Self {
        UsersStore { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Inserts a profile unless one exists for that user (redelivered events).
    pub async fn insert_profile(
        conn: &mut AnyConnection,
        p: &Profile,
    ) -> Result<bool, sqlx::Error> {
        let sql = format!(
            "INSERT INTO profiles ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
        );
        let result = sqlx::query(&sql)
            .bind(p.user_id.as_str())
            .bind(&p.username)
            .bind(p.display_name.clone())
            .bind(p.email.clone())
            .bind(p.role.as_str())
            .bind(i64::from(p.disabled))
            .bind(preferences_json(&p.preferences))
            .bind(p.created_at.millis())
            .bind(p.updated_at.millis())
            .execute(conn)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn get(&self, user_id: &UserId) -> Result<Option<Profile>, sqlx::Error> {
        let mut conn = self.db.pool().acquire().await?;
        Self::get_in(&mut conn, user_id).await
    }

    pub async fn get_in(
        conn: &mut AnyConnection,
        user_id: &UserId,
    ) -> Result<Option<Profile>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM profiles WHERE user_id = $1");
        sqlx::query(&sql)
            .bind(user_id.as_str())
            .fetch_optional(conn)
            .await?
            .as_ref()
            .map(profile_from_row)
            .transpose()
    }

    /// Writes every mutable field of `p`.
    pub async fn update(conn: &mut AnyConnection, p: &Profile) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE profiles SET display_name = $1, email = $2, role = $3, disabled = $4, preferences = $5, \
             updated_at = $6 WHERE user_id = $7",
        )
        .bind(p.display_name.clone())
        .bind(p.email.clone())
        .bind(p.role.as_str())
        .bind(i64::from(p.disabled))
        .bind(preferences_json(&p.preferences))
        .bind(p.updated_at.millis())
        .bind(p.user_id.as_str())
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Profiles in id order (ids are time-ordered, so this is sign-up order), `limit + 1` rows.
    pub async fn list(&self, page: &Page) -> Result<Vec<Profile>, sqlx::Error> {
        let limit = i64::from(page.limit) + 1;
        let rows = match &page.after {
            Some(after) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM profiles WHERE user_id > $1 ORDER BY user_id LIMIT $2"
                );
                sqlx::query(&sql)
                    .bind(after.clone())
                    .bind(limit)
                    .fetch_all(self.db.pool())
                    .await?
            }
            None => {
                let sql = format!("SELECT {COLUMNS} FROM profiles ORDER BY user_id LIMIT $1");
                sqlx::query(&sql)
                    .bind(limit)
                    .fetch_all(self.db.pool())
                    .await?
            }
        };
        rows.iter().map(profile_from_row).collect()
    }

    pub async fn count_active_admins(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT COUNT(*) AS n FROM profiles WHERE role = 'admin' AND disabled = 0")
            .fetch_one(conn)
            .await?
            .try_get("n")
    }
}
