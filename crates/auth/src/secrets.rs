//! Secrets the auth service must be able to read back (app passwords: the Subsonic token
//! scheme hashes the password itself with a salt), sealed with XChaCha20-Poly1305 under a key
//! kept outside the database. A copy of the database alone reveals none of them; each sealed
//! value is bound to its row by the associated data, so it cannot be moved to another.

use std::io::Write as _;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;

const NONCE_LEN: usize = 24;

/// The key that seals app passwords. Every auth instance of a deployment needs the same one.
#[derive(Clone)]
pub struct SecretsKey(Key);

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretsKey(..)")
    }
}

impl SecretsKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        SecretsKey(Key::from(bytes))
    }

    /// Reads the key from `path` (32 bytes, base64), creating the file with a new key (readable
    /// by its owner only) when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(text.trim())
                .map_err(|e| format!("the secrets key in {}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("creating {}: {e}", dir.display()))?;
                }
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options
                    .open(path)
                    .map_err(|e| format!("creating {}: {e}", path.display()))?;
                writeln!(file, "{}", STANDARD.encode(key.0))
                    .map_err(|e| format!("writing {}: {e}", path.display()))?;
                tracing::info!(path = %path.display(), "generated the key that seals app passwords");
                Ok(key)
            }
            Err(e) => Err(format!("reading {}: {e}", path.display())),
        }
    }

    /// A key written as base64 (what [`SecretsKey::load_or_create`] stores).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(text)
            .map_err(|_| "not base64".to_string())?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "must be 32 bytes".to_string())?;
        Ok(SecretsKey(Key::from(bytes)))
    }

    /// `plaintext` sealed and bound to `context`: base64 of nonce + ciphertext.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = XChaCha20Poly1305::new(&self.0)
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|e| format!("sealing a secret: {e}"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// What [`SecretsKey::seal`] sealed with this key and `context`; `None` for anything else.
    pub fn open(&self, sealed: &str, context: &str) -> Option<Vec<u8>> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        XChaCha20Poly1305::new(&self.0)
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn opens_what_it_sealed_and_nothing_else() {
        let key = SecretsKey::generate();
        let sealed = key.seal(b"hunter22", "row-1").unwrap();
        assert!(!sealed.contains("hunter22"));
        assert_eq!(
            key.open(&sealed, "row-1").as_deref(),
            Some(&b"hunter22"[..])
        );
        assert_eq!(key.open(&sealed, "row-2"), None, "bound to its row");
        assert_eq!(
            SecretsKey::generate().open(&sealed, "row-1"),
            None,
            "another key"
        );
        assert_eq!(key.open("not base64!", "row-1"), None);
        assert_ne!(
            key.seal(b"hunter22", "row-1").unwrap(),
            sealed,
            "a fresh nonce each time"
        );
    }

    #[test]
    fn the_key_file_is_created_once_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/secrets.key");
        let first = SecretsKey::load_or_create(&path).unwrap();
        let sealed = first.seal(b"x", "c").unwrap();
        let again = SecretsKey::load_or_create(&path).unwrap();
        assert_eq!(again.open(&sealed, "c").as_deref(), Some(&b"x"[..]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only");
        }
        std::fs::write(&path, "short").unwrap();
        assert!(SecretsKey::load_or_create(&path).is_err());
    }
}
