//! The auth service's tables. SQL is written once for SQLite and PostgreSQL (see the db crate).

use beatstream_core::{Timestamp, UserId, UserRole};
use beatstream_db::Db;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::model::{ApiToken, AppPassword, Credentials, RefreshToken, StoredKey};

#[derive(Clone)]
pub struct AuthStore {
    db: Db,
}

fn opt_ts(value: Option<i64>) -> Option<Timestamp> {
    value.map(Timestamp::from_millis)
}

fn credentials_from_row(row: &AnyRow) -> Result<Credentials, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(Credentials {
        user_id: UserId(row.try_get("user_id")?),
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        role: UserRole::parse(&role).unwrap_or(UserRole::User),
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
    })
}

fn refresh_from_row(row: &AnyRow) -> Result<RefreshToken, sqlx::Error> {
    Ok(RefreshToken {
        token_hash: row.try_get("token_hash")?,
        user_id: UserId(row.try_get("user_id")?),
        family_id: row.try_get("family_id")?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        expires_at: Timestamp::from_millis(row.try_get("expires_at")?),
        used_at: opt_ts(row.try_get("used_at")?),
        revoked_at: opt_ts(row.try_get("revoked_at")?),
    })
}

const CREDENTIAL_COLUMNS: &str = "user_id, username, password_hash, role, disabled, created_at";

