//! `login`: `POST /v1/auth/login` exchanges an email and password for an access token and a
//! refresh cookie (the start of a new token family), and marks the browser as a known device of
//! the account (the device cookie).

use lambda_http::http::{Method, StatusCode, header};
use taskline::App;
use taskline::app::{Answer, Call, Handler};
use taskline::auth::{
    DeviceToken, Email, FamilyId, IssuedToken, Password, RefreshToken, UserId, unix_now,
    verify_password,
};
use taskline::error::{ApiError, Credential, OAuthError};
use taskline::http::{
    Auth, ClientAddress, Fields, Request, Response, Route, client_address, form_or_json_object,
    header_str, json_response, string, with_header,
};
use taskline::http::{device_cookie, device_cookie_of, refresh_cookie, require_allowed_origin};
use taskline::store::{FamilyStart, PasswordBudget};
use taskline::text::user_agent_summary;

/// The keys this function loads at cold start (it issues access tokens, and budgets failures by
/// the client's address, which the origin secret vouches for behind CloudFront); template.yaml
/// grants it exactly these secrets.
pub const KEYS: &[taskline::config::SecretName] = &[
    taskline::config::SecretName::Jwt,
    taskline::config::SecretName::Origin,
];

/// What this function serves.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    Login,
}

pub static ROUTES: &[Route<Endpoint>] = &[Route::new(
    "/v1/auth/login",
    &[(Method::POST, Auth::None, Endpoint::Login)],
)];

/// The function's entry point: every request, through its route table.
pub async fn handle(app: &App, req: Request) -> Response {
    app.serve(ROUTES, req).await
}

/// The one answer to a wrong password and to an unknown email alike.
const BAD_CREDENTIALS: &str = "the email or password is incorrect";

/// Credentials as sent: JSON `{email, password}` or the OAuth2 password form (RFC 6749
/// §4.3.2: `username`, `password`, optionally `grant_type=password`, and `scope`, `client_id`,
/// `client_secret`, which standard OAuth2 clients send and this API ignores).
#[derive(Debug)]
pub struct Credentials {
    pub email: Email,
    pub password: Password,
    /// Whether they came as the OAuth2 form, whose errors carry RFC 6749 `error` members.
    pub oauth_form: bool,
}

/// Form fields that OAuth2 clients may send and that carry nothing this API uses: there is one
/// client (any) and no scopes.
const IGNORED_OAUTH_FIELDS: &[&str] = &["scope", "client_id", "client_secret"];

impl Credentials {
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let is_form = header_str(req.headers(), header::CONTENT_TYPE).is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        if is_form {
            Self::from_form(req).map_err(ApiError::into_oauth)
        } else {
            Self::from_json(req)
        }
    }

    fn from_json(req: &Request) -> Result<Self, ApiError> {
        let mut fields = Fields::new(form_or_json_object(req)?);
        let email = fields.required("email", Email::from_json);
        let password = fields.required("password", Password::from_json);
        fields.finish(|| {
            Some(Self {
                email: email?,
                password: password?,
                oauth_form: false,
            })
        })
    }

    fn from_form(req: &Request) -> Result<Self, ApiError> {
        let form = form_or_json_object(req)?;
        // Checked first: a client asking for another grant learns that, whatever else it sent.
        if form
            .get("grant_type")
            .is_some_and(|grant| grant.as_str() != Some("password"))
        {
            return Err(ApiError::OAuth {
                code: OAuthError::UnsupportedGrantType,
                error: Box::new(ApiError::BadRequest("grant_type must be password".into())),
            });
        }
        let mut fields = Fields::new(form);
        let email = fields.required("username", Email::from_json);
        let password = fields.required("password", Password::from_json);
        for name in ["grant_type"].iter().chain(IGNORED_OAUTH_FIELDS) {
            fields.optional(name, (), |v| string(v).map(|_| ()));
        }
        fields.finish(|| {
            Some(Self {
                email: email?,
                password: password?,
                oauth_form: true,
            })
        })
    }
}

