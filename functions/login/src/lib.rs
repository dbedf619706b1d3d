//! `login`: `POST /v1/auth/login` exchanges an email and password for an access token and a
//! refresh cookie (the start of a new token family).

use lambda_http::http::{Method, StatusCode, header};
use shared::App;
use shared::auth::{
    Email, FamilyId, IssuedToken, Password, RefreshToken, unix_now, verify_password,
};
use shared::error::{ApiError, Credential, OAuthError};
use shared::http::{
    Fields, Request, Response, Route, form_or_json_object, header_str, json_response, serve,
    source_ip, string, with_header,
};
use shared::http::{refresh_cookie, require_allowed_origin};
use shared::store::FamilyStart;
use shared::text::user_agent_summary;

/// The keys this function loads at cold start (it issues access tokens); template.yaml grants it
/// exactly these secrets.
pub const KEYS: &[shared::config::Key] = &[shared::config::Key::Jwt];

/// What this function serves.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    Login,
}

pub static ROUTES: &[Route<Endpoint>] = &[Route::new(
    "/v1/auth/login",
    &[(Method::POST, Endpoint::Login)],
)];

/// The source of requests whose event carries no `sourceIp` (not API Gateway): they share
/// one per-IP budget.
const UNKNOWN_SOURCE: &str = "unknown";

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

/// Verifies the credentials and starts a session. An attempt over any of its failure budgets
/// (per email and source IP, per source IP, per email; see `shared::store::throttle`) is
/// refused (429) before its password is even looked at (each attempt is counted first, so
/// parallel guesses cannot exceed a budget either); unknown emails verify against a dummy hash
/// and count failures too, so neither timing, body nor throttling tells which emails exist.
/// `user_agent` is what the session list will show of the client. A user holding
/// `MAX_SESSIONS_PER_USER` live sessions loses the least recently used one to the login.
pub async fn login(
    app: &App,
    credentials: Credentials,
    source_ip: &str,
    user_agent: Option<&str>,
) -> Result<(IssuedToken, RefreshToken), ApiError> {
    let Credentials {
        email, password, ..
    } = credentials;
    let attempt = app.take_login_attempt(&email, source_ip).await?;
    let (user, hash) = app.store.credentials_by_email(&email).await?.unzip();
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
    app.store.login_succeeded(&attempt).await?;
    let session = FamilyId::generate();
    let refresh = RefreshToken::generate(user, session)?;
    // The family is written only if the password is still the one verified: a login racing
    // a password change keeps no session, whichever commits first (the change ends the
    // sessions of the generation it replaces, this one included).
    match app
        .store
        .start_family(
            &refresh,
            unix_now(),
            user_agent,
            &hash,
            app.config.max_sessions_per_user,
        )
        .await?
    {
        FamilyStart::Started { generation } => {
            Ok((app.tokens.issue(user, session, generation)?, refresh))
        }
        // The account was deleted, or its password changed, since the check above.
        FamilyStart::UserGone | FamilyStart::PasswordChanged => Err(bad_credentials),
    }
}

pub async fn handle(app: &App, req: Request) -> Response {
    serve(&app.config, ROUTES, req, async |Endpoint::Login, _, req| {
        require_allowed_origin(&app.config, &req)?;
        let source = source_ip(&req).unwrap_or(UNKNOWN_SOURCE);
        let credentials = Credentials::from_request(&req)?;
        let oauth_form = credentials.oauth_form;
        let user_agent = header_str(req.headers(), header::USER_AGENT).and_then(user_agent_summary);
        let (access, refresh) = login(app, credentials, source, user_agent.as_deref())
            .await
            .map_err(|e| if oauth_form { e.into_oauth() } else { e })?;
        with_header(
            json_response(StatusCode::OK, &access),
            header::SET_COOKIE,
            refresh_cookie(&app.config, &refresh),
        )
    })
    .await
}
