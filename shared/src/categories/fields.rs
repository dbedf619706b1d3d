//! The writable fields of a category as newtypes that only hold valid values.

use crate::text::{self, TextKind};

/// Longest name, in characters, after trimming.
pub const MAX_NAME_CHARS: usize = 100;
/// The colour of a category created without one.
pub const DEFAULT_COLOR: &str = "#3B82F6";

/// A name: trimmed, 1..=100 characters, one line of visible text (see [`crate::text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryName(String);

impl CategoryName {
    pub fn parse(s: &str) -> Result<Self, String> {
        let trimmed = s.trim();
        text::check(TextKind::Line, trimmed)?;
        match trimmed.chars().count() {
            0 => Err("must not be empty".into()),
            n if n > MAX_NAME_CHARS => Err(format!("must be at most {MAX_NAME_CHARS} characters")),
            _ => Ok(Self(trimmed.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What uniqueness compares: names equal but for case are the same name.
    pub fn unique_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A colour `#RRGGBB`, kept uppercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Color(String);

impl Color {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.strip_prefix('#') {
            Some(hex) if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(Self(format!("#{}", hex.to_ascii_uppercase())))
            }
            _ => Err("must be a colour #RRGGBB, e.g. #3B82F6".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Color {
    fn default() -> Self {
        Self(DEFAULT_COLOR.into())
    }
}

/// Every field a client may write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryFields {
    pub name: CategoryName,
    pub color: Color,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_one_line_of_visible_text() {
        assert_eq!(CategoryName::parse("  Work ").unwrap().as_str(), "Work");
        assert_eq!(CategoryName::parse("Ärger").unwrap().unique_key(), "ärger");
        assert!(CategoryName::parse(&"é".repeat(100)).is_ok());
        for bad in [
            "",
            "   ",
            &"a".repeat(101),
            "a\nb",
            "a\u{0085}b",
            "a\u{202E}b",
            "a\u{2066}b",
        ] {
            assert!(CategoryName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn colours_are_hex_in_either_case_and_kept_uppercase() {
        assert_eq!(Color::parse("#a1b2c3").unwrap().as_str(), "#A1B2C3");
        assert_eq!(Color::default().as_str(), "#3B82F6");
        for bad in ["a1b2c3", "#abc", "#gggggg", "#a1b2c3d", "", "#ÄÄÄ"] {
            assert!(Color::parse(bad).is_err(), "{bad:?}");
        }
    }
}
