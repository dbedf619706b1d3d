//! List cursors: opaque to clients and authenticated. A cursor carries where a listing
//! continues (the last task of a page, and its key in the index serving the listing's sort)
//! and the time the listing's first page was read at; its HMAC-SHA256 tag (key
//! `CURSOR_SECRET`) also covers the user and the listing's filters, so a cursor that was
//! altered, belongs to another user or is replayed with other filters is refused (400) instead
//! of leaking or skipping data.
//!
//! Layout (base64url, no padding), version 2:
//! `2 | task id (16) | as-of time (8, ms since the epoch, big-endian) | index key length (1) |
//! index key | tag (32)`. Version 1 (`1 | task id (16) | tag (32)`, written before sorts and
//! due-date filters existed) still opens.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::{ListFilters, Sort, TaskId};
use crate::domain::{Timestamp, UserId};
use crate::error::ApiError;

const VERSION_1: u8 = 1;
const VERSION_2: u8 = 2;
const ID_BYTES: usize = 16;
const AS_OF_BYTES: usize = 8;
const TAG_BYTES: usize = 32;
/// Longest index key a cursor carries (the store's keys are well under it).
pub const MAX_INDEX_KEY_BYTES: usize = 255;
/// Domain separation: this key signs nothing else, but the label makes that explicit.
const LABEL: &[u8] = b"taskline/list-cursor/v1";

/// Where a listing continues: after this task, in the listing's order. `index_key` is the
/// task's sort key in the index that serves the listing's sort (opaque here: the store writes
/// and reads it); `None` when the listing reads the table itself (sort by creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPosition {
    pub id: TaskId,
    pub index_key: Option<String>,
}

impl ListPosition {
    pub fn after(id: TaskId) -> Self {
        Self {
            id,
            index_key: None,
        }
    }
}

/// An opened cursor: where the listing continues, and the time its first page was read at
/// (what `overdue` compares due dates with, so that every page of one listing uses one time
/// and a task cannot move between pages already read). `None` for a version-1 cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    pub position: ListPosition,
    pub as_of: Option<Timestamp>,
}

/// Seals and opens cursors with the configured key.
#[derive(Clone)]
pub struct CursorKeys(hmac::Key);

impl std::fmt::Debug for CursorKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKeys(..)")
    }
}

