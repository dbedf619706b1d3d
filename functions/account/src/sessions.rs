//! `GET /v1/sessions`, `DELETE /v1/sessions/{id}`, `DELETE /v1/sessions`: the user's live
//! sessions (one per login), and ending them. A session id is the refresh family's id (32 hex
//! digits); an id that is not one, or not one of the user's live sessions, is 404 alike, so
//! nothing tells another user's session from a made-up one.

use serde::Serialize;
use taskline::App;
use taskline::auth::{FamilyId, UserId, unix_now};
use taskline::error::ApiError;
use taskline::store::{Keep, SessionInfo};

use crate::GONE;

#[derive(Serialize)]
pub struct SessionList {
    pub items: Vec<SessionInfo>,
}

const NO_SUCH_SESSION: &str = "no such session";

pub async fn list(
    app: &App,
    user: UserId,
    current: Option<FamilyId>,
) -> Result<SessionList, ApiError> {
    Ok(SessionList {
        items: app.store.sessions().list(user, current, unix_now()).await?,
    })
}

/// Ends the session `id` of `user` (the current one too, if asked).
pub async fn end(app: &App, user: UserId, id: &str) -> Result<(), ApiError> {
    let family = FamilyId::parse(id).ok_or(ApiError::NotFound(NO_SUCH_SESSION))?;
    if app.store.sessions().end(user, family, unix_now()).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound(NO_SUCH_SESSION))
    }
}

/// Ends every session of `user` but `current`, in a constant number of DynamoDB calls
/// whatever their number (see `taskline::store` account).
pub async fn end_others(
    app: &App,
    user: UserId,
    current: Option<FamilyId>,
) -> Result<(), ApiError> {
    let keep = current.map_or(Keep::Nothing, Keep::Session);
    if app
        .store
        .sessions()
        .end_others(user, keep, unix_now())
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::unauthorized_bearer(GONE))
    }
}
