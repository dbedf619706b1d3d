//! The id of a task.

use uuid::Uuid;

/// A task's id: a UUIDv7 in canonical (lowercase, hyphenated) form, so that its string order
/// is creation order and one task has exactly one URL. A malformed id in a path names no task
/// (the handlers answer 404).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(Uuid);

crate::domain::canonical_v7_id!(TaskId);

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
