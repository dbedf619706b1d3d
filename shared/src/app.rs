//! The application layer every function runs: [`App`] (everything built once at cold start),
//! [`App::serve`], which authenticates each request's caller as its route declares before the
//! handler runs, and [`run`], the whole `main` of a function.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::http::header;
use lambda_http::service_fn;

use crate::auth::{
    AccessTokens, DeviceKeys, Email, ExternalTokens, SuccessorKey, UserId, bearer_token, unix_now,
};
use crate::config::{Config, ConfigError, MailSettings, SecretName};
use crate::error::ApiError;
use crate::http::{
    Auth, ClientAddress, Exchange, Matched, Request, Response, Route, Routed, header_str,
    refresh_token_of, require_allowed_origin,
};
use crate::mail::Outbox;
use crate::services::categories::CategoryService;
use crate::services::recovery::RecoveryService;
use crate::services::tasks::TaskService;
use crate::services::{Bearer, Caller, Deleting, DuringDeletion, admit};
use crate::store::{
    AttemptOutcome, ExternalLink, LoginAttempt, PasswordBudget, RegistrationAttempt, Store,
    Throttled,
};
use crate::tasks::CursorKeys;

/// The endpoints of a function (its own enum, the values of its route table), answered for
/// the caller their route authenticated.
pub trait Handler: Copy + Send + Sync + 'static {
    fn answer(self, call: Call<'_, '_, Self>) -> impl Future<Output = Answer> + Send;
}

/// What a handler answers: a response, or the error it maps to.
pub type Answer = Result<Response, ApiError>;

/// One request as its handler gets it: the app, the caller its route authenticated (see
/// [`Caller`]), the matched route (its path parameters) and the request.
pub struct Call<'c, 'a, E: 'static> {
    pub app: &'a App,
    pub caller: &'c mut Caller<'a>,
    pub route: Matched<E>,
    pub req: Request,
}

/// What a function builds once at cold start and hands to every request.
#[derive(Clone)]
pub struct App {
    pub config: Config,
    pub store: Store,
    pub tokens: AccessTokens,
    /// Signs and opens device cookies (the key is derived once from the access-token key).
    pub devices: DeviceKeys,
    /// Derives each refresh token's one successor (from the access-token secret).
    pub successors: SuccessorKey,
    /// Seals and opens list cursors (the HMAC key is derived once, not per listing).
    pub cursors: CursorKeys,
    /// The external identity provider's verifier (with its JWKS cache), if configured.
    pub external: Option<Arc<ExternalTokens>>,
    /// Where the function's mails go (only the functions that send mail have one).
    pub outbox: Option<Arc<dyn Outbox>>,
}

/// Builds a function's [`Outbox`] from its configuration at cold start.
pub type OutboxBuilder = fn(&Config) -> Result<Arc<dyn Outbox>, ConfigError>;

