//! `recovery`: what a user who cannot sign in does by email. `POST /v1/auth/password-reset`
//! mails a reset link (202 whether or not the email has an account), `POST
//! /v1/auth/password-reset/confirm` sets a new password with the link's token (every session
//! ends), `POST /v1/auth/verify-email` spends a verification link's token. A function of its
//! own, so that login and refresh neither link the SMTP client nor pay its cold start.
//!
//! The three are unauthenticated but reached from the SPA's pages: a foreign `Origin` is
//! refused as on login (403). Reset requests are budgeted per email and per client address
//! (`PASSWORD_RESETS_*`), counted before anything is looked up.

use lambda_http::http::{Method, StatusCode};
use taskline::App;
use taskline::app::{Answer, Call, Handler};
use taskline::auth::{Email, Password};
use taskline::http::{
    Auth, Fields, Request, Response, Route, client_address, empty, json_object, json_response,
    require_allowed_origin,
};

/// The keys this function loads at cold start: the SMTP password (it sends mail) and the
/// origin secret (it budgets by the client's address); template.yaml grants it exactly these.
pub const KEYS: &[taskline::config::SecretName] = &[
    taskline::config::SecretName::Origin,
    taskline::config::SecretName::Smtp,
];

/// What this function serves.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    RequestReset,
    ConfirmReset,
    VerifyEmail,
}

pub static ROUTES: &[Route<Endpoint>] = &[
    Route::new(
        "/v1/auth/password-reset",
        &[(Method::POST, Auth::None, Endpoint::RequestReset)],
    ),
    Route::new(
        "/v1/auth/password-reset/confirm",
        &[(Method::POST, Auth::None, Endpoint::ConfirmReset)],
    ),
    Route::new(
        "/v1/auth/verify-email",
        &[(Method::POST, Auth::None, Endpoint::VerifyEmail)],
    ),
];

/// The function's entry point: every request, through its route table.
pub async fn handle(app: &App, req: Request) -> Response {
    app.serve(ROUTES, req).await
}

/// The body of every 202: the same whether or not a mail was sent.
fn accepted() -> Response {
    json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "status": "accepted" }),
    )
}

impl Handler for Endpoint {
    async fn answer(self, call: Call<'_, '_, Self>) -> Answer {
        let (app, req) = (call.app, call.req);
        // A foreign page must not make a visitor's browser ask for mails or spend links.
        require_allowed_origin(&app.config, &req)?;
        let mut fields = Fields::new(json_object(&req)?);
        match self {
            Endpoint::RequestReset => {
                let email = fields.required("email", Email::from_json);
                let email = fields.finish(|| email)?;
                app.take_reset_request(&email, &client_address(&app.config, &req))
                    .await?;
                app.recovery()?.request_reset(email).await?;
                Ok(accepted())
            }
            Endpoint::ConfirmReset => {
                let token = fields.required("token", token_of);
                let password = fields.required("new_password", Password::from_json);
                let (token, password) = fields.finish(|| Some((token?, password?)))?;
                app.recovery()?.confirm_reset(&token, password).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
            Endpoint::VerifyEmail => {
                let token = fields.required("token", token_of);
                let token = fields.finish(|| token)?;
                app.recovery()?.verify_email(&token).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
        }
    }
}

/// A token field: any string (an unknown one is a 400 `invalid-token`, not a 422, so a
/// mangled link reads as what it is).
fn token_of(value: &serde_json::Value) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "must be a string".to_string())
}
