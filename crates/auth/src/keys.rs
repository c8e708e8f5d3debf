//! The Ed25519 keys that sign access tokens, published as a JWKS so any service can verify
//! tokens without calling auth. The first start generates a key and stores it; rotation adds a
//! new active key and keeps the retired ones published until every token they signed expired.

use std::collections::HashMap;
use std::sync::RwLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use beatstream_core::Timestamp;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::Serialize;

use crate::error::AuthError;
use crate::model::StoredKey;
use crate::store::AuthStore;

/// The signing key in use and every key whose tokens may still be alive.
pub struct KeyRing {
    store: AuthStore,
    access_ttl_secs: u64,
    state: RwLock<KeyState>,
}

struct KeyState {
    active_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    published: Vec<Jwk>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub kid: String,
    pub x: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

fn generate_key(now: Timestamp) -> Result<StoredKey, AuthError> {
    let signing = SigningKey::generate(&mut rand::rngs::OsRng);
    let der = signing
        .to_pkcs8_der()
        .map_err(|e| AuthError::Crypto(format!("encoding a new key: {e}")))?;
    Ok(StoredKey {
        kid: uuid::Uuid::now_v7().simple().to_string(),
        private_der: der.as_bytes().to_vec(),
        public_x: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
        created_at: now,
        retired_at: None,
    })
}

impl KeyRing {
    /// Loads the keys, generating the first one on a fresh database.
    pub async fn load(store: AuthStore, access_ttl_secs: u64) -> Result<Self, AuthError> {
        let mut keys = store.signing_keys().await?;
        if !keys.iter().any(|k| k.retired_at.is_none()) {
            let key = generate_key(Timestamp::now())?;
            store.rotate_in_key(&key).await?;
            keys = store.signing_keys().await?;
            tracing::info!(kid = %key.kid, "generated the first token-signing key");
        }
        let state = build_state(&keys, access_ttl_secs)?;
        Ok(KeyRing {
            store,
            access_ttl_secs,
            state: RwLock::new(state),
        })
    }

    /// Starts signing with a new key; tokens signed with the old one stay valid until expiry.
    pub async fn rotate(&self) -> Result<String, AuthError> {
        let key = generate_key(Timestamp::now())?;
        self.store.rotate_in_key(&key).await?;
        self.reload().await?;
        tracing::info!(kid = %key.kid, "rotated the token-signing key");
        Ok(key.kid)
    }

    /// Re-reads the keys (another instance may have rotated).
    pub async fn reload(&self) -> Result<(), AuthError> {
        let keys = self.store.signing_keys().await?;
        let state = build_state(&keys, self.access_ttl_secs)?;
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = state;
        Ok(())
    }

    /// How old the active key is, for scheduled rotation.
    pub async fn active_key_age_secs(&self) -> Result<u64, AuthError> {
        let keys = self.store.signing_keys().await?;
        let now = Timestamp::now().millis();
        Ok(keys
            .iter()
            .filter(|k| k.retired_at.is_none())
            .map(|k| ((now - k.created_at.millis()).max(0) / 1000) as u64)
            .min()
            .unwrap_or(0))
    }

    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, AuthError> {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(state.active_kid.clone());
        jsonwebtoken::encode(&header, claims, &state.encoding)
            .map_err(|e| AuthError::Crypto(format!("signing a token: {e}")))
    }

    pub fn decoding_key(&self, kid: &str) -> Option<DecodingKey> {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        state.decoding.get(kid).cloned()
    }

    pub fn jwks(&self) -> Jwks {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        Jwks {
            keys: state.published.clone(),
        }
    }
}

fn build_state(keys: &[StoredKey], access_ttl_secs: u64) -> Result<KeyState, AuthError> {
    let now = Timestamp::now();
    let active = keys
        .iter()
        .filter(|k| k.retired_at.is_none())
        .max_by_key(|k| k.created_at)
        .ok_or_else(|| AuthError::Crypto("no active signing key".into()))?;
    // A retired key verifies until the last token it signed has expired (plus a minute of skew).
    let alive = |k: &&StoredKey| match k.retired_at {
        None => true,
        Some(retired) => retired.plus_secs(access_ttl_secs + 60) > now,
    };
    let mut decoding = HashMap::new();
    let mut published = Vec::new();
    for key in keys.iter().filter(alive) {
        let decoding_key = DecodingKey::from_ed_components(&key.public_x)
            .map_err(|e| AuthError::Crypto(format!("public key {}: {e}", key.kid)))?;
        decoding.insert(key.kid.clone(), decoding_key);
        published.push(Jwk {
            kty: "OKP",
            crv: "Ed25519",
            alg: "EdDSA",
            use_: "sig",
            kid: key.kid.clone(),
            x: key.public_x.clone(),
        });
    }
    Ok(KeyState {
        active_kid: active.kid.clone(),
        encoding: EncodingKey::from_ed_der(&active.private_der),
        decoding,
        published,
    })
}
