//! Argon2id password hashing, off the async runtime (each hash takes tens of milliseconds).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::AuthError;

/// Argon2id is CPU-bound and takes 19 MiB per hash: running more at once than there are cores
/// only adds memory and latency, so hashes queue here.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2);
        tokio::sync::Semaphore::new(cores)
    })
}

async fn with_hashing_permit<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|e| AuthError::Crypto(format!("hashing queue closed: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AuthError::Crypto(format!("hashing task: {e}")))?
}

pub async fn hash_password(password: String) -> Result<String, AuthError> {
    with_hashing_permit(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| AuthError::Crypto(format!("hashing a password: {e}")))
    })
    .await
}

/// True when `password` matches `hash`.
pub async fn verify_password(password: String, hash: String) -> Result<bool, AuthError> {
    with_hashing_permit(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| AuthError::Crypto(format!("stored hash does not parse: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
}

/// A hash of a random password, verified against when the username does not exist, so a login
/// for an unknown user takes as long as one with a wrong password.
pub async fn dummy_hash() -> Result<String, AuthError> {
    hash_password(uuid::Uuid::new_v4().to_string()).await
}
