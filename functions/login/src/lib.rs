//! `login`: `POST /v1/auth/login` exchanges an email and password for an access token and a
//! refresh cookie (the start of a new token family).

use lambda_http::http::{Method, StatusCode, header};
use shared::App;
use shared::auth::{
    Email, FamilyId, IssuedToken, Password, RefreshToken, refresh_cookie, unix_now, verify_password,
};
use shared::error::{ApiError, Credential};
use shared::http::{
    Fields, Request, Response, Route, form_or_json_object, header_str, json_response, serve,
    string, with_header,
};

/// The keys this function loads at cold start (it issues access tokens); template.yaml grants it
/// exactly these secrets.
pub const KEYS: &[shared::config::Key] = &[shared::config::Key::Jwt];

pub static ROUTES: &[Route] = &[Route::new("/v1/auth/login", &[Method::POST])];

/// Failed logins of one email allowed within [`THROTTLE_WINDOW_SECS`]; the next is refused.
pub const MAX_FAILED_LOGINS: u32 = 5;
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;

/// The one answer to a wrong password and to an unknown email alike.
const BAD_CREDENTIALS: &str = "the email or password is incorrect";

/// Credentials as sent: JSON `{email, password}` or the OAuth2 password form
/// (`username`, `password`, optionally `grant_type=password`).
#[derive(Debug)]
pub struct Credentials {
    pub email: Email,
    pub password: Password,
}

impl Credentials {
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let is_form = header_str(req.headers(), header::CONTENT_TYPE).is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        let mut fields = Fields::new(form_or_json_object(req)?);
        let email_field = if is_form { "username" } else { "email" };
        let email = fields.required(email_field, Email::from_json);
        let password = fields.required("password", Password::from_json);
        if is_form {
            fields.optional("grant_type", (), |v| match string(v)? {
                "password" => Ok(()),
                _ => Err("must be \"password\"".to_string()),
            });
        }
        fields.finish(|| {
            Some(Self {
                email: email?,
                password: password?,
            })
        })
    }
}

/// Verifies the credentials and starts a session. An email over its failure budget is refused
/// (429) before its password is even looked at (each attempt is counted first, so parallel
/// guesses cannot exceed the budget either); unknown emails verify against a dummy hash and
/// count failures too, so neither timing, body nor throttling tells which emails exist.
pub async fn login(
    app: &App,
    credentials: Credentials,
) -> Result<(IssuedToken, RefreshToken), ApiError> {
    let Credentials { email, password } = credentials;
    let now = unix_now();
    if let Err(throttled) = app
        .store
        .take_login_attempt(&email, now, MAX_FAILED_LOGINS, THROTTLE_WINDOW_SECS)
        .await?
    {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: u64::try_from(throttled.window_ends_at - now)
                .unwrap_or(1)
                .max(1),
        });
    }
    let (user, hash) = app.store.credentials_by_email(&email).await?.unzip();
    let bad_credentials = ApiError::Unauthorized {
        credential: Credential::Password,
        detail: BAD_CREDENTIALS,
    };
    // A failure stays counted; only a success clears the count.
    let (true, Some(user)) = (verify_password(password, hash).await?, user) else {
        return Err(bad_credentials);
    };
    app.store.clear_login_failures(&email).await?;
    let session = FamilyId::generate();
    let refresh = RefreshToken::generate(user, session)?;
    if !app.store.start_family(&refresh, unix_now()).await? {
        // The account was deleted between the password check and now.
        return Err(bad_credentials);
    }
    Ok((app.tokens.issue(user, session)?, refresh))
}

pub async fn handle(app: &App, req: Request) -> Response {
    serve(&app.config, ROUTES, req, async |_route, req| {
        let (access, refresh) = login(app, Credentials::from_request(&req)?).await?;
        with_header(
            json_response(StatusCode::OK, &access),
            header::SET_COOKIE,
            refresh_cookie(&app.config, &refresh),
        )
    })
    .await
}
