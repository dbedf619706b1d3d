//! Idempotency keys (draft-ietf-httpapi-idempotency-key-header): the key a client sends with a
//! create so that a retry of it is answered, not carried out again, and the fingerprint of the
//! request it first came with. Plain values: the header is read at the edge, the record is kept
//! by the store.

use std::fmt;

use aws_lc_rs::digest;

/// How long a key is remembered after the create it came with (the draft leaves the window to
/// the server; 24 hours covers a client's retries, even across a night offline).
pub const IDEMPOTENCY_WINDOW_SECS: i64 = 24 * 60 * 60;

/// The longest key accepted (the draft sets no limit; a UUID is 36 characters).
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// A client's idempotency key: 1..=255 printable ASCII characters (space to `~`), compared
/// exactly as sent. An sf-string's quotes (`"8e03..."`, the draft's form) are part of the value:
/// a client retries with the very header it sent first, so nothing needs unquoting.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(value: &str) -> Option<Self> {
        let printable = value.bytes().all(|b| (b' '..=b'~').contains(&b));
        (printable && (1..=MAX_IDEMPOTENCY_KEY_CHARS).contains(&value.len()))
            .then(|| Self(value.to_string()))
    }

    /// What is stored instead of the key (lowercase hex SHA-256): a fixed-size sort key that
    /// never carries the client's text.
    pub fn digest(&self) -> String {
        hex_sha256(self.0.as_bytes())
    }
}

/// Keys are the client's own text: never in a log.
impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdempotencyKey(..)")
    }
}

/// The fingerprint of a request body: SHA-256 of its raw bytes, lowercase hex. Raw bytes, not
/// the parsed fields: "the same request" is the same bytes, as a retry sends them (a client
/// that re-serialises its JSON differently sends another request, and learns so with a 422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn of(body: &[u8]) -> Self {
        Self(hex_sha256(body))
    }

    /// A fingerprint as stored.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 of `bytes`, lowercase hex: what is stored instead of a secret or a key.
pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    digest::digest(&digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_1_to_255_printable_ascii_characters() {
        for good in [
            "a",
            "8e03978e-40d5-43e8-bc93-6894a57f9324",
            "\"quoted\"",
            "a b~",
        ] {
            assert!(IdempotencyKey::parse(good).is_some(), "{good}");
        }
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_some());
        for bad in ["", "tab\there", "new\nline", "caf\u{e9}", "\u{7f}"] {
            assert!(IdempotencyKey::parse(bad).is_none(), "{bad:?}");
        }
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_none());
    }

    #[test]
    fn keys_and_bodies_are_stored_as_sha256_hex() {
        let key = IdempotencyKey::parse("abc").unwrap();
        assert_eq!(
            key.digest(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Fingerprint::of(b"abc").as_str(), key.digest());
        assert_ne!(
            Fingerprint::of(b"{\"a\":1}"),
            Fingerprint::of(b"{\"a\": 1}")
        );
        assert_eq!(format!("{key:?}"), "IdempotencyKey(..)");
    }
}
