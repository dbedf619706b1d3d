//! Multi-item writes every concern needs: conditional transactions (retried while they merely
//! collide with another transaction) and bulk deletion (retrying unprocessed items).

use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{DeleteRequest, TransactWriteItem, WriteRequest};

use super::core::Store;
use super::error::StoreError;
use super::expr::{Cond, Expressed, SortKeys, keyed_query};
use super::keys::{Key, PK, SK, s};
use aws_sdk_dynamodb::types::{KeysAndAttributes, Put};

/// Whether a single-item write failed only because its condition did not hold.
pub(super) fn condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error().and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// Whether a single-item conditional write was made: `false` when only its condition failed.
pub(super) fn written<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if condition_failed(&err) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// Why DynamoDB cancelled one item of a transaction (its `CancellationReason` code, typed once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    /// The item was fine; another one failed.
    None,
    ConditionalCheckFailed,
    /// Another transaction held the item.
    TransactionConflict,
    Throttling,
    Other,
}

impl Reason {
    fn of(code: Option<&str>) -> Self {
        match code {
            None | Some("None") => Self::None,
            Some("ConditionalCheckFailed") => Self::ConditionalCheckFailed,
            Some("TransactionConflict") => Self::TransactionConflict,
            Some("ThrottlingError") => Self::Throttling,
            Some(_) => Self::Other,
        }
    }

    /// Whether a cancellation for this reason alone is worth another attempt.
    fn retryable(self) -> bool {
        matches!(
            self,
            Self::None | Self::TransactionConflict | Self::Throttling
        )
    }
}

/// One item of a conditional transaction and what the transaction means if this item's
/// condition is the one that failed (outcomes are named by the caller, once, with the item).
pub(super) struct Conditional<O> {
    pub if_refused: O,
    /// What the transaction means if another transaction still held this item after every
    /// attempt (`None`: the store is unavailable, as for any other item).
    pub if_held: Option<O>,
    pub item: TransactWriteItem,
}

/// `item`, whose failed condition means `if_refused`.
pub(super) fn conditional<O>(if_refused: O, item: TransactWriteItem) -> Conditional<O> {
    Conditional {
        if_refused,
        if_held: None,
        item,
    }
}

impl<O> Conditional<O> {
    /// This item, meaning `outcome` when another transaction kept holding it.
    pub fn or_if_held(self, outcome: O) -> Self {
        Self {
            if_held: Some(outcome),
            ..self
        }
    }
}

/// Attempts of a transaction that keeps colliding with concurrent ones (each a few ms apart).
const TRANSACT_ATTEMPTS: u32 = 10;
/// Rounds of re-sending unprocessed items of a batch.
const BATCH_ATTEMPTS: u32 = 8;
/// Rounds of re-asking for keys a `BatchGetItem` left unprocessed.
const BATCH_GET_ATTEMPTS: u32 = 5;
/// Why a transaction was cancelled, item by item; an error for any other failure.
fn cancellation_reasons<R>(
    err: SdkError<TransactWriteItemsError, R>,
) -> Result<Vec<Reason>, StoreError>
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => Ok(cancelled
            .cancellation_reasons()
            .iter()
            .map(|r| Reason::of(r.code()))
            .collect()),
        Some(other) if other.code() == Some("TransactionConflictException") => {
            Ok(vec![Reason::TransactionConflict])
        }
        _ => Err(err.into()),
    }
}

/// BatchWriteItem takes at most 25 requests.
const BATCH_SIZE: usize = 25;
/// `BatchWriteItem` requests of one [`Store::delete_all`] in flight at once.
const BATCHES_IN_FLIGHT: usize = 4;

