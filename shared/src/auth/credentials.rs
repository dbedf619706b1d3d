//! What a person types to register or log in, parsed at the edge into types that can only hold
//! valid values, so handlers and the store never see unvalidated input.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::text::{self, TextKind, string};

/// Longest email address (RFC 5321 path limit).
const MAX_EMAIL_CHARS: usize = 254;
/// Password length bounds, in characters (not bytes).
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Display name length bounds, in characters, after trimming.
const MAX_NAME_CHARS: usize = 100;

/// An email address, trimmed and lowercased: the form in which it is stored and compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err("must not be empty".into());
        }
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err(format!("must be at most {MAX_EMAIL_CHARS} characters"));
        }
        if email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        {
            return Err("must be an email address such as name@example.com".into());
        }
        let valid = match email.rsplit_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && !local.contains('@')
                    && domain.contains('.')
                    && domain
                        .split('.')
                        .all(|label| !label.is_empty() && !label.starts_with('-'))
            }
            None => false,
        };
        if !valid {
            return Err("must be an email address such as name@example.com".into());
        }
        Ok(Self(email))
    }

    /// For [`crate::http::Fields`].
    pub fn from_json(value: &Value) -> Result<Self, String> {
        Self::parse(string(value)?)
    }

    /// Rebuilds an email read back from the store (stored only after validation).
    pub fn from_stored(email: String) -> Self {
        Self(email)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password exactly as given (never trimmed or truncated), 8..=128 characters. Checked before
/// any hashing, so over-long input costs nothing. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(input: &str) -> Result<Self, String> {
        let chars = input.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
        }
        Ok(Self(input.to_string()))
    }

    /// For [`crate::http::Fields`].
    pub fn from_json(value: &Value) -> Result<Self, String> {
        Self::parse(string(value)?)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A display name: trimmed, 1..=100 characters, one line of visible text (see [`crate::text`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserName(String);

impl UserName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.trim();
        if name.is_empty() {
            return Err("must not be empty".into());
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!("must be at most {MAX_NAME_CHARS} characters"));
        }
        text::check(TextKind::Line, name)?;
        Ok(Self(name.to_string()))
    }

    /// For [`crate::http::Fields`].
    pub fn from_json(value: &Value) -> Result<Self, String> {
        Self::parse(string(value)?)
    }

    /// Rebuilds a name read back from the store (stored only after validation).
    pub fn from_stored(name: String) -> Self {
        Self(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let email = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "   ",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "ada lovelace@example.com",
            "ada@example..com",
            "ada@.example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn passwords_count_characters_and_keep_spaces() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        // 8 characters, 16 bytes: long enough.
        assert!(Password::parse("éééééééé").is_ok());
        // 128 characters of 4 bytes each: still allowed; 129 are not.
        assert!(Password::parse(&"🔑".repeat(128)).is_ok());
        assert!(Password::parse(&"🔑".repeat(129)).is_err());
        assert_eq!(
            Password::parse("  secret pw  ").unwrap().expose(),
            "  secret pw  "
        );
        assert_eq!(
            format!("{:?}", Password::parse("hunter2hunter2").unwrap()),
            "Password(..)"
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(UserName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse(&"n".repeat(100)).is_ok());
        assert!(UserName::parse(&"n".repeat(101)).is_err());
        assert!(UserName::parse("Ada\u{0}").is_err());
        assert!(UserName::parse("Ada\u{9B}").is_err());
        // "Ada" followed by a right-to-left override: the rest would render reversed.
        assert!(UserName::parse("Ada\u{202E}nimda").is_err());
        assert!(UserName::parse("Ada\u{2066}x\u{2069}").is_err());
        assert!(UserName::parse("Ада Лавлейс").is_ok());
    }
}
