//! A user as the API returns it (`GET /v1/me`, registration), and a new user as registration
//! builds it. The password hash is never part of these.

use serde::Serialize;
use time::OffsetDateTime;

use super::{Email, UserName};
use crate::domain::{Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: UserName,
    pub created_at: Timestamp,
    /// The user proved access to `email` (a verification link or a password reset), or an
    /// external provider vouched for it.
    pub email_verified: bool,
}

impl User {
    /// A user registering now, with a fresh id.
    pub fn new(email: Email, name: UserName) -> Self {
        Self {
            id: UserId::generate(),
            email,
            name,
            created_at: Timestamp::now(),
            email_verified: false,
        }
    }
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
            created_at: Timestamp::parse("2026-11-23T08:00:00.123Z").unwrap(),
            email_verified: false,
        };
        assert_eq!(
            serde_json::to_value(&user).unwrap(),
            serde_json::json!({
                "id": "0190a1b2-0000-7000-8000-000000000000",
                "email": "ada@example.com",
                "name": "Ada",
                "created_at": "2026-11-23T08:00:00.123Z",
                "email_verified": false
            })
        );
    }

    #[test]
    fn created_at_always_has_three_fractional_digits() {
        let user = User {
            created_at: Timestamp::parse("2026-11-23T08:00:00.100Z").unwrap(),
            ..User::new(
                Email::parse("a@example.com").unwrap(),
                UserName::parse("A").unwrap(),
            )
        };
        assert_eq!(
            serde_json::to_value(&user).unwrap()["created_at"],
            "2026-11-23T08:00:00.100Z"
        );
    }
}
