//! App passwords: generated passwords a user gives Subsonic apps instead of their own, created
//! and revoked from their settings, and the Subsonic sign-in that accepts them (`u` with `p`, or
//! with `t = md5(password + s)` and `s`). Only failed sign-ins count, per account and client
//! address and apart from web logins: Subsonic clients sign every call, often with a fresh
//! salt, and a stale one must not lock its owner out of the web player.

use std::net::IpAddr;

use beatstream_core::{Caller, Scope, Timestamp};
use md5::{Digest as _, Md5};
use rand::Rng as _;
use sha2::Sha256;

use crate::error::AuthError;
use crate::model::{AppPassword, Grant, SubsonicProof};
use crate::password::verify_password;
use crate::service::{credential_name, AuthService, PASSWORD_MAX};
use crate::tokens;

/// Generated passwords: 20 characters from an alphabet without look-alikes (100 bits), in
/// groups of four, easy to type into a phone.
fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let chars: Vec<char> = (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Whether `secret` answers `proof`.
fn answers(secret: &[u8], proof: &SubsonicProof) -> bool {
    match proof {
        // Compared as digests, so the time taken says nothing about the secret (nor about the
        // md5 token, which is itself a credential for its salt).
        SubsonicProof::Password(password) => {
            Sha256::digest(secret) == Sha256::digest(password.as_bytes())
        }
        SubsonicProof::Token { token, salt } => {
            if salt.is_empty() {
                return false;
            }
            let mut hasher = Md5::new();
            hasher.update(secret);
            hasher.update(salt.as_bytes());
            let expected = format!("{:x}", hasher.finalize());
            Sha256::digest(expected.as_bytes())
                == Sha256::digest(token.to_ascii_lowercase().as_bytes())
        }
    }
}

impl AuthService {
    pub async fn create_app_password(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<(AppPassword, String), AuthError> {
        let name = credential_name(name)?;
        let secret = generate_password();
        let password = AppPassword {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: caller.user_id.clone(),
            name: name.to_string(),
            created_at: Timestamp::now(),
            last_used_at: None,
        };
        let sealed = self
            .inner
            .settings
            .secrets_key
            .seal(secret.as_bytes(), &password.id)
            .map_err(AuthError::Crypto)?;
        self.inner
            .store
            .insert_app_password(&password, &sealed)
            .await?;
        Ok((password, secret))
    }

    pub async fn list_app_passwords(&self, caller: &Caller) -> Result<Vec<AppPassword>, AuthError> {
        Ok(self
            .inner
            .store
            .app_passwords(&caller.user_id)
            .await?
            .into_iter()
            .map(|(password, _)| password)
            .collect())
    }

    pub async fn revoke_app_password(&self, caller: &Caller, id: &str) -> Result<(), AuthError> {
        if self
            .inner
            .store
            .revoke_app_password(&caller.user_id, id, Timestamp::now())
            .await?
        {
            Ok(())
        } else {
            Err(AuthError::AppPasswordNotFound)
        }
    }

    /// A Subsonic client's sign-in: an access token for `username` when `proof` matches one
    /// of their app passwords (or, for a plain password, the account's own password).
    pub async fn subsonic_sign_in(
        &self,
        username: &str,
        proof: &SubsonicProof,
        client: Option<IpAddr>,
    ) -> Result<Grant, AuthError> {
        // Failures count per account and address, apart from web logins.
        let key = format!(
            "{}|{}",
            username.to_lowercase(),
            client.map(|a| a.to_string()).unwrap_or_default()
        );
        let limits = &self.inner.subsonic_failures;
        limits
            .exhausted(&key)
            .map_err(|retry_after_secs| AuthError::RateLimited { retry_after_secs })?;
        let Some(user) = self.verify_subsonic(username, proof).await? else {
            let _ = limits.check(&key);
            return Err(AuthError::InvalidCredentials);
        };
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        let ttl = self.inner.settings.access_token_ttl_secs;
        // Good for listening only: an app password never manages the account's credentials.
        let access_token = tokens::sign_scoped_token(
            &self.inner.keys,
            &user.user_id,
            &user.username,
            user.role,
            ttl,
            Scope::Listening,
        )?;
        Ok(Grant {
            user,
            access_token,
            expires_in: ttl,
        })
    }

    async fn verify_subsonic(
        &self,
        username: &str,
        proof: &SubsonicProof,
    ) -> Result<Option<crate::model::Credentials>, AuthError> {
        let too_long = match proof {
            SubsonicProof::Password(p) => p.len() > PASSWORD_MAX,
            SubsonicProof::Token { token, salt } => token.len() > 64 || salt.len() > 1024,
        };
        if username.len() > 256 || too_long {
            return Ok(None);
        }
        let store = &self.inner.store;
        let Some(user) = store.credentials_by_username(username).await? else {
            if let SubsonicProof::Password(password) = proof {
                // As long as a real check, so timing does not tell which usernames exist.
                verify_password(password.clone(), self.inner.dummy_hash.clone()).await?;
            }
            return Ok(None);
        };
        let key = &self.inner.settings.secrets_key;
        for (password, sealed) in store.app_passwords(&user.user_id).await? {
            let Some(secret) = key.open(&sealed, &password.id) else {
                tracing::warn!(id = %password.id, "an app password cannot be opened with this secrets key");
                continue;
            };
            // Typed on a phone, a password may lose its dashes.
            let undashed: Vec<u8> = secret.iter().copied().filter(|b| *b != b'-').collect();
            if answers(&secret, proof) || answers(&undashed, proof) {
                let touched = &self.inner.app_password_touched;
                let recent = touched
                    .get(&password.id)
                    .is_some_and(|at| at.elapsed() < std::time::Duration::from_secs(60));
                if !recent {
                    touched.insert(password.id.clone(), std::time::Instant::now());
                    store
                        .touch_app_password(&password.id, Timestamp::now())
                        .await?;
                }
                return Ok(Some(user));
            }
        }
        if let SubsonicProof::Password(password) = proof {
            if verify_password(password.clone(), user.password_hash.clone()).await? {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_readable() {
        let password = generate_password();
        assert_eq!(password.len(), 24);
        assert_eq!(password.matches('-').count(), 4);
        assert!(password
            .chars()
            .all(|c| c == '-' || (c.is_ascii_alphanumeric() && !"lo01".contains(c))));
        assert_ne!(generate_password(), password);
    }

    #[test]
    fn answers_a_password_or_its_salted_md5() {
        let secret = b"sesame";
        assert!(answers(secret, &SubsonicProof::Password("sesame".into())));
        assert!(!answers(secret, &SubsonicProof::Password("sesam".into())));
        // The example of the Subsonic documentation: md5("sesame" + "c19b2d").
        let token = |t: &str| SubsonicProof::Token {
            token: t.into(),
            salt: "c19b2d".into(),
        };
        assert!(answers(secret, &token("26719a1196d2a940705a59634eb18eab")));
        assert!(answers(secret, &token("26719A1196D2A940705A59634EB18EAB")));
        assert!(!answers(secret, &token("26719a1196d2a940705a59634eb18eac")));
        let unsalted = SubsonicProof::Token {
            token: "c8f8b0b4b2b2d8e5b0b8e8b5d1b1a0c0".into(),
            salt: String::new(),
        };
        assert!(!answers(secret, &unsalted), "a salt is required");
    }
}
