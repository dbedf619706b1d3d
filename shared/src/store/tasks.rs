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
use super::items::{CountsItem, ListingTotals, StandingItem, TaskItem, TaskRemains};
use super::keys::{
    DUE_INDEX, DUE_KEY_DATED, DUE_KEY_UNDATED, Key, PK, PRIORITY_INDEX, SK, TASK_SK_PREFIX, attr,
    counts_key, n, prefix_end, s, sk_of, task_id_of_sk, task_key, task_sk, text, user_pk,
};
use super::users::{session_alive_check, user_exists_check, user_session_check};
use super::writes::{Conditional, conditional};
use super::{Store, StoreError};
use crate::auth::SessionClaim;
use crate::domain::{CategoryId, IdempotencyKey, Timestamp, UserId};
use crate::tasks::{
    CategoryFilter, ListFilters, ListPosition, Order, Sort, Task, TaskCounts, TaskFields, TaskId,
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
pub(super) fn stored_task(user: UserId, id: TaskId, item: &Item) -> StoredTask {
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
        session: Option<(SessionClaim, i64)>,
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
        session: Option<(SessionClaim, i64)>,
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
        session: Option<(SessionClaim, i64)>,
        task: &Task,
        quota: u64,
        record: Option<Conditional<CreateOutcome>>,
    ) -> Result<CreateOutcome, StoreError> {
        let put = self
            .put_task(user, task)?
            .condition_expression("attribute_not_exists(#sk)")
            .expression_attribute_names("#sk", SK)
            .build()?;
        let mut items = Vec::new();
        match session {
            // One condition on the user item: active, and the session of its generation.
            Some((session, now)) => {
                items.push(conditional(
                    CreateOutcome::SessionEnded,
                    user_session_check(self, user, session)?,
                ));
                items.push(conditional(
                    CreateOutcome::SessionEnded,
                    session_alive_check(self, user, session.family, now)?,
                ));
            }
            None => items.push(conditional(
                CreateOutcome::AccountGone,
                user_exists_check(self, user)?,
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

    /// What a listing reads of the counts item (totals, categories being deleted): one
    /// consistent read (zero and none before any task or category).
    pub async fn listing_totals(&self, user: UserId) -> Result<ListingTotals, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(counts_key(user)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(match output.item {
            None => ListingTotals::default(),
            Some(item) => serde_dynamo::from_item::<_, StandingItem>(item)?.listing_totals(),
        })
    }

    /// One page of the user's tasks matching `filters`, after `after`, as if the user had no
    /// category, read now (tools and tests; see [`Self::list_tasks_among`]).
    pub async fn list_tasks(
        &self,
        user: UserId,
        filters: &ListFilters,
        limit: usize,
        after: Option<&ListPosition>,
    ) -> Result<ListPage, StoreError> {
        let request = ListRequest {
            filters,
            deleting: &[],
            limit,
            after,
            as_of: Timestamp::now(),
        };
        self.list_tasks_among(user, request).await
    }

    /// One page of the user's tasks as `request` asks. Reads the listing's key ranges in
    /// order (see [`segments`]) until the page (plus one task, to know whether more follow)
    /// is full, the ranges end or [`MAX_ITEMS_READ_PER_LIST`] items were read.
    pub async fn list_tasks_among(
        &self,
        user: UserId,
        request: ListRequest<'_>,
    ) -> Result<ListPage, StoreError> {
        let filters = request.filters;
        let filter = filter_expression(filters, request.deleting, request.as_of);
        let segments = segments(filters, request.as_of);
        // A listing resumes in the range holding its cursor's position.
        let (first, mut start) = match request.after {
            None => (0, None),
            Some(position) => match segments.iter().position(|s| s.holds(position)) {
                Some(i) => (i, segments.get(i).map(|s| s.start_key(user, position))),
                // Unreachable: a cursor is sealed for these filters and this time, so its
                // position lies in one of their ranges. Nothing to continue.
                None => return Ok(ListPage::default()),
            },
        };
        let mut read = Listing::new(request.limit, filters.is_filtered(), filters.sort);
        for (i, segment) in segments.iter().enumerate().skip(first) {
            loop {
                let output = self
                    .segment_query(user, segment, filters.order, &filter, read.next_limit())
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await?;
                read.queries += 1;
                read.items_read += usize::try_from(output.scanned_count).unwrap_or(0);
                for item in output.items() {
                    read.keep(user, item);
                }
                start = output.last_evaluated_key;
                if let Some(key) = &start {
                    read.reached(key);
                }
                let more_may_follow = start.is_some() || i + 1 < segments.len();
                if read.is_full() || read.is_capped() {
                    return Ok(read.page(more_may_follow));
                }
                if start.is_none() {
                    break;
                }
            }
        }
        Ok(read.page(false))
    }

    /// One `Query` of a listing: the task items of `user` in `segment`, in `order`, filtered.
    fn segment_query(
        &self,
        user: UserId,
        segment: &Segment,
        order: Order,
        (filter, names, values): &Filter,
        read_limit: usize,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let mut request = self
            .client()
            .query()
            .table_name(self.table())
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(user_pk(user)))
            .scan_index_forward(order == Order::Asc)
            .limit(i32::try_from(read_limit).unwrap_or(i32::MAX));
        request = match segment.index {
            // Only the table reads consistently; an index is eventually consistent.
            None => request.consistent_read(true),
            Some(index) => request.index_name(index.name),
        };
        let key_attr = segment.index.map_or(SK, |index| index.key);
        request = match &segment.range {
            KeyRange::Any => request.key_condition_expression("#pk = :pk"),
            KeyRange::Between(lo, hi) => request
                .key_condition_expression("#pk = :pk AND #key BETWEEN :lo AND :hi")
                .expression_attribute_names("#key", key_attr)
                .expression_attribute_values(":lo", s(lo.clone()))
                .expression_attribute_values(":hi", s(hi.clone())),
        };
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

/// What one listing request asks the store for.
#[derive(Debug, Clone, Copy)]
pub struct ListRequest<'a> {
    pub filters: &'a ListFilters,
    /// The user's categories being deleted ([`ListingTotals::deleting_categories`]): with
    /// `category=none`, a task naming one of them counts as uncategorised. (A task only ever
    /// names a live category or one being deleted: a deletion detaches every task before it
    /// removes the category.)
    pub deleting: &'a [CategoryId],
    pub limit: usize,
    /// Where the listing continues (the position a cursor carried).
    pub after: Option<&'a ListPosition>,
    /// The listing's time: what `overdue` compares due dates with.
    pub as_of: Timestamp,
}

/// A secondary index a listing reads, and its sort-key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Index {
    name: &'static str,
    key: &'static str,
}

const DUE: Index = Index {
    name: DUE_INDEX,
    key: attr::DUE_KEY,
};
const PRIORITY: Index = Index {
    name: PRIORITY_INDEX,
    key: attr::PRIORITY_KEY,
};

/// Which sort keys of a segment a listing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyRange {
    Any,
    /// Inclusive bounds.
    Between(String, String),
}

impl KeyRange {
    /// The keys beginning with `prefix`, as a range (see [`prefix_end`]: a `BETWEEN`, not a
    /// `begins_with`).
    fn prefix(prefix: &str) -> Self {
        Self::Between(prefix.to_string(), prefix_end(prefix))
    }

    fn contains(&self, key: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Between(lo, hi) => (lo.as_str()..=hi.as_str()).contains(&key),
        }
    }
}

/// One key range of the table (`index: None`) or of an index, read in the listing's order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    index: Option<Index>,
    range: KeyRange,
}

