//! `refresh`: `POST /v1/auth/refresh` rotates the refresh cookie and issues a new access
//! token; `POST /v1/auth/logout` revokes the cookie's family and clears it.

use lambda_http::http::{Method, StatusCode, header};
use taskline::App;
use taskline::app::{Answer, Call, Handler};
use taskline::auth::{IssuedToken, RefreshToken, unix_now};
use taskline::error::ApiError;
use taskline::http::{Auth, Request, Response, Route, empty, json_response, with_header};
use taskline::http::{cleared_refresh_cookie, refresh_cookie, refresh_unauthorized};
use taskline::store::{RefreshState, Rotation};

/// The keys this function loads at cold start (it issues access tokens); template.yaml grants it
/// exactly these secrets.
pub const KEYS: &[taskline::config::SecretName] = &[taskline::config::SecretName::Jwt];

/// What this function serves.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    Refresh,
    Logout,
}

pub static ROUTES: &[Route<Endpoint>] = &[
    Route::new(
        "/v1/auth/refresh",
        &[(Method::POST, Auth::RefreshCookie, Endpoint::Refresh)],
    ),
    Route::new(
        "/v1/auth/logout",
        &[(Method::POST, Auth::RefreshCookie, Endpoint::Logout)],
    ),
];

/// The function's entry point: every request, through its route table.
pub async fn handle(app: &App, req: Request) -> Response {
    app.serve(ROUTES, req).await
}

const INVALID: &str = "the refresh token is invalid or expired";
const REUSED: &str = "the refresh token was already used; its session has been revoked";

/// Rounds of a refresh whose rotation lost to a concurrent change of its family (a parallel
/// refresh, an end of the other sessions re-stamping this one).
const ROTATION_ATTEMPTS: usize = 3;

/// Spends `presented` for a new access token and its successor. A token presented after it
/// was spent revokes its whole family (one of the two holders is not the legitimate client),
/// except the family's most recently spent token within the reuse grace interval of its
/// rotation: two tabs refreshing with one cookie, or a retry after a lost response, then get
/// the same successor as the first (see `taskline::store` sessions).
pub async fn refresh(
    app: &App,
    presented: RefreshToken,
) -> Result<(IssuedToken, RefreshToken), ApiError> {
    let now = unix_now();
    for _ in 0..ROTATION_ATTEMPTS {
        match app.store.sessions().refresh_state(&presented, now).await? {
            RefreshState::Unknown | RefreshState::Expired => {
                return Err(refresh_unauthorized(INVALID));
            }
            RefreshState::Spent {
                latest_spent_at,
                issued_in,
                generation,
            } => return reuse(app, presented, latest_spent_at, issued_in, generation, now).await,
            RefreshState::Live {
                absolute_expires_at,
                issued_in,
                generation,
            } => {
                let child = presented.successor(&app.successors, issued_in);
                match app
                    .store
                    .sessions()
                    .rotate(&presented, &child, absolute_expires_at, generation, now)
                    .await?
                {
                    Rotation::Rotated => {
                        let access =
                            app.tokens
                                .issue(presented.user(), presented.family(), generation)?;
                        return Ok((access, child));
                    }
                    // Another request spent it first (a parallel refresh, or a replay), or
                    // the family changed (revoked, its generation moved): what the store says
                    // now decides.
                    Rotation::AlreadySpent | Rotation::Revoked => {}
                }
            }
        }
    }
    Err(refresh_unauthorized(INVALID))
}

/// A spent token presented again: within the grace interval of the family's latest rotation,
/// the successor that rotation handed out (no second chain: whoever uses it second is caught
/// as reuse), else the whole family is revoked.
async fn reuse(
    app: &App,
    presented: RefreshToken,
    latest_spent_at: Option<i64>,
    issued_in: u64,
    generation: u64,
    now: i64,
) -> Result<(IssuedToken, RefreshToken), ApiError> {
    let grace = app.config.refresh_reuse_grace_secs;
    if latest_spent_at.is_some_and(|spent_at| within_grace(grace, spent_at, now)) {
        let successor = presented.successor(&app.successors, issued_in);
        let access = app
            .tokens
            .issue(presented.user(), presented.family(), generation)?;
        return Ok((access, successor));
    }
    app.store
        .sessions()
        .revoke(presented.user(), presented.family())
        .await?;
    Err(refresh_unauthorized(REUSED))
}

/// Whether a token spent at `spent_at` may still be presented again at `now` (never with a
/// grace of 0).
fn within_grace(grace_secs: i64, spent_at: i64, now: i64) -> bool {
    now < spent_at.saturating_add(grace_secs)
}

/// Ends the session of `presented`: its family is revoked if the token is one of ours
/// (spent or not; a forged value revokes nothing). Idempotent.
pub async fn logout(app: &App, presented: RefreshToken) -> Result<(), ApiError> {
    if app
        .store
        .sessions()
        .refresh_state(&presented, unix_now())
        .await?
        != RefreshState::Unknown
    {
        app.store
            .sessions()
            .revoke(presented.user(), presented.family())
            .await?;
    }
    Ok(())
}

impl Handler for Endpoint {
    async fn answer(self, call: Call<'_, '_, Self>) -> Answer {
        let (app, caller) = (call.app, call.caller);
        // The route's authentication checked the Origin: a foreign page must not spend or
        // revoke the cookie the browser attaches for it.
        let presented = caller.refresh_cookie()?;
        match self {
            Endpoint::Refresh => {
                let (access, child) = refresh(app, presented?).await?;
                with_header(
                    json_response(StatusCode::OK, &access),
                    header::SET_COOKIE,
                    refresh_cookie(&app.config, &child),
                )
            }
            Endpoint::Logout => {
                // No or a malformed cookie: nothing to revoke, and logging out still succeeds.
                if let Ok(presented) = presented {
                    logout(app, presented).await?;
                }
                with_header(
                    empty(StatusCode::NO_CONTENT),
                    header::SET_COOKIE,
                    cleared_refresh_cookie(&app.config),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::within_grace;

    #[test]
    fn the_grace_interval_starts_at_the_spend_and_0_disables_it() {
        assert!(within_grace(10, 100, 100));
        assert!(within_grace(10, 100, 109));
        assert!(!within_grace(10, 100, 110));
        assert!(!within_grace(0, 100, 100));
    }
}
