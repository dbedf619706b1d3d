//! Idempotency records (`sk = IDEM#<sha256 hex of the key>` in the user's partition, so keys
//! are per user and go with the account): what a create made with an `Idempotency-Key` answered.
//!
//! The record is written in the create's own `TransactWriteItems` (see
//! [`Tasks::create_once`]), conditionally on there being none that is unexpired. So there
//! is no separate "in flight" state to store or to release: a key is taken exactly when its
//! task exists, a create refused for any reason (validation, quota, category) leaves no record,
//! and of two racing creates with one key one commits and the other's condition fails on the
//! record (it then replays the first). Only while the first still holds the record after
//! every retry of the second does the second learn that the first is in flight.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::core::Store;
use super::error::StoreError;
use super::expr::{Cond, Expressed};
use super::items::IdempotencyItem;
use super::keys::{SK, TTL, idempotency_key, idempotency_sk, n, user_pk};
use super::writes::{Conditional, conditional};
use crate::domain::{Fingerprint, IDEMPOTENCY_WINDOW_SECS, IdempotencyKey, UserId};
use crate::tasks::TaskId;

/// A create as its idempotency record keeps it: the request's fingerprint, the task it
/// created and the body of the response it got (answered again, as it was, to a replay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedCreate {
    pub fingerprint: Fingerprint,
    pub task_id: TaskId,
    pub response: String,
}

/// The records of creates made with an idempotency key.
#[derive(Debug, Clone, Copy)]
pub struct Idempotency<'a> {
    pub(super) store: &'a Store,
}

impl Store {
    pub fn idempotency(&self) -> Idempotency<'_> {
        Idempotency { store: self }
    }
}

impl Idempotency<'_> {
    /// The transaction item recording `create` under `key` at `now` (Unix seconds), for
    /// [`IDEMPOTENCY_WINDOW_SECS`]: refused (`used`) while an unexpired record of the key
    /// exists; an expired one, which TTL may not have deleted yet, is overwritten. A record
    /// held by another transaction through every retry is `in_flight`. (The outcomes are the
    /// create's, which this aggregate does not know.)
    pub(super) fn record_create<O>(
        self,
        (user, key, create, now): (UserId, &IdempotencyKey, &KeyedCreate, i64),
        used: O,
        in_flight: O,
    ) -> Result<Conditional<O>, StoreError> {
        let item = IdempotencyItem {
            user_id: user_pk(user),
            sk: idempotency_sk(&key.digest()),
            fingerprint: create.fingerprint.as_str().to_string(),
            task_id: create.task_id.to_string(),
            response: create.response.clone(),
            created_at: now,
            expires_at: now.saturating_add(IDEMPOTENCY_WINDOW_SECS),
        };
        let put = Put::builder()
            .table_name(self.store.table())
            .set_item(Some(serde_dynamo::to_item(item)?))
            .only_if(&Cond::NotExists(SK).or(Cond::Le(TTL, n(now))))
            .build()?;
        Ok(conditional(used, TransactWriteItem::builder().put(put).build()).or_if_held(in_flight))
    }

    /// The create recorded under `key`, unless there is none or it expired by `now` (Unix
    /// seconds): one consistent read.
    pub async fn recorded(
        self,
        user: UserId,
        key: &IdempotencyKey,
        now: i64,
    ) -> Result<Option<KeyedCreate>, StoreError> {
        let output = self
            .store
            .get_item()
            .set_key(Some(idempotency_key(user, &key.digest())))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let item: IdempotencyItem = serde_dynamo::from_item(item)?;
        if item.expires_at <= now {
            return Ok(None);
        }
        Ok(Some(KeyedCreate {
            fingerprint: Fingerprint::from_stored(item.fingerprint),
            task_id: TaskId::parse(&item.task_id)
                .ok_or(StoreError::Corrupt("idempotency record naming no task id"))?,
            response: item.response,
        }))
    }
}
