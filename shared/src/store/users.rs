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
use aws_sdk_dynamodb::types::builders::KeysAndAttributesBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
};

use super::items::{EmailItem, ListingTotals, PasswordItem, StandingItem, UserItem};
use super::keys::{
    COUNTS_SK, Key, PK, SK, USER_SK, attr, counts_key, email_key, family_sk, key, n, s, sk_of,
    task_key, task_sk, text, user_key, user_pk,
};
use super::tasks::{StoredTask, stored_task};
use super::writes::{backoff, condition_failed, conditional};
use super::{Store, StoreError};
use crate::auth::{Email, SessionClaim, User};
use crate::domain::{CategoryId, FamilyId, UserId};
use crate::tasks::TaskId;

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

/// How a registration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCreation {
    Created,
    /// The email belongs to an account already (maybe a concurrent registration that won);
    /// nothing was written.
    EmailTaken,
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

/// The condition that the user item exists and its deletion has not begun (names `#pk` and
/// `#deleting`; see [`user_condition_names`]).
pub(super) const USER_ACTIVE: &str = "attribute_exists(#pk) AND attribute_not_exists(#deleting)";

/// The attribute names [`USER_ACTIVE`] uses.
pub(super) fn user_condition_names() -> HashMap<String, String> {
    HashMap::from([
        ("#pk".to_string(), PK.to_string()),
        ("#deleting".to_string(), attr::DELETING.to_string()),
    ])
}

/// A condition-check item of a transaction: the user item must (still) exist and not be
/// being deleted, so nothing is written into a partition that is being swept.
pub(super) fn user_exists_check(
    store: &Store,
    user: UserId,
) -> Result<TransactWriteItem, StoreError> {
    let check = ConditionCheck::builder()
        .table_name(store.table())
        .set_key(Some(user_key(user)))
        .condition_expression(USER_ACTIVE)
        .set_expression_attribute_names(Some(user_condition_names()))
        .build()?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// The condition that the item's session generation (`#session_gen`, absent: 0) is `:gen`
/// (set to `generation`): see [`super::sessions`].
pub(super) fn generation_is(generation: u64) -> &'static str {
    if generation == 0 {
        "(attribute_not_exists(#session_gen) OR #session_gen = :gen)"
    } else {
        "#session_gen = :gen"
    }
}

