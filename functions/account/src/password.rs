//! `POST /v1/me/password`: the user changes their password, knowing the current one.
//!
//! A wrong current password is a failed password check, counted against the session's own
//! budget (`LOGIN_FAILURES_PER_DEVICE`; over budget -> 429 before the password is looked at):
//! the request is authenticated already, so neither strangers holding the email at its login
//! ceiling nor failed logins elsewhere keep the owner from changing the password, and a stolen
//! access token buys no more guesses than that budget. A change ends every other session of the
//! user and keeps the current one, under a new refresh token, in the same transaction as the
//! new hash, whatever the number of sessions (see `taskline::store` account). A notice goes
//! to the account's address (best effort: the change stands if it cannot be sent).

use taskline::App;
use taskline::auth::{
    FamilyId, Password, RefreshToken, UserId, hash_password, unix_now, verify_password,
};
use taskline::error::ApiError;
use taskline::http::{Fields, Request, json_object};
use taskline::store::{Keep, PasswordBudget, PasswordWrite, StoredPassword};

use crate::GONE;

/// A password change as sent.
#[derive(Debug)]
pub struct PasswordChange {
    pub current_password: Password,
    pub new_password: Password,
}

impl PasswordChange {
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let mut fields = Fields::new(json_object(req)?);
        // Every stored password met these rules, so one that does not cannot be the current one.
        let current = fields.required("current_password", Password::from_json);
        let new = fields.required("new_password", Password::from_json);
        fields.finish(|| {
            Some(Self {
                current_password: current?,
                new_password: new?,
            })
        })
    }
}

/// Changes the password of `user`, who is signed in to `session` (`None`: an external
/// provider's token). Returns the session's new refresh token, if it still has one.
pub async fn change_password(
    app: &App,
    user: UserId,
    session: Option<FamilyId>,
    change: PasswordChange,
) -> Result<Option<RefreshToken>, ApiError> {
    let (email, hash) = match app.store.accounts().stored_password(user).await? {
        None => return Err(ApiError::unauthorized_bearer(GONE)),
        Some(StoredPassword::None) => {
            return Err(ApiError::Conflict(
                "this account has no password: it signs in through an external identity provider",
            ));
        }
        Some(StoredPassword::Set { email, hash }) => (email, hash),
    };
    // Budgeted per session; a token without one (an external provider's) per user.
    let budget_key = session.map_or_else(|| user.to_string(), |session| session.to_string());
    let attempt = app
        .take_login_attempt(PasswordBudget::Session(&budget_key))
        .await?;
    if !verify_password(change.current_password, Some(hash.clone())).await? {
        return Err(ApiError::Forbidden("the current password is incorrect"));
    }
    app.store.throttle().login_succeeded(&attempt).await?;
    let new_hash = hash_password(change.new_password).await?;
    // The current session goes on under a new first token; every other one ends, in the
    // password's own transaction.
    let root = session
        .map(|session| RefreshToken::generate(user, session))
        .transpose()?;
    let keep = root.as_ref().map_or(Keep::Nothing, Keep::Restarted);
    match app
        .store
        .accounts()
        .change_password(user, &hash, &new_hash, keep, unix_now())
        .await?
    {
        PasswordWrite::Stale => Err(ApiError::Conflict(
            "the password was changed by another request meanwhile; sign in again",
        )),
        // Not kept: the session ended meanwhile (a logout racing this); it stays ended.
        PasswordWrite::Changed { kept } => {
            app.recovery()?.notify_password_changed(email).await;
            Ok(root.filter(|_| kept))
        }
    }
}
