//! Accounts: user items (`user_id = <uuid>`, `sk = USER`) and email reservations
//! (`user_id = EMAIL#<email>`, `sk = EMAIL`, `owner = <uuid>`), always written and deleted
//! together in one transaction, so an email can never belong to two users.
//!
//! Deleting an account is resumable: the user item is first marked `deleting` (epoch seconds
//! of the first attempt). From then on no write of the partition succeeds (each carries
//! [`user_exists_check`] or its equivalent) and only `DELETE /v1/me` authenticates; the
//! partition is swept page by page, and the user item goes last, together with the email
//! reservation. A sweep cut short is continued by the next attempt.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValue, TransactWriteItem};

use super::core::Store;
use super::error::StoreError;
use super::expr::{Changes, Cond, Expressed, Projecting, SortKeys, Updating, keyed_query};
use super::items::{EmailItem, PasswordItem, UserItem};
use super::keys::{
    Key, PK, SK, USER_SK, attr, email_key, key, n, s, sk_of, text, user_key, user_pk,
};
use super::session_ends::Keep;
use super::standing::user_active;
use super::writes::{condition_failed, conditional};
use crate::auth::{Email, NO_PASSWORD_HASH, User, UserName};
use crate::domain::UserId;

/// Items of the partition read (keys only) and deleted per round of a sweep.
const SWEEP_PAGE: i32 = 250;

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

/// How a registration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCreation {
    Created,
    /// The email belongs to an account already (maybe a concurrent registration that won);
    /// nothing was written.
    EmailTaken,
}

/// A user's password as stored, for a change of it.
#[derive(Debug, Clone)]
pub enum StoredPassword {
    /// The account has a password: its email (the throttle counts by it) and its hash.
    Set { email: Email, hash: String },
    /// An external identity's account: it has no password to change.
    None,
}

/// The outcome of a conditional password write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordWrite {
    /// Changed; `kept`: the session it was made from goes on (under its new first token).
    Changed { kept: bool },
    /// The stored hash is no longer the one verified (a concurrent change won), or the
    /// account is gone or being deleted.
    Stale,
}

/// The stored form of a user.
pub(super) fn user_item(user: &User, password_hash: String) -> Result<Key, StoreError> {
    Ok(serde_dynamo::to_item(UserItem::new(user, password_hash))?)
}

/// The stored reservation of a user's email.
pub(super) fn email_item(user: &User) -> Result<Key, StoreError> {
    Ok(serde_dynamo::to_item(EmailItem::new(user))?)
}

/// The user an item's `owner` attribute names.
pub(super) fn owner(owner: &str, what: &'static str) -> Result<UserId, StoreError> {
    UserId::parse(owner).ok_or(StoreError::Corrupt(what))
}

/// Users, their email reservations and external identities.
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'a> {
    pub(super) store: &'a Store,
}

impl Store {
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts { store: self }
    }
}

