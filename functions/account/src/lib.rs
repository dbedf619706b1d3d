//! `account`: `GET, PATCH, DELETE /v1/me`, `POST /v1/me/password`, `GET, DELETE /v1/sessions`,
//! `DELETE /v1/sessions/{id}`, `GET /v1/health`, the API's own documents
//! (`GET /v1/openapi.json`, `GET /docs`), and the catch-all for unknown routes (404
//! problem+json).
//!
//! `DELETE /v1/me` deletes within a time budget (`ACCOUNT_DELETION_BUDGET_MS`): an account too
//! big to delete in one invocation answers 503 with `Retry-After`, stays marked as being
//! deleted (refused by every other route), and the client's retry, with the same token, goes
//! on where it stopped; 204 only once nothing of the account is left.

pub mod docs;
pub mod password;
pub mod profile;
pub mod sessions;

use lambda_http::http::{Method, StatusCode, header};
use shared::App;
use shared::auth::{refresh_cookie, unix_now};
use shared::error::ApiError;
use shared::http::{Request, Response, Route, empty, json_response, serve, source_ip, with_header};
use shared::store::Deletion;

const HEALTH: &str = "/v1/health";
const ME: &str = "/v1/me";
const PASSWORD: &str = "/v1/me/password";
const SESSIONS: &str = "/v1/sessions";
const SESSION: &str = "/v1/sessions/{id}";
const OPENAPI: &str = "/v1/openapi.json";
const DOCS: &str = "/docs";

/// The keys this function loads at cold start (it verifies access tokens); template.yaml grants it
/// exactly these secrets.
pub const KEYS: &[shared::config::Key] = &[shared::config::Key::Jwt];

pub static ROUTES: &[Route] = &[
    Route::new(HEALTH, &[Method::GET]),
    Route::new(ME, &[Method::GET, Method::PATCH, Method::DELETE]),
    Route::new(PASSWORD, &[Method::POST]),
    Route::new(SESSIONS, &[Method::GET, Method::DELETE]),
    Route::new(SESSION, &[Method::DELETE]),
    Route::new(OPENAPI, &[Method::GET]),
    Route::new(DOCS, &[Method::GET]),
];

/// 401 for a token whose user vanished after authentication (deleted concurrently).
pub(crate) const GONE: &str = "the account no longer exists";

pub async fn handle(app: &App, req: Request) -> Response {
    serve(&app.config, ROUTES, req, async |route, req| {
        match (route.route.template, req.method().clone()) {
            (HEALTH, _) => Ok(json_response(
                StatusCode::OK,
                &serde_json::json!({ "status": "ok" }),
            )),
            (OPENAPI, _) => Ok(docs::openapi()),
            (DOCS, _) => docs::page(),
            (ME, Method::GET) => {
                let user = app.authenticate(&req).await?;
                let user = app
                    .store
                    .user(user)
                    .await?
                    .ok_or(ApiError::unauthorized_bearer(GONE))?;
                Ok(json_response(StatusCode::OK, &user))
            }
            (ME, Method::PATCH) => {
                let user = app.authenticate(&req).await?;
                let change = profile::ProfileChange::from_request(&req)?;
                let user = profile::change_profile(app, user, change).await?;
                Ok(json_response(StatusCode::OK, &user))
            }
            (PASSWORD, _) => {
                let (user, session) = app.authenticate_session(&req).await?;
                let change = password::PasswordChange::from_request(&req)?;
                let source = source_ip(&req).unwrap_or(password::UNKNOWN_SOURCE);
                let refresh = password::change_password(app, user, session, change, source).await?;
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
            (SESSIONS, Method::GET) => {
                let (user, session) = app.authenticate_session(&req).await?;
                Ok(json_response(
                    StatusCode::OK,
                    &sessions::list(app, user, session).await?,
                ))
            }
            (SESSIONS, Method::DELETE) => {
                let (user, session) = app.authenticate_session(&req).await?;
                sessions::end_others(app, user, session).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
            (SESSION, _) => {
                let user = app.authenticate(&req).await?;
                sessions::end(app, user, route.param("id").unwrap_or_default()).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
            (ME, Method::DELETE) => {
                // Also for an account whose deletion began: this request goes on with it.
                let user = app.authenticate_during_deletion(&req).await?;
                match app
                    .store
                    .delete_account(user, unix_now(), app.config.account_deletion_budget)
                    .await?
                {
                    Deletion::Finished => Ok(empty(StatusCode::NO_CONTENT)),
                    Deletion::Unfinished => Err(ApiError::DeletionUnfinished),
                    Deletion::NoAccount => Err(ApiError::unauthorized_bearer(GONE)),
                }
            }
            _ => Err(ApiError::NotFound("no such route")),
        }
    })
    .await
}
