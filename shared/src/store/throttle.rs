//! Failed-login counters: `user_id = LOGIN#<email>`, `sk = THROTTLE`, `failures` within a
//! fixed window that starts at the first failure and ends at `window_ends_at` (also the TTL).
//! Kept per email, known or not, so throttling reveals nothing about which emails exist.

use super::writes::{key, n, number};
use super::{Store, TTL};
use crate::auth::Email;
use crate::error::ApiError;

const THROTTLE_SK: &str = "THROTTLE";

fn throttle_pk(email: &Email) -> String {
    format!("LOGIN#{email}")
}

/// Failed logins of one email in the current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailures {
    pub count: u32,
    pub window_ends_at: i64,
}

impl Store {
    /// Failures recorded for `email` in a window that has not ended by `now`.
    pub async fn login_failures(
        &self,
        email: &Email,
        now: i64,
    ) -> Result<Option<LoginFailures>, ApiError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(throttle_pk(email), THROTTLE_SK)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item.and_then(|item| {
            let count = number(&item, "failures")?;
            let window_ends_at = number(&item, "window_ends_at")?;
            (window_ends_at > now).then_some(LoginFailures {
                count: u32::try_from(count).unwrap_or(u32::MAX),
                window_ends_at,
            })
        }))
    }

    /// Counts one failed login: in the current window, or in a new one of `window_secs`
    /// starting now if there is none (atomic counter, safe under concurrent failures).
    pub async fn record_login_failure(
        &self,
        email: &Email,
        now: i64,
        window_secs: i64,
    ) -> Result<(), ApiError> {
        let end = now + window_secs;
        let counted = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(throttle_pk(email), THROTTLE_SK)))
            .update_expression(
                "SET failures = if_not_exists(failures, :zero) + :one, \
                 window_ends_at = if_not_exists(window_ends_at, :end), #ttl = if_not_exists(#ttl, :end)",
            )
            .condition_expression("attribute_not_exists(window_ends_at) OR window_ends_at > :now")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":end", n(end))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match counted {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                // The previous window has ended: this failure opens a new one.
                self.client()
                    .put_item()
                    .table_name(self.table())
                    .set_item(Some(key(throttle_pk(email), THROTTLE_SK)))
                    .item("failures", n(1))
                    .item("window_ends_at", n(end))
                    .item(TTL, n(end))
                    .send()
                    .await?;
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
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