impl Segment {
    /// Whether a listing that stopped at `position` continues in this segment.
    fn holds(&self, position: &ListPosition) -> bool {
        match (self.index, position.index_key.as_deref()) {
            (None, None) => true,
            (Some(_), Some(key)) => self.range.contains(key),
            _ => false,
        }
    }

    /// The `ExclusiveStartKey` that continues after `position`: the table's key, and the
    /// index's sort key when reading an index.
    fn start_key(&self, user: UserId, position: &ListPosition) -> Key {
        let mut key = task_key(user, position.id);
        if let (Some(index), Some(index_key)) = (self.index, &position.index_key) {
            key.insert(index.key.to_string(), s(index_key.clone()));
        }
        key
    }
}

/// The key ranges a listing reads, in order. By creation: the table's task items. By
/// priority: the priority index. By due date: the dated keys (narrowed to the due-date
/// filters: the bounds are also in the filter expression, which keeps them strict), then —
/// in both orders, so that tasks without a due date come last — the undated keys, unless a
/// filter needs a due date.
fn segments(filters: &ListFilters, as_of: Timestamp) -> Vec<Segment> {
    match filters.sort {
        Sort::Created => vec![Segment {
            index: None,
            range: KeyRange::prefix(TASK_SK_PREFIX),
        }],
        Sort::Priority => vec![Segment {
            index: Some(PRIORITY),
            range: KeyRange::Any,
        }],
        Sort::Due => {
            // Overdue tasks are due before the listing's time.
            let before = match filters.overdue {
                Some(true) => Some(filters.due_before.map_or(as_of, |b| b.min(as_of))),
                _ => filters.due_before,
            };
            let dated = |t: Option<Timestamp>, open: &str| {
                t.map_or_else(
                    || format!("{DUE_KEY_DATED}{open}"),
                    |t| format!("{DUE_KEY_DATED}{}", t.to_rfc3339()),
                )
            };
            // `~` sorts after every digit: above every dated key.
            let mut segments = vec![Segment {
                index: Some(DUE),
                range: KeyRange::Between(dated(filters.due_after, ""), dated(before, "~")),
            }];
            let needs_due_date = filters.due_before.is_some()
                || filters.due_after.is_some()
                || filters.overdue == Some(true);
            if !needs_due_date {
                segments.push(Segment {
                    index: Some(DUE),
                    range: KeyRange::prefix(DUE_KEY_UNDATED),
                });
            }
            segments
        }
    }
}

