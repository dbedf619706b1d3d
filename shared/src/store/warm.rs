//! The DynamoDB connection is made during init, so that the first request does not wait for
//! it.

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;

use super::core::Store;
use super::keys::{PK, SK};

/// The key read by [`Store::warm_up`]: no item ever has it.
const WARM_UP_KEY: &str = "WARM-UP";

impl Store {
    /// One cheap call (an eventually consistent `GetItem` of a key no item has: half a read
    /// unit) at cold start, so DNS, TCP, TLS, credentials, signing and the SDK's lazy set-up are
    /// paid during init instead of by the first request. A failure is only logged: the first
    /// request then connects (and answers 503 if DynamoDB is still unreachable).
    pub async fn warm_up(&self) {
        let result = self
            .get_item()
            .key(PK, AttributeValue::S(WARM_UP_KEY.into()))
            .key(SK, AttributeValue::S(WARM_UP_KEY.into()))
            .send()
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %DisplayErrorContext(e), "DynamoDB warm-up call failed");
        }
    }
}
