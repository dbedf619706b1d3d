//! `account`: `GET /v1/me`, `DELETE /v1/me`, `GET /v1/health`, the API's own documents
//! (`GET /v1/openapi.json`, `GET /docs`), and the catch-all for unknown routes (404
//! problem+json).

pub mod docs;

use lambda_http::http::{Method, StatusCode};
use shared::App;
use shared::error::ApiError;
use shared::http::{Request, Response, Route, empty, json_response, serve};

const HEALTH: &str = "/v1/health";
const ME: &str = "/v1/me";
const OPENAPI: &str = "/v1/openapi.json";
const DOCS: &str = "/docs";

pub static ROUTES: &[Route] = &[
    Route::new(HEALTH, &[Method::GET]),
    Route::new(ME, &[Method::GET, Method::DELETE]),
    Route::new(OPENAPI, &[Method::GET]),
    Route::new(DOCS, &[Method::GET]),
];

/// 401 for a token whose user vanished after authentication (deleted concurrently).
const GONE: &str = "the account no longer exists";

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
            (ME, Method::DELETE) => {
                let user = app.authenticate(&req).await?;
                if !app.store.delete_account(user).await? {
                    return Err(ApiError::unauthorized_bearer(GONE));
                }
                Ok(empty(StatusCode::NO_CONTENT))
            }
            _ => Err(ApiError::NotFound("no such route")),
        }
    })
    .await
}
