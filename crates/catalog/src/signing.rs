//! Short-lived signed URLs, for clients that cannot send an `Authorization` header (a
//! browser's `<audio>` and `<img>`). A URL carries the user, an expiry and an HMAC-SHA256 of
//! both with the path, under a key only this service holds.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use beatstream_core::Timestamp;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How long a signed URL works.
pub const SIGNED_URL_TTL_SECS: u64 = 6 * 3600;

#[derive(Clone)]
pub struct UrlSigner {
    key: Vec<u8>,
}

/// The query parameters a signed URL adds.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    pub user: String,
    pub expires: i64,
    pub sig: String,
}

impl UrlSigner {
    pub fn new(key: Vec<u8>) -> Self {
        UrlSigner { key }
    }

    fn mac(&self, path: &str, user: &str, expires: i64) -> Option<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(&self.key).ok()?;
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(user.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        Some(mac)
    }

    /// `path?u=..&exp=..&sig=..` valid for [`SIGNED_URL_TTL_SECS`].
    pub fn sign(&self, path: &str, user: &str) -> String {
        let expires = Timestamp::now().millis() / 1000 + SIGNED_URL_TTL_SECS as i64;
        let sig = self
            .mac(path, user, expires)
            .map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
            .unwrap_or_default();
        format!("{path}?u={user}&exp={expires}&sig={sig}")
    }

    /// The signing user, when `signature` is valid for `path` and not expired.
    pub fn verify(&self, path: &str, signature: &Signature) -> Option<String> {
        if signature.expires < Timestamp::now().millis() / 1000 {
            return None;
        }
        let given = URL_SAFE_NO_PAD.decode(&signature.sig).ok()?;
        self.mac(path, &signature.user, signature.expires)?
            .verify_slice(&given)
            .ok()
            .map(|_| signature.user.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> (String, Signature) {
        let (path, query) = url.split_once('?').unwrap();
        let mut user = String::new();
        let mut expires = 0;
        let mut sig = String::new();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap();
            match k {
                "u" => user = v.into(),
                "exp" => expires = v.parse().unwrap(),
                "sig" => sig = v.into(),
                _ => {}
            }
        }
        (path.into(), Signature { user, expires, sig })
    }

    #[test]
    fn signed_urls_verify_only_for_their_path_and_user() {
        let signer = UrlSigner::new(b"key".to_vec());
        let (path, sig) = parse(&signer.sign("/api/v1/tracks/t1/stream", "u1"));
        assert_eq!(signer.verify(&path, &sig), Some("u1".into()));
        assert_eq!(signer.verify("/api/v1/tracks/t2/stream", &sig), None);
        let forged = Signature {
            user: "u2".into(),
            ..sig.clone()
        };
        assert_eq!(signer.verify(&path, &forged), None);
        let expired = Signature { expires: 1, ..sig };
        assert_eq!(signer.verify(&path, &expired), None);
        assert_eq!(
            UrlSigner::new(b"other".to_vec()).verify(&path, &parse(&signer.sign(&path, "u1")).1),
            None
        );
    }
}
