//! `DELETE /v1/me`: the account and everything in it, once the user proves again that they
//! are present (OWASP ASVS: re-authentication before a sensitive action). A stolen access
//! token alone (15 minutes) erases nothing.
//!
//! - An account with a password sends it: `{"password": "..."}`. Missing -> 422 (`password`
//!   is required), wrong -> 403, as the current password of `POST /v1/me/password`; a wrong
//!   one counts against the account's own budget for authenticated password checks
//!   (`LOGIN_FAILURES_PER_DEVICE`; over budget -> 429 before the password is looked at), so a
//!   stolen access token buys no more guesses than that, and strangers failing logins to the
//!   email do not keep the owner from deleting the account.
//! - An account without one (an external identity provider's user) needs a token of the
//!   provider issued (`iat`) within [`MAX_TOKEN_AGE_SECS`]: a fresh sign-in there. An older
//!   token, or one without `iat` -> 403.
//!
//! The deletion is resumable (see `taskline::store` users): a 503 leaves the account marked as
//! being deleted, and the client's retry proves presence again the same way and goes on.

use taskline::App;
use taskline::auth::{Password, UserId, unix_now, verify_password};
use taskline::error::ApiError;
use taskline::http::{Fields, Request, json_object};
use taskline::services::Deleting;
use taskline::store::{Deletion, PasswordBudget, StoredPassword};

use crate::GONE;

/// How recent an external provider's token must be to delete an account without a
/// password (seconds since its `iat`).
pub const MAX_TOKEN_AGE_SECS: i64 = 300;
/// Clock skew tolerated on a provider's `iat` in the future (as on `exp`).
const IAT_LEEWAY_SECS: i64 = 30;

/// The password of a deletion request: `{"password"}`, nothing else. A request without a
/// body is as one without the field (422), not a media-type problem.
fn password_of(req: &Request) -> Result<Password, ApiError> {
    if req.body().as_ref().iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation(
            "password",
            "is required: the current password confirms the deletion",
        ));
    }
    let mut fields = Fields::new(json_object(req)?);
    // Every stored password met these rules, so one that does not cannot be the current one.
    let password = fields.required("password", Password::from_json);
    fields.finish(|| password)
}

/// Whether `issued_at` (a provider token's `iat`) is recent enough at `now`.
pub fn is_fresh(issued_at: Option<i64>, now: i64) -> bool {
    issued_at.is_some_and(|iat| iat <= now + IAT_LEEWAY_SECS && now - iat <= MAX_TOKEN_AGE_SECS)
}

/// Proves the user behind `req` is present: their current password, or a fresh token for an
/// account without one.
async fn reauthenticate(
    app: &App,
    user: UserId,
    issued_at: Option<i64>,
    req: &Request,
) -> Result<(), ApiError> {
    match app.store.accounts().stored_password(user).await? {
        None => Err(ApiError::unauthorized_bearer(GONE)),
        Some(StoredPassword::None) if is_fresh(issued_at, unix_now()) => Ok(()),
        Some(StoredPassword::None) => Err(ApiError::Forbidden(
            "deleting this account needs a fresh sign-in: a token of your identity provider \
             issued within the last 5 minutes",
        )),
        Some(StoredPassword::Set { hash, .. }) => {
            let password = password_of(req)?;
            let budget_key = user.to_string();
            let attempt = app
                .take_login_attempt(PasswordBudget::Session(&budget_key))
                .await?;
            if !verify_password(password, Some(hash)).await? {
                return Err(ApiError::Forbidden("the password is incorrect"));
            }
            app.store.throttle().login_succeeded(&attempt).await?;
            Ok(())
        }
    }
}

/// Deletes the account of `req`'s user once re-authenticated: `Ok` when nothing is left,
/// [`ApiError::DeletionUnfinished`] (503) for the client to retry.
pub async fn delete_me(app: &App, caller: Deleting, req: &Request) -> Result<(), ApiError> {
    // Also for an account whose deletion began: this request goes on with it.
    let Deleting { user, issued_at } = caller;
    reauthenticate(app, user, issued_at, req).await?;
    match app
        .store
        .accounts()
        .delete(user, unix_now(), app.config.account_deletion_budget)
        .await?
    {
        Deletion::Finished => Ok(()),
        Deletion::Unfinished => Err(ApiError::DeletionUnfinished),
        Deletion::NoAccount => Err(ApiError::unauthorized_bearer(GONE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_fresh_for_five_minutes_after_its_iat() {
        let now = 1_800_000_000;
        assert!(is_fresh(Some(now), now));
        assert!(is_fresh(Some(now - 300), now));
        assert!(!is_fresh(Some(now - 301), now));
        assert!(is_fresh(Some(now + 30), now));
        assert!(!is_fresh(Some(now + 31), now));
        assert!(!is_fresh(None, now));
    }
}