/// The progress of one listing across its `Query` calls.
struct Listing {
    want: usize,
    filtered: bool,
    /// The index attribute whose value is a kept task's position (`None`: the table's key).
    index_key: Option<&'static str>,
    /// A filtered read keeps only some items: read in growing batches to save round trips.
    batch: usize,
    tasks: Vec<(Task, ListPosition)>,
    /// The furthest position read (a `LastEvaluatedKey`, or the last task kept): where a
    /// page cut short by the read cap continues.
    reached: Option<ListPosition>,
    items_read: usize,
    queries: usize,
}

impl Listing {
    fn new(limit: usize, filtered: bool, sort: Sort) -> Self {
        let want = limit + 1;
        Self {
            want,
            filtered,
            index_key: match sort {
                Sort::Created => None,
                Sort::Due => Some(DUE.key),
                Sort::Priority => Some(PRIORITY.key),
            },
            batch: if filtered { (want * 4).max(100) } else { want },
            tasks: Vec::with_capacity(want),
            reached: None,
            items_read: 0,
            queries: 0,
        }
    }

    /// The `Limit` of the next `Query`; grows for filtered reads.
    fn next_limit(&mut self) -> usize {
        let budget = MAX_ITEMS_READ_PER_LIST
            .saturating_sub(self.items_read)
            .max(1);
        if self.filtered {
            let limit = self.batch.min(budget);
            self.batch = self.batch.saturating_mul(2);
            limit
        } else {
            (self.want.saturating_sub(self.tasks.len())).clamp(1, budget)
        }
    }

    /// The position of an item (or key) in this listing's order.
    fn position_of(&self, item: &Item) -> Option<ListPosition> {
        let id = task_id_of(item)?;
        let index_key = match self.index_key {
            None => None,
            Some(attr) => Some(text(item, attr)?.to_string()),
        };
        Some(ListPosition { id, index_key })
    }

    /// Keeps a task read; one unreadable item never blocks the others: it is logged and
    /// skipped.
    fn keep(&mut self, user: UserId, item: &Item) {
        let Some(position) = self.position_of(item) else {
            tracing::error!(
                user_id = %user,
                sk = sk_of(item).unwrap_or("(not a string)"),
                "stored item with a malformed task key cannot be read"
            );
            return;
        };
        if let StoredTask::Task(task) = stored_task(user, position.id, item) {
            self.tasks.push((task, position.clone()));
        }
        self.reached = Some(position);
    }

    /// A `Query` stopped at `key` (its `LastEvaluatedKey`).
    fn reached(&mut self, key: &Key) {
        if let Some(position) = self.position_of(key) {
            self.reached = Some(position);
        }
    }

    fn is_full(&self) -> bool {
        self.tasks.len() >= self.want
    }

    fn is_capped(&self) -> bool {
        self.items_read >= MAX_ITEMS_READ_PER_LIST
    }