impl Accounts<'_> {
    /// Sets the user's name. `false` if the account is gone or being deleted.
    pub async fn rename(self, user: UserId, name: &UserName) -> Result<bool, StoreError> {
        let result = self
            .store
            .update_item()
            .set_key(Some(user_key(user)))
            .changing(
                &Changes::default().set(attr::NAME, s(name.as_str())),
                Some(&user_active()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if condition_failed::<UpdateItemError, _>(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// The user's email and password hash (consistent read); `Ok(None)` if no such user.
    pub async fn stored_password(self, user: UserId) -> Result<Option<StoredPassword>, StoreError> {
        let output = self
            .store
            .get_item()
            .set_key(Some(user_key(user)))
            .projecting(&[attr::EMAIL, attr::PASSWORD_HASH])
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let item: PasswordItem = serde_dynamo::from_item(item)?;
        Ok(Some(match (item.email, item.password_hash) {
            (Some(email), Some(hash)) if hash != NO_PASSWORD_HASH => StoredPassword::Set {
                email: Email::from_stored(email),
                hash,
            },
            _ => StoredPassword::None,
        }))
    }

    /// Replaces the password hash, only if it is still `previous` (the one just verified), so
    /// of two concurrent changes exactly one takes effect and the other learns it lost; and,
    /// in the same transaction, ends every session but `keep` (see
    /// [`Sessions::end_others`]).
    pub async fn change_password(
        self,
        user: UserId,
        previous: &str,
        new: &str,
        keep: Keep<'_>,
        now: i64,
    ) -> Result<PasswordWrite, StoreError> {
        Ok(
            match self
                .store
                .sessions()
                .move_generation(user, Some((previous, new)), keep, now)
                .await?
            {
                Some(kept) => PasswordWrite::Changed { kept },
                None => PasswordWrite::Stale,
            },
        )
    }

    /// Stores a new user and reserves its email in one transaction, unless the email is
    /// taken (by anyone, including a concurrent registration that won).
    pub async fn create(
        self,
        user: &User,
        password_hash: String,
    ) -> Result<UserCreation, StoreError> {
        let items = vec![
            conditional(
                UserCreation::EmailTaken,
                self.store.put_new(email_item(user)?)?,
            ),
            conditional(
                UserCreation::EmailTaken,
                self.store.put_new(user_item(user, password_hash)?)?,
            ),
        ];
        self.store.transact(UserCreation::Created, items).await
    }

    /// The user, if it exists (consistent read).
    pub async fn user(self, id: UserId) -> Result<Option<User>, StoreError> {
        let output = self
            .store
            .get_item()
            .set_key(Some(user_key(id)))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let item: UserItem = serde_dynamo::from_item(item)?;
        Ok(Some(User::try_from(item)?))
    }

    /// The user owning `email` and its password hash (PHC string), if any.
    pub async fn credentials_by_email(
        self,
        email: &Email,
    ) -> Result<Option<(UserId, String)>, StoreError> {
        let reservation = self
            .store
            .get_item()
            .set_key(Some(email_key(email.as_str())))
            .consistent_read(true)
            .send()
            .await?;
        let owner = match reservation.item {
            Some(item) => {
                let reservation: EmailItem = serde_dynamo::from_item(item)?;
                Some(owner(
                    &reservation.owner,
                    "email reservation with a bad owner",
                )?)
            }
            None => None,
        };
        // Unknown emails make the same second read (of an item that cannot exist), so the
        // number of round trips does not tell them apart from known ones.
        let pk = owner.map_or_else(|| super::keys::email_pk(email.as_str()), user_pk);
        let user = self
            .store
            .get_item()
            .set_key(Some(key(pk, USER_SK)))
            .projecting(&[attr::PASSWORD_HASH])
            .consistent_read(true)
            .send()
            .await?;
        let hash = user
            .item
            .map(serde_dynamo::from_item::<_, PasswordItem>)
            .transpose()?
            .and_then(|item| item.password_hash);
        Ok(owner.zip(hash))
    }

    /// Deletes an account, or goes on deleting it: marks the user item `deleting`, sweeps the
    /// partition page by page (keys only, so memory stays bounded whatever its size) until
    /// nothing but the user item is left, then deletes the user item and its email
    /// reservation together (the email is free from then on). Stops with
    /// [`Deletion::Unfinished`] once `budget` is spent (after at least one page, so every
    /// attempt makes progress).
    pub async fn delete(
        self,
        id: UserId,
        now: i64,
        budget: Duration,
    ) -> Result<Deletion, StoreError> {
        let started = Instant::now();
        let Some(user_item) = self.mark_deleting(id, now).await? else {
            return Ok(Deletion::NoAccount);
        };
        // Users written by test tools may have no email, and an external identity's unverified
        // email is not reserved: no reservation to delete then.
        let reserved = !matches!(
            user_item.get(attr::EMAIL_UNVERIFIED),
            Some(AttributeValue::Bool(true))
        );
        let email = text(&user_item, attr::EMAIL)
            .filter(|_| reserved)
            .map(str::to_owned);
        if !self.sweep(id, started, budget).await? {
            return Ok(Deletion::Unfinished);
        }
        self.delete_user_and_email(id, email).await
    }

    /// Marks the user item `deleting` (keeping the time of the first attempt): the item as
    /// marked, or `None` if there is no such user.
    async fn mark_deleting(self, id: UserId, now: i64) -> Result<Option<Key>, StoreError> {
        let marked = self
            .store
            .update_item()
            .set_key(Some(user_key(id)))
            .changing(
                &Changes::default().set_if_absent(attr::DELETING, n(now)),
                Some(&Cond::Exists(PK)),
            )
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match marked {
            Ok(output) => Ok(Some(output.attributes.unwrap_or_default())),
            Err(err) if condition_failed::<UpdateItemError, _>(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes every item of the partition but the user item, page by page: `true` once the
    /// partition holds nothing else, `false` if `budget` ran out first (after at least one
    /// page).
    async fn sweep(
        self,
        id: UserId,
        started: Instant,
        budget: Duration,
    ) -> Result<bool, StoreError> {
        let pk = user_pk(id);
        // Each pass reads from the start of the partition: deleted items are gone, so a pass
        // resumes where the last one (or the last attempt) stopped. A pass that deleted
        // something is followed by another, which must find the partition empty.
        let mut start = None;
        let mut deleted_this_pass = 0;
        loop {
            let query = self.store.query();
            let page = keyed_query(query, (PK, s(&pk)), (SK, SortKeys::Any), None, &[PK, SK])
                .consistent_read(true)
                .limit(SWEEP_PAGE)
                .set_exclusive_start_key(start.take())
                .send()
                .await?;
            let keys: Vec<_> = page
                .items
                .unwrap_or_default()
                .into_iter()
                .filter(|item| sk_of(item) != Some(USER_SK))
                .collect();
            deleted_this_pass += keys.len();
            self.store.delete_all(keys).await?;
            start = page.last_evaluated_key;
            if start.is_none() {
                if deleted_this_pass == 0 {
                    return Ok(true);
                }
                deleted_this_pass = 0;
            }
            if started.elapsed() >= budget {
                return Ok(false);
            }
        }
    }

    /// The last step: the (marked) user item and this user's email reservation, together.
    async fn delete_user_and_email(
        self,
        id: UserId,
        email: Option<String>,
    ) -> Result<Deletion, StoreError> {
        let delete_user = Delete::builder()
            .table_name(self.store.table())
            .set_key(Some(user_key(id)))
            .only_if(&Cond::Exists(attr::DELETING))
            .build()?;
        // A failed condition: a concurrent attempt deleted the user item first, having
        // found the partition empty as this one did; the deletion is finished either way.
        let mut items = vec![conditional(
            Deletion::Finished,
            TransactWriteItem::builder().delete(delete_user).build(),
        )];
        if let Some(email) = email {
            // Only this user's reservation: never one another account made after a change.
            let delete_email = Delete::builder()
                .table_name(self.store.table())
                .set_key(Some(email_key(Email::from_stored(email).as_str())))
                .only_if(&Cond::NotExists(PK).or(Cond::Eq(attr::OWNER, s(user_pk(id)))))
                .build()?;
            items.push(conditional(
                Deletion::Finished,
                TransactWriteItem::builder().delete(delete_email).build(),
            ));
        }
        self.store.transact(Deletion::Finished, items).await
    }
}
