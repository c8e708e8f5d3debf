//! The auth service's use cases: accounts, sessions (access + rotating refresh tokens),
//! personal API tokens, and applying account changes made in the users service.

use std::net::IpAddr;
use std::sync::Arc;

use beatstream_core::{Caller, Timestamp, UserId, UserRole};
use beatstream_events::auth::UserCreated;
use beatstream_events::outbox::{self, OutboxWaker};
use beatstream_events::users::AccountChanged;
use beatstream_events::{inbox, Envelope};
use sqlx::AnyConnection;

use crate::error::AuthError;
use crate::keys::KeyRing;
use crate::model::{ApiToken, Credentials, NewAccount, RefreshToken, Session};
use crate::password::{dummy_hash, hash_password, verify_password};
use crate::rate_limit::RateLimiter;
use crate::secrets::SecretsKey;
use crate::store::AuthStore;
use crate::tokens::{self, hash_secret, new_secret, TokenVerifier};

/// Settings the auth service takes from the config.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub open_signup: bool,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    pub login_attempts_per_account_per_minute: u32,
    pub login_attempts_per_address_per_minute: u32,
    /// Seals app passwords (see [`crate::secrets`]).
    pub secrets_key: SecretsKey,
}

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AuthService {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: AuthStore,
    pub(crate) keys: Arc<KeyRing>,
    pub(crate) verifier: Arc<TokenVerifier>,
    pub(crate) settings: AuthSettings,
    pub(crate) waker: OutboxWaker,
    pub(crate) per_account: RateLimiter,
    pub(crate) per_address: RateLimiter,
    /// Failed Subsonic sign-ins, per account and client address: apart from logins, so a
    /// stale app (or a stranger) cannot lock the owner out of the web player.
    pub(crate) subsonic_failures: RateLimiter,
    /// When each app password's use was last written (at most once a minute, so a sign-in is
    /// not a database write each time).
    pub(crate) app_password_touched: quick_cache::sync::Cache<String, std::time::Instant>,
    pub(crate) dummy_hash: String,
}

pub const USERNAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 1024;
pub const TOKEN_NAME_MAX: usize = 100;
/// The consumer name under which this service records processed events.
pub const CONSUMER: &str = "auth";

/// The name of an API token or app password: trimmed, 1 to [`TOKEN_NAME_MAX`] printable
/// characters.
pub(crate) fn credential_name(name: &str) -> Result<&str, AuthError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > TOKEN_NAME_MAX
        || name.chars().any(char::is_control)
    {
        return Err(invalid(
            "name",
            format!("must be 1 to {TOKEN_NAME_MAX} characters"),
        ));
    }
    Ok(name)
}

fn invalid(field: &'static str, reason: impl Into<String>) -> AuthError {
    AuthError::Invalid {
        field,
        reason: reason.into(),
    }
}

pub fn validate_username(username: &str) -> Result<(), AuthError> {
    let len = username.chars().count();
    if !(2..=USERNAME_MAX).contains(&len) {
        return Err(invalid(
            "username",
            format!("must be 2 to {USERNAME_MAX} characters"),
        ));
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(invalid(
            "username",
            "use letters, digits, `_`, `-` and `.` only",
        ));
    }
    Ok(())
}

pub fn validate_password(password: &str) -> Result<(), AuthError> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Err(invalid(
            "password",
            format!("must be at least {PASSWORD_MIN} characters"),
        ));
    }
    if password.len() > PASSWORD_MAX {
        return Err(invalid(
            "password",
            format!("must be at most {PASSWORD_MAX} bytes"),
        ));
    }
    Ok(())
}

/// E-mail and display name are checked here too, so a sign-up is refused whole before anything
/// is written (the users service receives them through the `auth.user.created` event).
pub fn validate_profile_fields(
    email: Option<&str>,
    display_name: Option<&str>,
) -> Result<(), AuthError> {
    if let Some(email) = email {
        if !beatstream_core::validate::is_email(email) {
            return Err(invalid("email", "is not an e-mail address"));
        }
    }
    if let Some(name) = display_name {
        if name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(invalid(
                "display_name",
                "must be at most 100 characters, without control characters",
            ));
        }
    }
    Ok(())
}

impl AuthService {
    pub async fn new(
        store: AuthStore,
        settings: AuthSettings,
        waker: OutboxWaker,
    ) -> Result<Self, AuthError> {
        let keys = Arc::new(KeyRing::load(store.clone(), settings.access_token_ttl_secs).await?);
        let verifier = Arc::new(TokenVerifier::new(keys.clone(), store.clone()));
        Ok(AuthService {
            inner: Arc::new(Inner {
                per_account: RateLimiter::per_minute(
                    settings.login_attempts_per_account_per_minute,
                ),
                per_address: RateLimiter::per_minute(
                    settings.login_attempts_per_address_per_minute,
                ),
                subsonic_failures: RateLimiter::per_minute(
                    settings.login_attempts_per_account_per_minute,
                ),
                app_password_touched: quick_cache::sync::Cache::new(10_000),
                dummy_hash: dummy_hash().await?,
                store,
                keys,
                verifier,
                settings,
                waker,
            }),
        })
    }

