//! Accounts: user items (`user_id = <uuid>`, `sk = USER`) and email reservations
//! (`user_id = EMAIL#<email>`, `sk = EMAIL`, `owner = <uuid>`), always written and deleted
//! together in one transaction, so an email can never belong to two users.
//!
//! Deleting an account is resumable: the user item is first marked `deleting` (epoch seconds
//! of the first attempt). From then on no write of the partition succeeds (each carries
//! [`user_exists_check`] or its equivalent) and only `DELETE /v1/me` authenticates; the
//! partition is swept page by page, and the user item goes last, together with the email
//! reservation. A sweep cut short is continued by the next attempt.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
};
use serde::{Deserialize, Serialize};

use super::sessions::family_sk;
use super::writes::{backoff, build, condition_failed, key, number};
use super::{PK, SK, Store};
use crate::auth::{Email, User, UserName};
use crate::domain::{FamilyId, Timestamp, UserId};
use crate::error::ApiError;

pub const USER_SK: &str = "USER";
const EMAIL_SK: &str = "EMAIL";
/// Attribute of the user item set once its deletion has begun.
const DELETING: &str = "deleting";
/// Items of the partition read (keys only) and deleted per round of a sweep.
const SWEEP_PAGE: i32 = 250;
/// Rounds of re-asking for keys a `BatchGetItem` left unprocessed.
const BATCH_GET_ATTEMPTS: u32 = 5;

/// Where an account and one of its sessions stand, as authentication needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// No such user (never existed, or deleted).
    NoAccount,
    /// The account's deletion has begun and is not finished.
    Deleting,
    /// The account is active; `session_alive` says whether the session still exists.
    Active { session_alive: bool },
}

/// How far one attempt at deleting an account got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// Nothing of the account is left (also when a concurrent attempt finished it).
    Finished,
    /// The time budget ran out first; the account stays marked and the next attempt goes on.
    Unfinished,
    /// There was no such account.
    NoAccount,
}

/// Partition key of an email's reservation.
pub fn email_pk(email: &Email) -> String {
    format!("EMAIL#{email}")
}

#[derive(Serialize, Deserialize)]
struct UserItem {
    user_id: String,
    sk: String,
    email: String,
    name: String,
    password_hash: String,
    created_at: Timestamp,
}

#[derive(Serialize, Deserialize)]
struct EmailItem {
    user_id: String,
    sk: String,
    owner: String,
}

/// The stored form of a user.
pub(super) fn user_item(
    user: &User,
    password_hash: String,
) -> Result<HashMap<String, AttributeValue>, ApiError> {
    Ok(serde_dynamo::to_item(UserItem {
        user_id: user.id.to_string(),
        sk: USER_SK.into(),
        email: user.email.to_string(),
        name: user.name.as_str().to_string(),
        password_hash,
        created_at: user.created_at,
    })?)
}

/// The stored reservation of a user's email.
pub(super) fn email_item(user: &User) -> Result<HashMap<String, AttributeValue>, ApiError> {
    Ok(serde_dynamo::to_item(EmailItem {
        user_id: email_pk(&user.email),
        sk: EMAIL_SK.into(),
        owner: user.id.to_string(),
    })?)
}

/// The condition that the user item exists and its deletion has not begun (names `#pk` and
/// `#deleting`; see [`user_condition_names`]).
pub(super) const USER_ACTIVE: &str = "attribute_exists(#pk) AND attribute_not_exists(#deleting)";

/// The attribute names [`USER_ACTIVE`] uses.
pub(super) fn user_condition_names() -> HashMap<String, String> {
    HashMap::from([
        ("#pk".to_string(), PK.to_string()),
        ("#deleting".to_string(), DELETING.to_string()),
    ])
}

