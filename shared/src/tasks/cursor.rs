//! List cursors: opaque to clients and authenticated. A cursor carries the key of the last task
//! of a page; its HMAC-SHA256 tag (key `CURSOR_SECRET`) also covers the user and the listing's
//! filters, so a cursor that was altered, belongs to another user or is replayed with other
//! filters is refused (400) instead of leaking or skipping data.
//!
//! Layout (base64url, no padding): `version (1 byte) | task id (16 bytes) | tag (32 bytes)`.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::{ListFilters, TaskId};
use crate::domain::UserId;
use crate::error::ApiError;

const FORMAT_VERSION: u8 = 1;
const ID_BYTES: usize = 16;
const TAG_BYTES: usize = 32;
/// Domain separation: this key signs nothing else, but the label makes that explicit.
const LABEL: &[u8] = b"taskline/list-cursor/v1";

/// Where a listing continues: after this task, in the listing's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPosition(pub TaskId);

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

    pub fn seal(&self, user: UserId, filters: &ListFilters, position: ListPosition) -> String {
        let id = position.0.as_uuid();
        let tag = hmac::sign(&self.0, &signed_bytes(user, filters, id.as_bytes()));
        let mut bytes = Vec::with_capacity(1 + ID_BYTES + TAG_BYTES);
        bytes.push(FORMAT_VERSION);
        bytes.extend_from_slice(id.as_bytes());
        bytes.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position a cursor names, if this server sealed it for this user and these filters.
    pub fn open(
        &self,
        user: UserId,
        filters: &ListFilters,
        cursor: &str,
    ) -> Result<ListPosition, ApiError> {
        let invalid = || {
            ApiError::BadRequest(
                "cursor is invalid: use the next_cursor of a listing with the same filters".into(),
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let (id, tag) = match bytes.split_first() {
            Some((&FORMAT_VERSION, rest)) if rest.len() == ID_BYTES + TAG_BYTES => {
                rest.split_at_checked(ID_BYTES).ok_or_else(invalid)?
            }
            _ => return Err(invalid()),
        };
        hmac::verify(&self.0, &signed_bytes(user, filters, id), tag).map_err(|_| invalid())?;
        let uuid = Uuid::from_slice(id).map_err(|_| invalid())?;
        TaskId::parse(&uuid.hyphenated().to_string())
            .map(ListPosition)
            .ok_or_else(invalid)
    }
}

/// Everything the tag covers, unambiguously framed (each part length-prefixed).
fn signed_bytes(user: UserId, filters: &ListFilters, id: &[u8]) -> Vec<u8> {
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
        id,
        completed.as_bytes(),
        priority.as_bytes(),
        q.as_bytes(),
        filters.order.as_str().as_bytes(),
    ];
    // The category filter is framed only when present, so that cursors sealed before it existed
    // (without one) still open.
    let category = filters.category.map(|c| c.as_param());
    let mut out = Vec::with_capacity(128);
    for part in parts
        .into_iter()
        .chain(category.as_ref().map(String::as_bytes))
    {
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
            category: None,
        }
    }

    #[test]
    fn a_sealed_cursor_opens_for_the_same_user_and_filters() {
        let user = UserId::generate();
        let position = ListPosition(TaskId::generate());
        let cursor = keys().seal(user, &filters(), position);
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(keys().open(user, &filters(), &cursor).unwrap(), position);
    }

    #[test]
    fn other_users_filters_keys_or_bytes_are_refused() {
        let user = UserId::generate();
        let cursor = keys().seal(user, &filters(), ListPosition(TaskId::generate()));
        let refused = |result: Result<ListPosition, ApiError>| {
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
