//! `Idempotency-Key` (docs/API.md §12): what makes a key acceptable, what
//! makes two requests "the same request", and the answer kept for a replay.
//! No I/O: the HTTP layer reads the request, the store keeps the answer.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The response header a replayed answer carries.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
/// Longest key accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// How long a kept answer is replayed, from the first request.
pub const KEEP_MS: i64 = 24 * 3600 * 1000;

/// The 400 for a key outside the rules.
pub const BAD_KEY: &str =
    "Idempotency-Key must be 1 to 255 characters from ! to ~ (printable ASCII, no spaces)";
/// The 400 for a request with the header more than once.
pub const REPEATED_KEY: &str = "Idempotency-Key must be sent once";
/// The 422 for the same key with another request.
pub const REUSED: &str = "Idempotency-Key reused with a different request";
/// The 409 while the first request with the key still runs.
pub const IN_PROGRESS: &str = "A request with this Idempotency-Key is in progress";

/// Whether `key` is 1–255 bytes, each from `!` to `~`.
pub fn valid_key(key: &[u8]) -> bool {
    !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY
        && key.iter().all(|b| (b'!'..=b'~').contains(b))
}

/// The identity of a request, as a SHA-256 digest: its method, its path with
/// the query string, its JSON body's fields (credentials already taken out)
/// compared as parsed JSON — object keys in any order, any whitespace — and
/// `extra` (a multipart upload's file). Each part is length-prefixed, so no
/// two different requests run together into the same bytes.
pub fn fingerprint(
    method: &str,
    path_and_query: &str,
    fields: &Map<String, Value>,
    extra: &[&[u8]],
) -> Vec<u8> {
    let mut canonical = Vec::new();
    write_canonical_object(fields, &mut canonical);
    let mut hash = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(bytes);
    };
    part(method.as_bytes());
    part(path_and_query.as_bytes());
    part(&canonical);
    for bytes in extra {
        part(bytes);
    }
    hash.finalize().to_vec()
}

/// JSON with every object's keys sorted, whatever order the map keeps.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => write_canonical_object(map, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        // Scalars serialise one way only; writing to a Vec cannot fail.
        scalar => out.extend_from_slice(&serde_json::to_vec(scalar).unwrap_or_default()),
    }
}

fn write_canonical_object(map: &Map<String, Value>, out: &mut Vec<u8>) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.push(b'{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&serde_json::to_vec(key).unwrap_or_default());
        out.push(b':');
        write_canonical(value, out);
    }
    out.push(b'}');
}

/// An answer kept for replays: its status, the headers that describe its
/// body or point at what it made, and the body's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The headers of an answer worth replaying; the rest are about this
/// response only (request id, rate limits, date) and are made afresh.
pub const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "content-disposition",
    "location",
    "cache-control",
    "pragma",
];

/// Whether an answer of `status` is kept: not a server failure nor a rate
/// limit, which a retry under the same key may run again.
pub fn kept_status(status: u16) -> bool {
    status < 500 && status != 429
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn keys_are_1_to_255_printable_ascii() {
        assert!(valid_key(b"!"));
        assert!(valid_key(&[b'~'; 255]));
        assert!(!valid_key(b""));
        assert!(!valid_key(&[b'k'; 256]));
        assert!(!valid_key(b"a b"));
        assert!(!valid_key("clé".as_bytes()));
        assert!(!valid_key(b"a\tb"));
    }

    #[test]
    fn the_same_request_in_other_words_has_the_same_fingerprint() {
        let a = fingerprint(
            "POST",
            "/x?a=1",
            &fields(json!({"a": 1, "b": {"c": [1, 2], "d": null}})),
            &[],
        );
        let b = fingerprint(
            "POST",
            "/x?a=1",
            &fields(json!({"b": {"d": null, "c": [1, 2]}, "a": 1})),
            &[],
        );
        assert_eq!(a, b);
        let other_body = fingerprint("POST", "/x?a=1", &fields(json!({"a": 2})), &[]);
        let other_path = fingerprint("POST", "/y?a=1", &fields(json!({"a": 1})), &[]);
        let other_query = fingerprint("POST", "/x?a=2", &fields(json!({"a": 1})), &[]);
        let other_method = fingerprint("PUT", "/x?a=1", &fields(json!({"a": 1})), &[]);
        for other in [other_body, other_path, other_query, other_method] {
            assert_ne!(a, other);
        }
        let file = fingerprint("POST", "/x", &Map::new(), &[b"one"]);
        assert_ne!(file, fingerprint("POST", "/x", &Map::new(), &[b"two"]));
        assert_ne!(file, fingerprint("POST", "/x", &Map::new(), &[]));
    }

    #[test]
    fn failures_and_rate_limits_are_not_kept() {
        assert!(kept_status(200) && kept_status(204) && kept_status(404) && kept_status(422));
        assert!(!kept_status(429) && !kept_status(500) && !kept_status(503));
    }
}
