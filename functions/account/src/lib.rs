//! `account`: `GET, PATCH, DELETE /v1/me`, `POST /v1/me/password`,
//! `POST /v1/me/verification-email`, `GET, DELETE /v1/sessions`,
//! `DELETE /v1/sessions/{id}`, `GET /v1/health`, the API's own documents
//! (`GET /v1/openapi.json`, `GET /docs`), and the catch-all for unknown routes (404
//! problem+json).
//!
//! `DELETE /v1/me` asks for the current password again (see [`deletion`]) and deletes within a
//! time budget (`ACCOUNT_DELETION_BUDGET_MS`): an account too big to delete in one invocation
//! answers 503 with `Retry-After`, stays marked as being deleted (refused by every other
//! route), and the client's retry, with the same token and the password again, goes on where
//! it stopped; 204 only once nothing of the account is left.

pub mod deletion;
pub mod docs;
pub mod password;
pub mod profile;
pub mod sessions;

use lambda_http::http::{Method, StatusCode, header};
use taskline::App;
use taskline::app::{Answer, Call, Handler};
use taskline::error::ApiError;
use taskline::http::{
    Auth, Matched, Request, Response, Route, empty, json_response, refresh_cookie, with_header,
};
use taskline::services::Bearer;

/// The keys this function loads at cold start (it verifies access tokens, and an external
/// provider's if one is configured by a shared secret; it mails verification links and
/// password-change notices); template.yaml grants it exactly these secrets.
pub const KEYS: &[taskline::config::SecretName] = &[
    taskline::config::SecretName::Jwt,
    taskline::config::SecretName::External,
    taskline::config::SecretName::Smtp,
];

/// What this function serves.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    Health,
    Me,
    PatchMe,
    DeleteMe,
    ChangePassword,
    SendVerification,
    ListSessions,
    EndOtherSessions,
    EndSession,
    OpenApi,
    Docs,
}

pub static ROUTES: &[Route<Endpoint>] = &[
    Route::new("/v1/health", &[(Method::GET, Auth::None, Endpoint::Health)]),
    Route::new(
        "/v1/me",
        &[
            (Method::GET, Auth::Bearer, Endpoint::Me),
            (Method::PATCH, Auth::Bearer, Endpoint::PatchMe),
            (
                Method::DELETE,
                Auth::BearerDuringDeletion,
                Endpoint::DeleteMe,
            ),
        ],
    ),
    Route::new(
        "/v1/me/password",
        &[(Method::POST, Auth::Bearer, Endpoint::ChangePassword)],
    ),
    Route::new(
        "/v1/me/verification-email",
        &[(Method::POST, Auth::Bearer, Endpoint::SendVerification)],
    ),
    Route::new(
        "/v1/sessions",
        &[
            (Method::GET, Auth::Bearer, Endpoint::ListSessions),
            (Method::DELETE, Auth::Bearer, Endpoint::EndOtherSessions),
        ],
    ),
    Route::new(
        "/v1/sessions/{id}",
        &[(Method::DELETE, Auth::Bearer, Endpoint::EndSession)],
    ),
    Route::new(
        "/v1/openapi.json",
        &[(Method::GET, Auth::None, Endpoint::OpenApi)],
    ),
    Route::new("/docs", &[(Method::GET, Auth::None, Endpoint::Docs)]),
];

/// The function's entry point: every request, through its route table.
pub async fn handle(app: &App, req: Request) -> Response {
    app.serve(ROUTES, req).await
}

/// 401 for a token whose user vanished after authentication (deleted concurrently).
pub(crate) const GONE: &str = "the account no longer exists";

impl Handler for Endpoint {
    async fn answer(self, call: Call<'_, '_, Self>) -> Answer {
        let (app, caller, route, req) = (call.app, call.caller, call.route, call.req);
        match self {
            Endpoint::Health => Ok(json_response(
                StatusCode::OK,
                &serde_json::json!({ "status": "ok" }),
            )),
            Endpoint::OpenApi => Ok(docs::openapi()),
            Endpoint::Docs => docs::page(),
            Endpoint::DeleteMe => {
                deletion::delete_me(app, caller.deleting()?, &req).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
            Endpoint::Me => {
                // The user item comes with the standing check, in its one BatchGetItem.
                let user = caller.bearer()?.read_user().await?;
                let user = user.ok_or(ApiError::unauthorized_bearer(GONE))?;
                Ok(json_response(StatusCode::OK, &user))
            }
            Endpoint::SendVerification => {
                let user = caller.bearer()?.read_user().await?;
                let user = user.ok_or(ApiError::unauthorized_bearer(GONE))?;
                if user.email_verified {
                    return Err(ApiError::Conflict("the email is verified already"));
                }
                app.take_verification_mail(user.id).await?;
                app.recovery()?.send_verification(&user).await?;
                Ok(json_response(
                    StatusCode::ACCEPTED,
                    &serde_json::json!({ "status": "accepted" }),
                ))
            }
            // The other routes write, or read what the standing read does not bring: the
            // standing comes first (and so a refused token is a 401 before any 422).
            endpoint => {
                let bearer = caller.bearer()?;
                bearer.confirm().await?;
                signed_in(app, endpoint, bearer, &route, &req).await
            }
        }
    }
}

async fn signed_in(
    app: &App,
    endpoint: Endpoint,
    bearer: &Bearer<'_>,
    route: &Matched<Endpoint>,
    req: &Request,
) -> Result<Response, ApiError> {
    let (user, session) = (bearer.user(), bearer.session());
    match endpoint {
        Endpoint::PatchMe => {
            let change = profile::ProfileChange::from_request(req)?;
            let user = profile::change_profile(app, user, change).await?;
            Ok(json_response(StatusCode::OK, &user))
        }
        Endpoint::ChangePassword => change_password(app, bearer, req).await,
        Endpoint::ListSessions => Ok(json_response(
            StatusCode::OK,
            &sessions::list(app, user, session).await?,
        )),
        Endpoint::EndOtherSessions => {
            sessions::end_others(app, user, session).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        Endpoint::EndSession => {
            sessions::end(app, user, route.param("id").unwrap_or_default()).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        _ => Err(ApiError::Internal(format!(
            "{endpoint:?} is not a signed-in route"
        ))),
    }
}

/// 204 with the current session's new refresh cookie (none for an external provider's token,
/// which has no taskline session).
async fn change_password(
    app: &App,
    bearer: &Bearer<'_>,
    req: &Request,
) -> Result<Response, ApiError> {
    let change = password::PasswordChange::from_request(req)?;
    let refresh = password::change_password(app, bearer.user(), bearer.session(), change).await?;
    let response = empty(StatusCode::NO_CONTENT);
    match refresh {
        Some(refresh) => with_header(
            response,
            header::SET_COOKIE,
            refresh_cookie(&app.config, &refresh),
        ),
        None => Ok(response),
    }
}
