//! Refresh tokens: opaque cookie values that lead to their own item without being stored.
//!
//! A value is `base64url(user id || family id || 32 random bytes)`: the ids say which partition
//! and family to look in, the 256 random bits (system CSPRNG) make it unguessable, and only its
//! SHA-256 is stored, so a leaked table holds no usable token. A *family* is every token that
//! descends from one login; rotation replaces a token by a child in the same family.
//!
//! A child is not drawn but derived: its 256 bits are `HMAC-SHA256(key, parent value ||
//! family id || parent's session generation)` under a key of the server's
//! ([`SuccessorKey`]). Presenting one token twice thus always yields the same successor, which
//! is what lets a re-presentation within the reuse grace get the winner's token rather than a
//! second live chain (see `crate::store` sessions), while no plaintext token is stored: the
//! derivation needs the parent's value, which the store does not hold either.

use std::fmt;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::{FamilyId, UserId};
use crate::error::ApiError;

/// Random bytes per token (256 bits).
const RANDOM_BYTES: usize = 32;
const TOKEN_BYTES: usize = 16 + 16 + RANDOM_BYTES;

/// A family's lifetime from its login: the absolute expiry of every token in it (30 days).
pub const REFRESH_ABSOLUTE_TTL_SECS: i64 = 30 * 24 * 60 * 60;
/// How long a token stays valid unused (7 days).
pub const REFRESH_IDLE_TTL_SECS: i64 = 7 * 24 * 60 * 60;

/// The label the successor key is derived under from the access-token secret: one secret
/// configured, each use under its own key.
const SUCCESSOR_KEY_LABEL: &[u8] = b"taskline refresh-token successor v1";

/// The server key refresh-token successors are derived with (see the module comment). Derived
/// from `JWT_SECRET` under a fixed label rather than configured apart: the refresh function
/// holds that secret already, and whoever holds it can mint sessions anyway.
#[derive(Clone)]
pub struct SuccessorKey(hmac::Key);

impl SuccessorKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(super::derived_key(secret, SUCCESSOR_KEY_LABEL))
    }
}

impl fmt::Debug for SuccessorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SuccessorKey")
    }
}

/// A refresh token as the client holds it. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    user: UserId,
    family: FamilyId,
    value: String,
}

impl RefreshToken {
    /// A new token of `family` for `user`.
    pub fn generate(user: UserId, family: FamilyId) -> Result<Self, ApiError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        bytes[..16].copy_from_slice(user.as_uuid().as_bytes());
        bytes[16..32].copy_from_slice(family.as_uuid().as_bytes());
        aws_lc_rs::rand::fill(&mut bytes[32..])
            .map_err(|e| ApiError::failed("drawing a refresh token", e))?;
        Ok(Self {
            user,
            family,
            value: URL_SAFE_NO_PAD.encode(bytes),
        })
    }

    /// The one successor of this token (rotation and the reuse grace hand out the same), of
    /// the same user and family; `generation` is the session generation this token was issued
    /// in (see `crate::store` sessions).
    pub fn successor(&self, key: &SuccessorKey, generation: u64) -> Self {
        let mut input = Vec::with_capacity(self.value.len() + 16 + 8);
        input.extend_from_slice(self.value.as_bytes());
        input.extend_from_slice(self.family.as_uuid().as_bytes());
        input.extend_from_slice(&generation.to_be_bytes());
        let tag = hmac::sign(&key.0, &input);
        let mut bytes = [0u8; TOKEN_BYTES];
        bytes[..16].copy_from_slice(self.user.as_uuid().as_bytes());
        bytes[16..32].copy_from_slice(self.family.as_uuid().as_bytes());
        bytes[32..].copy_from_slice(tag.as_ref());
        Self {
            user: self.user,
            family: self.family,
            value: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    /// Reads a cookie value. `None` for anything that cannot be one of ours (the caller
    /// answers 401); a well-formed forgery still fails, as no item has its hash.
    pub fn parse(value: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        if bytes.len() != TOKEN_BYTES {
            return None;
        }
        let user = UserId::from_uuid(Uuid::from_slice(bytes.get(..16)?).ok()?);
        let family = FamilyId::from_uuid(Uuid::from_slice(bytes.get(16..32)?).ok()?);
        // Only the canonical encoding, so one token has exactly one value (and one hash).
        if URL_SAFE_NO_PAD.encode(&bytes) != value {
            return None;
        }
        Some(Self {
            user,
            family,
            value: value.to_string(),
        })
    }

    pub fn user(&self) -> UserId {
        self.user
    }

    pub fn family(&self) -> FamilyId {
        self.family
    }

    /// What is stored instead of the token: SHA-256 of the value, lowercase hex.
    pub fn hash(&self) -> String {
        crate::domain::hex_sha256(self.value.as_bytes())
    }

    /// The cookie value.
    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshToken")
            .field("user", &self.user)
            .field("family", &self.family)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_carry_256_random_bits() {
        let user = UserId::generate();
        let family = FamilyId::generate();
        let a = RefreshToken::generate(user, family).unwrap();
        let b = RefreshToken::generate(user, family).unwrap();
        assert_ne!(a.expose(), b.expose());
        assert_ne!(a.hash(), b.hash());
        let parsed = RefreshToken::parse(a.expose()).unwrap();
        assert_eq!(parsed.user(), user);
        assert_eq!(parsed.family(), family);
        assert_eq!(parsed.hash(), a.hash());
        assert_eq!(a.hash().len(), 64);
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn a_successor_is_the_same_for_the_same_parent_and_unlike_anything_else() {
        let key = SuccessorKey::new(b"0123456789abcdef0123456789abcdef");
        let parent = RefreshToken::generate(UserId::generate(), FamilyId::generate()).unwrap();
        let child = parent.successor(&key, 3);
        assert_eq!(child, parent.successor(&key, 3));
        assert_eq!(child.user(), parent.user());
        assert_eq!(child.family(), parent.family());
        assert_eq!(RefreshToken::parse(child.expose()), Some(child.clone()));
        assert_ne!(child, parent);
        assert_ne!(child, parent.successor(&key, 4));
        assert_ne!(child, child.successor(&key, 3));
        let other_key = SuccessorKey::new(b"another secret of at least 32 bytes");
        assert_ne!(child, parent.successor(&other_key, 3));
    }

    #[test]
    fn anything_else_is_not_a_token() {
        let token = RefreshToken::generate(UserId::generate(), FamilyId::generate()).unwrap();
        let value = token.expose();
        for bad in [
            "",
            "not a token",
            &value[..value.len() - 1],
            &format!("{value}A"),
            &format!("{value}="),
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad:?} parsed");
        }
    }
}
