//! The id of a task.

use std::fmt;

use uuid::Uuid;

use crate::domain::canonical_v7;

/// A task's id: a UUIDv7 in canonical (lowercase, hyphenated) form, so that its string order
/// is creation order and one task has exactly one URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(Uuid);

impl TaskId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// A path segment or stored key as a task id; anything but a canonical UUIDv7 is `None`
    /// (the handlers answer 404: a malformed id names no task).
    pub fn parse(s: &str) -> Option<Self> {
        canonical_v7(s).map(Self)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_hyphenated().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_are_canonical_uuidv7_only() {
        let id = TaskId::generate();
        assert_eq!(TaskId::parse(&id.to_string()), Some(id));
        assert_eq!(TaskId::parse(&id.to_string().to_uppercase()), None);
        assert_eq!(TaskId::parse(&id.as_uuid().simple().to_string()), None);
        assert_eq!(TaskId::parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), None);
        assert_eq!(TaskId::parse("not-a-uuid"), None);
        assert_eq!(TaskId::parse(""), None);
    }
}
