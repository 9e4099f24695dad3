//! Authentication: API-key secrets (minted, hashed, checked in constant time)
//! and the HS256 chat tokens handed to customer users.
//!
//! Key secrets are 32 random bytes, so a fast keyed hash is as safe as a slow
//! password hash would be while costing microseconds per request: we store
//! HMAC-SHA-256(key = key id, message = secret), which also ties each hash to
//! its own key row.

mod cache;
mod check;
mod jwt;
mod keys;

pub use cache::KeyCache;
pub use check::{check_token, CheckedToken, TokenAudience, TokenRejected};
pub use jwt::{Claims, TokenError, TokenSigner, ISSUER};
pub use keys::{create_api_key, require_company, revoke_api_key, KeyError};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// A new key secret: `sk_` and 32 random bytes, base64url.
pub fn new_key_secret() -> String {
    format!("sk_{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// A new signing secret for chat tokens (used when none is configured).
pub fn new_signing_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<48>())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

pub fn hash_key_secret(key_id: &str, secret: &str) -> Vec<u8> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key_id.as_bytes()).expect("HMAC takes any key length");
    mac.update(secret.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

pub fn secret_matches(key_id: &str, secret: &str, stored_hash: &[u8]) -> bool {
    hash_key_secret(key_id, secret).ct_eq(stored_hash).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_verify_only_against_their_own_key() {
        let secret = new_key_secret();
        assert!(secret.starts_with("sk_") && secret.len() >= 3 + 43);
        let hash = hash_key_secret("pk_1", &secret);
        assert!(secret_matches("pk_1", &secret, &hash));
        assert!(!secret_matches("pk_2", &secret, &hash));
        assert!(!secret_matches("pk_1", "sk_wrong", &hash));
        assert_ne!(new_key_secret(), secret);
    }
}
