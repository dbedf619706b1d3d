//! `tasks`: routes of ../shared/API.md served by this function.

use lambda_http::http::Method;
use shared::App;
use shared::error::ApiError;
use shared::http::{Request, Response, Route, serve};

pub static ROUTES: &[Route] = &[
    Route::new("/v1/tasks", &[Method::GET, Method::POST]),
    Route::new(
        "/v1/tasks/{id}",
        &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
    ),
];

pub async fn handle(app: &App, req: Request) -> Response {
    serve(&app.config, ROUTES, req, async |_route, _req| {
        Err(ApiError::NotFound("not implemented yet"))
    })
    .await
}
