//! `PATCH /v1/me`: the user changes their display name (the only field a user may change
//! here; the email is their identity and the rest is the server's).

use taskline::App;
use taskline::auth::{User, UserId, UserName};
use taskline::error::ApiError;
use taskline::http::{Fields, Request, json_object};

use crate::GONE;

/// A profile change as sent: `{"name"}`, nothing else (an empty object is a 422 too, as it
/// would change nothing).
#[derive(Debug)]
pub struct ProfileChange {
    pub name: UserName,
}

impl ProfileChange {
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let mut fields = Fields::new(json_object(req)?).read_only(&[
            "id",
            "user_id",
            "email",
            "created_at",
            "updated_at",
            "version",
        ]);
        let name = fields.required("name", UserName::from_json);
        fields.finish(|| Some(Self { name: name? }))
    }
}

/// Renames the user and returns the user as now stored.
pub async fn change_profile(
    app: &App,
    user: UserId,
    change: ProfileChange,
) -> Result<User, ApiError> {
    if !app.store.accounts().rename(user, &change.name).await? {
        return Err(ApiError::unauthorized_bearer(GONE));
    }
    app.store
        .accounts()
        .user(user)
        .await?
        .ok_or(ApiError::unauthorized_bearer(GONE))
}
