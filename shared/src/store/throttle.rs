//! Budgets of password checks and of registrations, each a counter of attempts in a fixed
//! window (budgets in [`LoginThrottle`] and [`RegisterThrottle`]).
//!
//! A password check is counted against the budgets of whoever makes it:
//! - a client that never logged in (no valid device cookie of the account), in three counters:
//!   - per (email, client address): `user_id = LOGIN#<email>`, `sk = THROTTLE#IP#<client>`, so
//!     a stranger's guesses do not lock the user out from their own address;
//!   - per email across all sources: `user_id = LOGIN#<email>`, `sk = THROTTLE`, a higher
//!     ceiling against distributed guessing;
//!   - per client address across all emails: `user_id = LOGIN_IP#<client>`, `sk = THROTTLE`,
//!     against spraying one guess over many accounts;
//! - a browser presenting a valid device cookie of the account (it logged in there before):
//!   only that device's own counter, `user_id = LOGIN_DEVICE#<device id>`, `sk = THROTTLE`. So
//!   strangers holding the email at its ceiling do not lock the owner out of a known browser,
//!   and a stolen device cookie buys no more than its own small budget;
//! - a signed-in session confirming its password (a password change): only the session's own
//!   counter, `user_id = LOGIN_SESSION#<session id>`, `sk = THROTTLE`, as it is authenticated
//!   already: the email's ceiling does not block the owner from changing the password.
//!
//! A client address is an IPv4 address or an IPv6 /64 (`http::client_address`).
//!
//! Each counter holds `failures` (a registration counter: every registration) within a fixed
//! window that starts at its first attempt and ends at `window_ends_at` (also the TTL; expiry
//! is checked on read). Every attempt is counted *before* its password is checked, so
//! concurrent guesses cannot exceed any budget; an attempt refused by one counter is taken back
//! from the others, and a success clears its own counter ((email, IP), device or session) and
//! takes back only its own attempt from the totals, so that only failures count and nobody can
//! wipe the totals by interleaving logins to an account of their own. Kept per email, known or
//! not, so throttling reveals nothing about which emails exist.
//!
//! Password-reset requests are counted per email (known or not: `user_id = RESET#<email>`)
//! and per client address (`user_id = RESET_IP#<client>`), each mail a signed-in user asks to
//! verify the email per user (`user_id = VERIFY_MAIL#<user>`), all with `sk = THROTTLE`: every
//! one sends a mail, which a stranger could otherwise aim at anyone's inbox.
//!
//! Registrations are counted per client address (`user_id = REGISTER_IP#<client>`,
//! `sk = THROTTLE`), every one of them: each costs a password hash and fills the table.

use aws_sdk_dynamodb::types::ReturnValue;

use super::core::Store;
use super::error::StoreError;
use super::expr::{Changes, Cond, Expressed, Updating};
use super::items::ThrottleItem;
use super::keys::{
    Key, THROTTLE_SK, TTL, attr, key, login_device_pk, login_ip_pk, login_pk, login_session_pk, n,
    number, register_ip_pk, reset_email_pk, reset_ip_pk, throttle_ip_sk, verify_mail_pk,
};
use super::writes::condition_failed;
use crate::auth::Email;
use crate::config::{LoginThrottle, RegisterThrottle, ResetThrottle, VerificationThrottle};

/// One counter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Counter {
    EmailIp { email: String, ip: String },
    Email(String),
    Ip(String),
    Device(String),
    Session(String),
    Registrations(String),
    ResetEmail(String),
    ResetIp(String),
    VerificationMails(String),
}

impl Counter {
    /// Partition and sort key.
    fn pk_sk(&self) -> (String, String) {
        match self {
            Self::EmailIp { email, ip } => (login_pk(email), throttle_ip_sk(ip)),
            Self::Email(email) => (login_pk(email), THROTTLE_SK.into()),
            Self::Ip(ip) => (login_ip_pk(ip), THROTTLE_SK.into()),
            Self::Device(id) => (login_device_pk(id), THROTTLE_SK.into()),
            Self::Session(id) => (login_session_pk(id), THROTTLE_SK.into()),
            Self::Registrations(ip) => (register_ip_pk(ip), THROTTLE_SK.into()),
            Self::ResetEmail(email) => (reset_email_pk(email), THROTTLE_SK.into()),
            Self::ResetIp(ip) => (reset_ip_pk(ip), THROTTLE_SK.into()),
            Self::VerificationMails(user) => (verify_mail_pk(user), THROTTLE_SK.into()),
        }
    }

