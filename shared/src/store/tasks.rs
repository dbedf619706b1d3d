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

use std::collections::HashMap;

use aws_sdk_dynamodb::types::builders::PutBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use super::idempotency::KeyedCreate;
use super::items::{CountsItem, TaskItem, TaskRemains};
use super::keys::{
    Key, PK, SK, TASK_SK_PREFIX, attr, counts_key, n, s, sk_of, task_id_of_sk, task_key, task_sk,
    user_pk,
};
use super::users::{session_alive_check, user_exists_check};
use super::writes::{Conditional, conditional};
use super::{Store, StoreError};
use crate::domain::{CategoryId, FamilyId, IdempotencyKey, Timestamp, UserId};
use crate::tasks::{
    CategoryFilter, ListFilters, ListPosition, Order, Task, TaskCounts, TaskFields, TaskId,
};

/// The most task items one listing request reads from DynamoDB. Filters are applied after
/// reading (DynamoDB applies `Limit` before `FilterExpression`), so a selective filter could
/// otherwise read a whole partition for one page; past this cap the page is returned short,
/// with a `next_cursor` to continue. 1000 small items stay well under DynamoDB's 1 MB per
/// `Query` and a few round trips.
pub const MAX_ITEMS_READ_PER_LIST: usize = 1000;

type Item = HashMap<String, AttributeValue>;

/// How a create ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// The user is gone or being deleted (a request that authenticated just before).
    AccountGone,
    /// The session the create had to find alive has ended (or expired).
    SessionEnded,
    /// The user holds the quota of tasks already.
    QuotaFull,
    /// The id was taken: a fresh UUIDv7 never collides, a client's (PUT) may have been
    /// created meanwhile by another request. Nothing was written.
    IdCollision,
    /// The task's `category_id` names no live category of the user.
    NoSuchCategory,
    /// The create's idempotency key is recorded for an earlier create (unexpired): nothing
    /// was written; answer that one (see [`Store::keyed_create`]).
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

/// One page of a listing, with what it cost.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub tasks: Vec<Task>,
    /// Where the next page starts, if the partition may hold more matching tasks.
    pub next: Option<ListPosition>,
    /// Task items DynamoDB read (before filtering) to build this page.
    pub items_read: usize,
    /// `Query` calls made.
    pub queries: usize,
}

/// The stored form of a task. Public so that seeding (devtools, benchmarks) writes exactly
/// the layout the API reads.
pub fn task_item(user: UserId, task: &Task) -> Result<Item, StoreError> {
    Ok(serde_dynamo::to_item(TaskItem::new(user, task))?)
}

/// The counts item holding `counts` (seeding only; the API only ever adds to it).
pub fn counts_item(user: UserId, counts: TaskCounts) -> Result<Item, StoreError> {
    Ok(serde_dynamo::to_item(CountsItem::new(user, counts))?)
}

/// A stored item back into a task, or why it cannot be one (names an attribute, never a value).
fn task_from_item(item: &Item) -> Result<Task, String> {
    let item: TaskItem = serde_dynamo::from_item(item.clone())
        .map_err(|_| "stored task does not have the layout of a task".to_string())?;
    Task::try_from(item)
}

/// A task item as read: a task, or an item that no longer parses (seeded by hand, written by
/// an older version, or holding a value this version refuses).
#[derive(Debug, Clone, PartialEq)]
pub enum StoredTask {
    Task(Task),
    Unreadable(UnreadableTask),
}

/// What can still be read of a task item that does not parse: enough to delete it or to
/// replace it with new fields, conditionally on it being unchanged since it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct UnreadableTask {
    pub id: TaskId,
    /// The stored version, if it is a valid one.
    pub version: Option<u64>,
    /// Whether the item counts as completed in the counts item.
    pub completed: bool,
    /// The category the item names, if that can be read (its count moves with the item).
    pub category_id: Option<CategoryId>,
    /// What is wrong with the item (names an attribute, never its value).
    pub reason: String,
    /// The `version` attribute exactly as stored (or absent): writes are conditional on it.
    stored_version: Option<AttributeValue>,
    created_at: Option<Timestamp>,
}

impl UnreadableTask {
    fn of(id: TaskId, item: &Item, reason: String) -> Self {
        let remains: TaskRemains = serde_dynamo::from_item(item.clone()).unwrap_or_default();
        Self {
            id,
            version: remains.version,
            completed: remains.completed == Some(true),
            category_id: remains.category_id.as_deref().and_then(CategoryId::parse),
            reason,
            stored_version: item.get(attr::VERSION).cloned(),
            created_at: remains.created_at.as_deref().and_then(Timestamp::parse),
        }
    }

