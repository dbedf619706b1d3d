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

use auth::{AccessTokens, UserId};
use config::{Config, ConfigError};
use error::ApiError;
use http::Request;
use store::Store;

/// What a function builds once at cold start and hands to every request.
#[derive(Clone)]
pub struct App {
    pub config: Config,
    pub store: Store,
    pub tokens: AccessTokens,
}

impl App {
    pub fn new(config: Config, store: Store) -> Self {
        let tokens = AccessTokens::new(&config);
        Self {
            config,
            store,
            tokens,
        }
    }

    /// Cold start: the AWS SDK configuration (region, credentials, `AWS_ENDPOINT_URL`), the
    /// configuration from the environment with keys given as `*_SECRET_ARN` read once from
    /// Secrets Manager, then the DynamoDB client. Everything is kept for the life of the process.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let sdk_config = aws_config::load_from_env().await;
        let secrets = secrets_manager(&sdk_config);
        let config = Config::from_env(|arn| read_secret(&secrets, arn))
            .await
            .inspect_err(|e| tracing::error!(error = %e, "configuration refused; not starting"))?;
        let store = Store::new(
            aws_sdk_dynamodb::Client::new(&sdk_config),
            config.table_name.clone(),
        );
        Ok(Self::new(config, store))
    }

    /// The user of a Bearer request; see [`auth::authenticate`].
    pub async fn authenticate(&self, req: &Request) -> Result<UserId, ApiError> {
        auth::authenticate(&self.tokens, &self.store, req).await
    }

    /// [`App::authenticate`] for the one route that also serves an account being deleted.
    pub async fn authenticate_during_deletion(&self, req: &Request) -> Result<UserId, ApiError> {
        auth::authenticate_with(&self.tokens, &self.store, req, auth::DuringDeletion::Allow).await
    }
}

/// A Secrets Manager client whose calls give up after a few seconds, so a cold start never
/// hangs on an unreachable endpoint (the function then fails to start, naming the secret).
fn secrets_manager(sdk_config: &aws_config::SdkConfig) -> aws_sdk_secretsmanager::Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(std::time::Duration::from_secs(2))
        .operation_timeout(std::time::Duration::from_secs(5))
        .build();
    let config = aws_sdk_secretsmanager::config::Builder::from(sdk_config)
        .timeout_config(timeouts)
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
