//! Refresh tokens: opaque cookie values that lead to their own item without being stored.
//!
//! A value is `base64url(user id || family id || 32 random bytes)`: the ids say which partition
//! and family to look in, the 256 random bits (system CSPRNG) make it unguessable, and only its
//! SHA-256 is stored, so a leaked table holds no usable token. A *family* is every token that
//! descends from one login; rotation replaces a token by a child in the same family.

use std::fmt;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::UserId;
use crate::error::ApiError;

/// Random bytes per token (256 bits).
const RANDOM_BYTES: usize = 32;
const TOKEN_BYTES: usize = 16 + 16 + RANDOM_BYTES;

/// A family's lifetime from its login: the absolute expiry of every token in it (30 days).
pub const REFRESH_ABSOLUTE_TTL_SECS: i64 = 30 * 24 * 60 * 60;
/// How long a token stays valid unused (7 days).
pub const REFRESH_IDLE_TTL_SECS: i64 = 7 * 24 * 60 * 60;

/// The id of a token family (one login and every rotation after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FamilyId(Uuid);

impl FamilyId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// A family id as [`Display`](fmt::Display) writes it (the `sid` of access tokens).
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::try_parse(s).ok().map(Self)
    }

    /// When the family was generated (Unix seconds), from its UUIDv7; `None` for ids of
    /// another version.
    pub fn generated_at(&self) -> Option<i64> {
        let (secs, _) = self.0.get_timestamp()?.to_unix();
        i64::try_from(secs).ok()
    }
}

impl fmt::Display for FamilyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_simple().fmt(f)
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
        bytes[16..32].copy_from_slice(family.0.as_bytes());
        aws_lc_rs::rand::fill(&mut bytes[32..])
            .map_err(|_| ApiError::Internal("no randomness for a refresh token".into()))?;
        Ok(Self {
            user,
            family,
            value: URL_SAFE_NO_PAD.encode(bytes),
        })
    }

    /// Reads a cookie value. `None` for anything that cannot be one of ours (the caller
    /// answers 401); a well-formed forgery still fails, as no item has its hash.
    pub fn parse(value: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        if bytes.len() != TOKEN_BYTES {
            return None;
        }
        let user = UserId::from_uuid(Uuid::from_slice(bytes.get(..16)?).ok()?);
        let family = FamilyId(Uuid::from_slice(bytes.get(16..32)?).ok()?);
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
        digest::digest(&digest::SHA256, self.value.as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
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
