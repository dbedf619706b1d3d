//! The tokens of the links mailed to a user: a password reset and an email verification.
//!
//! A token is `base64url(user id || 32 random bytes)`: the id says which partition holds its
//! item (one per kind per user, so a newer token replaces an older one), the 256 random bits
//! (system CSPRNG) make it unguessable, and only its SHA-256 is stored. It travels in the
//! fragment of a link to the SPA, so it never reaches a server log or a `Referer`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::UserId;
use crate::error::ApiError;

/// Random bytes per token (256 bits).
const RANDOM_BYTES: usize = 32;
const TOKEN_BYTES: usize = 16 + RANDOM_BYTES;

/// What a link token is for, and how long it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A password reset: 30 minutes.
    Reset,
    /// An email verification: 24 hours.
    Verify,
}

impl LinkKind {
    pub fn ttl_secs(self) -> i64 {
        match self {
            Self::Reset => 30 * 60,
            Self::Verify => 24 * 60 * 60,
        }
    }

    /// Its name in the token item's sort key.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reset => "RESET",
            Self::Verify => "VERIFY",
        }
    }

    /// The SPA's page the link opens.
    pub fn page(self) -> &'static str {
        match self {
            Self::Reset => "/reset-password",
            Self::Verify => "/verify-email",
        }
    }
}

/// A link token as mailed, or as presented. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken {
    user: UserId,
    value: String,
}

impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkToken(..)")
    }
}

impl LinkToken {
    /// A new token for `user`.
    pub fn generate(user: UserId) -> Result<Self, ApiError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        let (id, random) = bytes.split_at_mut(16);
        id.copy_from_slice(user.as_uuid().as_bytes());
        aws_lc_rs::rand::fill(random)
            .map_err(|_| ApiError::Internal("no randomness for a link token".into()))?;
        Ok(Self {
            user,
            value: URL_SAFE_NO_PAD.encode(bytes),
        })
    }

    /// A presented token: `None` unless it has the shape of one (its user is then only a
    /// claim, until its hash matches the stored one).
    pub fn parse(value: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(value.trim()).ok()?;
        if bytes.len() != TOKEN_BYTES {
            return None;
        }
        let id = Uuid::from_slice(bytes.get(..16)?).ok()?;
        let user = UserId::parse(&id.to_string())?;
        Some(Self {
            user,
            value: value.trim().to_string(),
        })
    }

    pub fn user(&self) -> UserId {
        self.user
    }

    /// What is stored instead of the token: SHA-256 of the value, lowercase hex.
    pub fn hash(&self) -> String {
        crate::domain::hex_sha256(self.value.as_bytes())
    }

    /// The link to the SPA's page of `kind`, the token in the fragment.
    pub fn link(&self, app_url: &str, kind: LinkKind) -> String {
        format!("{app_url}{}#token={}", kind.page(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_user_and_parses_back() {
        let user = UserId::generate();
        let token = LinkToken::generate(user).unwrap();
        let parsed = LinkToken::parse(&token.value).unwrap();
        assert_eq!(parsed.user(), user);
        assert_eq!(parsed.hash(), token.hash());
        assert_eq!(token.hash().len(), 64);
        assert_ne!(LinkToken::generate(user).unwrap().hash(), token.hash());
        assert_eq!(format!("{token:?}"), "LinkToken(..)");
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in ["", "abc", "!!!!", &"A".repeat(63), &"A".repeat(66)] {
            assert!(LinkToken::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_link_carries_the_token_in_its_fragment() {
        let token = LinkToken::generate(UserId::generate()).unwrap();
        let link = token.link("https://app.example.com", LinkKind::Reset);
        assert_eq!(
            link,
            format!(
                "https://app.example.com/reset-password#token={}",
                token.value
            )
        );
    }
}