impl CursorKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// The cursor continuing a listing with `filters` after `position`, read at `as_of`.
    /// An index key longer than [`MAX_INDEX_KEY_BYTES`] cannot be carried: the store never
    /// writes one (see its tests), and a cursor without it would not continue correctly, so
    /// the listing ends there instead (`None`).
    pub fn seal(
        &self,
        user: UserId,
        filters: &ListFilters,
        position: &ListPosition,
        as_of: Timestamp,
    ) -> Option<String> {
        let index_key = position.index_key.as_deref().unwrap_or("").as_bytes();
        let index_key_len = u8::try_from(index_key.len()).ok()?;
        let mut payload = Vec::with_capacity(ID_BYTES + AS_OF_BYTES + 1 + index_key.len());
        payload.extend_from_slice(position.id.as_uuid().as_bytes());
        payload.extend_from_slice(&as_of.unix_millis().to_be_bytes());
        payload.push(index_key_len);
        payload.extend_from_slice(index_key);
        let tag = hmac::sign(&self.0, &signed_bytes(user, filters, &payload));
        let mut bytes = Vec::with_capacity(1 + payload.len() + TAG_BYTES);
        bytes.push(VERSION_2);
        bytes.extend_from_slice(&payload);
        bytes.extend_from_slice(tag.as_ref());
        Some(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Where a cursor continues, if this server sealed it for this user and these filters.
    pub fn open(
        &self,
        user: UserId,
        filters: &ListFilters,
        cursor: &str,
    ) -> Result<Continuation, ApiError> {
        let invalid = || {
            ApiError::BadRequest(
                "cursor is invalid: use the next_cursor of a listing with the same filters".into(),
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let (&version, rest) = bytes.split_first().ok_or_else(invalid)?;
        let payload_len = rest.len().checked_sub(TAG_BYTES).ok_or_else(invalid)?;
        let (payload, tag) = rest.split_at_checked(payload_len).ok_or_else(invalid)?;
        let well_formed = match version {
            VERSION_1 => payload.len() == ID_BYTES,
            VERSION_2 => payload
                .get(ID_BYTES + AS_OF_BYTES)
                .is_some_and(|&len| payload.len() == ID_BYTES + AS_OF_BYTES + 1 + usize::from(len)),
            _ => false,
        };
        if !well_formed {
            return Err(invalid());
        }
        hmac::verify(&self.0, &signed_bytes(user, filters, payload), tag).map_err(|_| invalid())?;
        let (id, rest) = payload.split_at_checked(ID_BYTES).ok_or_else(invalid)?;
        let uuid = Uuid::from_slice(id).map_err(|_| invalid())?;
        let id = TaskId::parse(&uuid.hyphenated().to_string()).ok_or_else(invalid)?;
        if version == VERSION_1 {
            return Ok(Continuation {
                position: ListPosition::after(id),
                as_of: None,
            });
        }
        let (as_of, rest) = rest.split_at_checked(AS_OF_BYTES).ok_or_else(invalid)?;
        let millis = i64::from_be_bytes(as_of.try_into().map_err(|_| invalid())?);
        let as_of = Timestamp::from_unix_millis(millis).ok_or_else(invalid)?;
        let index_key = rest.get(1..).ok_or_else(invalid)?;
        let index_key = (!index_key.is_empty())
            .then(|| String::from_utf8(index_key.to_vec()).map_err(|_| invalid()))
            .transpose()?;
        Ok(Continuation {
            position: ListPosition { id, index_key },
            as_of: Some(as_of),
        })
    }
}

/// Everything the tag covers, unambiguously framed (each part length-prefixed).
fn signed_bytes(user: UserId, filters: &ListFilters, position: &[u8]) -> Vec<u8> {
    let completed = match filters.completed {
        None => "",
        Some(true) => "true",
        Some(false) => "false",
    };
    let priority = filters.priority.map(|p| p.as_str()).unwrap_or("");
    // An absent `q` and an empty one are the same filter (the query parser maps "" to absent).
    let q = filters.q.as_deref().unwrap_or("");
    let user = user.to_string();
    let parts: [&[u8]; 7] = [
        LABEL,
        user.as_bytes(),
        position,
        completed.as_bytes(),
        priority.as_bytes(),
        q.as_bytes(),
        filters.order.as_str().as_bytes(),
    ];
    // Filters added later are framed only when present, so that cursors sealed before they
    // existed (without them) still open: the category as it was first framed, the others
    // named (`name=value`; a category id or `none` never holds a `=`).
    let category = filters.category.map(|c| c.as_param());
    let mut later: Vec<String> = category.into_iter().collect();
    if filters.sort != Sort::Created {
        later.push(format!("sort={}", filters.sort.as_str()));
    }
    if let Some(t) = filters.due_before {
        later.push(format!("due_before={}", t.to_rfc3339()));
    }
    if let Some(t) = filters.due_after {
        later.push(format!("due_after={}", t.to_rfc3339()));
    }
    if let Some(overdue) = filters.overdue {
        later.push(format!("overdue={overdue}"));
    }
    let mut out = Vec::with_capacity(160);
    for part in parts.into_iter().chain(later.iter().map(String::as_bytes)) {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::{Order, Priority};

    fn keys() -> CursorKeys {
        CursorKeys::new(b"0123456789abcdef0123456789abcdef")
    }

    fn filters() -> ListFilters {
        ListFilters {
            completed: Some(false),
            priority: Some(Priority::High),
            q: Some("milk".into()),
            order: Order::Asc,
            ..ListFilters::default()
        }
    }

    fn position() -> ListPosition {
        ListPosition {
            id: TaskId::generate(),
            index_key: Some("D#2026-12-01T08:30:00.000Z#x".into()),
        }
    }

    fn seal(user: UserId, filters: &ListFilters, position: &ListPosition) -> String {
        keys()
            .seal(user, filters, position, Timestamp::now())
            .unwrap()
    }

    #[test]
    fn a_sealed_cursor_opens_for_the_same_user_and_filters() {
        let user = UserId::generate();
        let as_of = Timestamp::parse("2026-12-02T10:00:00.123Z").unwrap();
        for position in [position(), ListPosition::after(TaskId::generate())] {
            let cursor = keys().seal(user, &filters(), &position, as_of).unwrap();
            assert!(
                cursor
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            let opened = keys().open(user, &filters(), &cursor).unwrap();
            assert_eq!(opened.position, position);
            assert_eq!(opened.as_of, Some(as_of));
        }
    }

    #[test]
    fn a_version_1_cursor_still_opens() {
        // Sealed the way cursors were before sorts existed: version 1, the id, the tag.
        let user = UserId::generate();
        let id = TaskId::generate();
        let tag = hmac::sign(
            &keys().0,
            &signed_bytes(user, &filters(), id.as_uuid().as_bytes()),
        );
        let mut bytes = vec![VERSION_1];
        bytes.extend_from_slice(id.as_uuid().as_bytes());
        bytes.extend_from_slice(tag.as_ref());
        let opened = keys()
            .open(user, &filters(), &URL_SAFE_NO_PAD.encode(bytes))
            .unwrap();
        assert_eq!(opened.position, ListPosition::after(id));
        assert_eq!(opened.as_of, None);
    }

    #[test]
    fn an_index_key_too_long_to_carry_seals_no_cursor() {
        let position = ListPosition {
            id: TaskId::generate(),
            index_key: Some("x".repeat(MAX_INDEX_KEY_BYTES + 1)),
        };
        assert_eq!(
            keys().seal(UserId::generate(), &filters(), &position, Timestamp::now()),
            None
        );
    }

    #[test]
    fn other_users_filters_keys_or_bytes_are_refused() {
        let user = UserId::generate();
        let cursor = seal(user, &filters(), &position());
        let refused = |result: Result<Continuation, ApiError>| {
            assert_eq!(result.unwrap_err().status(), 400);
        };
        refused(keys().open(UserId::generate(), &filters(), &cursor));
        for other in [
            ListFilters {
                completed: None,
                ..filters()
            },
            ListFilters {
                priority: Some(Priority::Low),
                ..filters()
            },
            ListFilters {
                q: Some("milky".into()),
                ..filters()
            },
            ListFilters {
                order: Order::Desc,
                ..filters()
            },
            ListFilters {
                category: Some(crate::tasks::CategoryFilter::Uncategorised),
                ..filters()
            },
            ListFilters {
                category: Some(crate::tasks::CategoryFilter::Category(
                    crate::domain::CategoryId::generate(),
                )),
                ..filters()
            },
            ListFilters {
                sort: Sort::Due,
                ..filters()
            },
            ListFilters {
                sort: Sort::Priority,
                ..filters()
            },
            ListFilters {
                due_before: Timestamp::parse("2026-12-01T00:00:00Z"),
                ..filters()
            },
            ListFilters {
                due_after: Timestamp::parse("2026-12-01T00:00:00Z"),
                ..filters()
            },
            ListFilters {
                overdue: Some(true),
                ..filters()
            },
            ListFilters {
                overdue: Some(false),
                ..filters()
            },
        ] {
            refused(keys().open(user, &other, &cursor));
        }
        refused(CursorKeys::new(b"another-secret-another-secret-xx").open(
            user,
            &filters(),
            &cursor,
        ));
        // Flip each byte of the decoded cursor in turn.
        let bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            refused(keys().open(user, &filters(), &URL_SAFE_NO_PAD.encode(tampered)));
        }
        refused(keys().open(user, &filters(), "not base64 !"));
        refused(keys().open(user, &filters(), &cursor[..cursor.len() - 2]));
    }
}
