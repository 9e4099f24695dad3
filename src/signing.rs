//! Standard Webhooks signatures (standardwebhooks.com), for webhook
//! deliveries and, later, agent tool calls: `webhook-signature` is `v1,` and
//! the base64 HMAC-SHA256 of `id.timestamp.body` keyed with the secret's
//! decoded bytes (the secret is a prefix such as `whsec_` and base64).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Random bytes in a new secret (the specification asks for 24 to 64).
const SECRET_BYTES: usize = 32;

/// A new secret: `prefix` and the base64 of 32 random bytes.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", STANDARD.encode(bytes))
}

/// One `v1,` signature; `None` when the secret is not `prefix` + base64.
pub fn sign(secret: &str, prefix: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(prefix)?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret, space-separated
/// (two during a rotation).
pub fn signature_header(
    secrets: &[&str],
    prefix: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .filter_map(|s| sign(s, prefix, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specifications_example() {
        // The example of the Standard Webhooks reference implementations.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(
                secret,
                "whsec_",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                body
            )
            .unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_rotation_signs_twice_and_secrets_are_fresh() {
        let (a, b) = (new_secret("whsec_"), new_secret("whsec_"));
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(&a[6..]).unwrap().len(), 32);
        let header = signature_header(&[&a, &b], "whsec_", "evt_1", 1, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert!(sign("whsec_%%%", "whsec_", "evt_1", 1, b"{}").is_none());
    }
}