    pub fn verifier(&self) -> Arc<TokenVerifier> {
        self.inner.verifier.clone()
    }

    pub fn keys(&self) -> &KeyRing {
        &self.inner.keys
    }

    pub fn store(&self) -> &AuthStore {
        &self.inner.store
    }

    /// Self-service sign-up. The first account of an instance becomes admin. When sign-up is
    /// closed only an admin (`by`) can create accounts.
    pub async fn signup(
        &self,
        account: NewAccount,
        by: Option<&Caller>,
    ) -> Result<Session, AuthError> {
        let by_admin = by.is_some_and(Caller::is_admin);
        let user = self.create_account(account, None, by_admin).await?;
        // The session's row is a write: take the turn before the connection (see `write_turn`).
        let _turn = self.inner.store.db().write_turn().await;
        let mut conn = self.inner.store.db().pool().acquire().await?;
        self.open_session(&mut conn, user, None).await
    }

    /// Creates an account (sign-up or admin). `role` is only honoured for admins.
    pub async fn create_account(
        &self,
        account: NewAccount,
        role: Option<UserRole>,
        by_admin: bool,
    ) -> Result<Credentials, AuthError> {
        validate_username(&account.username)?;
        validate_password(&account.password)?;
        validate_profile_fields(account.email.as_deref(), account.display_name.as_deref())?;
        // Closed sign-up answers the same whatever the username, so it reveals no accounts.
        let closed = !self.inner.settings.open_signup && !by_admin;
        if closed && self.has_accounts().await? {
            return Err(AuthError::SignupClosed);
        }
        let password_hash = hash_password(account.password.clone()).await?;
        let mut credentials = Credentials {
            user_id: UserId::generate(),
            username: account.username.clone(),
            password_hash,
            role: if by_admin {
                role.unwrap_or(UserRole::User)
            } else {
                UserRole::User
            },
            disabled: false,
            created_at: Timestamp::now(),
        };
        // Serialized with other account creations, so exactly one account is ever the first.
        let mut tx = self
            .inner
            .store
            .db()
            .begin_serialized("auth.accounts")
            .await?;
        if AuthStore::count_users(&mut tx).await? == 0 {
            credentials.role = UserRole::Admin;
        } else if closed {
            return Err(AuthError::SignupClosed);
        }
        match AuthStore::insert_credentials(&mut tx, &credentials).await {
            Err(e) if beatstream_db::is_unique_violation(&e) => {
                return Err(AuthError::UsernameTaken)
            }
            other => other?,
        }
        outbox::append(
            &mut tx,
            &UserCreated {
                user_id: credentials.user_id.clone(),
                username: credentials.username.clone(),
                email: account.email,
                display_name: account.display_name,
                role: credentials.role,
                created_at: credentials.created_at,
            },
        )
        .await?;
        tx.commit().await?;
        self.inner.waker.wake();
        tracing::info!(user_id = %credentials.user_id, role = credentials.role.as_str(), "account created");
        Ok(credentials)
    }

    async fn has_accounts(&self) -> Result<bool, AuthError> {
        let mut conn = self.inner.store.db().pool().acquire().await?;
        Ok(AuthStore::count_users(&mut conn).await? > 0)
    }

    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Session, AuthError> {
        if let Some(addr) = client {
            self.inner
                .per_address
                .check(&addr.to_string())
                .map_err(|retry_after_secs| AuthError::RateLimited { retry_after_secs })?;
        }
        self.inner
            .per_account
            .check(&username.to_lowercase())
            .map_err(|retry_after_secs| AuthError::RateLimited { retry_after_secs })?;
        if username.len() > 256 || password.len() > PASSWORD_MAX {
            return Err(AuthError::InvalidCredentials);
        }
        let found = self.inner.store.credentials_by_username(username).await?;
        let hash = found
            .as_ref()
            .map(|c| c.password_hash.clone())
            .unwrap_or_else(|| self.inner.dummy_hash.clone());
        let matches = verify_password(password.to_string(), hash).await?;
        let user = match found {
            Some(user) if matches => user,
            _ => return Err(AuthError::InvalidCredentials),
        };
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        // The session's row is a write: take the turn before the connection (see `write_turn`).
        let _turn = self.inner.store.db().write_turn().await;
        let mut conn = self.inner.store.db().pool().acquire().await?;
        self.open_session(&mut conn, user, None).await
    }