    fn key(&self) -> Key {
        let (pk, sk) = self.pk_sk();
        key(pk, sk)
    }
}

/// An attempt refused because a budget is used up; retry when its window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub window_ends_at: i64,
}

/// Whose budgets a password check is counted against (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordBudget<'a> {
    /// A client with no proof of an earlier login to the account: per (email, client address),
    /// per client address, per email.
    Stranger { email: &'a Email, client: &'a str },
    /// A browser presenting a valid device cookie of the account: the device's own budget.
    Device(&'a str),
    /// A signed-in session (its id) confirming its password: the session's own budget.
    Session(&'a str),
}

/// What counting a registration against its client's budget gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationAttempt {
    /// Counted: go on.
    Counted,
    /// The client's budget is used up.
    Throttled(Throttled),
}

/// What counting a login attempt against its budgets gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Counted in every budget: check the password, and report a right one with
    /// [`Throttle::login_succeeded`].
    Counted(LoginAttempt),
    /// Refused by a budget (and counted in none).
    Throttled(Throttled),
}

/// A password check counted against every budget of its [`PasswordBudget`] (the window each
/// count landed in), to be reported with [`Throttle::login_succeeded`] if its password was right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    /// Cleared by a success: the (email, IP), device or session counter.
    own: Counter,
    /// The totals a success takes its attempt back from (a stranger's per email and per IP).
    totals: Option<[(Counter, i64); 2]>,
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

/// The budgets of failed logins and of registrations.
#[derive(Debug, Clone, Copy)]
pub struct Throttle<'a> {
    pub(super) store: &'a Store,
}

impl Store {
    pub fn throttle(&self) -> Throttle<'_> {
        Throttle { store: self }
    }
}

