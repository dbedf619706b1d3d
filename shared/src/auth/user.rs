//! A user as the API returns it (`GET /v1/me`, registration), and a new user as registration
//! builds it. The password hash is never part of these.

use serde::Serialize;
use time::OffsetDateTime;

use super::{Email, UserId, UserName};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: UserName,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl User {
    /// A user registering now, with a fresh id.
    pub fn new(email: Email, name: UserName) -> Self {
        Self {
            id: UserId::generate(),
            email,
            name,
            created_at: now_millis(),
        }
    }
}

/// The current time in UTC, to the millisecond (what timestamps of the API carry).
pub fn now_millis() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_millisecond(now.millisecond()).unwrap_or(now)
}

/// The current time as Unix seconds (expiry and throttle windows).
pub fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_the_api_shows_it() {
        let user = User {
            id: UserId::parse("0190a1b2-0000-7000-8000-000000000000").unwrap(),
            email: Email::parse("Ada@Example.com").unwrap(),
            name: UserName::parse("Ada").unwrap(),
            created_at: time::macros::datetime!(2026-11-23 08:00:00.123 UTC),
        };
        assert_eq!(
            serde_json::to_value(&user).unwrap(),
            serde_json::json!({
                "id": "0190a1b2-0000-7000-8000-000000000000",
                "email": "ada@example.com",
                "name": "Ada",
                "created_at": "2026-11-23T08:00:00.123Z"
            })
        );
    }
}
