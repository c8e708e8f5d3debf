//! Argon2id password hashing, off the async runtime (each hash takes tens of milliseconds).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::AuthError;

pub async fn hash_password(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| AuthError::Crypto(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| AuthError::Crypto(format!("hashing task: {e}")))?
}

/// True when `password` matches `hash`.
pub async fn verify_password(password: String, hash: String) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| AuthError::Crypto(format!("stored hash does not parse: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| AuthError::Crypto(format!("verifying task: {e}")))?
}

/// A hash of a random password, verified against when the username does not exist, so a login
/// for an unknown user takes as long as one with a wrong password.
pub async fn dummy_hash() -> Result<String, AuthError> {
    hash_password(uuid::Uuid::new_v4().to_string()).await
}