impl AuthStore {
    pub fn new(db: Db) -> Self {
        AuthStore { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn count_users(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT COUNT(*) AS n FROM credentials")
            .fetch_one(conn)
            .await?
            .try_get("n")
    }

    /// Inserts an account; a taken username surfaces as a unique violation.
    pub async fn insert_credentials(
        conn: &mut AnyConnection,
        c: &Credentials,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO credentials (user_id, username, username_key, password_hash, role, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.user_id.as_str())
        .bind(&c.username)
        .bind(c.username.to_lowercase())
        .bind(&c.password_hash)
        .bind(c.role.as_str())
        .bind(i64::from(c.disabled))
        .bind(c.created_at.millis())
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn credentials_by_username(
        &self,
        username: &str,
    ) -> Result<Option<Credentials>, sqlx::Error> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE username_key = $1");
        sqlx::query(&sql)
            .bind(username.to_lowercase())
            .fetch_optional(self.db.pool())
            .await?
            .as_ref()
            .map(credentials_from_row)
            .transpose()
    }

    pub async fn credentials_by_id_in(
        conn: &mut AnyConnection,
        user_id: &UserId,
    ) -> Result<Option<Credentials>, sqlx::Error> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE user_id = $1");
        sqlx::query(&sql)
            .bind(user_id.as_str())
            .fetch_optional(conn)
            .await?
            .as_ref()
            .map(credentials_from_row)
            .transpose()
    }

    /// Applies a role/disabled change from the users service. Returns false for unknown users.
    pub async fn set_account_state(
        conn: &mut AnyConnection,
        user_id: &UserId,
        role: UserRole,
        disabled: bool,
    ) -> Result<bool, sqlx::Error> {
        let result =
            sqlx::query("UPDATE credentials SET role = $1, disabled = $2 WHERE user_id = $3")
                .bind(role.as_str())
                .bind(i64::from(disabled))
                .bind(user_id.as_str())
                .execute(conn)
                .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn insert_refresh(
        conn: &mut AnyConnection,
        t: &RefreshToken,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&t.token_hash)
        .bind(t.user_id.as_str())
        .bind(&t.family_id)
        .bind(t.created_at.millis())
        .bind(t.expires_at.millis())
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn refresh_by_hash(
        conn: &mut AnyConnection,
        hash: &str,
    ) -> Result<Option<RefreshToken>, sqlx::Error> {
        sqlx::query(
            "SELECT token_hash, user_id, family_id, created_at, expires_at, used_at, revoked_at \
             FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(refresh_from_row)
        .transpose()
    }

    /// Marks a token used; false when another request used it first.
    pub async fn mark_refresh_used(
        conn: &mut AnyConnection,
        hash: &str,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now.millis())
        .bind(hash)
        .execute(conn)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn revoke_family(
        conn: &mut AnyConnection,
        family_id: &str,
        now: Timestamp,
    ) -> Result<u64, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
        )
        .bind(now.millis())
        .bind(family_id)
        .execute(conn)
        .await?;
        Ok(result.rows_affected())
    }

    pub async fn revoke_user_refresh_tokens(
        conn: &mut AnyConnection,
        user_id: &UserId,
        now: Timestamp,
    ) -> Result<u64, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now.millis())
        .bind(user_id.as_str())
        .execute(conn)
        .await?;
        Ok(result.rows_affected())
    }

    pub async fn signing_keys(&self) -> Result<Vec<StoredKey>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT kid, private_der, public_x, created_at, retired_at FROM signing_keys ORDER BY created_at",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                use base64::Engine;
                let der: String = row.try_get("private_der")?;
                Ok(StoredKey {
                    kid: row.try_get("kid")?,
                    private_der: base64::engine::general_purpose::STANDARD
                        .decode(der)
                        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                    public_x: row.try_get("public_x")?,
                    created_at: Timestamp::from_millis(row.try_get("created_at")?),
                    retired_at: opt_ts(row.try_get("retired_at")?),
                })
            })
            .collect()
    }

    /// Adds `key` as the active key and retires the others, in one transaction.
    pub async fn rotate_in_key(&self, key: &StoredKey) -> Result<(), sqlx::Error> {
        use base64::Engine;
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(key.created_at.millis())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, private_der, public_x, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&key.kid)
        .bind(base64::engine::general_purpose::STANDARD.encode(&key.private_der))
        .bind(&key.public_x)
        .bind(key.created_at.millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    pub async fn insert_api_token(
        &self,
        token: &ApiToken,
        token_hash: &str,
    ) -> Result<(), sqlx::Error> {
        self.db.execute_write(sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&token.id)
        .bind(token.user_id.as_str())
        .bind(&token.name)
        .bind(token_hash)
        .bind(token.created_at.millis())
        )
        .await?;
        Ok(())
    }

    pub async fn list_api_tokens(&self, user_id: &UserId) -> Result<Vec<ApiToken>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, created_at, last_used_at FROM api_tokens \
             WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id.as_str())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiToken {
                    id: row.try_get("id")?,
                    user_id: UserId(row.try_get("user_id")?),
                    name: row.try_get("name")?,
                    created_at: Timestamp::from_millis(row.try_get("created_at")?),
                    last_used_at: opt_ts(row.try_get("last_used_at")?),
                })
            })
            .collect()
    }

    pub async fn revoke_api_token(
        &self,
        user_id: &UserId,
        id: &str,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let result = self.db.execute_write(sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now.millis())
        .bind(id)
        .bind(user_id.as_str())
        )
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// The live account behind an API token hash.
    pub async fn api_token_owner(
        &self,
        token_hash: &str,
    ) -> Result<Option<Credentials>, sqlx::Error> {
        let sql =
            "SELECT c.user_id, c.username, c.password_hash, c.role, c.disabled, c.created_at \
                   FROM api_tokens t JOIN credentials c ON c.user_id = t.user_id \
                   WHERE t.token_hash = $1 AND t.revoked_at IS NULL";
        sqlx::query(sql)
            .bind(token_hash)
            .fetch_optional(self.db.pool())
            .await?
            .as_ref()
            .map(credentials_from_row)
            .transpose()
    }

    pub async fn touch_api_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        self.db
            .execute_write(
                sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
                    .bind(now.millis())
                    .bind(token_hash),
            )
            .await?;
        Ok(())
    }

    pub async fn insert_app_password(
        &self,
        password: &AppPassword,
        sealed: &str,
    ) -> Result<(), sqlx::Error> {
        self.db.execute_write(sqlx::query(
            "INSERT INTO app_passwords (id, user_id, name, sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&password.id)
        .bind(password.user_id.as_str())
        .bind(&password.name)
        .bind(sealed)
        .bind(password.created_at.millis())
        )
        .await?;
        Ok(())
    }

    /// A user's live app passwords, newest first, each with its sealed secret.
    pub async fn app_passwords(
        &self,
        user_id: &UserId,
    ) -> Result<Vec<(AppPassword, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, sealed, created_at, last_used_at FROM app_passwords \
             WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id.as_str())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    AppPassword {
                        id: row.try_get("id")?,
                        user_id: UserId(row.try_get("user_id")?),
                        name: row.try_get("name")?,
                        created_at: Timestamp::from_millis(row.try_get("created_at")?),
                        last_used_at: opt_ts(row.try_get("last_used_at")?),
                    },
                    row.try_get("sealed")?,
                ))
            })
            .collect()
    }

    pub async fn revoke_app_password(
        &self,
        user_id: &UserId,
        id: &str,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let result = self.db.execute_write(sqlx::query(
            "UPDATE app_passwords SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now.millis())
        .bind(id)
        .bind(user_id.as_str())
        )
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Records a use, at most once a minute per password (sign-ins come with every call).
    pub async fn touch_app_password(&self, id: &str, now: Timestamp) -> Result<(), sqlx::Error> {
        self.db
            .execute_write(
                sqlx::query(
                    "UPDATE app_passwords SET last_used_at = $1 WHERE id = $2 \
             AND (last_used_at IS NULL OR last_used_at < $3)",
                )
                .bind(now.millis())
                .bind(id)
                .bind(now.millis() - 60_000),
            )
            .await?;
        Ok(())
    }
}
