//! The library every taskline function shares. One module per concern:
//! [`config`] (environment, read once), [`error`] (the one error type, mapped to problem+json
//! once), [`http`] (routing, CORS, bodies, responses, the request log line), [`auth`]
//! (identity and tokens), [`store`] (DynamoDB).

pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod store;
pub mod tasks;
pub mod telemetry;
pub mod text;

use std::sync::Arc;

use auth::{AccessTokens, ExternalTokens, FamilyId, UserId};
use config::{Config, ConfigError, Key};
use error::ApiError;
use http::Request;
use store::Store;

/// What a function builds once at cold start and hands to every request.
#[derive(Clone)]
pub struct App {
    pub config: Config,
    pub store: Store,
    pub tokens: AccessTokens,
    /// The external identity provider's verifier (with its JWKS cache), if configured.
    pub external: Option<Arc<ExternalTokens>>,
}

impl App {
    pub fn new(config: Config, store: Store) -> Self {
        let tokens = AccessTokens::new(&config);
        let external = config
            .external_jwt
            .as_ref()
            .map(|external| Arc::new(ExternalTokens::new(external)));
        Self {
            config,
            store,
            tokens,
            external,
        }
    }

    /// Cold start: the AWS SDK configuration (region, credentials, `AWS_ENDPOINT_URL`), the
    /// configuration from the environment with the function's `keys` (those given as
    /// `*_SECRET_ARN` read once from Secrets Manager; no other key is read), then the DynamoDB
    /// client. Everything is kept for the life of the process.
    pub async fn from_env(keys: &[Key]) -> Result<Self, ConfigError> {
        let sdk_config = aws_config::load_from_env().await;
        let secrets = secrets_manager(&sdk_config);
        let config = Config::from_env(keys, |arn| read_secret(&secrets, arn))
            .await
            .inspect_err(|e| tracing::error!(error = %e, "configuration refused; not starting"))?;
        let store = Store::new(dynamodb_client(&sdk_config), config.table_name.clone());
        Ok(Self::new(config, store))
    }

    /// The user of a Bearer request; see [`auth::authenticate`].
    pub async fn authenticate(&self, req: &Request) -> Result<UserId, ApiError> {
        self.authenticate_with(req, auth::DuringDeletion::Refuse)
            .await
    }

    /// [`App::authenticate`] for the one route that also serves an account being deleted.
    pub async fn authenticate_during_deletion(&self, req: &Request) -> Result<UserId, ApiError> {
        self.authenticate_with(req, auth::DuringDeletion::Allow)
            .await
    }

    /// [`App::authenticate`], also naming the taskline session of the token (`None` for an
    /// external provider's token: it has no taskline session).
    pub async fn authenticate_session(
        &self,
        req: &Request,
    ) -> Result<(UserId, Option<FamilyId>), ApiError> {
        let refuse = auth::DuringDeletion::Refuse;
        if let Some(user) =
            auth::authenticate_external(self.external.as_deref(), &self.store, req, refuse).await?
        {
            return Ok((user, None));
        }
        auth::authenticate_session(&self.tokens, &self.store, req, refuse)
            .await
            .map(|(user, session)| (user, Some(session)))
    }

    /// An external provider's token if one is configured and the token is one of its, else
    /// a taskline access token.
    async fn authenticate_with(
        &self,
        req: &Request,
        during_deletion: auth::DuringDeletion,
    ) -> Result<UserId, ApiError> {
        if let Some(user) =
            auth::authenticate_external(self.external.as_deref(), &self.store, req, during_deletion)
                .await?
        {
            return Ok(user);
        }
        auth::authenticate_with(&self.tokens, &self.store, req, during_deletion).await
    }
}

/// How long one attempt of an AWS call may take, and the whole call with its retries. The
/// operation bound is well within the shortest function timeout (10 s in template.yaml), so
/// a hung connection ends as an answer (503 for DynamoDB, a named start-up error for Secrets
/// Manager) instead of an invocation killed by Lambda.
pub const AWS_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
pub const AWS_OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn aws_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(AWS_ATTEMPT_TIMEOUT)
        .operation_timeout(AWS_OPERATION_TIMEOUT)
        .build()
}

/// The DynamoDB client of every function, its calls bounded by [`AWS_OPERATION_TIMEOUT`].
pub fn dynamodb_client(sdk_config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk_config)
        .timeout_config(aws_timeouts())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A Secrets Manager client whose calls give up after a few seconds, so a cold start never
/// hangs on an unreachable endpoint (the function then fails to start, naming the secret).
fn secrets_manager(sdk_config: &aws_config::SdkConfig) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::config::Builder::from(sdk_config)
        .timeout_config(aws_timeouts())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// The `SecretString` of the current version of a secret.
async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: String,
) -> Result<String, String> {
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())?;
    output
        .secret_string
        .ok_or_else(|| "the secret has no SecretString (binary secrets are not supported)".into())
}
