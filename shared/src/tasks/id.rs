//! The id of a task.

use uuid::Uuid;

/// A task's id: a UUIDv7 in canonical (lowercase, hyphenated) form, so that its string order
/// is creation order and one task has exactly one URL. A malformed id in a path names no task
/// (the handlers answer 404).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(Uuid);

crate::domain::canonical_v7_id!(TaskId);

/// How far ahead of the server's clock a client-generated id's time may lie: a day covers
/// any clock skew, and refuses ids that would sort as the newest task for months on end.
pub const MAX_ID_AHEAD_SECS: i64 = 24 * 60 * 60;

/// The field error of a PUT whose id cannot name a new task.
pub const NOT_A_UUIDV7: &str = "must be a UUIDv7 in canonical form (lowercase, hyphenated)";
/// The field error of a PUT whose id's time lies too far ahead.
pub const ID_FROM_THE_FUTURE: &str = "is a UUIDv7 whose time lies more than a day ahead";

impl TaskId {
    /// An id a client generated for a task it creates with PUT (`now`: Unix seconds): a
    /// canonical UUIDv7 whose time is at most [`MAX_ID_AHEAD_SECS`] ahead of `now`. Ids
    /// the server generated always pass, so every existing task's id does. The error is the
    /// field message of `id`.
    pub fn chosen_by_client(s: &str, now: i64) -> Result<Self, &'static str> {
        let id = Self::parse(s).ok_or(NOT_A_UUIDV7)?;
        let (secs, _) = id.0.get_timestamp().ok_or(NOT_A_UUIDV7)?.to_unix();
        let secs = i64::try_from(secs).map_err(|_| ID_FROM_THE_FUTURE)?;
        if secs > now.saturating_add(MAX_ID_AHEAD_SECS) {
            return Err(ID_FROM_THE_FUTURE);
        }
        Ok(id)
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

    /// A UUIDv7 whose time is `secs` (Unix seconds).
    fn v7_at(secs: u64) -> String {
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs, 0);
        Uuid::new_v7(ts).to_string()
    }

    #[test]
    fn client_ids_are_canonical_uuidv7_at_most_a_day_ahead() {
        let now = 1_795_420_800;
        let ahead = |secs: i64| v7_at(u64::try_from(now + secs).unwrap());
        for ok in [
            ahead(-86_400 * 365),
            ahead(0),
            ahead(3600),
            ahead(MAX_ID_AHEAD_SECS),
        ] {
            assert!(TaskId::chosen_by_client(&ok, now).is_ok(), "{ok}");
        }
        assert_eq!(
            TaskId::chosen_by_client(&ahead(MAX_ID_AHEAD_SECS + 1), now),
            Err(ID_FROM_THE_FUTURE)
        );
        assert_eq!(
            TaskId::chosen_by_client(&ahead(2 * 86_400), now),
            Err(ID_FROM_THE_FUTURE)
        );
        let v4 = "9f1c8a52-3b4e-4d6f-8a7b-1c2d3e4f5a6b";
        for bad in [v4, "not-a-uuid", &ahead(0).to_uppercase(), ""] {
            assert_eq!(
                TaskId::chosen_by_client(bad, now),
                Err(NOT_A_UUIDV7),
                "{bad}"
            );
        }
        let generated = TaskId::generate();
        let unix_now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert_eq!(
            TaskId::chosen_by_client(&generated.to_string(), unix_now),
            Ok(generated)
        );
    }
}