/// A condition-check item of a transaction: the user item must (still) exist and not be
/// being deleted, so nothing is written into a partition that is being swept.
pub(super) fn user_exists_check(
    store: &Store,
    user: UserId,
) -> Result<TransactWriteItem, ApiError> {
    let check = build(
        ConditionCheck::builder()
            .table_name(store.table())
            .set_key(Some(key(user.to_string(), USER_SK)))
            .condition_expression(USER_ACTIVE)
            .set_expression_attribute_names(Some(user_condition_names()))
            .build(),
    )?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

impl Store {
    /// A transaction item writing `item` only where no item has its key yet.
    pub(super) fn put_new(
        &self,
        item: HashMap<String, AttributeValue>,
    ) -> Result<TransactWriteItem, ApiError> {
        let put = build(
            Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The standing of `user` alone (consistent read of the user item's key and deletion
    /// mark), for tokens that name no taskline session: `Active` counts its session alive.
    pub async fn user_standing(&self, user: UserId) -> Result<Standing, ApiError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(PK, AttributeValue::S(user.to_string()))
            .key(SK, AttributeValue::S(USER_SK.into()))
            .projection_expression("#pk, #deleting")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#deleting", DELETING)
            .consistent_read(true)
            .send()
            .await?;
        Ok(match output.item {
            None => Standing::NoAccount,
            Some(item) if item.contains_key(DELETING) => Standing::Deleting,
            Some(_) => Standing::Active {
                session_alive: true,
            },
        })
    }

    /// Stores a new user and reserves its email in one transaction. 409 if the email is taken
    /// (by anyone, including a concurrent registration that won).
    pub async fn create_user(&self, user: &User, password_hash: String) -> Result<(), ApiError> {
        let user_item = user_item(user, password_hash)?;
        let email_item = email_item(user)?;
        match self
            .transact(vec![self.put_new(email_item)?, self.put_new(user_item)?])
            .await?
        {
            Ok(()) => Ok(()),
            Err(_) => Err(ApiError::Conflict(
                "an account with this email already exists",
            )),
        }
    }

    /// The user, if it exists (consistent read).
    pub async fn user(&self, id: UserId) -> Result<Option<User>, ApiError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(id.to_string(), USER_SK)))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let item: UserItem = serde_dynamo::from_item(item)?;
        Ok(Some(User {
            id,
            email: Email::from_stored(item.email),
            name: UserName::from_stored(item.name),
            created_at: item.created_at,
        }))
    }

    /// The user owning `email` and its password hash (PHC string), if any.
    pub async fn credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<(UserId, String)>, ApiError> {
        let reservation = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(email_pk(email), EMAIL_SK)))
            .consistent_read(true)
            .send()
            .await?;
        let owner = match reservation.item {
            Some(item) => {
                let reservation: EmailItem = serde_dynamo::from_item(item)?;
                Some(UserId::parse(&reservation.owner).ok_or_else(|| {
                    ApiError::Internal("email reservation with a bad owner".into())
                })?)
            }
            None => None,
        };
        // Unknown emails make the same second read (of an item that cannot exist), so the
        // number of round trips does not tell them apart from known ones.
        let user_pk = owner.map_or_else(|| email_pk(email), |owner| owner.to_string());
        let user = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(user_pk, USER_SK)))
            .projection_expression("password_hash")
            .consistent_read(true)
            .send()
            .await?;
        let hash = user
            .item
            .and_then(|mut item| item.remove("password_hash"))
            .and_then(|hash| hash.as_s().ok().cloned());
        Ok(owner.zip(hash))
    }

    /// The standing of `user` and of its session `family`, in one consistent `BatchGetItem`
    /// of the user item and the family item (what every authenticated request costs).
    pub async fn standing(
        &self,
        user: UserId,
        family: FamilyId,
        now: i64,
    ) -> Result<Standing, ApiError> {
        let pk = user.to_string();
        let family_sk = family_sk(family);
        let mut wanted = Some(build(
            KeysAndAttributes::builder()
                .keys(key(pk.clone(), USER_SK))
                .keys(key(pk.clone(), family_sk.clone()))
                .projection_expression("#sk, #deleting, absolute_expires_at")
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#deleting", DELETING)
                .consistent_read(true)
                .build(),
        )?);
        let mut items = Vec::new();
        let mut attempt = 0;
        while let Some(keys) = wanted.take() {
            attempt += 1;
            if attempt > BATCH_GET_ATTEMPTS {
                return Err(ApiError::StoreUnavailable(
                    "batch get left keys unprocessed".into(),
                ));
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
            // Only under throttling: ask again for what was left, never report it missing.
            wanted = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(self.table()))
                .filter(|k| !k.keys().is_empty());
        }
        let sk_of = |item: &HashMap<String, AttributeValue>| {
            item.get(SK).and_then(|v| v.as_s().ok()).cloned()
        };
        let user_item = items
            .iter()
            .find(|item| sk_of(item).as_deref() == Some(USER_SK));
        let family_item = items
            .iter()
            .find(|item| sk_of(item).as_deref() == Some(family_sk.as_str()));
        Ok(match user_item {
            None => Standing::NoAccount,
            Some(item) if item.contains_key(DELETING) => Standing::Deleting,
            Some(_) => Standing::Active {
                // TTL deletes late: an expired family is gone even while its item remains.
                session_alive: family_item.is_some_and(|family| {
                    number(family, "absolute_expires_at").is_none_or(|expires| now < expires)
                }),
            },
        })
    }

    /// Deletes an account, or goes on deleting it: marks the user item `deleting`, sweeps the
    /// partition page by page (keys only, so memory stays bounded whatever its size) until
    /// nothing but the user item is left, then deletes the user item and its email
    /// reservation together (the email is free from then on). Stops with
    /// [`Deletion::Unfinished`] once `budget` is spent (after at least one page, so every
    /// attempt makes progress).
    pub async fn delete_account(
        &self,
        id: UserId,
        now: i64,
        budget: Duration,
    ) -> Result<Deletion, ApiError> {
        let started = Instant::now();
        let pk = id.to_string();
        let marked = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(pk.clone(), USER_SK)))
            .update_expression("SET #deleting = if_not_exists(#deleting, :now)")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#deleting", DELETING)
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let user_item = match marked {
            Ok(output) => output.attributes.unwrap_or_default(),
            Err(err) if condition_failed::<UpdateItemError, _>(&err) => {
                return Ok(Deletion::NoAccount);
            }
            Err(err) => return Err(err.into()),
        };
        // Users written by test tools may have no email (and so no reservation).
        let email = user_item.get("email").and_then(|v| v.as_s().ok()).cloned();

        // Each pass reads from the start of the partition: deleted items are gone, so a pass
        // resumes where the last one (or the last attempt) stopped. A pass that deleted
        // something is followed by another, which must find the partition empty.
        let mut start = None;
        let mut deleted_this_pass = 0;
        loop {
            let page = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .projection_expression("#pk, #sk")
                .consistent_read(true)
                .limit(SWEEP_PAGE)
                .set_exclusive_start_key(start.take())
                .send()
                .await?;
            let keys: Vec<_> = page
                .items
                .unwrap_or_default()
                .into_iter()
                .filter(|item| {
                    item.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str) != Some(USER_SK)
                })
                .collect();
            deleted_this_pass += keys.len();
            self.delete_all(keys).await?;
            start = page.last_evaluated_key;
            if start.is_none() {
                if deleted_this_pass == 0 {
                    break;
                }
                deleted_this_pass = 0;
            }
            if started.elapsed() >= budget {
                return Ok(Deletion::Unfinished);
            }
        }

        let delete_user = build(
            Delete::builder()
                .table_name(self.table())
                .set_key(Some(key(pk.clone(), USER_SK)))
                .condition_expression("attribute_exists(#deleting)")
                .expression_attribute_names("#deleting", DELETING)
                .build(),
        )?;
        let mut items = vec![TransactWriteItem::builder().delete(delete_user).build()];
        if let Some(email) = email {
            // Only this user's reservation: never one another account made after a change.
            let delete_email = build(
                Delete::builder()
                    .table_name(self.table())
                    .set_key(Some(key(email_pk(&Email::from_stored(email)), EMAIL_SK)))
                    .condition_expression("attribute_not_exists(#pk) OR #owner = :owner")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#owner", "owner")
                    .expression_attribute_values(":owner", AttributeValue::S(pk.clone()))
                    .build(),
            )?;
            items.push(TransactWriteItem::builder().delete(delete_email).build());
        }
        // A failed condition: a concurrent attempt deleted the user item first, having
        // found the partition empty as this one did.
        let _ = self.transact(items).await?;
        Ok(Deletion::Finished)
    }
}