/// What a successful login hands the client: an access token, the refresh token of its new
/// session, and a new device cookie for the browser.
pub type LoggedIn = (IssuedToken, RefreshToken, DeviceToken);

/// Verifies the credentials and starts a session. An attempt over any of its failure budgets is
/// refused (429) before its password is even looked at (each attempt is counted first, so
/// parallel guesses cannot exceed a budget either). Which budgets count it (see
/// `taskline::store::throttle`): a browser presenting a valid device cookie of this account
/// (`device`, the cookie's value) only its device's own; any other client per (email, client
/// address), per client address and per email. Unknown emails verify against a dummy hash and
/// count failures too, so neither timing, body nor throttling tells which emails exist.
/// `user_agent` is what the session list will show of the client.
pub async fn login(
    app: &App,
    credentials: Credentials,
    client: &ClientAddress,
    device: Option<&str>,
    user_agent: Option<&str>,
) -> Result<LoggedIn, ApiError> {
    let Credentials {
        email, password, ..
    } = credentials;
    let (user, hash) = app
        .store
        .accounts()
        .credentials_by_email(&email)
        .await?
        .unzip();
    // A device cookie counts only for the account whose login set it.
    let device = device
        .and_then(|value| app.devices.open(value, unix_now()))
        .filter(|device| Some(device.user()) == user);
    let budget = match &device {
        Some(device) => PasswordBudget::Device(device.id()),
        None => PasswordBudget::Stranger {
            email: &email,
            client: client.as_str(),
        },
    };
    let attempt = app.take_login_attempt(budget).await?;
    let bad_credentials = ApiError::Unauthorized {
        credential: Credential::Password,
        detail: BAD_CREDENTIALS,
    };
    // A failure stays counted; only a success takes its attempt back.
    let (true, Some(user), Some(hash)) =
        (verify_password(password, hash.clone()).await?, user, hash)
    else {
        return Err(bad_credentials);
    };
    app.store.throttle().login_succeeded(&attempt).await?;
    start_session(app, user, &hash, user_agent).await
}

/// A new session of `user`, whose password `hash` was just verified.
async fn start_session(
    app: &App,
    user: UserId,
    hash: &str,
    user_agent: Option<&str>,
) -> Result<LoggedIn, ApiError> {
    let bad_credentials = ApiError::Unauthorized {
        credential: Credential::Password,
        detail: BAD_CREDENTIALS,
    };
    let session = FamilyId::generate();
    let refresh = RefreshToken::generate(user, session)?;
    // The family is written only if the password is still the one verified: a login racing
    // a password change keeps no session, whichever commits first (the change ends the
    // sessions of the generation it replaces, this one included).
    match app
        .store
        .sessions()
        .start(
            &refresh,
            unix_now(),
            user_agent,
            hash,
            app.config.max_sessions_per_user,
        )
        .await?
    {
        FamilyStart::Started { generation } => Ok((
            app.tokens.issue(user, session, generation)?,
            refresh,
            app.devices.issue(user, unix_now())?,
        )),
        // The account was deleted, or its password changed, since the check above.
        FamilyStart::UserGone | FamilyStart::PasswordChanged => Err(bad_credentials),
    }
}

impl Handler for Endpoint {
    async fn answer(self, call: Call<'_, '_, Self>) -> Answer {
        let (app, req) = (call.app, call.req);
        require_allowed_origin(&app.config, &req)?;
        let client = client_address(&app.config, &req);
        let credentials = Credentials::from_request(&req)?;
        let oauth_form = credentials.oauth_form;
        let user_agent = header_str(req.headers(), header::USER_AGENT).and_then(user_agent_summary);
        let device = device_cookie_of(&req);
        let (access, refresh, device) =
            login(app, credentials, &client, device, user_agent.as_deref())
                .await
                .map_err(|e| if oauth_form { e.into_oauth() } else { e })?;
        let response = with_header(
            json_response(StatusCode::OK, &access),
            header::SET_COOKIE,
            refresh_cookie(&app.config, &refresh),
        )?;
        with_header(
            response,
            header::SET_COOKIE,
            device_cookie(&app.config, &device),
        )
    }
}