/// A function's `main`: telemetry, the [`App`] with the function's `keys` (a refused
/// configuration stops the cold start, naming the variable), then `handler` for every request.
pub async fn run<H, F>(keys: &[SecretName], handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(&'static App, Request) -> F + Sync,
    F: Future<Output = Response> + Send,
{
    serve_with(keys, None, handler).await
}

/// [`run`] for a function that sends mail, through the outbox `outbox` builds.
pub async fn run_with_outbox<H, F>(
    keys: &[SecretName],
    outbox: OutboxBuilder,
    handler: H,
) -> Result<(), lambda_http::Error>
where
    H: Fn(&'static App, Request) -> F + Sync,
    F: Future<Output = Response> + Send,
{
    serve_with(keys, Some(outbox), handler).await
}

async fn serve_with<H, F>(
    keys: &[SecretName],
    outbox: Option<OutboxBuilder>,
    handler: H,
) -> Result<(), lambda_http::Error>
where
    H: Fn(&'static App, Request) -> F + Sync,
    F: Future<Output = Response> + Send,
{
    crate::telemetry::init();
    let mut app = App::from_env(keys).await?;
    if let Some(build) = outbox {
        let outbox = build(&app.config)
            .inspect_err(|e| tracing::error!(error = %e, "configuration refused; not starting"))?;
        app = app.with_outbox(outbox);
    }
    // Built once and kept for the life of the process, which every request borrows.
    let app: &'static App = Box::leak(Box::new(app));
    let handler = &handler;
    lambda_http::run(service_fn(move |req| async move {
        Ok::<_, Infallible>(handler(app, req).await)
    }))
    .await
}

impl App {
    /// Counts a password check against the budgets of `budget` (a stranger's, a known
    /// device's, or a signed-in session's: see `store::throttle`), before the password is
    /// looked at; a used-up budget is a 429 whose `Retry-After` is the end of its window.
    pub async fn take_login_attempt(
        &self,
        budget: PasswordBudget<'_>,
    ) -> Result<LoginAttempt, ApiError> {
        let now = unix_now();
        match self
            .store
            .throttle()
            .take_login_attempt(budget, now, &self.config.login_throttle)
            .await?
        {
            AttemptOutcome::Counted(attempt) => Ok(attempt),
            AttemptOutcome::Throttled(throttled) => Err(too_many(throttled, now)),
        }
    }

    /// Counts a registration from `client` against its budget, before its password is hashed;
    /// a used-up budget is a 429 whose `Retry-After` is the end of its window.
    pub async fn take_registration(&self, client: &ClientAddress) -> Result<(), ApiError> {
        let now = unix_now();
        match self
            .store
            .throttle()
            .take_registration(client.as_str(), now, &self.config.register_throttle)
            .await?
        {
            RegistrationAttempt::Counted => Ok(()),
            RegistrationAttempt::Throttled(throttled) => Err(too_many(throttled, now)),
        }
    }

    /// Counts a password-reset request for `email` from `client` against both budgets,
    /// before anything is looked up; a used-up budget is a 429.
    pub async fn take_reset_request(
        &self,
        email: &Email,
        client: &ClientAddress,
    ) -> Result<(), ApiError> {
        let now = unix_now();
        match self
            .store
            .throttle()
            .take_reset_request(email, client.as_str(), now, &self.config.reset_throttle)
            .await?
        {
            RegistrationAttempt::Counted => Ok(()),
            RegistrationAttempt::Throttled(throttled) => Err(too_many(throttled, now)),
        }
    }

    /// Counts a verification mail `user` asks for against its budget; a used-up one is a 429.
    pub async fn take_verification_mail(&self, user: UserId) -> Result<(), ApiError> {
        let now = unix_now();
        match self
            .store
            .throttle()
            .take_verification_mail(&user.to_string(), now, &self.config.verification_throttle)
            .await?
        {
            RegistrationAttempt::Counted => Ok(()),
            RegistrationAttempt::Throttled(throttled) => Err(too_many(throttled, now)),
        }
    }

    pub fn new(config: Config, store: Store) -> Self {
        let tokens = AccessTokens::new(&config);
        let devices = DeviceKeys::new(config.jwt_secret.expose());
        let successors = SuccessorKey::new(config.jwt_secret.expose());
        let cursors = CursorKeys::new(config.cursor_secret.expose());
        let external = config
            .external_jwt
            .as_ref()
            .map(|external| Arc::new(ExternalTokens::new(external)));
        Self {
            config,
            store,
            tokens,
            devices,
            successors,
            cursors,
            external,
            outbox: None,
        }
    }

    /// This app, sending its mails through `outbox`.
    pub fn with_outbox(self, outbox: Arc<dyn Outbox>) -> Self {
        Self {
            outbox: Some(outbox),
            ..self
        }
    }

    /// The outbox and mail settings of a function that sends mail.
    pub fn mailer(&self) -> Result<(&dyn Outbox, &MailSettings), ApiError> {
        match (self.outbox.as_deref(), self.config.mail.as_ref()) {
            (Some(outbox), Some(settings)) => Ok((outbox, settings)),
            _ => Err(ApiError::Internal(
                "this function sends no mail (no outbox or no mail settings)".into(),
            )),
        }
    }

    /// Cold start: the AWS SDK configuration (region, credentials, `AWS_ENDPOINT_URL`), the
    /// configuration from the environment with the function's `keys` (those given as
    /// `*_SECRET_ARN` read from Secrets Manager in one call; no other key is read), then the
    /// DynamoDB client, connected by one warm-up call. Everything is kept for the life of the
    /// process.
    pub async fn from_env(keys: &[SecretName]) -> Result<Self, ConfigError> {
        let sdk_config = aws_config::load_from_env().await;
        let secrets = crate::aws::secrets_manager(&sdk_config);
        let config = Config::from_env(keys, |ids| crate::aws::read_secrets(&secrets, ids))
            .await
            .inspect_err(|e| tracing::error!(error = %e, "configuration refused; not starting"))?;
        let store = Store::new(
            crate::aws::dynamodb_client(&sdk_config),
            config.table_name.clone(),
        );
        // Connected during init, so the first request costs about what a warm one does.
        store.warm_up().await;
        Ok(Self::new(config, store))
    }

    /// Serves one request of `routes`: routed (404, 405, preflight), its caller
    /// authenticated as the matched route declares, then the endpoint's [`Handler::answer`],
    /// then the standing check of a Bearer if no call of the answer carried it (so a refused
    /// token is a 401 whatever else was wrong with the request); errors mapped to
    /// problem+json, CORS, one log line. Never fails: every outcome is a response.
    pub async fn serve<E: Handler>(&self, routes: &'static [Route<E>], req: Request) -> Response {
        let (exchange, routed) = Exchange::begin(routes, &req);
        let response = match routed {
            Routed::Answered(response) => response,
            Routed::To(auth, endpoint, route) => {
                let answer = async {
                    let mut caller = self.caller(auth, &req).await?;
                    let call = Call {
                        app: self,
                        caller: &mut caller,
                        route,
                        req,
                    };
                    let answer = endpoint.answer(call).await;
                    caller.finish().await?;
                    answer
                };
                answer.await.unwrap_or_else(ApiError::into_response)
            }
        };
        exchange.finish(&self.config, response)
    }

    /// The caller of a request on a route of authentication `auth`. A Bearer's token is
    /// verified here, its standing left to go with the request's first DynamoDB call (see
    /// [`Bearer`]); an external provider's token is checked here already: resolving its
    /// identity is a read of its own.
    pub async fn caller(&self, auth: Auth, req: &Request) -> Result<Caller<'_>, ApiError> {
        match auth {
            Auth::None => Ok(Caller::Anyone),
            Auth::Bearer => {
                let token = bearer_token(header_str(req.headers(), header::AUTHORIZATION))?;
                if self.external.is_some() && ExternalTokens::is_candidate(token) {
                    let (user, _) = self.authenticate(token, DuringDeletion::Refuse).await?;
                    return Ok(Caller::Bearer(Bearer::checked(&self.store, user)));
                }
                let verified = self.tokens.verify(token)?;
                let bearer = Bearer::unchecked(&self.store, verified.user, verified.claim());
                Ok(Caller::Bearer(bearer))
            }
            Auth::BearerDuringDeletion => {
                let token = bearer_token(header_str(req.headers(), header::AUTHORIZATION))?;
                let (user, issued_at) = self.authenticate(token, DuringDeletion::Allow).await?;
                Ok(Caller::Deleting(Deleting { user, issued_at }))
            }
            Auth::RefreshCookie => {
                // A foreign page must not spend or revoke the cookie the browser attaches for it.
                require_allowed_origin(&self.config, req)?;
                Ok(Caller::RefreshCookie(refresh_token_of(req)))
            }
        }
    }

    /// The services of one request.
    pub fn tasks(&self) -> TaskService<'_> {
        TaskService {
            store: &self.store,
            quota: self.config.max_tasks_per_user,
        }
    }

    /// The recovery service (500 in a function that sends no mail).
    pub fn recovery(&self) -> Result<RecoveryService<'_>, ApiError> {
        let (outbox, settings) = self.mailer()?;
        Ok(RecoveryService {
            store: &self.store,
            outbox,
            settings,
        })
    }

    pub fn categories(&self, user: UserId) -> CategoryService<'_> {
        CategoryService {
            store: &self.store,
            user,
        }
    }

    /// The user of a Bearer token, its standing checked now: an external provider's token if
    /// one is configured and the token is one of its (with its `iat`), else a taskline access
    /// token (one consistent read of the user and the session).
    async fn authenticate(
        &self,
        token: &str,
        during_deletion: DuringDeletion,
    ) -> Result<(UserId, Option<i64>), ApiError> {
        if let Some(external) = self.external.as_deref()
            && ExternalTokens::is_candidate(token)
        {
            // External tokens carry no taskline session: their lifetime is the provider's.
            let (user, issued_at) = self.external_user(external, token).await?;
            let user = admit(
                user,
                self.store.standings().of_user(user).await?,
                during_deletion,
            )?;
            return Ok((user, issued_at));
        }
        let verified = self.tokens.verify(token)?;
        let (user, claim) = (verified.user, verified.claim());
        let standing = self.store.standings().of(user, claim, unix_now()).await?;
        Ok((admit(user, standing, during_deletion)?, None))
    }

    /// The taskline user of a provider's token: the one linked to its `(iss, sub)`, created on
    /// first use (409 if its email is another account's: accounts are never merged). A link
    /// whose user was deleted is refused, not silently given a new account (deleting the
    /// account ends taskline's use of that identity). With the token's `iat`, if any.
    async fn external_user(
        &self,
        external: &ExternalTokens,
        token: &str,
    ) -> Result<(UserId, Option<i64>), ApiError> {
        let identity = external.verify(token).await?;
        // Two rounds at most: a concurrent first use that won the link is read back.
        for _ in 0..2 {
            if let Some(owner) = self.store.accounts().identity_owner(&identity).await? {
                // Its standing (deleted, being deleted) is checked by the caller.
                return Ok((owner, identity.issued_at));
            }
            let user = identity.new_user();
            match self
                .store
                .accounts()
                .link_identity(&identity, &user)
                .await?
            {
                ExternalLink::Created => {
                    tracing::info!(user = %user.id, "user created for an external identity");
                    return Ok((user.id, identity.issued_at));
                }
                ExternalLink::EmailTaken => {
                    return Err(ApiError::Conflict(
                        "an account with this email already exists; it signs in with its password",
                    ));
                }
                ExternalLink::AlreadyLinked => {}
            }
        }
        Err(ApiError::Internal(
            "identity link neither readable nor creatable".into(),
        ))
    }
}

/// 429 until the end of the refusing window (at least a second).
fn too_many(throttled: Throttled, now: i64) -> ApiError {
    ApiError::TooManyRequests {
        retry_after_secs: u64::try_from(throttled.window_ends_at - now)
            .unwrap_or(1)
            .max(1),
    }
}
