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

use super::items::ThrottleItem;
use super::keys::{
    Key, THROTTLE_SK, TTL, attr, key, login_ip_pk, login_pk, n, number, throttle_ip_sk,
};
use super::writes::condition_failed;
use super::{Store, StoreError};
use crate::auth::Email;
use crate::config::LoginThrottle;

/// One failure counter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Counter {
    EmailIp { email: String, ip: String },
    Email(String),
    Ip(String),
}

impl Counter {
    /// Partition and sort key.
    fn pk_sk(&self) -> (String, String) {
        match self {
            Self::EmailIp { email, ip } => (login_pk(email), throttle_ip_sk(ip)),
            Self::Email(email) => (login_pk(email), THROTTLE_SK.into()),
            Self::Ip(ip) => (login_ip_pk(ip), THROTTLE_SK.into()),
        }
    }

    fn key(&self) -> Key {
        let (pk, sk) = self.pk_sk();
        key(pk, sk)
    }
}

/// A login attempt refused because a budget is used up; retry when its window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub window_ends_at: i64,
}

/// What counting a login attempt against its budgets gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Counted in every budget: check the password, and report a right one with
    /// [`Store::login_succeeded`].
    Counted(LoginAttempt),
    /// Refused by a budget (and counted in none).
    Throttled(Throttled),
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

/// What counting an attempt in one counter gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CountOutcome {
    /// Counted in the window that ends then.
    Counted { window_ends_at: i64 },
    /// The counter's budget is used up.
    Refused(Throttled),
}

/// The attribute names the throttle expressions use.
const NAMES: [(&str, &str); 3] = [
    ("#failures", attr::FAILURES),
    ("#window", attr::WINDOW_ENDS_AT),
    ("#ttl", TTL),
];

fn names() -> std::collections::HashMap<String, String> {
    NAMES
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

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
    ) -> Result<AttemptOutcome, StoreError> {
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
        match (a, b, c) {
            (
                Ok(CountOutcome::Counted { .. }),
                Ok(CountOutcome::Counted {
                    window_ends_at: email_end,
                }),
                Ok(CountOutcome::Counted {
                    window_ends_at: ip_end,
                }),
            ) => Ok(AttemptOutcome::Counted(LoginAttempt {
                email_ip,
                email: (per_email, email_end),
                ip: (per_ip, ip_end),
            })),
            (a, b, c) => {
                self.refused([(email_ip, a), (per_email, b), (per_ip, c)])
                    .await
            }
        }
    }

    /// An attempt refused (or failed) by some counter: it checks no password, so it is taken
    /// back from the counters that counted it; the latest end among the refusing windows.
    async fn refused(
        &self,
        outcomes: [(Counter, Result<CountOutcome, StoreError>); 3],
    ) -> Result<AttemptOutcome, StoreError> {
        for (counter, outcome) in &outcomes {
            if let Ok(CountOutcome::Counted { window_ends_at }) = outcome {
                self.uncount(counter, *window_ends_at).await?;
            }
        }
        let mut refused = None;
        for (_, outcome) in outcomes {
            if let CountOutcome::Refused(throttled) = outcome? {
                refused = refused.max(Some(throttled.window_ends_at));
            }
        }
        match refused {
            Some(window_ends_at) => Ok(AttemptOutcome::Throttled(Throttled { window_ends_at })),
            None => Err(StoreError::Cancelled(
                "a login attempt was neither counted nor refused".into(),
            )),
        }
    }

    /// The password of `attempt` was right: its (email, IP) failures are forgotten, and the
    /// attempt itself is taken back from the per-email and per-IP totals (which keep every
    /// failure).
    pub async fn login_succeeded(&self, attempt: &LoginAttempt) -> Result<(), StoreError> {
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
    /// the first).
    async fn count(
        &self,
        counter: &Counter,
        now: i64,
        max: u32,
        window_secs: i64,
    ) -> Result<CountOutcome, StoreError> {
        let end = now + window_secs;
        for _ in 0..ATTEMPT_ROUNDS {
            if let Some(window_ends_at) = self.add_failure(counter, now, max, end).await? {
                return Ok(CountOutcome::Counted { window_ends_at });
            }
            // Either the budget is used up, or the window has ended (expiry is checked here,
            // not left to TTL). Which one?
            match self.window(counter).await? {
                Some(current) if current.window_ends_at > now => {
                    if current.failures >= i64::from(max) {
                        return Ok(CountOutcome::Refused(Throttled {
                            window_ends_at: current.window_ends_at,
                        }));
                    }
                    // Cleared and restarted by concurrent attempts meanwhile: count again.
                    continue;
                }
                _ => {}
            }
            // The window ended: this attempt opens a new one, unless a concurrent attempt
            // just did (then count against that one in the next round).
            if self.reset(counter, now, end).await? {
                return Ok(CountOutcome::Counted {
                    window_ends_at: end,
                });
            }
        }
        Err(StoreError::unavailable(
            "login throttle kept changing under concurrent attempts",
        ))
    }

    /// Adds a failure to a window that is open and below `max` (or opens the first one,
    /// ending at `end`): the end of the window counted in, or `None` if the condition failed.
    async fn add_failure(
        &self,
        counter: &Counter,
        now: i64,
        max: u32,
        end: i64,
    ) -> Result<Option<i64>, StoreError> {
        let counted = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(counter.key()))
            .update_expression(
                "SET #failures = if_not_exists(#failures, :zero) + :one, \
                 #window = if_not_exists(#window, :end), \
                 #ttl = if_not_exists(#ttl, :end)",
            )
            .condition_expression(
                "attribute_not_exists(#window) OR (#window > :now AND #failures < :max)",
            )
            .set_expression_attribute_names(Some(names()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":end", n(end))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":max", n(max))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match counted {
            Ok(output) => Ok(Some(
                output
                    .attributes()
                    .and_then(|item| number(item, attr::WINDOW_ENDS_AT))
                    .unwrap_or(end),
            )),
            Err(err) if condition_failed(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The counter's current window, if it has a readable one (consistent read).
    async fn window(&self, counter: &Counter) -> Result<Option<ThrottleItem>, StoreError> {
        let item = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(counter.key()))
            .consistent_read(true)
            .send()
            .await?
            .item;
        // An item that is not a whole window (never written so) counts as ended.
        Ok(item.and_then(|item| serde_dynamo::from_item(item).ok()))
    }

    /// Opens a new window with this attempt as its first failure, unless a concurrent attempt
    /// just opened one (`false`).
    async fn reset(&self, counter: &Counter, now: i64, end: i64) -> Result<bool, StoreError> {
        let (user_id, sk) = counter.pk_sk();
        let item = serde_dynamo::to_item(ThrottleItem {
            user_id,
            sk,
            failures: 1,
            window_ends_at: end,
            expires_at: end,
        })?;
        let reset = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#window) OR #window <= :now")
            .expression_attribute_names("#window", attr::WINDOW_ENDS_AT)
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match reset {
            Ok(_) => Ok(true),
            Err(err) if condition_failed(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// Takes one attempt back from `counter`, only from the window it was counted in (a window
    /// that ended since then is left alone).
    async fn uncount(&self, counter: &Counter, window_ends_at: i64) -> Result<(), StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(counter.key()))
            .update_expression("SET #failures = #failures - :one")
            .condition_expression("#window = :end AND #failures >= :one")
            .expression_attribute_names("#failures", attr::FAILURES)
            .expression_attribute_names("#window", attr::WINDOW_ENDS_AT)
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