    /// What a read of this task answers: which task and what is wrong, and how to get rid
    /// of it (the detail of a 500 problem).
    pub fn problem(&self) -> String {
        format!(
            "task {} cannot be read ({}); replace it with PUT or delete it",
            self.id, self.reason
        )
    }

    /// The task that replaces this item with `fields` (a PUT): its creation time is kept
    /// when it can be read, its version continues when it can be read.
    pub fn replaced_by(&self, fields: TaskFields) -> Task {
        let now = Timestamp::now();
        let created_at = self.created_at.unwrap_or(now);
        Task {
            id: self.id,
            fields,
            created_at,
            updated_at: now.max(created_at),
            version: self.version.map_or(1, |v| v.saturating_add(1)),
        }
    }

    /// The condition "the item is still exactly as read": it exists, with the same raw
    /// `version` attribute (or still none).
    fn unchanged(&self) -> (String, HashMap<String, String>, Option<Item>) {
        let names = HashMap::from([
            ("#sk".to_string(), SK.to_string()),
            ("#version".to_string(), attr::VERSION.to_string()),
        ]);
        match &self.stored_version {
            Some(version) => (
                "attribute_exists(#sk) AND #version = :read_version".into(),
                names,
                Some(HashMap::from([(
                    ":read_version".to_string(),
                    version.clone(),
                )])),
            ),
            None => (
                "attribute_exists(#sk) AND attribute_not_exists(#version)".into(),
                names,
                None,
            ),
        }
    }
}

/// Reads a task item; one that does not parse is logged with its key (never its values).
fn stored_task(user: UserId, id: TaskId, item: &Item) -> StoredTask {
    match task_from_item(item) {
        Ok(task) => StoredTask::Task(task),
        Err(reason) => {
            let unreadable = UnreadableTask::of(id, item, reason);
            tracing::error!(
                user_id = %user,
                sk = %task_sk(id),
                reason = %unreadable.reason,
                "stored task cannot be read"
            );
            StoredTask::Unreadable(unreadable)
        }
    }
}

fn task_id_of(item: &Item) -> Option<TaskId> {
    sk_of(item).and_then(task_id_of_sk)
}

impl Store {
    fn put_task(&self, user: UserId, task: &Task) -> Result<PutBuilder, StoreError> {
        Ok(Put::builder()
            .table_name(self.table())
            .set_item(Some(task_item(user, task)?)))
    }

