//! The writable fields of a task as newtypes that only hold valid values.

use crate::domain::{CategoryId, Timestamp};
use crate::text::{self, TextKind};

/// Longest title, in characters, after trimming.
pub const MAX_TITLE_CHARS: usize = 255;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// A title: trimmed, 1..=255 characters, one line of visible text (see [`crate::text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTitle(String);

impl TaskTitle {
    pub fn parse(s: &str) -> Result<Self, String> {
        let title = Self::from_stored(s)?;
        text::check(TextKind::Line, title.as_str())?;
        Ok(title)
    }

    /// A title read back from the store: its bounds are checked, its characters are not, so
    /// a title stored before control and bidi characters were refused stays readable (its
    /// owner can still see, replace or delete the task).
    pub fn from_stored(s: &str) -> Result<Self, String> {
        let trimmed = s.trim();
        match trimmed.chars().count() {
            0 => Err("must not be empty".into()),
            n if n > MAX_TITLE_CHARS => {
                Err(format!("must be at most {MAX_TITLE_CHARS} characters"))
            }
            _ => Ok(Self(trimmed.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercased title the store keeps for case-insensitive search.
    pub fn search_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A description: at most 2000 characters, kept exactly as sent; line breaks and tabs are the
/// only control characters it may hold (see [`crate::text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDescription(String);

impl TaskDescription {
    pub fn parse(s: &str) -> Result<Self, String> {
        let description = Self::from_stored(s)?;
        text::check(TextKind::Multiline, s)?;
        Ok(description)
    }

    /// A description read back from the store: bounded, characters unchecked (as
    /// [`TaskTitle::from_stored`]).
    pub fn from_stored(s: &str) -> Result<Self, String> {
        if s.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(format!(
                "must be at most {MAX_DESCRIPTION_CHARS} characters"
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
}

impl Priority {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// Every field a client may write: what PUT replaces, what PATCH merges into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFields {
    pub title: TaskTitle,
    pub description: Option<TaskDescription>,
    pub completed: bool,
    pub priority: Priority,
    pub due_date: Option<Timestamp>,
    /// `None` when uncategorised. The store checks that a category is one of the user's (and
    /// not being deleted) in the same transaction as the write.
    pub category_id: Option<CategoryId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded_in_characters() {
        assert_eq!(
            TaskTitle::parse("  Buy milk \n").unwrap().as_str(),
            "Buy milk"
        );
        assert!(TaskTitle::parse("   ").is_err());
        assert!(TaskTitle::parse(&"é".repeat(255)).is_ok());
        assert!(TaskTitle::parse(&"é".repeat(256)).is_err());
        assert!(TaskDescription::parse(&"ü".repeat(2000)).is_ok());
        assert!(TaskDescription::parse(&"ü".repeat(2001)).is_err());
    }
}
