//! Task items (`user_id = <user>`, `sk = TASK#<uuidv7>`) and the user's counts item
//! (`sk = COUNTS`, numbers `total` and `completed`).
//!
//! Every access is a `GetItem` or a `Query` on the user's own partition (never a `Scan`), with
//! the partition key taken from the verified token. Every write that changes `total` or
//! `completed` updates the counts item in the same `TransactWriteItems`, so counts stay exact
//! under concurrency and cost one read. Updates and deletes are conditional on the version
//! that was read: a write never overwrites a change it has not seen.
//!
//! Every write is also conditional on the user being active (existing, not being deleted), so a
//! write racing an account deletion cannot leave a task or re-create the counts item; and a
//! create is conditional on the counts item's total being below the user's quota. A write
//! that attaches a task to a category, or detaches it, moves the categories' `task_count` in
//! the same transaction, conditionally on the category being live (see [`super::categories`]).
//! A create made with an idempotency key also writes the key's record in its transaction (see
//! [`super::idempotency`]); a PUT that creates uses the same transaction under the client's id.

use aws_sdk_dynamodb::types::builders::PutBuilder;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};

use super::core::Store;
use super::error::StoreError;
use super::expr::{Changes, Cond, Expressed, Updating};
use super::idempotency::KeyedCreate;
use super::keys::{SK, attr, counts_key, n, task_key};
use super::standing::{
    SessionCondition, session_alive_check, user_exists_check, user_session_check,
};
use super::task_items::{StoredTask, UnreadableTask, stored_task, task_item};
use super::writes::{Conditional, conditional};
use crate::domain::{CategoryId, IdempotencyKey, UserId};
use crate::tasks::{Task, TaskId};

/// How a create ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// The user is gone or being deleted (a request that authenticated just before).
    AccountGone,
    /// The session the create had to find alive has ended (or expired, or is of an older
    /// session generation). The user item's one condition holds both the account's and the
    /// generation's, so a create carrying a session reports a gone account as this too.
    SessionEnded,
    /// The user holds the quota of tasks already.
    QuotaFull,
    /// The id was taken: a fresh UUIDv7 never collides, a client's (PUT) may have been
    /// created meanwhile by another request. Nothing was written.
    IdCollision,
    /// The task's `category_id` names no live category of the user.
    NoSuchCategory,
    /// The create's idempotency key is recorded for an earlier create (unexpired): nothing
    /// was written; answer that one (see [`super::Idempotency::recorded`]).
    KeyUsed,
    /// Another create with the same idempotency key held its record through every retry:
    /// it is still in flight; nothing was written.
    KeyInFlight,
}

/// How a conditional update or delete ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// The task changed (or vanished) since it was read, or another write held it: re-read
    /// and decide again.
    Conflict,
    /// The user is gone or being deleted (a request that authenticated just before).
    AccountGone,
    /// The new `category_id` names no live category of the user.
    NoSuchCategory,
}

/// The user's tasks and their counts item.
#[derive(Debug, Clone, Copy)]
pub struct Tasks<'a> {
    pub(super) store: &'a Store,
}

impl Store {
    pub fn tasks(&self) -> Tasks<'_> {
        Tasks { store: self }
    }
}

