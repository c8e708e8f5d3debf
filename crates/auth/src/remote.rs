//! Verifying bearer credentials in a process that does not run the auth service: access tokens
//! are checked here with the public keys the auth service publishes (`/.well-known/jwks.json`,
//! fetched from an auth instance found through service discovery, cached, and fetched again
//! when a token names a key not seen yet, at most every 10 s); personal API tokens, which only
//! the auth service can look up, are asked about (`POST /api/v1/auth/introspect`) and the
//! answer kept 5 seconds, so a revoked token stops working within that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use beatstream_core::{ApiError, Authenticator, Caller, Timestamp, UserId};
use beatstream_discovery::{instances_of, Discovery};
use jsonwebtoken::DecodingKey;
use serde::Deserialize;

use crate::error::AuthError;
use crate::http::dto::IntrospectResponse;
use crate::tokens::{token_key_id, verify_signed, API_TOKEN_CACHE_TTL, API_TOKEN_PREFIX};

const KEY_FETCH_INTERVAL: Duration = Duration::from_secs(10);

pub struct RemoteVerifier {
    discovery: Arc<dyn Discovery>,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_fetch: Mutex<Option<Instant>>,
    jwt_cache: quick_cache::sync::Cache<String, (Caller, u64)>,
    api_cache: quick_cache::sync::Cache<String, (Option<Caller>, Instant)>,
}

#[derive(Deserialize)]
struct JwksDoc {
    keys: Vec<JwkDoc>,
}

#[derive(Deserialize)]
struct JwkDoc {
    kid: String,
    kty: String,
    crv: String,
    x: String,
}

impl RemoteVerifier {
    pub fn new(discovery: Arc<dyn Discovery>) -> Self {
        RemoteVerifier {
            discovery,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
            jwt_cache: quick_cache::sync::Cache::new(100_000),
            api_cache: quick_cache::sync::Cache::new(10_000),
        }
    }

    /// An auth instance's address, from discovery.
    async fn auth_address(&self) -> Result<String, AuthError> {
        let instances = instances_of(self.discovery.as_ref(), "auth")
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?;
        // Spread the asking over the instances.
        let pick = (Timestamp::now().millis() as usize) % instances.len().max(1);
        instances
            .get(pick)
            .map(|i| i.address.trim_end_matches('/').to_string())
            .ok_or_else(|| AuthError::Unavailable("no auth instance is announced".into()))
    }

    fn may_fetch_keys(&self) -> bool {
        let mut last = self.last_fetch.lock().unwrap_or_else(|p| p.into_inner());
        match *last {
            Some(at) if at.elapsed() < KEY_FETCH_INTERVAL => false,
            _ => {
                *last = Some(Instant::now());
                true
            }
        }
    }

    async fn fetch_keys(&self) -> Result<(), AuthError> {
        let url = format!("{}/.well-known/jwks.json", self.auth_address().await?);
        let unavailable = |e: String| AuthError::Unavailable(format!("{url}: {e}"));
        let doc: JwksDoc = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| unavailable(e.to_string()))?
            .json()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let mut keys = HashMap::new();
        for jwk in doc.keys {
            if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
                continue;
            }
            match DecodingKey::from_ed_components(&jwk.x) {
                Ok(key) => {
                    keys.insert(jwk.kid, key);
                }
                Err(e) => {
                    tracing::warn!(kid = %jwk.kid, error = %e, "skipping a published key it cannot read")
                }
            }
        }
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
        Ok(())
    }

    fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(kid)
            .cloned()
    }

    async fn verify_jwt(&self, token: &str) -> Result<Caller, AuthError> {
        let now = (Timestamp::now().millis() / 1000) as u64;
        if let Some((caller, exp)) = self.jwt_cache.get(token) {
            if exp > now {
                return Ok(caller);
            }
            self.jwt_cache.remove(token);
            return Err(AuthError::InvalidAccessToken("expired".into()));
        }
        let kid = token_key_id(token)?;
        let key = match self.key(&kid) {
            Some(key) => key,
            None => {
                // A key rotated in since the last fetch; made-up key ids cannot turn into a
                // stream of requests to the auth service.
                if !self.may_fetch_keys() {
                    return Err(AuthError::InvalidAccessToken("unknown signing key".into()));
                }
                self.fetch_keys().await?;
                self.key(&kid)
                    .ok_or_else(|| AuthError::InvalidAccessToken("unknown signing key".into()))?
            }
        };
        let (caller, exp) = verify_signed(token, &key)?;
        self.jwt_cache
            .insert(token.to_string(), (caller.clone(), exp));
        Ok(caller)
    }

    async fn verify_api_token(&self, token: &str) -> Result<Caller, AuthError> {
        let rejected = || AuthError::InvalidAccessToken("unknown or revoked API token".into());
        if let Some((caller, at)) = self.api_cache.get(token) {
            if at.elapsed() < API_TOKEN_CACHE_TTL {
                return caller.ok_or_else(rejected);
            }
        }
        let url = format!("{}/api/v1/auth/introspect", self.auth_address().await?);
        let answer: IntrospectResponse = self
            .http
            .post(&url)
            .json(&serde_json::json!({ "token": token }))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| AuthError::Unavailable(format!("{url}: {e}")))?
            .json()
            .await
            .map_err(|e| AuthError::Unavailable(format!("{url}: {e}")))?;
        let caller = match (answer.active, answer.user) {
            (true, Some(user)) => Some(Caller {
                user_id: UserId(user.id),
                username: user.username,
                role: user.role,
                scope: beatstream_core::Scope::Full,
            }),
            _ => None,
        };
        self.api_cache
            .insert(token.to_string(), (caller.clone(), Instant::now()));
        caller.ok_or_else(rejected)
    }
}

#[async_trait::async_trait]
impl Authenticator for RemoteVerifier {
    async fn authenticate(&self, bearer: &str) -> Result<Caller, ApiError> {
        let verified = if bearer.starts_with(API_TOKEN_PREFIX) {
            self.verify_api_token(bearer).await
        } else {
            self.verify_jwt(bearer).await
        };
        verified.map_err(ApiError::from)
    }
}
