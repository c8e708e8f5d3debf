//! Access tokens (EdDSA JWTs), refresh tokens and API tokens (random secrets stored as SHA-256
//! hashes), and the [`TokenVerifier`] that turns a bearer credential into a [`Caller`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use beatstream_core::{ApiError, Authenticator, Caller, Scope, Timestamp, UserId, UserRole};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::AuthError;
use crate::keys::KeyRing;
use crate::store::AuthStore;
use jsonwebtoken::DecodingKey;

pub const ISSUER: &str = "beatstream";
/// Personal API tokens start with this, so the verifier knows them from JWTs at a glance.
pub const API_TOKEN_PREFIX: &str = "bsp_";
pub const REFRESH_TOKEN_PREFIX: &str = "bsr_";

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub name: String,
    pub role: UserRole,
    pub iss: String,
    pub iat: u64,
    pub exp: u64,
    /// `listening` for a music app's sign-in with an app password (see [`Scope`]); absent for
    /// a full sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

const LISTENING: &str = "listening";

/// A random secret with a prefix, e.g. `bsr_Yk3...` (256 bits).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Secrets are stored only as this hash. SHA-256 suffices: they are random, not passwords.
pub fn hash_secret(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

pub fn sign_access_token(
    keys: &KeyRing,
    user_id: &UserId,
    username: &str,
    role: UserRole,
    ttl_secs: u64,
) -> Result<String, AuthError> {
    sign_scoped_token(keys, user_id, username, role, ttl_secs, Scope::Full)
}

/// An access token limited to `scope`.
pub fn sign_scoped_token(
    keys: &KeyRing,
    user_id: &UserId,
    username: &str,
    role: UserRole,
    ttl_secs: u64,
    scope: Scope,
) -> Result<String, AuthError> {
    let now = (Timestamp::now().millis() / 1000) as u64;
    keys.sign(&AccessClaims {
        sub: user_id.to_string(),
        name: username.to_string(),
        role,
        iss: ISSUER.to_string(),
        iat: now,
        exp: now + ttl_secs,
        scope: match scope {
            Scope::Full => None,
            Scope::Listening => Some(LISTENING.to_string()),
        },
    })
}

/// The key id an access token names, before its signature is checked.
pub fn token_key_id(token: &str) -> Result<String, AuthError> {
    jsonwebtoken::decode_header(token)
        .map_err(|_| AuthError::InvalidAccessToken("malformed".into()))?
        .kid
        .ok_or_else(|| AuthError::InvalidAccessToken("no key id".into()))
}

/// Checks an access token's signature with `key` and its claims (issuer, expiry with 30 s of
/// leeway); the caller it names and when it expires. Used here and by [`crate::remote`].
pub fn verify_signed(token: &str, key: &DecodingKey) -> Result<(Caller, u64), AuthError> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&[ISSUER]);
    validation.leeway = 30;
    let data = jsonwebtoken::decode::<AccessClaims>(token, key, &validation).map_err(|e| {
        let reason = match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => "expired",
            _ => "bad signature or claims",
        };
        AuthError::InvalidAccessToken(reason.into())
    })?;
    let claims = data.claims;
    Ok((
        Caller {
            user_id: UserId(claims.sub),
            username: claims.name,
            role: claims.role,
            scope: match claims.scope.as_deref() {
                None => Scope::Full,
                // Any scope this server does not know grants the least.
                Some(_) => Scope::Listening,
            },
        },
        claims.exp,
    ))
}

/// Verifies bearer credentials. Verified JWTs are cached until they expire (verifying an
/// Ed25519 signature costs more than the rest of a typical request); API-token lookups are
/// cached briefly, so a revoked token stops working within [`API_TOKEN_CACHE_TTL`].
pub struct TokenVerifier {
    keys: Arc<KeyRing>,
    store: AuthStore,
    jwt_cache: quick_cache::sync::Cache<String, (Caller, u64)>,
    api_cache: quick_cache::sync::Cache<String, (Option<Caller>, Instant)>,
    last_key_reload: std::sync::Mutex<Option<Instant>>,
}

const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(10);

pub const API_TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);

impl TokenVerifier {
    pub fn new(keys: Arc<KeyRing>, store: AuthStore) -> Self {
        TokenVerifier {
            keys,
            store,
            jwt_cache: quick_cache::sync::Cache::new(100_000),
            api_cache: quick_cache::sync::Cache::new(10_000),
            last_key_reload: std::sync::Mutex::new(None),
        }
    }

    fn may_reload_keys(&self) -> bool {
        let mut last = self
            .last_key_reload
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match *last {
            Some(at) if at.elapsed() < KEY_RELOAD_INTERVAL => false,
            _ => {
                *last = Some(Instant::now());
                true
            }
        }
    }

    pub async fn verify(&self, bearer: &str) -> Result<Caller, AuthError> {
        if bearer.starts_with(API_TOKEN_PREFIX) {
            return self.verify_api_token(bearer).await;
        }
        let now = (Timestamp::now().millis() / 1000) as u64;
        if let Some((caller, exp)) = self.jwt_cache.get(bearer) {
            if exp > now {
                return Ok(caller);
            }
            self.jwt_cache.remove(bearer);
            return Err(AuthError::InvalidAccessToken("expired".into()));
        }
        let (caller, exp) = self.verify_jwt(bearer).await?;
        self.jwt_cache
            .insert(bearer.to_string(), (caller.clone(), exp));
        Ok(caller)
    }

    async fn verify_jwt(&self, token: &str) -> Result<(Caller, u64), AuthError> {
        let kid = token_key_id(token)?;
        let key = match self.keys.decoding_key(&kid) {
            Some(key) => key,
            None => {
                // Another instance may have rotated keys since we loaded them. Reload at most
                // once per interval, so made-up key ids cannot turn into database load.
                if !self.may_reload_keys() {
                    return Err(AuthError::InvalidAccessToken("unknown signing key".into()));
                }
                self.keys.reload().await?;
                self.keys
                    .decoding_key(&kid)
                    .ok_or_else(|| AuthError::InvalidAccessToken("unknown signing key".into()))?
            }
        };
        verify_signed(token, &key)
    }

    async fn verify_api_token(&self, token: &str) -> Result<Caller, AuthError> {
        let hash = hash_secret(token);
        if let Some((caller, at)) = self.api_cache.get(&hash) {
            if at.elapsed() < API_TOKEN_CACHE_TTL {
                return caller.ok_or_else(|| {
                    AuthError::InvalidAccessToken("unknown or revoked API token".into())
                });
            }
        }
        let owner = self.store.api_token_owner(&hash).await?;
        let caller = owner.filter(|c| !c.disabled).map(|c| Caller {
            user_id: c.user_id,
            username: c.username,
            role: c.role,
            scope: beatstream_core::Scope::Full,
        });
        if caller.is_some() {
            self.store.touch_api_token(&hash, Timestamp::now()).await?;
        }
        self.api_cache
            .insert(hash, (caller.clone(), Instant::now()));
        caller.ok_or_else(|| AuthError::InvalidAccessToken("unknown or revoked API token".into()))
    }
}

#[async_trait::async_trait]
impl Authenticator for TokenVerifier {
    async fn authenticate(&self, bearer: &str) -> Result<Caller, ApiError> {
        self.verify(bearer).await.map_err(ApiError::from)
    }
}