impl Throttle<'_> {
    /// Counts a password check against the budgets of `budget` *before* its password is
    /// checked (see the module documentation). Refused by any budget -> `Throttled` with the
    /// latest end among the refusing windows, and nothing stays counted.
    pub async fn take_login_attempt(
        self,
        budget: PasswordBudget<'_>,
        now: i64,
        budgets: &LoginThrottle,
    ) -> Result<AttemptOutcome, StoreError> {
        let own = match budget {
            PasswordBudget::Stranger { email, client } => {
                return self
                    .take_stranger_attempt(email, client, now, budgets)
                    .await;
            }
            PasswordBudget::Device(id) => Counter::Device(id.to_string()),
            PasswordBudget::Session(id) => Counter::Session(id.to_string()),
        };
        Ok(
            match self
                .count(&own, now, budgets.per_device, budgets.window_secs)
                .await?
            {
                CountOutcome::Counted { .. } => {
                    AttemptOutcome::Counted(LoginAttempt { own, totals: None })
                }
                CountOutcome::Refused(throttled) => AttemptOutcome::Throttled(throttled),
            },
        )
    }

    /// A stranger's attempt, in its three counters at once.
    async fn take_stranger_attempt(
        self,
        email: &Email,
        client: &str,
        now: i64,
        budgets: &LoginThrottle,
    ) -> Result<AttemptOutcome, StoreError> {
        let window = budgets.window_secs;
        let email_ip = Counter::EmailIp {
            email: email.to_string(),
            ip: client.to_string(),
        };
        let per_email = Counter::Email(email.to_string());
        let per_ip = Counter::Ip(client.to_string());
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
                own: email_ip,
                totals: Some([(per_email, email_end), (per_ip, ip_end)]),
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
        self,
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

    /// The password of `attempt` was right: its own counter's failures ((email, IP), device or
    /// session) are forgotten, and the attempt itself is taken back from the totals (which
    /// keep every failure).
    pub async fn login_succeeded(self, attempt: &LoginAttempt) -> Result<(), StoreError> {
        let clear = self
            .store
            .delete_item()
            .set_key(Some(attempt.own.key()))
            .send();
        let Some([(email, email_end), (ip, ip_end)]) = &attempt.totals else {
            clear.await?;
            return Ok(());
        };
        let (cleared, email, ip) = tokio::join!(
            clear,
            self.uncount(email, *email_end),
            self.uncount(ip, *ip_end),
        );
        cleared?;
        email?;
        ip
    }

    /// Counts a registration from `client` (an address or IPv6 /64) against its budget, before
    /// its password is hashed. Every registration counts, whatever its outcome.
    pub async fn take_registration(
        self,
        client: &str,
        now: i64,
        budget: &RegisterThrottle,
    ) -> Result<RegistrationAttempt, StoreError> {
        let counter = Counter::Registrations(client.to_string());
        Ok(
            match self
                .count(&counter, now, budget.per_ip, budget.window_secs)
                .await?
            {
                CountOutcome::Counted { .. } => RegistrationAttempt::Counted,
                CountOutcome::Refused(throttled) => RegistrationAttempt::Throttled(throttled),
            },
        )
    }

    /// Counts a password-reset request for `email` (known or not) from `client` against both
    /// budgets, before anything is looked up; refused by either, it stays counted in neither.
    pub async fn take_reset_request(
        self,
        email: &Email,
        client: &str,
        now: i64,
        budget: &ResetThrottle,
    ) -> Result<RegistrationAttempt, StoreError> {
        let per_email = Counter::ResetEmail(email.to_string());
        let per_ip = Counter::ResetIp(client.to_string());
        let window = budget.window_secs;
        let (a, b) = tokio::join!(
            self.count(&per_email, now, budget.per_email, window),
            self.count(&per_ip, now, budget.per_ip, window),
        );
        let mut refused = None;
        for outcome in [&a, &b] {
            if let Ok(CountOutcome::Refused(throttled)) = outcome {
                refused = refused.max(Some(throttled.window_ends_at));
            }
        }
        if refused.is_some() || a.is_err() || b.is_err() {
            for (counter, outcome) in [(&per_email, &a), (&per_ip, &b)] {
                if let Ok(CountOutcome::Counted { window_ends_at }) = outcome {
                    self.uncount(counter, *window_ends_at).await?;
                }
            }
        }
        a?;
        b?;
        Ok(match refused {
            Some(window_ends_at) => RegistrationAttempt::Throttled(Throttled { window_ends_at }),
            None => RegistrationAttempt::Counted,
        })
    }

    /// Counts a verification mail `user` asks for against its budget.
    pub async fn take_verification_mail(
        self,
        user: &str,
        now: i64,
        budget: &VerificationThrottle,
    ) -> Result<RegistrationAttempt, StoreError> {
        let counter = Counter::VerificationMails(user.to_string());
        Ok(
            match self
                .count(&counter, now, budget.per_user, budget.window_secs)
                .await?
            {
                CountOutcome::Counted { .. } => RegistrationAttempt::Counted,
                CountOutcome::Refused(throttled) => RegistrationAttempt::Throttled(throttled),
            },
        )
    }

    /// Counts one attempt in `counter`: at most `max` per window of `window_secs` (starting at
    /// the first).
    async fn count(
        self,
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
            "a throttle counter kept changing under concurrent attempts",
        ))
    }

    /// Adds a failure to a window that is open and below `max` (or opens the first one,
    /// ending at `end`): the end of the window counted in, or `None` if the condition failed.
    async fn add_failure(
        self,
        counter: &Counter,
        now: i64,
        max: u32,
        end: i64,
    ) -> Result<Option<i64>, StoreError> {
        let counted = self
            .store
            .update_item()
            .set_key(Some(counter.key()))
            .changing(
                &Changes::default()
                    .tally(attr::FAILURES, n(1))
                    .set_if_absent(attr::WINDOW_ENDS_AT, n(end))
                    .set_if_absent(TTL, n(end)),
                Some(&Cond::NotExists(attr::WINDOW_ENDS_AT).or(
                    Cond::Gt(attr::WINDOW_ENDS_AT, n(now)).and(Cond::Lt(attr::FAILURES, n(max))),
                )),
            )
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
    async fn window(self, counter: &Counter) -> Result<Option<ThrottleItem>, StoreError> {
        let item = self
            .store
            .get_item()
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
    async fn reset(self, counter: &Counter, now: i64, end: i64) -> Result<bool, StoreError> {
        let (user_id, sk) = counter.pk_sk();
        let item = serde_dynamo::to_item(ThrottleItem {
            user_id,
            sk,
            failures: 1,
            window_ends_at: end,
            expires_at: end,
        })?;
        let reset = self
            .store
            .put_item()
            .set_item(Some(item))
            .only_if(
                &Cond::NotExists(attr::WINDOW_ENDS_AT).or(Cond::Le(attr::WINDOW_ENDS_AT, n(now))),
            )
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
    async fn uncount(self, counter: &Counter, window_ends_at: i64) -> Result<(), StoreError> {
        let result = self
            .store
            .update_item()
            .set_key(Some(counter.key()))
            .changing(
                &Changes::default().increment(attr::FAILURES, n(-1)),
                Some(
                    &Cond::Eq(attr::WINDOW_ENDS_AT, n(window_ends_at))
                        .and(Cond::Ge(attr::FAILURES, n(1))),
                ),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}
