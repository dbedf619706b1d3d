//! `refresh`: `POST /v1/auth/refresh` rotates the refresh cookie and issues a new access
//! token; `POST /v1/auth/logout` revokes the cookie's family and clears it.

use lambda_http::http::{Method, StatusCode, header};
use shared::App;
use shared::auth::{
    IssuedToken, RefreshToken, cleared_refresh_cookie, refresh_cookie, refresh_token_of,
    refresh_unauthorized, require_allowed_origin, unix_now,
};
use shared::error::ApiError;
use shared::http::{Request, Response, Route, empty, json_response, serve, with_header};
use shared::store::{RefreshState, Rotation};

const REFRESH: &str = "/v1/auth/refresh";
const LOGOUT: &str = "/v1/auth/logout";

pub static ROUTES: &[Route] = &[
    Route::new(REFRESH, &[Method::POST]),
    Route::new(LOGOUT, &[Method::POST]),
];

const INVALID: &str = "the refresh token is invalid or expired";
const REUSED: &str = "the refresh token was already used; its session has been revoked";

/// Spends `presented` for a new access token and its child refresh token. A token presented
/// after it was spent (a replay, or the loser of a race) revokes its whole family: one of the
/// two holders is not the legitimate client.
pub async fn refresh(
    app: &App,
    presented: RefreshToken,
) -> Result<(IssuedToken, RefreshToken), ApiError> {
    let now = unix_now();
    let absolute_expires_at = match app.store.refresh_state(&presented, now).await? {
        RefreshState::Live {
            absolute_expires_at,
        } => absolute_expires_at,
        RefreshState::Unknown | RefreshState::Expired => {
            return Err(refresh_unauthorized(INVALID));
        }
        RefreshState::Spent => {
            app.store
                .revoke_family(presented.user(), presented.family())
                .await?;
            return Err(refresh_unauthorized(REUSED));
        }
    };
    let child = RefreshToken::generate(presented.user(), presented.family())?;
    match app
        .store
        .rotate_refresh(&presented, &child, absolute_expires_at, now)
        .await?
    {
        Rotation::Rotated => Ok((
            app.tokens.issue(presented.user(), presented.family())?,
            child,
        )),
        Rotation::Revoked => Err(refresh_unauthorized(INVALID)),
        Rotation::AlreadySpent => {
            app.store
                .revoke_family(presented.user(), presented.family())
                .await?;
            Err(refresh_unauthorized(REUSED))
        }
    }
}

/// Ends the session of `presented`: its family is revoked if the token is one of ours
/// (spent or not; a forged value revokes nothing). Idempotent.
pub async fn logout(app: &App, presented: RefreshToken) -> Result<(), ApiError> {
    if app.store.refresh_state(&presented, unix_now()).await? != RefreshState::Unknown {
        app.store
            .revoke_family(presented.user(), presented.family())
            .await?;
    }
    Ok(())
}

pub async fn handle(app: &App, req: Request) -> Response {
    serve(&app.config, ROUTES, req, async |route, req| {
        // A foreign page must not spend or revoke the cookie the browser attaches for it.
        require_allowed_origin(&app.config, &req)?;
        match route.route.template {
            REFRESH => {
                let (access, child) = refresh(app, refresh_token_of(&req)?).await?;
                with_header(
                    json_response(StatusCode::OK, &access),
                    header::SET_COOKIE,
                    refresh_cookie(&app.config, &child),
                )
            }
            LOGOUT => {
                // No or a malformed cookie: nothing to revoke, and logging out still succeeds.
                if let Ok(presented) = refresh_token_of(&req) {
                    logout(app, presented).await?;
                }
                with_header(
                    empty(StatusCode::NO_CONTENT),
                    header::SET_COOKIE,
                    cleared_refresh_cookie(&app.config),
                )
            }
            _ => Err(ApiError::NotFound("no such route")),
        }
    })
    .await
}
