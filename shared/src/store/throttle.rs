//! Failed-login counters, three per attempt (budgets in [`LoginThrottle`]):
//! - per (email, source IP): `user_id = LOGIN#<email>`, `sk = THROTTLE#IP#<ip>`, so a
//!   stranger's guesses do not lock the user out from their own address;
//! - per email across all sources: `user_id = LOGIN#<email>`, `sk = THROTTLE`, a higher
//!   ceiling against distributed guessing;
//! - per source IP across all emails: `user_id = LOGIN_IP#<ip>`, `sk = THROTTLE`, against
//!   spraying one guess over many accounts.
//!
//! Each holds `failures` within a fixed window that starts at its first attempt and ends at
//! `window_ends_at` (also the TTL; expiry is checked on read). Every attempt is counted in all
//! three *before* its password is checked, so concurrent guesses cannot exceed any budget; an
//! attempt refused by one budget is taken back from the others, and a success clears its own
//! (email, IP) counter and takes back only its own attempt from the other two, so that only
//! failures count and nobody can wipe the totals by interleaving logins to an account of their
//! own. Kept per email, known or not, so throttling reveals nothing about which emails exist.

use aws_sdk_dynamodb::types::ReturnValue;

use super::writes::{Key, condition_failed, key, n, number};
use super::{Store, TTL};
use crate::auth::Email;
use crate::config::LoginThrottle;
use crate::error::ApiError;

const THROTTLE_SK: &str = "THROTTLE";

/// One failure counter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Counter {
    EmailIp { email: String, ip: String },
    Email(String),
    Ip(String),
}

impl Counter {
    fn key(&self) -> Key {
        match self {
            Self::EmailIp { email, ip } => {
                key(format!("LOGIN#{email}"), format!("THROTTLE#IP#{ip}"))
            }
            Self::Email(email) => key(format!("LOGIN#{email}"), THROTTLE_SK),
            Self::Ip(ip) => key(format!("LOGIN_IP#{ip}"), THROTTLE_SK),
        }
    }
}

/// A login attempt refused because a budget is used up; retry when its window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub window_ends_at: i64,
}

/// A login attempt counted against every budget (the window each count landed in), to be
/// reported with [`Store::login_succeeded`] if its password was right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    email_ip: Counter,
    email: (Counter, i64),
    ip: (Counter, i64),
}

/// Rounds of racing with concurrent attempts that reset an ended window.
const ATTEMPT_ROUNDS: usize = 4;

impl Store {
    /// Counts a login attempt of `email` from `source_ip` against its three budgets *before*
    /// its password is checked (see the module documentation). Refused by any budget ->
    /// `Throttled` with the latest end among the refusing windows, and nothing stays counted.
    pub async fn take_login_attempt(
        &self,
        email: &Email,
        source_ip: &str,
        now: i64,
        budgets: &LoginThrottle,
    ) -> Result<Result<LoginAttempt, Throttled>, ApiError> {
        let email_ip = Counter::EmailIp {
            email: email.to_string(),
            ip: source_ip.to_string(),
        };
        let per_email = Counter::Email(email.to_string());
        let per_ip = Counter::Ip(source_ip.to_string());
        let window = budgets.window_secs;
        let (a, b, c) = tokio::join!(
            self.count(&email_ip, now, budgets.per_email_ip, window),
            self.count(&per_email, now, budgets.per_email, window),
            self.count(&per_ip, now, budgets.per_ip, window),
        );
        let outcomes = [(email_ip, a), (per_email, b), (per_ip, c)];
        let taken = |outcome: &Result<Result<i64, Throttled>, ApiError>| match outcome {
            Ok(Ok(window_ends_at)) => Some(*window_ends_at),
            _ => None,
        };
        if let [
            (email_ip, Ok(Ok(_))),
            (per_email, Ok(Ok(email_end))),
            (per_ip, Ok(Ok(ip_end))),
        ] = &outcomes
        {
            return Ok(Ok(LoginAttempt {
                email_ip: email_ip.clone(),
                email: (per_email.clone(), *email_end),
                ip: (per_ip.clone(), *ip_end),
            }));
        }
        // Refused (or failed) somewhere: this attempt checks no password, so it counts nowhere.
        for (counter, outcome) in &outcomes {
            if let Some(window_ends_at) = taken(outcome) {
                self.uncount(counter, window_ends_at).await?;
            }
        }
        let mut refused = None;
        for (_, outcome) in outcomes {
            if let Err(throttled) = outcome? {
                refused = refused.max(Some(throttled.window_ends_at));
            }
        }
        match refused {
            Some(window_ends_at) => Ok(Err(Throttled { window_ends_at })),
            None => Err(ApiError::Internal(
                "a login attempt was neither counted nor refused".into(),
            )),
        }
    }

    /// The password of `attempt` was right: its (email, IP) failures are forgotten, and the
    /// attempt itself is taken back from the per-email and per-IP totals (which keep every
    /// failure).
    pub async fn login_succeeded(&self, attempt: &LoginAttempt) -> Result<(), ApiError> {
        let clear = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(attempt.email_ip.key()))
            .send();
        let (cleared, email, ip) = tokio::join!(
            clear,
            self.uncount(&attempt.email.0, attempt.email.1),
            self.uncount(&attempt.ip.0, attempt.ip.1),
        );
        cleared?;
        email?;
        ip
    }

    /// Counts one attempt in `counter`: at most `max` per window of `window_secs` (starting at
    /// the first). Ok(window end) when counted.
    async fn count(
        &self,
        counter: &Counter,
        now: i64,
        max: u32,
        window_secs: i64,
    ) -> Result<Result<i64, Throttled>, ApiError> {
        let end = now + window_secs;
        for _ in 0..ATTEMPT_ROUNDS {
            let counted = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(counter.key()))
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
                .return_values(ReturnValue::UpdatedNew)
                .send()
                .await;
            match counted {
                Ok(output) => {
                    let window_ends_at = output
                        .attributes()
                        .and_then(|item| number(item, "window_ends_at"))
                        .unwrap_or(end);
                    return Ok(Ok(window_ends_at));
                }
                Err(err) if condition_failed(&err) => {}
                Err(err) => return Err(err.into()),
            }
            // Either the budget is used up, or the window has ended (expiry is checked here,
            // not left to TTL). Which one?
            let current = self
                .client()
                .get_item()
                .table_name(self.table())
                .set_key(Some(counter.key()))
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
                .set_item(Some(counter.key()))
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
                Ok(_) => return Ok(Ok(end)),
                Err(err) if condition_failed(&err) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::StoreUnavailable(
            "login throttle kept changing under concurrent attempts".into(),
        ))
    }

    /// Takes one attempt back from `counter`, only from the window it was counted in (a window
    /// that ended since then is left alone).
    async fn uncount(&self, counter: &Counter, window_ends_at: i64) -> Result<(), ApiError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(counter.key()))
            .update_expression("SET failures = failures - :one")
            .condition_expression("window_ends_at = :end AND failures >= :one")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":end", n(window_ends_at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}