    /// `ADD` deltas to the user's counts item (created on first use), with `quota` (if
    /// given) as the condition that the total is still below it before this write.
    fn counts_update(
        &self,
        user: UserId,
        total: i64,
        completed: i64,
        quota: Option<u64>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(counts_key(user)))
            .update_expression("ADD #total :total, #completed :completed")
            .expression_attribute_names("#total", attr::TOTAL)
            .expression_attribute_names("#completed", attr::COMPLETED)
            .expression_attribute_values(":total", n(total))
            .expression_attribute_values(":completed", n(completed));
        if let Some(quota) = quota {
            update = update
                .condition_expression("attribute_not_exists(#total) OR #total < :quota")
                .expression_attribute_values(":quota", n(quota));
        }
        Ok(TransactWriteItem::builder().update(update.build()?).build())
    }

    /// The counts update of a task write, whose failure (no condition) would be a conflict.
    fn counted(
        &self,
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
    /// yet; the transaction then also requires that session to be alive at `now` (issue 15:
    /// a create is one round trip, the standing check folded into its own transaction).
    pub async fn create_task(
        &self,
        user: UserId,
        session: Option<(FamilyId, i64)>,
        task: &Task,
        quota: u64,
    ) -> Result<CreateOutcome, StoreError> {
        self.create_task_keyed(user, session, task, quota, None)
            .await
    }

    /// [`Self::create_task`] made with an idempotency key: the same transaction, which also
    /// records `create` under `key` at `now` (Unix seconds) and is refused with
    /// [`CreateOutcome::KeyUsed`] if an unexpired record of the key exists (see
    /// [`super::idempotency`]). The record comes right after the user's and session's
    /// conditions: a replay is answered even if the quota has filled or the category has
    /// gone since the first create.
    pub async fn create_task_once(
        &self,
        user: UserId,
        session: Option<(FamilyId, i64)>,
        task: &Task,
        quota: u64,
        (key, create, now): (&IdempotencyKey, &KeyedCreate, i64),
    ) -> Result<CreateOutcome, StoreError> {
        let record = self.record_create(user, key, create, now)?;
        self.create_task_keyed(user, session, task, quota, Some(record))
            .await
    }

    async fn create_task_keyed(
        &self,
        user: UserId,
        session: Option<(FamilyId, i64)>,
        task: &Task,
        quota: u64,
        record: Option<Conditional<CreateOutcome>>,
    ) -> Result<CreateOutcome, StoreError> {
        let put = self
            .put_task(user, task)?
            .condition_expression("attribute_not_exists(#sk)")
            .expression_attribute_names("#sk", SK)
            .build()?;
        let mut items = vec![conditional(
            CreateOutcome::AccountGone,
            user_exists_check(self, user)?,
        )];
        if let Some((family, now)) = session {
            items.push(conditional(
                CreateOutcome::SessionEnded,
                session_alive_check(self, user, family, now)?,
            ));
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
        items.extend(self.category_moves(
            user,
            None,
            task.fields.category_id,
            CreateOutcome::NoSuchCategory,
            CreateOutcome::IdCollision,
        )?);
        self.transact(CreateOutcome::Created, items).await
    }

    /// One readable task of the user (consistent read), or `None`; for tools and tests (the
    /// API reads with [`Self::read_task`], which also reports unreadable items).
    pub async fn get_task(&self, user: UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        match self.read_task(user, id).await? {
            None => Ok(None),
            Some(StoredTask::Task(task)) => Ok(Some(task)),
            Some(StoredTask::Unreadable(_)) => Err(StoreError::Corrupt("unreadable task")),
        }
    }

    /// One task item of the user (consistent read), readable or not, or `None`.
    pub async fn read_task(
        &self,
        user: UserId,
        id: TaskId,
    ) -> Result<Option<StoredTask>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(task_key(user, id)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item.as_ref().map(|item| stored_task(user, id, item)))
    }

    /// Deletes an unreadable task item if it is still as read, and uncounts it.
    pub async fn delete_unreadable_task(
        &self,
        user: UserId,
        current: &UnreadableTask,
    ) -> Result<WriteOutcome, StoreError> {
        let (condition, names, values) = current.unchanged();
        let delete = Delete::builder()
            .table_name(self.table())
            .set_key(Some(task_key(user, current.id)))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(values)
            .build()?;
        self.delete_counted(user, delete, current.completed, current.category_id)
            .await
    }

    /// Replaces an unreadable task item by `next` if it is still as read.
    pub async fn replace_unreadable_task(
        &self,
        user: UserId,
        current: &UnreadableTask,
        next: &Task,
    ) -> Result<WriteOutcome, StoreError> {
        let (condition, names, values) = current.unchanged();
        let put = self
            .put_task(user, next)?
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(values)
            .build()?;
        let completed_delta = i64::from(next.fields.completed) - i64::from(current.completed);
        let moved = (current.category_id, next.fields.category_id);
        self.put_replacement(user, put, completed_delta, moved)
            .await
    }

    /// Replaces `current` by `next` if the stored version is still `current.version` (and the
    /// user is still active); a completion change moves the completed count in the same
    /// transaction, a category change the categories' task counts (`current`'s category must
    /// be the one it shows: live, see [`Store::live_category`]).
    pub async fn replace_task(
        &self,
        user: UserId,
        current: &Task,
        next: &Task,
    ) -> Result<WriteOutcome, StoreError> {
        let put = self
            .put_task(user, next)?
            .condition_expression("#version = :read_version")
            .expression_attribute_names("#version", attr::VERSION)
            .expression_attribute_values(":read_version", n(current.version))
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
        &self,
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
        items.extend(self.category_moves(
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
    pub async fn delete_task(
        &self,
        user: UserId,
        current: &Task,
    ) -> Result<WriteOutcome, StoreError> {
        let delete = Delete::builder()
            .table_name(self.table())
            .set_key(Some(task_key(user, current.id)))
            .condition_expression("#version = :read_version")
            .expression_attribute_names("#version", attr::VERSION)
            .expression_attribute_values(":read_version", n(current.version))
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
        &self,
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
        items.extend(self.category_moves(
            user,
            category,
            None,
            WriteOutcome::NoSuchCategory,
            WriteOutcome::Conflict,
        )?);
        self.transact_task(user, items).await
    }

    /// The user's totals: one consistent read of the counts item (zero before any task).
    pub async fn task_counts(&self, user: UserId) -> Result<TaskCounts, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(counts_key(user)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(match output.item {
            None => TaskCounts::default(),
            Some(item) => serde_dynamo::from_item::<_, CountsItem>(item)?.into(),
        })
    }

    /// One page of the user's tasks matching `filters`, after `after`, as if the user had no
    /// category (tools and tests; see [`Self::list_tasks_among`]).
    pub async fn list_tasks(
        &self,
        user: UserId,
        filters: &ListFilters,
        limit: usize,
        after: Option<ListPosition>,
    ) -> Result<ListPage, StoreError> {
        self.list_tasks_among(user, filters, &[], limit, after)
            .await
    }

    /// One page of the user's tasks matching `filters`, after `after`, knowing the user's
    /// `live` categories: with `category=none`, a task naming a category not among them
    /// (deleted, or being deleted) counts as uncategorised. Reads until the page (plus one
    /// task, to know whether more follow) is full, the partition ends or
    /// [`MAX_ITEMS_READ_PER_LIST`] items were read.
    pub async fn list_tasks_among(
        &self,
        user: UserId,
        filters: &ListFilters,
        live: &[CategoryId],
        limit: usize,
        after: Option<ListPosition>,
    ) -> Result<ListPage, StoreError> {
        let mut read = Listing::new(limit, filters.is_filtered());
        let mut start = after.map(|p| task_key(user, p.0));
        let filter = filter_expression(filters, live);
        loop {
            let read_limit = read.next_limit();
            let output = self
                .list_query(user, filters.order, &filter, read_limit, start.take())
                .send()
                .await?;
            read.queries += 1;
            read.items_read += usize::try_from(output.scanned_count).unwrap_or(0);
            for item in output.items() {
                read.keep(user, item);
            }
            start = output.last_evaluated_key;
            if read.done(start.is_none()) {
                break;
            }
        }
        Ok(read.page(limit, start.as_ref()))
    }

    /// One `Query` of a listing: task items of `user` in `order`, filtered, from `start`.
    fn list_query(
        &self,
        user: UserId,
        order: Order,
        (filter, names, values): &Filter,
        read_limit: usize,
        start: Option<Key>,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let mut request = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :task)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(user_pk(user)))
            .expression_attribute_values(":task", s(TASK_SK_PREFIX))
            .scan_index_forward(order == Order::Asc)
            .consistent_read(true)
            .limit(i32::try_from(read_limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start);
        if let Some(expression) = filter {
            request = request.filter_expression(expression);
            for (k, v) in names {
                request = request.expression_attribute_names(*k, *v);
            }
            for (k, v) in values {
                request = request.expression_attribute_values(k, v.clone());
            }
        }
        request
    }

    /// A task write conditional on the user being active (checked first): its failure means
    /// the account is gone or being deleted; any other failed condition means "the task
    /// changed since it was read".
    async fn transact_task(
        &self,
        user: UserId,
        items: Vec<Conditional<WriteOutcome>>,
    ) -> Result<WriteOutcome, StoreError> {
        let mut all = vec![conditional(
            WriteOutcome::AccountGone,
            user_exists_check(self, user)?,
        )];
        all.extend(items);
        self.transact(WriteOutcome::Written, all).await
    }
}

/// The progress of one listing across its `Query` calls.
struct Listing {
    want: usize,
    filtered: bool,
    /// A filtered read keeps only some items: read in growing batches to save round trips.
    batch: usize,
    tasks: Vec<Task>,
    items_read: usize,
    queries: usize,
}

impl Listing {
    fn new(limit: usize, filtered: bool) -> Self {
        let want = limit + 1;
        Self {
            want,
            filtered,
            batch: if filtered { (want * 4).max(100) } else { want },
            tasks: Vec::with_capacity(want),
            items_read: 0,
            queries: 0,
        }
    }

    /// The `Limit` of the next `Query`.
    fn next_limit(&self) -> usize {
        let budget = MAX_ITEMS_READ_PER_LIST - self.items_read;
        if self.filtered {
            self.batch.min(budget)
        } else {
            (self.want - self.tasks.len()).min(budget)
        }
    }

    /// Keeps a task read; one unreadable item never blocks the others: it is logged and
    /// skipped.
    fn keep(&mut self, user: UserId, item: &Item) {
        match task_id_of(item).map(|id| stored_task(user, id, item)) {
            Some(StoredTask::Task(task)) => self.tasks.push(task),
            Some(StoredTask::Unreadable(_)) => {}
            None => tracing::error!(
                user_id = %user,
                sk = sk_of(item).unwrap_or("(not a string)"),
                "stored item with a malformed task key cannot be read"
            ),
        }
    }

    /// Whether the page is complete after a `Query` (`ended`: the partition has no more).
    fn done(&mut self, ended: bool) -> bool {
        let done =
            self.tasks.len() >= self.want || ended || self.items_read >= MAX_ITEMS_READ_PER_LIST;
        self.batch = self.batch.saturating_mul(2);
        done
    }

    fn page(mut self, limit: usize, last_read: Option<&Key>) -> ListPage {
        let next = if self.tasks.len() > limit {
            self.tasks.truncate(limit);
            self.tasks.last().map(|t| ListPosition(t.id))
        } else {
            // Short page: the partition ended (no key), or the read cap was hit (continue
            // after the last item read, matching or not; after the last task returned if
            // that item's key is not a task id).
            last_read.and_then(|key| {
                task_id_of(key)
                    .or(self.tasks.last().map(|t| t.id))
                    .map(ListPosition)
            })
        };
        tracing::debug!(
            items_read = self.items_read,
            queries = self.queries,
            returned = self.tasks.len(),
            "listed tasks"
        );
        ListPage {
            tasks: self.tasks,
            next,
            items_read: self.items_read,
            queries: self.queries,
        }
    }
}

type Names = Vec<(&'static str, &'static str)>;
type Values = Vec<(String, AttributeValue)>;
type Filter = (Option<String>, Names, Values);

/// The `FilterExpression` of a listing's filters (all combined with AND); `live` are the
/// user's live categories (what `category=none` excludes).
fn filter_expression(filters: &ListFilters, live: &[CategoryId]) -> Filter {
    let mut clauses: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let mut values: Values = Vec::new();
    if let Some(completed) = filters.completed {
        clauses.push("#completed = :completed".into());
        names.push(("#completed", attr::COMPLETED));
        values.push((":completed".into(), AttributeValue::Bool(completed)));
    }
    if let Some(priority) = filters.priority {
        clauses.push("#priority = :priority".into());
        names.push(("#priority", attr::PRIORITY));
        values.push((":priority".into(), s(priority.as_str())));
    }
    if let Some(q) = &filters.q {
        clauses.push("contains(#title_lc, :q)".into());
        names.push(("#title_lc", attr::TITLE_LC));
        values.push((":q".into(), s(q.clone())));
    }
    match filters.category {
        None => {}
        Some(CategoryFilter::Category(id)) => {
            clauses.push("#category_id = :category_id".into());
            names.push(("#category_id", attr::CATEGORY_ID));
            values.push((":category_id".into(), s(id.to_string())));
        }
        // Without live categories every task is uncategorised: nothing to filter.
        Some(CategoryFilter::Uncategorised) if live.is_empty() => {}
        Some(CategoryFilter::Uncategorised) => {
            // At most 100 live categories per user: within the 100 operands `IN` takes.
            let operands: Vec<String> = (0..live.len()).map(|i| format!(":live{i}")).collect();
            clauses.push(format!(
                "(attribute_not_exists(#category_id) OR NOT (#category_id IN ({})))",
                operands.join(", ")
            ));
            names.push(("#category_id", attr::CATEGORY_ID));
            for (operand, id) in operands.into_iter().zip(live) {
                values.push((operand, s(id.to_string())));
            }
        }
    }
    let expression = (!clauses.is_empty()).then(|| clauses.join(" AND "));
    (expression, names, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::Priority;

    #[test]
    fn filters_combine_with_and() {
        let (expression, names, values) = filter_expression(
            &ListFilters {
                completed: Some(true),
                priority: Some(Priority::Low),
                q: Some("milk".into()),
                order: Order::Desc,
                category: None,
            },
            &[],
        );
        assert_eq!(
            expression.as_deref(),
            Some("#completed = :completed AND #priority = :priority AND contains(#title_lc, :q)")
        );
        assert_eq!((names.len(), values.len()), (3, 3));
        assert_eq!(filter_expression(&ListFilters::default(), &[]).0, None);
        let uncategorised = ListFilters {
            category: Some(CategoryFilter::Uncategorised),
            ..ListFilters::default()
        };
        assert_eq!(filter_expression(&uncategorised, &[]).0, None);
        let live = [CategoryId::generate(), CategoryId::generate()];
        let (expression, _, values) = filter_expression(&uncategorised, &live);
        assert_eq!(
            expression.as_deref(),
            Some("(attribute_not_exists(#category_id) OR NOT (#category_id IN (:live0, :live1)))")
        );
        assert_eq!(values.len(), 2);
    }
}