    /// Exchanges a refresh token for a new pair. A token is good once: presenting a used one
    /// means it leaked, so its whole family (every token of that login) is revoked.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, AuthError> {
        let hash = hash_secret(refresh_token);
        let now = Timestamp::now();
        let mut tx = self.inner.store.db().begin_write().await?;
        let claimed = AuthStore::mark_refresh_used(&mut tx, &hash, now).await?;
        let token = AuthStore::refresh_by_hash(&mut tx, &hash)
            .await?
            .ok_or(AuthError::InvalidRefreshToken)?;
        if !claimed {
            if token.revoked_at.is_none() {
                AuthStore::revoke_family(&mut tx, &token.family_id, now).await?;
                tx.commit().await?;
                tracing::warn!(user_id = %token.user_id, "refresh token reused; session revoked");
                return Err(AuthError::RefreshTokenReused);
            }
            return Err(AuthError::InvalidRefreshToken);
        }
        if token.expires_at <= now {
            return Err(AuthError::InvalidRefreshToken);
        }
        let user = AuthStore::credentials_by_id_in(&mut tx, &token.user_id)
            .await?
            .ok_or(AuthError::InvalidRefreshToken)?;
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        let session = self
            .open_session(&mut tx, user, Some(token.family_id))
            .await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Ends the session the refresh token belongs to. Unknown tokens are ignored.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), AuthError> {
        let hash = hash_secret(refresh_token);
        let _turn = self.inner.store.db().write_turn().await;
        let mut conn = self.inner.store.db().pool().acquire().await?;
        if let Some(token) = AuthStore::refresh_by_hash(&mut conn, &hash).await? {
            AuthStore::revoke_family(&mut conn, &token.family_id, Timestamp::now()).await?;
        }
        Ok(())
    }

    async fn open_session(
        &self,
        conn: &mut AnyConnection,
        user: Credentials,
        family_id: Option<String>,
    ) -> Result<Session, AuthError> {
        let settings = &self.inner.settings;
        let refresh_token = new_secret(tokens::REFRESH_TOKEN_PREFIX);
        let now = Timestamp::now();
        AuthStore::insert_refresh(
            conn,
            &RefreshToken {
                token_hash: hash_secret(&refresh_token),
                user_id: user.user_id.clone(),
                family_id: family_id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
                created_at: now,
                expires_at: now.plus_secs(settings.refresh_token_ttl_secs),
                used_at: None,
                revoked_at: None,
            },
        )
        .await?;
        let access_token = tokens::sign_access_token(
            &self.inner.keys,
            &user.user_id,
            &user.username,
            user.role,
            settings.access_token_ttl_secs,
        )?;
        Ok(Session {
            user,
            access_token,
            refresh_token,
            expires_in: settings.access_token_ttl_secs,
        })
    }

    pub async fn create_api_token(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<(ApiToken, String), AuthError> {
        let name = credential_name(name)?;
        let secret = new_secret(tokens::API_TOKEN_PREFIX);
        let token = ApiToken {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: caller.user_id.clone(),
            name: name.to_string(),
            created_at: Timestamp::now(),
            last_used_at: None,
        };
        self.inner
            .store
            .insert_api_token(&token, &hash_secret(&secret))
            .await?;
        Ok((token, secret))
    }

    pub async fn list_api_tokens(&self, caller: &Caller) -> Result<Vec<ApiToken>, AuthError> {
        Ok(self.inner.store.list_api_tokens(&caller.user_id).await?)
    }

    pub async fn revoke_api_token(&self, caller: &Caller, id: &str) -> Result<(), AuthError> {
        if self
            .inner
            .store
            .revoke_api_token(&caller.user_id, id, Timestamp::now())
            .await?
        {
            Ok(())
        } else {
            Err(AuthError::TokenNotFound)
        }
    }

    /// Consumer of `users.account.changed`: new tokens carry the new role; a disabled account
    /// loses its refresh tokens at once. Idempotent.
    pub async fn apply_account_changed(&self, envelope: &Envelope) -> Result<(), AuthError> {
        let change: AccountChanged = match envelope.decode() {
            Ok(change) => change,
            Err(e) => {
                // Retrying cannot fix it: log it loudly and move on (no dead-letter queue yet).
                tracing::error!(event_id = %envelope.id, error = %e, "skipping an undecodable event");
                return Ok(());
            }
        };
        let mut tx = self.inner.store.db().begin_write().await?;
        if !inbox::first_delivery(&mut tx, CONSUMER, &envelope.id).await? {
            return Ok(());
        }
        AuthStore::set_account_state(&mut tx, &change.user_id, change.role, change.disabled)
            .await?;
        if change.disabled {
            let revoked =
                AuthStore::revoke_user_refresh_tokens(&mut tx, &change.user_id, Timestamp::now())
                    .await?;
            tracing::info!(user_id = %change.user_id, revoked, "account disabled; refresh tokens revoked");
        }
        tx.commit().await?;
        Ok(())
    }
}
