//! Multi-item writes every concern needs: conditional transactions (retried while they merely
//! collide with another transaction) and bulk deletion (retrying unprocessed items).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, TransactWriteItem, WriteRequest};

use super::{PK, SK, Store};
use crate::error::ApiError;

/// A full primary key.
pub type Key = HashMap<String, AttributeValue>;

/// The key of item `sk` in partition `pk`.
pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Key {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(pk.into())),
        (SK.to_string(), AttributeValue::S(sk.into())),
    ])
}

/// A number attribute.
pub(super) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A number attribute of an item, if present and numeric.
pub(super) fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

/// A request the SDK's builder refused: a bug of ours, reported as 500.
pub(super) fn build<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, ApiError> {
    result.map_err(|e| ApiError::Internal(format!("building a request: {e}")))
}

/// Whether a single-item write failed only because its condition did not hold.
pub(super) fn condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error().and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// Why a transaction did not happen: the condition of each of its items that failed, by
/// position (`true` = that item's condition failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionsFailed(pub Vec<bool>);

impl ConditionsFailed {
    pub fn failed(&self, index: usize) -> bool {
        self.0.get(index).copied().unwrap_or(false)
    }
}

/// Attempts of a transaction that keeps colliding with concurrent ones (each a few ms apart).
const TRANSACT_ATTEMPTS: u32 = 10;
/// Rounds of re-sending unprocessed items of a batch.
const BATCH_ATTEMPTS: u32 = 8;
/// BatchWriteItem takes at most 25 requests.
const BATCH_SIZE: usize = 25;
/// `BatchWriteItem` requests of one [`Store::delete_all`] in flight at once.
const BATCHES_IN_FLIGHT: usize = 4;

impl Store {
    /// Runs a transaction. `Ok(Err(..))` when a condition failed (the caller decides what
    /// that means: a taken email, a spent token). A cancellation only because another
    /// transaction held one of the items is retried: the retry then sees that transaction's
    /// outcome, so of concurrent conditional writes exactly one succeeds.
    pub async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Result<(), ConditionsFailed>, ApiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .client()
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(Ok(())),
                Err(err) => err,
            };
            // Why DynamoDB cancelled it, item by item ("None" for items that were fine).
            let reasons: Vec<String> = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("None").to_owned())
                    .collect(),
                Some(other) if other.code() == Some("TransactionConflictException") => {
                    vec!["TransactionConflict".into()]
                }
                _ => return Err(err.into()),
            };
            if reasons.iter().any(|r| r == "ConditionalCheckFailed") {
                return Ok(Err(ConditionsFailed(
                    reasons
                        .iter()
                        .map(|r| r == "ConditionalCheckFailed")
                        .collect(),
                )));
            }
            let retryable = reasons.iter().all(|r| {
                matches!(
                    r.as_str(),
                    "None" | "TransactionConflict" | "ThrottlingError"
                )
            });
            if !retryable {
                return Err(ApiError::Internal(format!(
                    "transaction cancelled: {reasons:?}"
                )));
            }
            if attempt >= TRANSACT_ATTEMPTS {
                return Err(ApiError::StoreUnavailable(format!(
                    "transaction cancelled {attempt} times: {reasons:?}"
                )));
            }
            backoff(attempt).await;
        }
    }

    /// Keys of every item in partition `pk` (whose sort key starts with `sk_prefix`, if
    /// given), read consistently.
    pub async fn keys_of(&self, pk: &str, sk_prefix: Option<&str>) -> Result<Vec<Key>, ApiError> {
        let mut query = self
            .client()
            .query()
            .table_name(self.table())
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
            .projection_expression("#pk, #sk")
            .consistent_read(true);
        query = match sk_prefix {
            Some(prefix) => query
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.into())),
            None => query.key_condition_expression("#pk = :pk"),
        };
        let mut keys = Vec::new();
        let mut pages = query.into_paginator().send();
        while let Some(page) = pages.next().await {
            keys.extend(page?.items.unwrap_or_default());
        }
        Ok(keys)
    }

    /// Deletes every item of `keys`, 25 per request and a few requests at a time,
    /// re-sending what DynamoDB left unprocessed.
    pub async fn delete_all(&self, keys: Vec<Key>) -> Result<(), ApiError> {
        let mut in_flight = tokio::task::JoinSet::new();
        for chunk in keys.chunks(BATCH_SIZE) {
            let requests = chunk
                .iter()
                .map(|key| {
                    DeleteRequest::builder()
                        .set_key(Some(key.clone()))
                        .build()
                        .map(|delete| WriteRequest::builder().delete_request(delete).build())
                        .map_err(|e| ApiError::Internal(format!("building delete request: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if in_flight.len() >= BATCHES_IN_FLIGHT {
                joined(in_flight.join_next().await)?;
            }
            in_flight.spawn(self.clone().delete_batch(requests));
        }
        while let Some(done) = in_flight.join_next().await {
            joined(Some(done))?;
        }
        Ok(())
    }

    /// One `BatchWriteItem` of deletions, re-sent until nothing is left unprocessed.
    async fn delete_batch(self, mut requests: Vec<WriteRequest>) -> Result<(), ApiError> {
        let mut attempt = 0;
        while !requests.is_empty() {
            attempt += 1;
            if attempt > BATCH_ATTEMPTS {
                return Err(ApiError::StoreUnavailable(
                    "batch delete left items unprocessed".into(),
                ));
            }
            if attempt > 1 {
                backoff(attempt).await;
            }
            let output = self
                .client()
                .batch_write_item()
                .request_items(self.table(), requests)
                .send()
                .await?;
            requests = output
                .unprocessed_items
                .and_then(|mut unprocessed| unprocessed.remove(self.table()))
                .unwrap_or_default();
        }
        Ok(())
    }
}

/// The outcome of a finished batch task (a panic in one is reported, not propagated).
fn joined(
    done: Option<Result<Result<(), ApiError>, tokio::task::JoinError>>,
) -> Result<(), ApiError> {
    match done {
        None => Ok(()),
        Some(Ok(result)) => result,
        Some(Err(e)) => Err(ApiError::Internal(format!("batch delete task failed: {e}"))),
    }
}

/// Waits before retry `attempt` (1-based): exponential from 10 ms, capped at 250 ms, with full
/// jitter so that competing writers spread out.
pub async fn backoff(attempt: u32) {
    let ceiling_ms = (10u64 << attempt.min(5)).min(250);
    let mut random = [0u8; 8];
    // Without randomness, fall back to the ceiling: still a bounded wait.
    let jitter = match aws_lc_rs::rand::fill(&mut random) {
        Ok(()) => u64::from_le_bytes(random) % (ceiling_ms + 1),
        Err(_) => ceiling_ms,
    };
    tokio::time::sleep(Duration::from_millis(jitter.max(1))).await;
}
