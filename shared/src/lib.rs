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

    /// Cold start: configuration from the environment, then the DynamoDB client.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let store = Store::from_env(config.table_name.clone()).await;
        Ok(Self::new(config, store))
    }

    /// The user of a Bearer request; see [`auth::authenticate`].
    pub async fn authenticate(&self, req: &Request) -> Result<UserId, ApiError> {
        auth::authenticate(&self.tokens, &self.store, req).await
    }
}