/// A condition-check item of a transaction: the user is active (as [`user_exists_check`])
/// and `session` is of its current session generation, or the session that survived the
/// latest move of the generation (what [`Store::standing`] requires of a session besides its
/// family item).
pub(super) fn user_session_check(
    store: &Store,
    user: UserId,
    session: SessionClaim,
) -> Result<TransactWriteItem, StoreError> {
    let check = ConditionCheck::builder()
        .table_name(store.table())
        .set_key(Some(user_key(user)))
        .condition_expression(format!(
            "{USER_ACTIVE} AND ({} OR #kept = :family)",
            generation_is(session.generation)
        ))
        .set_expression_attribute_names(Some(user_condition_names()))
        .expression_attribute_names("#session_gen", attr::SESSION_GEN)
        .expression_attribute_names("#kept", attr::KEPT_SESSION)
        .expression_attribute_values(":gen", n(session.generation))
        .expression_attribute_values(":family", s(session.family.to_string()))
        .build()?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// What a standing read fetches besides the user and family items.
#[derive(Debug, Clone, Copy)]
enum Along {
    Nothing,
    /// The counts item (a listing's totals).
    Counts,
    /// A task item, whole, and the counts item, whose set of categories being deleted says
    /// whether the task's category lives (a get, and the first read of a write).
    Task(TaskId),
    /// The user item whole (`GET /v1/me`).
    User,
}

/// The items of a standing read, as what a standing needs of them.
fn standing_items(items: Vec<Key>) -> Result<Vec<StandingItem>, StoreError> {
    Ok(items
        .into_iter()
        .map(serde_dynamo::from_item::<_, StandingItem>)
        .collect::<Result<Vec<_>, _>>()?)
}

/// Where the user and its session stand, from the items a standing read returned: the
/// session is alive if its family item is (TTL deletes late: an expired family is gone even
/// while its item remains), and the token is of the user's current session generation or of
/// the session that survived its latest move (ending the other sessions touches none of
/// theirs: see [`super::sessions`]).
fn standing_of(items: &[StandingItem], session: SessionClaim, now: i64) -> Standing {
    let find = |sk: &str| items.iter().find(|item| item.sk.as_deref() == Some(sk));
    match find(USER_SK) {
        None => Standing::NoAccount,
        Some(StandingItem {
            deleting: Some(_), ..
        }) => Standing::Deleting,
        Some(user) => Standing::Active {
            session_alive: (user.session_gen.unwrap_or(0) == session.generation
                || user.kept_session == Some(session.family.to_string()))
                && find(&family_sk(session.family)).is_some_and(|family| {
                    family
                        .absolute_expires_at
                        .is_none_or(|expires| now < expires)
                }),
        },
    }
}

/// A condition-check item of a transaction: the session `family` of `user` still exists and
/// has not passed its absolute expiry at `now` (what [`Store::standing`] calls alive; TTL
/// deletes late, so expiry is checked, not only existence). Issue 15: a create carries it
/// instead of a standing read before it.
pub(super) fn session_alive_check(
    store: &Store,
    user: UserId,
    family: FamilyId,
    now: i64,
) -> Result<TransactWriteItem, StoreError> {
    let check = ConditionCheck::builder()
        .table_name(store.table())
        .set_key(Some(key(user_pk(user), family_sk(family))))
        .condition_expression(
            "attribute_exists(#sk) AND (attribute_not_exists(#expires) OR #expires > :now)",
        )
        .expression_attribute_names("#sk", SK)
        .expression_attribute_names("#expires", attr::ABSOLUTE_EXPIRES_AT)
        .expression_attribute_values(":now", n(now))
        .build()?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

impl Store {
    /// A transaction item writing `item` only where no item has its key yet.
    pub(super) fn put_new(&self, item: Key) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The standing of `user` alone (consistent read of the user item's key and deletion
    /// mark), for tokens that name no taskline session: `Active` counts its session alive.
    pub async fn user_standing(&self, user: UserId) -> Result<Standing, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(user_key(user)))
            .projection_expression("#pk, #deleting")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#deleting", attr::DELETING)
            .consistent_read(true)
            .send()
            .await?;
        let item = output
            .item
            .map(serde_dynamo::from_item::<_, StandingItem>)
            .transpose()?;
        Ok(match item {
            None => Standing::NoAccount,
            Some(StandingItem {
                deleting: Some(_), ..
            }) => Standing::Deleting,
            Some(_) => Standing::Active {
                session_alive: true,
            },
        })
    }

    /// Stores a new user and reserves its email in one transaction, unless the email is
    /// taken (by anyone, including a concurrent registration that won).
    pub async fn create_user(
        &self,
        user: &User,
        password_hash: String,
    ) -> Result<UserCreation, StoreError> {
        let items = vec![
            conditional(UserCreation::EmailTaken, self.put_new(email_item(user)?)?),
            conditional(
                UserCreation::EmailTaken,
                self.put_new(user_item(user, password_hash)?)?,
            ),
        ];
        self.transact(UserCreation::Created, items).await
    }

    /// The user, if it exists (consistent read).
    pub async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
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
        &self,
        email: &Email,
    ) -> Result<Option<(UserId, String)>, StoreError> {
        let reservation = self
            .client()
            .get_item()
            .table_name(self.table())
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
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(pk, USER_SK)))
            .projection_expression("#hash")
            .expression_attribute_names("#hash", attr::PASSWORD_HASH)
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

    /// The standing of `user` and of its session `family`, in one consistent `BatchGetItem`
    /// of the user item and the family item (what every authenticated request costs).
    pub async fn standing(
        &self,
        user: UserId,
        session: SessionClaim,
        now: i64,
    ) -> Result<Standing, StoreError> {
        let items = standing_items(
            self.standing_read(user, session.family, Along::Nothing)
                .await?,
        )?;
        Ok(standing_of(&items, session, now))
    }

    /// [`Self::standing`] and what a listing reads of the counts item (totals, categories
    /// being deleted), in the standing check's one `BatchGetItem` (issue 15: a listing makes
    /// one call fewer). They only mean anything when the standing admits the request.
    pub async fn standing_and_totals(
        &self,
        user: UserId,
        session: SessionClaim,
        now: i64,
    ) -> Result<(Standing, ListingTotals), StoreError> {
        let items = standing_items(
            self.standing_read(user, session.family, Along::Counts)
                .await?,
        )?;
        let totals = items
            .iter()
            .find(|item| item.sk.as_deref() == Some(COUNTS_SK))
            .map(StandingItem::listing_totals)
            .unwrap_or_default();
        Ok((standing_of(&items, session, now), totals))
    }

    /// [`Self::standing`], the task `id` of the user (readable or not) and the categories
    /// being deleted (whose ids its tasks still name, as a listing reads them), in the
    /// standing check's one `BatchGetItem` (a get is one call, whatever the task's category).
    /// They only mean anything when the standing admits the request.
    pub async fn standing_and_task(
        &self,
        user: UserId,
        session: SessionClaim,
        now: i64,
        id: TaskId,
    ) -> Result<(Standing, Option<StoredTask>, Vec<CategoryId>), StoreError> {
        let task_sk = task_sk(id);
        let (task, standing): (Vec<_>, Vec<_>) = self
            .standing_read(user, session.family, Along::Task(id))
            .await?
            .into_iter()
            .partition(|item| sk_of(item) == Some(task_sk.as_str()));
        let task = task.first().map(|item| stored_task(user, id, item));
        let standing = standing_items(standing)?;
        let deleting = standing
            .iter()
            .find(|item| item.sk.as_deref() == Some(COUNTS_SK))
            .map(|counts| counts.listing_totals().deleting_categories)
            .unwrap_or_default();
        Ok((standing_of(&standing, session, now), task, deleting))
    }

    /// [`Self::standing`] and the user, in the standing check's one `BatchGetItem` (`GET
    /// /v1/me` is one call). The user is only read when the standing admits the request.
    pub async fn standing_and_user(
        &self,
        user: UserId,
        session: SessionClaim,
        now: i64,
    ) -> Result<(Standing, Option<User>), StoreError> {
        let items = self
            .standing_read(user, session.family, Along::User)
            .await?;
        let found = items
            .iter()
            .find(|item| sk_of(item) == Some(USER_SK))
            .cloned();
        let standing = standing_of(&standing_items(items)?, session, now);
        if standing
            != (Standing::Active {
                session_alive: true,
            })
        {
            return Ok((standing, None));
        }
        let found = found
            .map(|item| User::try_from(serde_dynamo::from_item::<_, UserItem>(item)?))
            .transpose()?;
        Ok((standing, found))
    }

    /// The user item and the family item, and what `along` names, in one consistent
    /// `BatchGetItem`.
    async fn standing_read(
        &self,
        user: UserId,
        family: FamilyId,
        along: Along,
    ) -> Result<Vec<Key>, StoreError> {
        let wanted = KeysAndAttributes::builder()
            .keys(user_key(user))
            .keys(key(user_pk(user), family_sk(family)))
            .consistent_read(true);
        let standing_names = |wanted: KeysAndAttributesBuilder| {
            wanted
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#deleting", attr::DELETING)
                .expression_attribute_names("#expires", attr::ABSOLUTE_EXPIRES_AT)
                .expression_attribute_names("#session_gen", attr::SESSION_GEN)
                .expression_attribute_names("#kept", attr::KEPT_SESSION)
        };
        let wanted = match along {
            Along::Nothing => standing_names(wanted)
                .projection_expression("#sk, #deleting, #expires, #session_gen, #kept"),
            Along::Counts => standing_names(wanted)
                .keys(counts_key(user))
                .projection_expression(
                    "#sk, #deleting, #expires, #session_gen, #kept, #total, #completed, \
                     #deleting_categories",
                )
                .expression_attribute_names("#total", attr::TOTAL)
                .expression_attribute_names("#completed", attr::COMPLETED)
                .expression_attribute_names("#deleting_categories", attr::DELETING_CATEGORIES),
            // The whole task item: one projection holds for every key of a batch, so the
            // user, family and counts items come whole too (a few hundred bytes, the same
            // read units).
            Along::Task(id) => wanted.keys(task_key(user, id)).keys(counts_key(user)),
            Along::User => wanted,
        };
        self.batch_get(wanted.build()?).await
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
    async fn mark_deleting(&self, id: UserId, now: i64) -> Result<Option<Key>, StoreError> {
        let marked = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(user_key(id)))
            .update_expression("SET #deleting = if_not_exists(#deleting, :now)")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#deleting", attr::DELETING)
            .expression_attribute_values(":now", n(now))
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
        &self,
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
            let page = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(&pk))
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
                .filter(|item| sk_of(item) != Some(USER_SK))
                .collect();
            deleted_this_pass += keys.len();
            self.delete_all(keys).await?;
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
        &self,
        id: UserId,
        email: Option<String>,
    ) -> Result<Deletion, StoreError> {
        let delete_user = Delete::builder()
            .table_name(self.table())
            .set_key(Some(user_key(id)))
            .condition_expression("attribute_exists(#deleting)")
            .expression_attribute_names("#deleting", attr::DELETING)
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
                .table_name(self.table())
                .set_key(Some(email_key(Email::from_stored(email).as_str())))
                .condition_expression("attribute_not_exists(#pk) OR #owner = :owner")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#owner", attr::OWNER)
                .expression_attribute_values(":owner", s(user_pk(id)))
                .build()?;
            items.push(conditional(
                Deletion::Finished,
                TransactWriteItem::builder().delete(delete_email).build(),
            ));
        }
        self.transact(Deletion::Finished, items).await
    }
}
