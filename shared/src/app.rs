//! The application layer every function runs: [`App`] (everything built once at cold start),
//! which user a Bearer request is from ([`App::authenticate`], reading the store), and
//! [`run`], the whole `main` of a function.

mod bearer;

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::http::header;
use lambda_http::service_fn;

use crate::auth::{
    AccessTokens, DeviceKeys, ExternalTokens, FamilyId, SuccessorKey, UserId, bearer_token,
    unix_now,
};
use crate::config::{Config, ConfigError, SecretName};
use crate::error::ApiError;
use crate::http::{ClientAddress, Request, Response, header_str};
use crate::store::{
    AttemptOutcome, ExternalLink, LoginAttempt, PasswordBudget, RegistrationAttempt, Standing,
    Store, Throttled,
};
use crate::tasks::CursorKeys;

pub use bearer::Bearer;

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
}

/// Whether a route serves an account whose deletion has begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuringDeletion {
    /// Every route but one: the account is as good as gone.
    Refuse,
    /// `DELETE /v1/me`, which resumes the deletion. Any token of the account signed by us
    /// will do, as its sessions are among what the deletion removes.
    Allow,
}

/// A function's `main`: telemetry, the [`App`] with the function's `keys` (a refused
/// configuration stops the cold start, naming the variable), then `handler` for every request.
pub async fn run<H, F>(keys: &[SecretName], handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(&'static App, Request) -> F + Sync,
    F: Future<Output = Response> + Send,
{
    crate::telemetry::init();
    // Built once and kept for the life of the process, which every request borrows.
    let app: &'static App = Box::leak(Box::new(App::from_env(keys).await?));
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
            .take_registration(client.as_str(), now, &self.config.register_throttle)
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

    /// The user of a Bearer request with its token verified, the standing check left to go
    /// with the request's first DynamoDB call (issue 15; see [`Bearer`]). An external
    /// provider's token is checked here already: resolving its identity is a read of its own.
    pub async fn bearer(&self, req: &Request) -> Result<Bearer<'_>, ApiError> {
        let token = bearer_token(header_str(req.headers(), header::AUTHORIZATION))?;
        if self.external.is_some() && ExternalTokens::is_candidate(token) {
            let (user, _, _) = self.authenticate_with(req, DuringDeletion::Refuse).await?;
            return Ok(Bearer::checked(self, user));
        }
        let verified = self.tokens.verify(token)?;
        Ok(Bearer::unchecked(self, verified.user, verified.claim()))
    }

    /// The user a Bearer request is from: a valid access token whose user still exists and
    /// whose session (`sid`) has not ended — one consistent read, so tokens of a logged-out
    /// session, a revoked family or a deleted account stop working at once. With an external
    /// identity provider configured, its tokens are accepted too.
    pub async fn authenticate(&self, req: &Request) -> Result<UserId, ApiError> {
        let (user, _, _) = self.authenticate_with(req, DuringDeletion::Refuse).await?;
        Ok(user)
    }

    /// [`App::authenticate`] for the one route that also serves an account being deleted,
    /// also telling when an external provider's token was issued (its `iat`; `None` for
    /// taskline's own tokens and for a provider's token without one): an account without a
    /// password proves a fresh sign-in by it.
    pub async fn authenticate_during_deletion(
        &self,
        req: &Request,
    ) -> Result<(UserId, Option<i64>), ApiError> {
        let (user, _, issued_at) = self.authenticate_with(req, DuringDeletion::Allow).await?;
        Ok((user, issued_at))
    }

    /// [`App::authenticate`], also naming the taskline session of the token (`None` for an
    /// external provider's token: it has no taskline session).
    pub async fn authenticate_session(
        &self,
        req: &Request,
    ) -> Result<(UserId, Option<FamilyId>), ApiError> {
        let (user, session, _) = self.authenticate_with(req, DuringDeletion::Refuse).await?;
        Ok((user, session))
    }

    /// An external provider's token if one is configured and the token is one of its, else
    /// a taskline access token; with the token's session, if it has one, and an external
    /// token's `iat`.
    async fn authenticate_with(
        &self,
        req: &Request,
        during_deletion: DuringDeletion,
    ) -> Result<(UserId, Option<FamilyId>, Option<i64>), ApiError> {
        let token = bearer_token(header_str(req.headers(), header::AUTHORIZATION))?;
        if let Some(external) = self.external.as_deref()
            && ExternalTokens::is_candidate(token)
        {
            // External tokens carry no taskline session: their lifetime is the provider's.
            let (user, issued_at) = self.external_user(external, token).await?;
            let user = admit(user, self.store.user_standing(user).await?, during_deletion)?;
            return Ok((user, None, issued_at));
        }
        let verified = self.tokens.verify(token)?;
        let (user, claim) = (verified.user, verified.claim());
        let standing = self.store.standing(user, claim, unix_now()).await?;
        Ok((
            admit(user, standing, during_deletion)?,
            Some(claim.family),
            None,
        ))
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
            if let Some(owner) = self.store.identity_owner(&identity).await? {
                // Its standing (deleted, being deleted) is checked by the caller.
                return Ok((owner, identity.issued_at));
            }
            let user = identity.new_user();
            match self.store.link_identity(&identity, &user).await? {
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

/// Whether a verified token's user, of this standing, is served on a route.
fn admit(
    user: UserId,
    standing: Standing,
    during_deletion: DuringDeletion,
) -> Result<UserId, ApiError> {
    match standing {
        Standing::Active {
            session_alive: true,
        } => Ok(user),
        Standing::Active {
            session_alive: false,
        } => Err(ApiError::unauthorized_bearer("the session has ended")),
        Standing::Deleting if during_deletion == DuringDeletion::Allow => Ok(user),
        Standing::Deleting => Err(ApiError::unauthorized_bearer(
            "the account is being deleted",
        )),
        Standing::NoAccount => Err(ApiError::unauthorized_bearer(
            "the account no longer exists",
        )),
    }
}
