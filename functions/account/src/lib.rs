//! `account`: `GET, PATCH, DELETE /v1/me`, `POST /v1/me/password`, `GET, DELETE /v1/sessions`,
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
use taskline::error::ApiError;
use taskline::http::{
    Request, Response, Route, empty, json_response, refresh_cookie, serve, with_header,
};

/// The keys this function loads at cold start (it verifies access tokens, and an external
/// provider's if one is configured by a shared secret); template.yaml grants it exactly these
/// secrets.
pub const KEYS: &[taskline::config::SecretName] = &[
    taskline::config::SecretName::Jwt,
    taskline::config::SecretName::External,
];

/// What this function serves.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    Health,
    Me,
    PatchMe,
    DeleteMe,
    ChangePassword,
    ListSessions,
    EndOtherSessions,
    EndSession,
    OpenApi,
    Docs,
}

pub static ROUTES: &[Route<Endpoint>] = &[
    Route::new("/v1/health", &[(Method::GET, Endpoint::Health)]),
    Route::new(
        "/v1/me",
        &[
            (Method::GET, Endpoint::Me),
            (Method::PATCH, Endpoint::PatchMe),
            (Method::DELETE, Endpoint::DeleteMe),
        ],
    ),
    Route::new(
        "/v1/me/password",
        &[(Method::POST, Endpoint::ChangePassword)],
    ),
    Route::new(
        "/v1/sessions",
        &[
            (Method::GET, Endpoint::ListSessions),
            (Method::DELETE, Endpoint::EndOtherSessions),
        ],
    ),
    Route::new(
        "/v1/sessions/{id}",
        &[(Method::DELETE, Endpoint::EndSession)],
    ),
    Route::new("/v1/openapi.json", &[(Method::GET, Endpoint::OpenApi)]),
    Route::new("/docs", &[(Method::GET, Endpoint::Docs)]),
];

/// 401 for a token whose user vanished after authentication (deleted concurrently).
pub(crate) const GONE: &str = "the account no longer exists";

pub async fn handle(app: &App, req: Request) -> Response {
    serve(
        &app.config,
        ROUTES,
        req,
        async |endpoint, route, req| match endpoint {
            Endpoint::Health => Ok(json_response(
                StatusCode::OK,
                &serde_json::json!({ "status": "ok" }),
            )),
            Endpoint::OpenApi => Ok(docs::openapi()),
            Endpoint::Docs => docs::page(),
            Endpoint::Me => me(app, &req).await,
            Endpoint::PatchMe => patch_me(app, &req).await,
            Endpoint::DeleteMe => {
                deletion::delete_me(app, &req).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
            Endpoint::ChangePassword => change_password(app, &req).await,
            Endpoint::ListSessions => {
                let (user, session) = app.authenticate_session(&req).await?;
                Ok(json_response(
                    StatusCode::OK,
                    &sessions::list(app, user, session).await?,
                ))
            }
            Endpoint::EndOtherSessions => {
                let (user, session) = app.authenticate_session(&req).await?;
                sessions::end_others(app, user, session).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
            Endpoint::EndSession => {
                let user = app.authenticate(&req).await?;
                sessions::end(app, user, route.param("id").unwrap_or_default()).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
        },
    )
    .await
}

async fn me(app: &App, req: &Request) -> Result<Response, ApiError> {
    // The user item comes with the standing check, in its one BatchGetItem.
    let user = app
        .bearer(req)
        .await?
        .read_user()
        .await?
        .ok_or(ApiError::unauthorized_bearer(GONE))?;
    Ok(json_response(StatusCode::OK, &user))
}

async fn patch_me(app: &App, req: &Request) -> Result<Response, ApiError> {
    let user = app.authenticate(req).await?;
    let change = profile::ProfileChange::from_request(req)?;
    let user = profile::change_profile(app, user, change).await?;
    Ok(json_response(StatusCode::OK, &user))
}

/// 204 with the current session's new refresh cookie (none for an external provider's token,
/// which has no taskline session).
async fn change_password(app: &App, req: &Request) -> Result<Response, ApiError> {
    let (user, session) = app.authenticate_session(req).await?;
    let change = password::PasswordChange::from_request(req)?;
    let refresh = password::change_password(app, user, session, change).await?;
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
