//! `account`: `GET /v1/health`, and the catch-all for unknown routes (404 problem+json).

use lambda_http::http::{Method, StatusCode};
use shared::App;
use shared::error::ApiError;
use shared::http::{Request, Response, Route, json_response, serve};

const HEALTH: &str = "/v1/health";

pub static ROUTES: &[Route] = &[Route::new(HEALTH, &[Method::GET])];

pub async fn handle(app: &App, req: Request) -> Response {
    serve(&app.config, ROUTES, req, async |route, _req| {
        match route.route.template {
            HEALTH => Ok(json_response(
                StatusCode::OK,
                &serde_json::json!({ "status": "ok" }),
            )),
            _ => Err(ApiError::NotFound("no such route")),
        }
    })
    .await
}
