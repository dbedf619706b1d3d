//! Failed-login counters: `user_id = LOGIN#<email>`, `sk = THROTTLE`, `failures` within a
//! fixed window that starts at the first attempt and ends at `window_ends_at` (also the TTL).
//! Each attempt is counted before its password is checked and a success deletes the item, so
//! the count is of failures (and of attempts in flight). Kept per email, known or not, so
//! throttling reveals nothing about which emails exist.

use super::writes::{condition_failed, key, n, number};
use super::{Store, TTL};
use crate::auth::Email;
use crate::error::ApiError;

const THROTTLE_SK: &str = "THROTTLE";

fn throttle_pk(email: &Email) -> String {
    format!("LOGIN#{email}")
}

/// A login attempt refused because its email used up its budget; retry when the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub window_ends_at: i64,
}

/// Rounds of racing with concurrent attempts that reset an ended window.
const ATTEMPT_ROUNDS: usize = 4;

impl Store {
    /// Counts a login attempt of `email` against its budget *before* its password is checked,
    /// so that concurrent guesses cannot slip past the limit: at most `max` attempts per
    /// window of `window_secs` (starting at the first), unless a success clears the count.
    pub async fn take_login_attempt(
        &self,
        email: &Email,
        now: i64,
        max: u32,
        window_secs: i64,
    ) -> Result<Result<(), Throttled>, ApiError> {
        let end = now + window_secs;
        for _ in 0..ATTEMPT_ROUNDS {
            let counted = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key(throttle_pk(email), THROTTLE_SK)))
                .update_expression(
                    "SET failures = if_not_exists(failures, :zero) + :one, \
                     window_ends_at = if_not_exists(window_ends_at, :end), \
                     #ttl = if_not_exists(#ttl, :end)",
                )
                .condition_expression(
                    "attribute_not_exists(window_ends_at) OR \
                     (window_ends_at > :now AND failures < :max)",
                )
                .expression_attribute_names("#ttl", TTL)
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":end", n(end))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":max", n(i64::from(max)))
                .send()
                .await;
            match counted {
                Ok(_) => return Ok(Ok(())),
                Err(err) if condition_failed(&err) => {}
                Err(err) => return Err(err.into()),
            }
            // Either the budget is used up, or the window has ended (expiry is checked here,
            // not left to TTL). Which one?
            let current = self
                .client()
                .get_item()
                .table_name(self.table())
                .set_key(Some(key(throttle_pk(email), THROTTLE_SK)))
                .consistent_read(true)
                .send()
                .await?
                .item;
            let window = current.as_ref().and_then(|item| {
                Some((number(item, "failures")?, number(item, "window_ends_at")?))
            });
            match window {
                Some((failures, window_ends_at)) if window_ends_at > now => {
                    if failures >= i64::from(max) {
                        return Ok(Err(Throttled { window_ends_at }));
                    }
                    // Cleared and restarted by concurrent attempts meanwhile: count again.
                    continue;
                }
                _ => {}
            }
            // The window ended: this attempt opens a new one, unless a concurrent attempt
            // just did (then count against that one in the next round).
            let reset = self
                .client()
                .put_item()
                .table_name(self.table())
                .set_item(Some(key(throttle_pk(email), THROTTLE_SK)))
                .item("failures", n(1))
                .item("window_ends_at", n(end))
                .item(TTL, n(end))
                .condition_expression(
                    "attribute_not_exists(window_ends_at) OR window_ends_at <= :now",
                )
                .expression_attribute_values(":now", n(now))
                .send()
                .await;
            match reset {
                Ok(_) => return Ok(Ok(())),
                Err(err) if condition_failed(&err) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::StoreUnavailable(
            "login throttle kept changing under concurrent attempts".into(),
        ))
    }

    /// Forgets the failures of `email` (after a successful login).
    pub async fn clear_login_failures(&self, email: &Email) -> Result<(), ApiError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(throttle_pk(email), THROTTLE_SK)))
            .send()
            .await?;
        Ok(())
    }
}
