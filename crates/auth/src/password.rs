//! Argon2id password hashing, off the async runtime (each hash takes tens of milliseconds).
//!
//! Parameters: m = 7 MiB, t = 5, p = 1, one of OWASP's equivalent Argon2id settings (the
//! low-memory end, for a small home server). Stored hashes carry their own parameters, so they
//! keep verifying if these change.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

const MEMORY_KIB: u32 = 7 * 1024;
const ITERATIONS: u32 = 5;

fn hasher() -> Result<Argon2<'static>, AuthError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, 1, None)
        .map_err(|e| AuthError::Crypto(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

use crate::error::AuthError;

/// Argon2id is CPU-bound and takes 7 MiB per hash: running more at once than there are cores
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
        hasher()?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_carry_their_parameters() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{hash}");
        assert!(verify_password("correct horse".into(), hash.clone())
            .await
            .unwrap());
        assert!(!verify_password("wrong horse".into(), hash).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_made_with_other_parameters_still_verify() {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let old = Argon2::default()
            .hash_password(b"pw123456", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password("pw123456".into(), old).await.unwrap());
    }
}