impl Store {
    /// A transaction item writing `item` only where no item has its key yet.
    pub(super) fn put_new(&self, item: Key) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .only_if(&Cond::NotExists(PK))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The items of one consistent `BatchGetItem`, asking again for keys DynamoDB left
    /// unprocessed (only under throttling; never reported missing).
    pub(super) async fn batch_get(&self, keys: KeysAndAttributes) -> Result<Vec<Key>, StoreError> {
        let mut wanted = Some(keys);
        let mut items = Vec::new();
        let mut attempt = 0;
        while let Some(keys) = wanted.take() {
            attempt += 1;
            if attempt > BATCH_GET_ATTEMPTS {
                return Err(StoreError::unavailable("batch get left keys unprocessed"));
            }
            if attempt > 1 {
                backoff(attempt).await;
            }
            let output = self
                .client()
                .batch_get_item()
                .request_items(self.table(), keys)
                .send()
                .await?;
            items.extend(
                output
                    .responses
                    .and_then(|mut r| r.remove(self.table()))
                    .unwrap_or_default(),
            );
            wanted = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(self.table()))
                .filter(|k| !k.keys().is_empty());
        }
        Ok(items)
    }

    /// Runs a transaction: `done` if it committed, else the outcome of the first item (in
    /// the order given) whose condition failed. A cancellation only because another
    /// transaction held one of the items is retried: the retry then sees that transaction's
    /// outcome, so of concurrent conditional writes exactly one succeeds.
    pub(super) async fn transact<O: Copy>(
        &self,
        done: O,
        items: Vec<Conditional<O>>,
    ) -> Result<O, StoreError> {
        let mut outcomes = Vec::with_capacity(items.len());
        let mut held = Vec::with_capacity(items.len());
        let mut transact_items = Vec::with_capacity(items.len());
        for c in items {
            outcomes.push(c.if_refused);
            held.push(c.if_held);
            transact_items.push(c.item);
        }
        let items = transact_items;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .client()
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let reasons = match result {
                Ok(_) => return Ok(done),
                Err(err) => cancellation_reasons(err)?,
            };
            let refused = reasons
                .iter()
                .position(|r| *r == Reason::ConditionalCheckFailed)
                .and_then(|index| outcomes.get(index));
            if let Some(outcome) = refused {
                return Ok(*outcome);
            }
            if !reasons.iter().all(|r| r.retryable()) {
                return Err(StoreError::Cancelled(format!("{reasons:?}")));
            }
            if attempt >= TRANSACT_ATTEMPTS {
                // An item that names what being held means (another request in flight with
                // the same idempotency key) answers that instead of "unavailable".
                let still_held = reasons.iter().zip(&held).find_map(|(reason, held)| {
                    held.filter(|_| *reason == Reason::TransactionConflict)
                });
                if let Some(outcome) = still_held {
                    return Ok(outcome);
                }
                return Err(StoreError::unavailable(format!(
                    "transaction cancelled {attempt} times: {reasons:?}"
                )));
            }
            backoff(attempt).await;
        }
    }

    /// Keys of every item in partition `pk` (whose sort key starts with `sk_prefix`, if
    /// given), read consistently.
    pub async fn keys_of(&self, pk: &str, sk_prefix: Option<&str>) -> Result<Vec<Key>, StoreError> {
        let keys = sk_prefix.map_or(SortKeys::Any, |prefix| SortKeys::BeginsWith(s(prefix)));
        let query = self.query();
        let query = keyed_query(query, (PK, s(pk)), (SK, keys), None, &[PK, SK]);
        let query = query.consistent_read(true);
        let mut keys = Vec::new();
        let mut pages = query.into_paginator().send();
        while let Some(page) = pages.next().await {
            keys.extend(page?.items.unwrap_or_default());
        }
        Ok(keys)
    }

    /// Deletes every item of `keys`, 25 per request and a few requests at a time,
    /// re-sending what DynamoDB left unprocessed.
    pub async fn delete_all(&self, keys: Vec<Key>) -> Result<(), StoreError> {
        let mut in_flight = tokio::task::JoinSet::new();
        for chunk in keys.chunks(BATCH_SIZE) {
            let requests = chunk
                .iter()
                .map(|key| {
                    DeleteRequest::builder()
                        .set_key(Some(key.clone()))
                        .build()
                        .map(|delete| WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<Vec<_>, _>>()?;
            if in_flight.len() >= BATCHES_IN_FLIGHT {
                finish_one(&mut in_flight).await?;
            }
            in_flight.spawn(self.clone().delete_batch(requests));
        }
        while finish_one(&mut in_flight).await? {}
        Ok(())
    }

    /// One `BatchWriteItem` of deletions, re-sent until nothing is left unprocessed.
    async fn delete_batch(self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut attempt = 0;
        while !requests.is_empty() {
            attempt += 1;
            if attempt > BATCH_ATTEMPTS {
                return Err(StoreError::unavailable(
                    "batch delete left items unprocessed",
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

/// Waits for one batch of `in_flight` to finish and returns its error, if any (a panic in a
/// batch task is reported as an error, not propagated); `false` once none is left.
async fn finish_one(
    in_flight: &mut tokio::task::JoinSet<Result<(), StoreError>>,
) -> Result<bool, StoreError> {
    match in_flight.join_next().await {
        None => Ok(false),
        Some(done) => {
            done??;
            Ok(true)
        }
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
