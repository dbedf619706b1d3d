//! The standing of a user and of one of its sessions: what authentication reads (one
//! consistent `BatchGetItem` of the user item and the session's family item, with whatever the
//! request reads anyway: the counts item, a task, the user), and the conditions a write carries
//! instead when the standing has not been read (the user active, the session alive). A leaf of
//! the store: every aggregate writes under these conditions.

use aws_sdk_dynamodb::types::{ConditionCheck, KeysAndAttributes, TransactWriteItem};

use super::core::Store;
use super::error::StoreError;
use super::expr::{Cond, Expressed, Projecting};
use super::items::{ListingTotals, StandingItem, UserItem};
use super::keys::{
    COUNTS_SK, Key, PK, SK, USER_SK, attr, counts_key, family_sk, key, n, s, sk_of, task_key,
    task_sk, user_key, user_pk,
};
use super::task_items::{StoredTask, stored_task};
use crate::auth::{SessionClaim, User};
use crate::domain::{CategoryId, FamilyId, UserId};
use crate::tasks::TaskId;

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

/// The condition that the user item exists and its deletion has not begun.
pub(super) fn user_active() -> Cond {
    Cond::Exists(PK).and(Cond::NotExists(attr::DELETING))
}

/// The condition that the item's session generation (absent: 0) is `generation`.
pub(super) fn of_generation(generation: u64) -> Cond {
    let current = Cond::Eq(attr::SESSION_GEN, n(generation));
    if generation == 0 {
        Cond::NotExists(attr::SESSION_GEN).or(current)
    } else {
        current
    }
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
        .only_if(&user_active())
        .build()?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// A condition-check item of a transaction: the user is active (as [`user_exists_check`])
/// and `session` is of its current session generation, or the session that survived the
/// latest move of the generation (what [`Standings::of`] requires of a session besides its
/// family item).
pub(super) fn user_session_check(
    store: &Store,
    user: UserId,
    session: SessionClaim,
) -> Result<TransactWriteItem, StoreError> {
    let check = ConditionCheck::builder()
        .table_name(store.table())
        .set_key(Some(user_key(user)))
        .only_if(
            &user_active().and(
                of_generation(session.generation)
                    .or(Cond::Eq(attr::KEPT_SESSION, s(session.family.to_string()))),
            ),
        )
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
/// has not passed its absolute expiry at `now` (what [`Standings::of`] calls alive; TTL
/// deletes late, so expiry is checked, not only existence). A create carries it instead of
/// a standing read before it: one round trip, not two.
pub(super) fn session_alive_check(
    store: &Store,
    user: UserId,
    family: FamilyId,
    now: i64,
) -> Result<TransactWriteItem, StoreError> {
    let check = ConditionCheck::builder()
        .table_name(store.table())
        .set_key(Some(key(user_pk(user), family_sk(family))))
        .only_if(
            &Cond::Exists(SK).and(
                Cond::NotExists(attr::ABSOLUTE_EXPIRES_AT)
                    .or(Cond::Gt(attr::ABSOLUTE_EXPIRES_AT, n(now))),
            ),
        )
        .build()?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// What a write's transaction carries instead of a standing read before it: `session` must be
/// alive at `at` (Unix seconds), its user active. Made by the service layer from a Bearer
/// whose check is still due, which then counts the check as made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCondition {
    pub(super) session: SessionClaim,
    pub(super) at: i64,
}

impl SessionCondition {
    pub(crate) fn new(session: SessionClaim, at: i64) -> Self {
        Self { session, at }
    }
}

/// Reads of where users and sessions stand.
#[derive(Debug, Clone, Copy)]
pub struct Standings<'a> {
    pub(super) store: &'a Store,
}

impl Store {
    pub fn standings(&self) -> Standings<'_> {
        Standings { store: self }
    }
}

impl Standings<'_> {
    /// The standing of `user` alone (consistent read of the user item's key and deletion
    /// mark), for tokens that name no taskline session: `Active` counts its session alive.
    pub async fn of_user(self, user: UserId) -> Result<Standing, StoreError> {
        let output = self
            .store
            .get_item()
            .set_key(Some(user_key(user)))
            .projecting(&[PK, attr::DELETING])
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

    /// The standing of `user` and of its session `family`, in one consistent `BatchGetItem`
    /// of the user item and the family item (what every authenticated request costs).
    pub async fn of(
        self,
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

    /// [`Self::of`] and what a listing reads of the counts item (totals, categories
    /// being deleted), in the standing check's one `BatchGetItem` (a listing makes one call
    /// fewer). They only mean anything when the standing admits the request.
    pub async fn with_totals(
        self,
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

    /// [`Self::of`], the task `id` of the user (readable or not) and the categories
    /// being deleted (whose ids its tasks still name, as a listing reads them), in the
    /// standing check's one `BatchGetItem` (a get is one call, whatever the task's category).
    /// They only mean anything when the standing admits the request.
    pub async fn with_task(
        self,
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

    /// [`Self::of`] and the user, in the standing check's one `BatchGetItem` (`GET
    /// /v1/me` is one call). The user is only read when the standing admits the request.
    pub async fn with_user(
        self,
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
        self,
        user: UserId,
        family: FamilyId,
        along: Along,
    ) -> Result<Vec<Key>, StoreError> {
        let wanted = KeysAndAttributes::builder()
            .keys(user_key(user))
            .keys(key(user_pk(user), family_sk(family)))
            .consistent_read(true);
        const STANDING: [&str; 5] = [
            SK,
            attr::DELETING,
            attr::ABSOLUTE_EXPIRES_AT,
            attr::SESSION_GEN,
            attr::KEPT_SESSION,
        ];
        const TOTALS: [&str; 3] = [attr::TOTAL, attr::COMPLETED, attr::DELETING_CATEGORIES];
        let wanted = match along {
            Along::Nothing => wanted.projecting(&STANDING),
            Along::Counts => wanted
                .keys(counts_key(user))
                .projecting(&[STANDING.as_slice(), TOTALS.as_slice()].concat()),
            // The whole task item: one projection holds for every key of a batch, so the
            // user, family and counts items come whole too (a few hundred bytes, the same
            // read units).
            Along::Task(id) => wanted.keys(task_key(user, id)).keys(counts_key(user)),
            Along::User => wanted,
        };
        self.store.batch_get(wanted.build()?).await
    }
}