    /// The page; `more_may_follow`: the read stopped before the listing's ranges ended.
    fn page(mut self, more_may_follow: bool) -> ListPage {
        let limit = self.want - 1;
        let next = if self.tasks.len() > limit {
            self.tasks.truncate(limit);
            self.tasks.last().map(|(_, position)| position.clone())
        } else if more_may_follow {
            // Cut short by the read cap: continue after the furthest item read, matching or
            // not.
            self.reached.take()
        } else {
            None
        };
        tracing::debug!(
            items_read = self.items_read,
            queries = self.queries,
            returned = self.tasks.len(),
            "listed tasks"
        );
        ListPage {
            tasks: self.tasks.into_iter().map(|(task, _)| task).collect(),
            next,
            items_read: self.items_read,
            queries: self.queries,
        }
    }
}

type Names = Vec<(&'static str, &'static str)>;
type Values = Vec<(String, AttributeValue)>;
type Filter = (Option<String>, Names, Values);

/// The `FilterExpression` of a listing's filters (all combined with AND); `deleting` are the
/// user's categories being deleted (whose tasks `category=none` includes).
fn filter_expression(filters: &ListFilters, deleting: &[CategoryId], as_of: Timestamp) -> Filter {
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
        Some(CategoryFilter::Uncategorised) if deleting.is_empty() => {
            clauses.push("attribute_not_exists(#category_id)".into());
            names.push(("#category_id", attr::CATEGORY_ID));
        }
        Some(CategoryFilter::Uncategorised) => {
            // `IN` takes at most 100 operands; deletions finish in the request that begins
            // them, so more than 99 unfinished at once do not happen (past that, the tasks of
            // the extra ones are left out of `category=none` until their deletion resumes).
            let operands: Vec<String> = (0..deleting.len().min(99))
                .map(|i| format!(":deleting{i}"))
                .collect();
            clauses.push(format!(
                "(attribute_not_exists(#category_id) OR #category_id IN ({}))",
                operands.join(", ")
            ));
            names.push(("#category_id", attr::CATEGORY_ID));
            for (operand, id) in operands.into_iter().zip(deleting) {
                values.push((operand, s(id.to_string())));
            }
        }
    }
    if filters.due_before.is_some() || filters.due_after.is_some() || filters.overdue.is_some() {
        names.push(("#due_date", attr::DUE_DATE));
    }
    // Due dates are stored as fixed-width UTC strings: comparing the strings compares the
    // times. A task without a due date is neither before nor after any time.
    if let Some(before) = filters.due_before {
        clauses.push("#due_date < :due_before".into());
        values.push((":due_before".into(), s(before.to_rfc3339())));
    }
    if let Some(after) = filters.due_after {
        clauses.push("#due_date > :due_after".into());
        values.push((":due_after".into(), s(after.to_rfc3339())));
    }
    if let Some(overdue) = filters.overdue {
        clauses.push(if overdue {
            "(#due_date < :as_of AND #completed = :not_done)".into()
        } else {
            "(attribute_not_exists(#due_date) OR #due_date >= :as_of OR #completed <> :not_done)"
                .into()
        });
        names.push(("#completed", attr::COMPLETED));
        values.push((":as_of".into(), s(as_of.to_rfc3339())));
        values.push((":not_done".into(), AttributeValue::Bool(false)));
    }
    let expression = (!clauses.is_empty()).then(|| clauses.join(" AND "));
    (expression, names, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys;
    use crate::tasks::Priority;

    #[test]
    fn filters_combine_with_and() {
        let now = Timestamp::now();
        let (expression, names, values) = filter_expression(
            &ListFilters {
                completed: Some(true),
                priority: Some(Priority::Low),
                q: Some("milk".into()),
                ..ListFilters::default()
            },
            &[],
            now,
        );
        assert_eq!(
            expression.as_deref(),
            Some("#completed = :completed AND #priority = :priority AND contains(#title_lc, :q)")
        );
        assert_eq!((names.len(), values.len()), (3, 3));
        assert_eq!(filter_expression(&ListFilters::default(), &[], now).0, None);
        let uncategorised = ListFilters {
            category: Some(CategoryFilter::Uncategorised),
            ..ListFilters::default()
        };
        assert_eq!(
            filter_expression(&uncategorised, &[], now).0.as_deref(),
            Some("attribute_not_exists(#category_id)")
        );
        let deleting = [CategoryId::generate(), CategoryId::generate()];
        let (expression, _, values) = filter_expression(&uncategorised, &deleting, now);
        assert_eq!(
            expression.as_deref(),
            Some(
                "(attribute_not_exists(#category_id) OR #category_id IN (:deleting0, :deleting1))"
            )
        );
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn due_sorts_read_dated_keys_then_undated_ones_unless_a_due_date_is_needed() {
        let now = Timestamp::parse("2026-12-02T12:00:00Z").unwrap();
        let due = |f: ListFilters| {
            segments(
                &ListFilters {
                    sort: Sort::Due,
                    ..f
                },
                now,
            )
        };
        let undated = Segment {
            index: Some(DUE),
            range: KeyRange::prefix("N#"),
        };
        let dated = |lo: &str, hi: &str| Segment {
            index: Some(DUE),
            range: KeyRange::Between(lo.into(), hi.into()),
        };
        assert_eq!(
            due(ListFilters::default()),
            [dated("D#", "D#~"), undated.clone()]
        );
        assert_eq!(
            due(ListFilters {
                overdue: Some(false),
                ..ListFilters::default()
            }),
            [dated("D#", "D#~"), undated]
        );
        assert_eq!(
            due(ListFilters {
                overdue: Some(true),
                ..ListFilters::default()
            }),
            [dated("D#", "D#2026-12-02T12:00:00.000Z")]
        );
        let later = Timestamp::parse("2027-01-01T00:00:00Z");
        let earlier = Timestamp::parse("2026-01-01T00:00:00Z");
        assert_eq!(
            due(ListFilters {
                due_before: later,
                due_after: earlier,
                overdue: Some(true),
                ..ListFilters::default()
            }),
            [dated(
                "D#2026-01-01T00:00:00.000Z",
                "D#2026-12-02T12:00:00.000Z"
            )]
        );
        assert_eq!(
            due(ListFilters {
                due_before: earlier,
                ..ListFilters::default()
            }),
            [dated("D#", "D#2026-01-01T00:00:00.000Z")]
        );
        // The range holds the keys of tasks strictly inside it and the cursor positions
        // within it; a task due exactly at the upper bound is outside.
        let range = KeyRange::Between("D#".into(), "D#2026-12-02T12:00:00.000Z".into());
        let id = TaskId::generate();
        assert!(range.contains(&keys::due_key(
            id,
            Timestamp::parse("2026-12-02T11:59:59.999Z")
        )));
        assert!(!range.contains(&keys::due_key(id, Some(now))));
        assert!(!range.contains(&keys::due_key(id, None)));
        assert!(
            KeyRange::Between("D#".into(), "D#~".into()).contains(&keys::due_key(
                id,
                Timestamp::parse("9999-12-31T23:59:59.999Z")
            ))
        );
    }

    #[test]
    fn other_sorts_read_one_range() {
        let now = Timestamp::now();
        assert_eq!(
            segments(&ListFilters::default(), now),
            [Segment {
                index: None,
                range: KeyRange::prefix("TASK#")
            }]
        );
        let by_priority = ListFilters {
            sort: Sort::Priority,
            overdue: Some(true),
            ..ListFilters::default()
        };
        assert_eq!(
            segments(&by_priority, now),
            [Segment {
                index: Some(PRIORITY),
                range: KeyRange::Any
            }]
        );
    }

    #[test]
    fn due_date_filters_are_strict_and_overdue_excludes_completed_tasks() {
        let now = Timestamp::parse("2026-12-02T12:00:00Z").unwrap();
        let filters = ListFilters {
            due_before: Timestamp::parse("2027-01-01T00:00:00Z"),
            due_after: Timestamp::parse("2026-01-01T00:00:00Z"),
            overdue: Some(true),
            ..ListFilters::default()
        };
        let (expression, _, values) = filter_expression(&filters, &[], now);
        assert_eq!(
            expression.as_deref(),
            Some(
                "#due_date < :due_before AND #due_date > :due_after AND (#due_date < :as_of AND #completed = :not_done)"
            )
        );
        assert!(values.contains(&(":as_of".into(), s("2026-12-02T12:00:00.000Z"))));
        let not_overdue = ListFilters {
            overdue: Some(false),
            ..ListFilters::default()
        };
        assert_eq!(
            filter_expression(&not_overdue, &[], now).0.as_deref(),
            Some(
                "(attribute_not_exists(#due_date) OR #due_date >= :as_of OR #completed <> :not_done)"
            )
        );
    }
}
