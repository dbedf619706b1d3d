//! A refresh family as the session `GET /v1/sessions` lists: live or not, and when it was
//! created and last used.

use serde::Serialize;
use time::OffsetDateTime;

use super::error::StoreError;
use super::items::SessionItem;
use crate::auth::{FamilyId, REFRESH_ABSOLUTE_TTL_SECS, REFRESH_IDLE_TTL_SECS};

pub(super) const FAMILY_PREFIX: &str = "REFRESH#";

/// A live session as `GET /v1/sessions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: OffsetDateTime,
    pub user_agent: Option<String>,
    pub current: bool,
}

fn timestamp(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| StoreError::Corrupt("stored session time"))
}

/// The family a family item's sort key names.
fn family_of(item: &SessionItem) -> Option<FamilyId> {
    item.sk
        .strip_prefix(FAMILY_PREFIX)
        .and_then(FamilyId::parse)
}

/// A family item as a session, if it is live at `now` in the user's session generation
/// `generation`: of that generation, not past its absolute expiry, and refreshed (or created)
/// within the idle expiry. For items that lack them (see
/// [`SessionItem`]), creation comes from the family id (a UUIDv7) or the absolute expiry
/// (30 days after the login), last use from the latest spend, if any, and a family without an
/// absolute expiry counts as live, as authentication counts it.
pub(super) fn session_of(
    item: SessionItem,
    current: Option<FamilyId>,
    now: i64,
    generation: u64,
) -> Result<Option<SessionInfo>, StoreError> {
    let Some(id) = family_of(&item) else {
        return Ok(None);
    };
    if item.session_gen.unwrap_or(0) != generation {
        return Ok(None);
    }
    let absolute = item.absolute_expires_at;
    let Some(created) = item
        .created_at
        .or_else(|| id.generated_at())
        .or_else(|| absolute.map(|absolute| absolute.saturating_sub(REFRESH_ABSOLUTE_TTL_SECS)))
    else {
        return Ok(None);
    };
    let last_used = item
        .last_used_at
        .or(item.last_spent_at)
        .unwrap_or(created)
        .max(created);
    if absolute.is_some_and(|absolute| now >= absolute)
        || now >= last_used.saturating_add(REFRESH_IDLE_TTL_SECS)
    {
        return Ok(None);
    }
    Ok(Some(SessionInfo {
        id: id.to_string(),
        created_at: timestamp(created)?,
        last_used_at: timestamp(last_used)?,
        user_agent: item.user_agent,
        current: current == Some(id),
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;
    use crate::store::keys::n;

    fn family_item(pairs: &[(&str, AttributeValue)]) -> SessionItem {
        let item: HashMap<String, AttributeValue> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        serde_dynamo::from_item(item).unwrap()
    }

    #[test]
    fn a_family_is_listed_only_while_live() {
        let id = FamilyId::generate();
        let sk = AttributeValue::S(format!("REFRESH#{id}"));
        let item = family_item(&[
            ("sk", sk.clone()),
            ("created_at", n(1_000)),
            ("absolute_expires_at", n(1_000 + REFRESH_ABSOLUTE_TTL_SECS)),
            ("last_used_at", n(5_000)),
        ]);
        let listed = session_of(item.clone(), Some(id), 6_000, 0)
            .unwrap()
            .unwrap();
        assert!(listed.current);
        assert_eq!(listed.last_used_at.unix_timestamp(), 5_000);
        assert_eq!(listed.user_agent, None);
        // Idle for the idle expiry since its last refresh: no refresh can revive it.
        assert_eq!(
            session_of(item.clone(), None, 5_000 + REFRESH_IDLE_TTL_SECS, 0).unwrap(),
            None
        );
        assert_eq!(
            session_of(item.clone(), None, 1_000 + REFRESH_ABSOLUTE_TTL_SECS, 0).unwrap(),
            None
        );
        // Of another session generation than its user's: dead, whatever else it says.
        assert_eq!(session_of(item, None, 6_000, 1).unwrap(), None);
    }
}
