//! The one DynamoDB store. A single table (defined in template.yaml) holds every item; each
//! user's items live under the user's id as partition key, so an account is one partition.
//!
//! | item            | `user_id` (partition)  | `sk` (sort)                 |
//! |-----------------|------------------------|-----------------------------|
//! | user            | `<user uuid>`          | `USER`                      |
//! | task counts     | `<user uuid>`          | `COUNTS`                    |
//! | task            | `<user uuid>`          | `TASK#<task uuidv7>`        |
//! | refresh family  | `<user uuid>`          | `REFRESH#<family>`          |
//! | refresh token   | `<user uuid>`          | `REFRESH#<family>#<hash>`   |
//! | email reservation | `EMAIL#<email>`      | `EMAIL`                     |
//! | login throttle (email) | `LOGIN#<email>` | `THROTTLE`                  |
//! | login throttle (email, IP) | `LOGIN#<email>` | `THROTTLE#IP#<ip>`      |
//! | login throttle (IP) | `LOGIN_IP#<ip>`    | `THROTTLE`                  |
//! | identity link   | `EXT#<b64url(iss)>#<sub>` | `IDENTITY`               |
//!
//! Task items keep `title_lc` (the lowercased title, for `q`) and `version`; the counts item
//! holds numbers `total` and `completed` (see [`tasks`]).
//!
//! The user item carries `deleting` once its account's deletion has begun: from then on every
//! write into the partition fails its condition and only `DELETE /v1/me` authenticates (see
//! [`users`]).
//!
//! `expires_at` (epoch seconds) is the table's TTL attribute. DynamoDB deletes expired items
//! late (and DynamoDB Local not reliably), so expiry is always checked on read as well.
//!
//! Operations are grouped by concern in the submodules, all as methods of [`Store`].

mod account;
mod identities;
mod sessions;
mod tasks;
mod throttle;
mod users;
mod writes;

pub use account::{PasswordWrite, SessionInfo, StoredPassword};
pub use identities::{ExternalLink, IDENTITY_SK};
pub use sessions::{RefreshState, Rotation};
pub use tasks::{
    COUNTS_SK, ListPage, MAX_ITEMS_READ_PER_LIST, TASK_SK_PREFIX, WriteOutcome, counts_item,
    task_item,
};
pub use tasks::{StoredTask, UnreadableTask};
pub use throttle::{LoginAttempt, Throttled};
pub use users::{Deletion, Standing, USER_SK, email_pk};
pub use writes::{ConditionsFailed, Key, backoff, key};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::error::ApiError;

/// Partition key attribute.
pub const PK: &str = "user_id";
/// Sort key attribute.
pub const SK: &str = "sk";
/// TTL attribute (epoch seconds).
pub const TTL: &str = "expires_at";

#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Builds the client from the standard AWS environment (region, credentials and
    /// `AWS_ENDPOINT_URL` for DynamoDB Local). Called once per cold start.
    pub async fn from_env(table: impl Into<String>) -> Self {
        let sdk_config = aws_config::load_from_env().await;
        Self::new(crate::dynamodb_client(&sdk_config), table)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// DynamoDB error codes that mean "try again later" rather than "we sent something wrong".
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

/// Every SDK failure not handled by the caller: unreachable or overloaded store -> 503,
/// anything else (a request we built wrong) -> 500.
impl<E, R> From<SdkError<E, R>> for ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    fn from(err: SdkError<E, R>) -> Self {
        let summary = match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                format!(
                    "{}: {}",
                    e.code().unwrap_or("unknown"),
                    e.message().unwrap_or("")
                )
            }
            other => format!("{other:?}"),
        };
        let transient = match &err {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => service
                .err()
                .code()
                .is_some_and(|code| TRANSIENT_CODES.contains(&code)),
            _ => false,
        };
        if transient {
            ApiError::StoreUnavailable(summary)
        } else {
            ApiError::Internal(format!("dynamodb: {summary}"))
        }
    }
}

impl From<serde_dynamo::Error> for ApiError {
    fn from(err: serde_dynamo::Error) -> Self {
        ApiError::Internal(format!("item (de)serialization: {err}"))
    }
}