impl Tasks<'_> {
    fn put_task(self, user: UserId, task: &Task) -> Result<PutBuilder, StoreError> {
        Ok(Put::builder()
            .table_name(self.store.table())
            .set_item(Some(task_item(user, task)?)))
    }

    /// `ADD` deltas to the user's counts item (created on first use), with `quota` (if
    /// given) as the condition that the total is still below it before this write.
    fn counts_update(
        self,
        user: UserId,
        total: i64,
        completed: i64,
        quota: Option<u64>,
    ) -> Result<TransactWriteItem, StoreError> {
        let changes = Changes::default()
            .add(attr::TOTAL, n(total))
            .add(attr::COMPLETED, n(completed));
        let below_quota =
            quota.map(|quota| Cond::NotExists(attr::TOTAL).or(Cond::Lt(attr::TOTAL, n(quota))));
        let update = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(counts_key(user)))
            .changing(&changes, below_quota.as_ref())
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The counts update of a task write, whose failure (no condition) would be a conflict.
    fn counted(
        self,
        user: UserId,
        total: i64,
        completed: i64,
    ) -> Result<Conditional<WriteOutcome>, StoreError> {
        Ok(conditional(
            WriteOutcome::Conflict,
            self.counts_update(user, total, completed, None)?,
        ))
    }

    /// Stores a new task and counts it, atomically — only while the user exists and is not
    /// being deleted (a task created during an account deletion cannot outlive the account),
    /// and only while the user holds fewer than `quota` tasks (checked on the counts item in
    /// the same transaction, so parallel creates cannot exceed it either).
    ///
    /// `session`: the session of the request's token when its standing has not been checked
    /// yet; the transaction then also requires that session to be alive, so that a create is
    /// one round trip, the standing check folded into its own transaction.
    pub async fn create(
        self,
        user: UserId,
        session: Option<SessionCondition>,
        task: &Task,
        quota: u64,
    ) -> Result<CreateOutcome, StoreError> {
        self.create_counted(user, session, task, quota, None).await
    }

    /// [`Self::create`] made with an idempotency key: the same transaction, which also
    /// records `create` under `key` at `now` (Unix seconds) and is refused with
    /// [`CreateOutcome::KeyUsed`] if an unexpired record of the key exists (see
    /// [`super::idempotency`]). The record comes right after the user's and session's
    /// conditions: a replay is answered even if the quota has filled or the category has
    /// gone since the first create.
    pub async fn create_once(
        self,
        user: UserId,
        session: Option<SessionCondition>,
        task: &Task,
        quota: u64,
        (key, create, now): (&IdempotencyKey, &KeyedCreate, i64),
    ) -> Result<CreateOutcome, StoreError> {
        let record = self.store.idempotency().record_create(
            (user, key, create, now),
            CreateOutcome::KeyUsed,
            CreateOutcome::KeyInFlight,
        )?;
        self.create_counted(user, session, task, quota, Some(record))
            .await
    }

    /// The one transaction of every create: the user (and session) conditions, the
    /// idempotency record if any, the task under its id, the counts item under the quota, the
    /// category's count.
    async fn create_counted(
        self,
        user: UserId,
        session: Option<SessionCondition>,
        task: &Task,
        quota: u64,
        record: Option<Conditional<CreateOutcome>>,
    ) -> Result<CreateOutcome, StoreError> {
        let put = self
            .put_task(user, task)?
            .only_if(&Cond::NotExists(SK))
            .build()?;
        let mut items = Vec::new();
        match session {
            // One condition on the user item: active, and the session of its generation.
            Some(SessionCondition { session, at: now }) => {
                items.push(conditional(
                    CreateOutcome::SessionEnded,
                    user_session_check(self.store, user, session)?,
                ));
                items.push(conditional(
                    CreateOutcome::SessionEnded,
                    session_alive_check(self.store, user, session.family, now)?,
                ));
            }
            None => items.push(conditional(
                CreateOutcome::AccountGone,
                user_exists_check(self.store, user)?,
            )),
        }
        items.extend(record);
        // The id before the quota: a PUT that lost the race to create its id re-reads and
        // replaces, even when the winner took the last place of the quota.
        items.push(conditional(
            CreateOutcome::IdCollision,
            TransactWriteItem::builder().put(put).build(),
        ));
        items.push(conditional(
            CreateOutcome::QuotaFull,
            self.counts_update(user, 1, i64::from(task.fields.completed), Some(quota))?,
        ));
        items.extend(self.store.categories().category_moves(
            user,
            None,
            task.fields.category_id,
            CreateOutcome::NoSuchCategory,
            CreateOutcome::IdCollision,
        )?);
        self.store.transact(CreateOutcome::Created, items).await
    }

    /// One readable task of the user (consistent read), or `None`; for tools and tests (the
    /// API reads with [`Self::read`], which also reports unreadable items).
    pub async fn get(self, user: UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        match self.read(user, id).await? {
            None => Ok(None),
            Some(StoredTask::Task(task)) => Ok(Some(task)),
            Some(StoredTask::Unreadable(_)) => Err(StoreError::Corrupt("unreadable task")),
        }
    }

    /// One task item of the user (consistent read), readable or not, or `None`.
    pub async fn read(self, user: UserId, id: TaskId) -> Result<Option<StoredTask>, StoreError> {
        let output = self
            .store
            .get_item()
            .set_key(Some(task_key(user, id)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item.as_ref().map(|item| stored_task(user, id, item)))
    }

    /// Deletes an unreadable task item if it is still as read, and uncounts it.
    pub async fn delete_unreadable(
        self,
        user: UserId,
        current: &UnreadableTask,
    ) -> Result<WriteOutcome, StoreError> {
        let delete = Delete::builder()
            .table_name(self.store.table())
            .set_key(Some(task_key(user, current.id)))
            .only_if(&current.unchanged())
            .build()?;
        self.delete_counted(user, delete, current.completed, current.category_id)
            .await
    }

    /// Replaces an unreadable task item by `next` if it is still as read.
    pub async fn replace_unreadable(
        self,
        user: UserId,
        current: &UnreadableTask,
        next: &Task,
    ) -> Result<WriteOutcome, StoreError> {
        let put = self
            .put_task(user, next)?
            .only_if(&current.unchanged())
            .build()?;
        let completed_delta = i64::from(next.fields.completed) - i64::from(current.completed);
        let moved = (current.category_id, next.fields.category_id);
        self.put_replacement(user, put, completed_delta, moved)
            .await
    }

    /// Replaces `current` by `next` if the stored version is still `current.version` (and the
    /// user is still active); a completion change moves the completed count in the same
    /// transaction, a category change the categories' task counts (`current`'s category must
    /// be the one it shows: live, see [`Categories::live`]).
    pub async fn replace(
        self,
        user: UserId,
        current: &Task,
        next: &Task,
    ) -> Result<WriteOutcome, StoreError> {
        let put = self
            .put_task(user, next)?
            .only_if(&Cond::Eq(attr::VERSION, n(current.version)))
            .build()?;
        let completed_delta =
            i64::from(next.fields.completed) - i64::from(current.fields.completed);
        let moved = (current.fields.category_id, next.fields.category_id);
        self.put_replacement(user, put, completed_delta, moved)
            .await
    }

    /// The conditional `put` of a replaced task, only while the user is active, moving the
    /// completed count by `completed_delta` and the task from category `moved.0` to `moved.1`
    /// in the same transaction.
    async fn put_replacement(
        self,
        user: UserId,
        put: Put,
        completed_delta: i64,
        (from, to): (Option<CategoryId>, Option<CategoryId>),
    ) -> Result<WriteOutcome, StoreError> {
        let mut items = vec![conditional(
            WriteOutcome::Conflict,
            TransactWriteItem::builder().put(put).build(),
        )];
        if completed_delta != 0 {
            items.push(self.counted(user, 0, completed_delta)?);
        }
        items.extend(self.store.categories().category_moves(
            user,
            from,
            to,
            WriteOutcome::NoSuchCategory,
            WriteOutcome::Conflict,
        )?);
        self.transact_task(user, items).await
    }

    /// Deletes `current` if the stored version is still `current.version` (and the user is
    /// still active), and uncounts it.
    pub async fn delete(self, user: UserId, current: &Task) -> Result<WriteOutcome, StoreError> {
        let delete = Delete::builder()
            .table_name(self.store.table())
            .set_key(Some(task_key(user, current.id)))
            .only_if(&Cond::Eq(attr::VERSION, n(current.version)))
            .build()?;
        self.delete_counted(
            user,
            delete,
            current.fields.completed,
            current.fields.category_id,
        )
        .await
    }

    /// The conditional `delete` of a task, only while the user is active, uncounting it (and
    /// from its `category`) in the same transaction.
    async fn delete_counted(
        self,
        user: UserId,
        delete: Delete,
        completed: bool,
        category: Option<CategoryId>,
    ) -> Result<WriteOutcome, StoreError> {
        let mut items = vec![
            conditional(
                WriteOutcome::Conflict,
                TransactWriteItem::builder().delete(delete).build(),
            ),
            self.counted(user, -1, -i64::from(completed))?,
        ];
        items.extend(self.store.categories().category_moves(
            user,
            category,
            None,
            WriteOutcome::NoSuchCategory,
            WriteOutcome::Conflict,
        )?);
        self.transact_task(user, items).await
    }

    /// A task write conditional on the user being active (checked first): its failure means
    /// the account is gone or being deleted; any other failed condition means "the task
    /// changed since it was read".
    async fn transact_task(
        self,
        user: UserId,
        items: Vec<Conditional<WriteOutcome>>,
    ) -> Result<WriteOutcome, StoreError> {
        let mut all = vec![conditional(
            WriteOutcome::AccountGone,
            user_exists_check(self.store, user)?,
        )];
        all.extend(items);
        self.store.transact(WriteOutcome::Written, all).await
    }
}
