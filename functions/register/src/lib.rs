//! `register`: `POST /v1/auth/register` creates an account. Each client address (an IPv6 client:
//! its /64) has a budget of registrations per window (`REGISTRATIONS_PER_IP`,
//! `REGISTRATION_WINDOW_SECS`): every one costs a password hash and an account in the table.

use lambda_http::http::{Method, StatusCode, header};
use taskline::App;
use taskline::app::{Answer, Call, Handler};
use taskline::auth::{Email, Password, User, UserName, hash_password};
use taskline::error::ApiError;
use taskline::http::require_allowed_origin;
use taskline::http::{
    Auth, ClientAddress, Fields, Request, Response, Route, client_address, json_object,
    json_response, with_header,
};

/// The keys this function loads at cold start (it signs and verifies nothing; the origin secret
/// vouches for the client's address behind CloudFront; the SMTP password sends the
/// verification mail); template.yaml grants it exactly these secrets.
pub const KEYS: &[taskline::config::SecretName] = &[
    taskline::config::SecretName::Origin,
    taskline::config::SecretName::Smtp,
];

/// What this function serves.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    Register,
}

pub static ROUTES: &[Route<Endpoint>] = &[Route::new(
    "/v1/auth/register",
    &[(Method::POST, Auth::None, Endpoint::Register)],
)];

/// The function's entry point: every request, through its route table.
pub async fn handle(app: &App, req: Request) -> Response {
    app.serve(ROUTES, req).await
}

/// A registration as sent.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub name: UserName,
}

impl Registration {
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let mut fields = Fields::new(json_object(req)?).read_only(&[
            "id",
            "user_id",
            "created_at",
            "updated_at",
            "version",
        ]);
        let email = fields.required("email", Email::from_json);
        let password = fields.required("password", Password::from_json);
        let name = fields.required("name", UserName::from_json);
        fields.finish(|| {
            Some(Self {
                email: email?,
                password: password?,
                name: name?,
            })
        })
    }
}

/// Creates the user (409 if the email is taken), once the registration is counted against
/// `client`'s budget (429 over it, before anything is hashed), and mails it a verification
/// link (the account stands if the mail cannot be sent). The password is hashed before the
/// write, so a taken email costs the same time as a free one.
pub async fn register(
    app: &App,
    registration: Registration,
    client: &ClientAddress,
) -> Result<User, ApiError> {
    let Registration {
        email,
        password,
        name,
    } = registration;
    app.take_registration(client).await?;
    let password_hash = hash_password(password).await?;
    let user = User::new(email, name);
    app.recovery()?.register(&user, password_hash).await?;
    Ok(user)
}

impl Handler for Endpoint {
    async fn answer(self, call: Call<'_, '_, Self>) -> Answer {
        let (app, req) = (call.app, call.req);
        // A foreign page must not create accounts in the name of a visitor's browser.
        require_allowed_origin(&app.config, &req)?;
        let client = client_address(&app.config, &req);
        let user = register(app, Registration::from_request(&req)?, &client).await?;
        with_header(
            json_response(StatusCode::CREATED, &user),
            header::LOCATION,
            "/v1/me",
        )
    }
}
