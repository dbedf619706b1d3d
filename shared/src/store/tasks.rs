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
//! create is conditional on the counts item's total being below the user's quota.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::builders::PutBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use super::users::user_exists_check;
use super::writes::build;
use super::{PK, SK, Store};
use crate::domain::UserId;
use crate::error::ApiError;
use crate::tasks::{
    ListFilters, ListPosition, Order, Priority, Task, TaskCounts, TaskDescription, TaskFields,
    TaskId, TaskTitle, Timestamp,
};

/// Sort key prefix of task items.
pub const TASK_SK_PREFIX: &str = "TASK#";
/// Sort key of the counts item.
pub const COUNTS_SK: &str = "COUNTS";

/// The most task items one listing request reads from DynamoDB. Filters are applied after
/// reading (DynamoDB applies `Limit` before `FilterExpression`), so a selective filter could
/// otherwise read a whole partition for one page; past this cap the page is returned short,
/// with a `next_cursor` to continue. 1000 small items stay well under DynamoDB's 1 MB per
/// `Query` and a few round trips.
pub const MAX_ITEMS_READ_PER_LIST: usize = 1000;

const TITLE: &str = "title";
const TITLE_LC: &str = "title_lc";
const DESCRIPTION: &str = "description";
const COMPLETED: &str = "completed";
const PRIORITY: &str = "priority";
const DUE_DATE: &str = "due_date";
const CREATED_AT: &str = "created_at";
const UPDATED_AT: &str = "updated_at";
const VERSION: &str = "version";
const TOTAL: &str = "total";

type Item = HashMap<String, AttributeValue>;

/// How a conditional write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// The task changed (or vanished) since it was read, or another write held it: re-read
    /// and decide again.
    Conflict,
}

/// One page of a listing, with what it cost.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub tasks: Vec<Task>,
    /// Where the next page starts, if the partition may hold more matching tasks.
    pub next: Option<ListPosition>,
    /// Task items DynamoDB read (before filtering) to build this page.
    pub items_read: usize,
    /// `Query` calls made.
    pub queries: usize,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn task_sk(id: TaskId) -> String {
    format!("{TASK_SK_PREFIX}{id}")
}

fn task_key(user: UserId, id: TaskId) -> Item {
    HashMap::from([
        (PK.into(), s(user.to_string())),
        (SK.into(), s(task_sk(id))),
    ])
}

/// The stored form of a task. Public so that seeding (devtools, benchmarks) writes exactly
/// the layout the API reads.
pub fn task_item(user: UserId, task: &Task) -> Item {
    let f = &task.fields;
    let mut item = task_key(user, task.id);
    item.insert(TITLE.into(), s(f.title.as_str()));
    item.insert(TITLE_LC.into(), s(f.title.search_key()));
    if let Some(description) = &f.description {
        item.insert(DESCRIPTION.into(), s(description.as_str()));
    }
    item.insert(COMPLETED.into(), AttributeValue::Bool(f.completed));
    item.insert(PRIORITY.into(), s(f.priority.as_str()));
    if let Some(due) = f.due_date {
        item.insert(DUE_DATE.into(), s(due.to_rfc3339()));
    }
    item.insert(CREATED_AT.into(), s(task.created_at.to_rfc3339()));
    item.insert(UPDATED_AT.into(), s(task.updated_at.to_rfc3339()));
    item.insert(VERSION.into(), n(task.version));
    item
}

/// The counts item holding `counts` (seeding only; the API only ever adds to it).
pub fn counts_item(user: UserId, counts: TaskCounts) -> Item {
    HashMap::from([
        (PK.into(), s(user.to_string())),
        (SK.into(), s(COUNTS_SK)),
        (TOTAL.into(), n(counts.total)),
        (COMPLETED.into(), n(counts.completed)),
    ])
}

fn corrupt(what: &str) -> ApiError {
    ApiError::Internal(format!("stored task has an invalid {what}"))
}

fn text<'a>(item: &'a Item, name: &str) -> Result<&'a str, ApiError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(corrupt(name)),
    }
}

fn optional_text<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>, ApiError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v)),
        _ => Err(corrupt(name)),
    }
}

fn number(item: &Item, name: &str) -> Result<i64, ApiError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().map_err(|_| corrupt(name)),
        _ => Err(corrupt(name)),
    }
}

fn timestamp(value: &str, name: &str) -> Result<Timestamp, ApiError> {
    Timestamp::parse(value).ok_or_else(|| corrupt(name))
}

fn task_id_of(item: &Item) -> Result<TaskId, ApiError> {
    text(item, SK)?
        .strip_prefix(TASK_SK_PREFIX)
        .and_then(TaskId::parse)
        .ok_or_else(|| corrupt("key"))
}

/// A stored item back into a task; stored data is validated again, so a corrupt item is
/// reported as unreadable rather than returned as invalid output.
fn task_from_item(item: &Item) -> Result<Task, ApiError> {
    let fields = TaskFields {
        title: TaskTitle::from_stored(text(item, TITLE)?).map_err(|_| corrupt(TITLE))?,
        description: optional_text(item, DESCRIPTION)?
            .map(|d| TaskDescription::from_stored(d).map_err(|_| corrupt(DESCRIPTION)))
            .transpose()?,
        completed: match item.get(COMPLETED) {
            Some(AttributeValue::Bool(b)) => *b,
            _ => return Err(corrupt(COMPLETED)),
        },
        priority: Priority::parse(text(item, PRIORITY)?).ok_or_else(|| corrupt(PRIORITY))?,
        due_date: optional_text(item, DUE_DATE)?
            .map(|d| timestamp(d, DUE_DATE))
            .transpose()?,
    };
    Ok(Task {
        id: task_id_of(item)?,
        fields,
        created_at: timestamp(text(item, CREATED_AT)?, CREATED_AT)?,
        updated_at: timestamp(text(item, UPDATED_AT)?, UPDATED_AT)?,
        version: u64::try_from(number(item, VERSION)?).map_err(|_| corrupt(VERSION))?,
    })
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
    /// What is wrong with the item (names an attribute, never its value).
    pub reason: String,
    /// The `version` attribute exactly as stored (or absent): writes are conditional on it.
    stored_version: Option<AttributeValue>,
    created_at: Option<Timestamp>,
}

impl UnreadableTask {
    fn of(id: TaskId, item: &Item, error: ApiError) -> Self {
        let reason = match error {
            ApiError::Internal(reason) => reason,
            other => other.to_string(),
        };
        Self {
            id,
            version: number(item, VERSION)
                .ok()
                .and_then(|v| u64::try_from(v).ok()),
            completed: matches!(item.get(COMPLETED), Some(AttributeValue::Bool(true))),
            reason,
            stored_version: item.get(VERSION).cloned(),
            created_at: text(item, CREATED_AT).ok().and_then(Timestamp::parse),
        }
    }

    /// The problem a read of this task answers: a 500 that says which task and what is
    /// wrong, and how to get rid of it.
    pub fn error(&self) -> ApiError {
        ApiError::Unreadable(format!(
            "task {} cannot be read ({}); replace it with PUT or delete it",
            self.id, self.reason
        ))
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
    fn unchanged(
        &self,
    ) -> (
        String,
        HashMap<String, String>,
        Option<HashMap<String, AttributeValue>>,
    ) {
        let names = HashMap::from([
            ("#sk".to_string(), SK.to_string()),
            ("#version".to_string(), VERSION.to_string()),
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
        Err(error) => {
            let unreadable = UnreadableTask::of(id, item, error);
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

impl Store {
    fn put_task(&self, user: UserId, task: &Task) -> PutBuilder {
        Put::builder()
            .table_name(self.table())
            .set_item(Some(task_item(user, task)))
    }

    /// `ADD` deltas to the user's counts item (created on first use).
    fn update_counts(
        &self,
        user: UserId,
        total: i64,
        completed: i64,
    ) -> Result<TransactWriteItem, ApiError> {
        self.counts_update(user, total, completed, None)
    }

    /// [`Self::update_counts`], with `quota` (if given) as the condition that the total is
    /// still below it before this write.
    fn counts_update(
        &self,
        user: UserId,
        total: i64,
        completed: i64,
        quota: Option<u64>,
    ) -> Result<TransactWriteItem, ApiError> {
        let mut update = Update::builder()
            .table_name(self.table())
            .key(PK, s(user.to_string()))
            .key(SK, s(COUNTS_SK))
            .update_expression("ADD #total :total, #completed :completed")
            .expression_attribute_names("#total", TOTAL)
            .expression_attribute_names("#completed", COMPLETED)
            .expression_attribute_values(":total", n(total))
            .expression_attribute_values(":completed", n(completed));
        if let Some(quota) = quota {
            update = update
                .condition_expression("attribute_not_exists(#total) OR #total < :quota")
                .expression_attribute_values(":quota", n(quota));
        }
        Ok(TransactWriteItem::builder()
            .update(build(update.build())?)
            .build())
    }

    /// Stores a new task and counts it, atomically — only while the user exists and is not
    /// being deleted (a task created during an account deletion cannot outlive the account),
    /// and only while the user holds fewer than `quota` tasks (checked on the counts item in
    /// the same transaction, so parallel creates cannot exceed it either).
    pub async fn create_task(&self, user: UserId, task: &Task, quota: u64) -> Result<(), ApiError> {
        let put = build(
            self.put_task(user, task)
                .condition_expression("attribute_not_exists(#sk)")
                .expression_attribute_names("#sk", SK)
                .build(),
        )?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            self.counts_update(user, 1, i64::from(task.fields.completed), Some(quota))?,
            user_exists_check(self, user)?,
        ];
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(failed) if failed.failed(2) => Err(account_gone()),
            Err(failed) if failed.failed(1) => Err(ApiError::Conflict(
                "the task quota of this account is reached; delete tasks to make room",
            )),
            // A fresh UUIDv7 never collides; if it did, nothing was written.
            Err(_) => Err(ApiError::Internal("task id collision".into())),
        }
    }

    /// One task of the user (consistent read), or `None`; an item that does not parse is
    /// its [`UnreadableTask::error`].
    pub async fn get_task(&self, user: UserId, id: TaskId) -> Result<Option<Task>, ApiError> {
        match self.read_task(user, id).await? {
            None => Ok(None),
            Some(StoredTask::Task(task)) => Ok(Some(task)),
            Some(StoredTask::Unreadable(unreadable)) => Err(unreadable.error()),
        }
    }

    /// One task item of the user (consistent read), readable or not, or `None`.
    pub async fn read_task(
        &self,
        user: UserId,
        id: TaskId,
    ) -> Result<Option<StoredTask>, ApiError> {
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
    ) -> Result<WriteOutcome, ApiError> {
        let (condition, names, values) = current.unchanged();
        let delete = build(
            Delete::builder()
                .table_name(self.table())
                .set_key(Some(task_key(user, current.id)))
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(values)
                .build(),
        )?;
        self.transact_task(vec![
            user_exists_check(self, user)?,
            TransactWriteItem::builder().delete(delete).build(),
            self.update_counts(user, -1, -i64::from(current.completed))?,
        ])
        .await
    }

    /// Replaces an unreadable task item by `next` if it is still as read.
    pub async fn replace_unreadable_task(
        &self,
        user: UserId,
        current: &UnreadableTask,
        next: &Task,
    ) -> Result<WriteOutcome, ApiError> {
        let (condition, names, values) = current.unchanged();
        let put = build(
            self.put_task(user, next)
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(values)
                .build(),
        )?;
        let completed_delta = i64::from(next.fields.completed) - i64::from(current.completed);
        self.put_replacement(user, put, completed_delta).await
    }

    /// Replaces `current` by `next` if the stored version is still `current.version` (and the
    /// user is still active); a completion change moves the completed count in the same
    /// transaction.
    pub async fn replace_task(
        &self,
        user: UserId,
        current: &Task,
        next: &Task,
    ) -> Result<WriteOutcome, ApiError> {
        let put = build(
            self.put_task(user, next)
                .condition_expression("#version = :read_version")
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":read_version", n(current.version))
                .build(),
        )?;
        let completed_delta =
            i64::from(next.fields.completed) - i64::from(current.fields.completed);
        self.put_replacement(user, put, completed_delta).await
    }

    /// The conditional `put` of a replaced task, only while the user is active, moving the
    /// completed count by `completed_delta` in the same transaction.
    async fn put_replacement(
        &self,
        user: UserId,
        put: Put,
        completed_delta: i64,
    ) -> Result<WriteOutcome, ApiError> {
        let mut items = vec![
            user_exists_check(self, user)?,
            TransactWriteItem::builder().put(put).build(),
        ];
        if completed_delta != 0 {
            items.push(self.update_counts(user, 0, completed_delta)?);
        }
        self.transact_task(items).await
    }

    /// Deletes `current` if the stored version is still `current.version` (and the user is
    /// still active), and uncounts it.
    pub async fn delete_task(
        &self,
        user: UserId,
        current: &Task,
    ) -> Result<WriteOutcome, ApiError> {
        let delete = build(
            Delete::builder()
                .table_name(self.table())
                .set_key(Some(task_key(user, current.id)))
                .condition_expression("#version = :read_version")
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":read_version", n(current.version))
                .build(),
        )?;
        self.transact_task(vec![
            user_exists_check(self, user)?,
            TransactWriteItem::builder().delete(delete).build(),
            self.update_counts(user, -1, -i64::from(current.fields.completed))?,
        ])
        .await
    }

    /// The user's totals: one consistent read of the counts item (zero before any task).
    pub async fn task_counts(&self, user: UserId) -> Result<TaskCounts, ApiError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(PK, s(user.to_string()))
            .key(SK, s(COUNTS_SK))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(TaskCounts::default());
        };
        let count = |name| -> Result<u64, ApiError> {
            match item.get(name) {
                None => Ok(0),
                Some(_) => Ok(u64::try_from(number(&item, name)?).unwrap_or(0)),
            }
        };
        Ok(TaskCounts {
            total: count(TOTAL)?,
            completed: count(COMPLETED)?,
        })
    }

    /// One page of the user's tasks matching `filters`, after `after`. Reads until the page
    /// (plus one task, to know whether more follow) is full, the partition ends or
    /// [`MAX_ITEMS_READ_PER_LIST`] items were read.
    pub async fn list_tasks(
        &self,
        user: UserId,
        filters: &ListFilters,
        limit: usize,
        after: Option<ListPosition>,
    ) -> Result<ListPage, ApiError> {
        let want = limit + 1;
        let mut tasks: Vec<Task> = Vec::with_capacity(want);
        let mut start = after.map(|p| task_key(user, p.0));
        let mut items_read = 0;
        let mut queries = 0;
        // A filtered read keeps only some items: read in growing batches to save round trips.
        let mut batch = if filters.is_filtered() {
            (want * 4).max(100)
        } else {
            want
        };

        let (filter_expression, names, values) = filter_expression(filters);
        loop {
            let budget = MAX_ITEMS_READ_PER_LIST - items_read;
            let read_limit = if filters.is_filtered() {
                batch.min(budget)
            } else {
                (want - tasks.len()).min(budget)
            };
            let mut request = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :task)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(user.to_string()))
                .expression_attribute_values(":task", s(TASK_SK_PREFIX))
                .scan_index_forward(filters.order == Order::Asc)
                .consistent_read(true)
                .limit(i32::try_from(read_limit).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            if let Some(expression) = &filter_expression {
                request = request.filter_expression(expression);
                for (k, v) in &names {
                    request = request.expression_attribute_names(*k, *v);
                }
                for (k, v) in &values {
                    request = request.expression_attribute_values(*k, v.clone());
                }
            }
            let output = request.send().await?;
            queries += 1;
            items_read += usize::try_from(output.scanned_count).unwrap_or(0);
            for item in output.items() {
                // One unreadable item never blocks the others: it is logged and skipped.
                match task_id_of(item).map(|id| stored_task(user, id, item)) {
                    Ok(StoredTask::Task(task)) => tasks.push(task),
                    Ok(StoredTask::Unreadable(_)) => {}
                    Err(_) => tracing::error!(
                        user_id = %user,
                        sk = text(item, SK).unwrap_or("(not a string)"),
                        "stored item with a malformed task key cannot be read"
                    ),
                }
            }
            start = output.last_evaluated_key;
            if tasks.len() >= want || start.is_none() || items_read >= MAX_ITEMS_READ_PER_LIST {
                break;
            }
            batch = batch.saturating_mul(2);
        }

        let next = if tasks.len() > limit {
            tasks.truncate(limit);
            tasks.last().map(|t| ListPosition(t.id))
        } else {
            // Short page: the partition ended (no key), or the read cap was hit (continue
            // after the last item read, matching or not; after the last task returned if
            // that item's key is not a task id).
            start.as_ref().and_then(|key| {
                task_id_of(key)
                    .ok()
                    .or(tasks.last().map(|t| t.id))
                    .map(ListPosition)
            })
        };
        tracing::debug!(items_read, queries, returned = tasks.len(), "listed tasks");
        Ok(ListPage {
            tasks,
            next,
            items_read,
            queries,
        })
    }

    /// A transaction whose first item is [`user_exists_check`]: its failure means the account
    /// is gone or being deleted; any other failed condition means "the task changed since it
    /// was read".
    async fn transact_task(&self, items: Vec<TransactWriteItem>) -> Result<WriteOutcome, ApiError> {
        match self.transact(items).await? {
            Ok(()) => Ok(WriteOutcome::Written),
            Err(failed) if failed.failed(0) => Err(account_gone()),
            Err(_) => Ok(WriteOutcome::Conflict),
        }
    }
}

/// A task write refused because its user is gone or being deleted (a request that
/// authenticated just before the deletion began).
fn account_gone() -> ApiError {
    ApiError::unauthorized_bearer("the account no longer exists")
}

type Names = Vec<(&'static str, &'static str)>;
type Values = Vec<(&'static str, AttributeValue)>;

/// The `FilterExpression` of a listing's filters (all combined with AND).
fn filter_expression(filters: &ListFilters) -> (Option<String>, Names, Values) {
    let mut clauses = Vec::new();
    let mut names = Vec::new();
    let mut values = Vec::new();
    if let Some(completed) = filters.completed {
        clauses.push("#completed = :completed");
        names.push(("#completed", COMPLETED));
        values.push((":completed", AttributeValue::Bool(completed)));
    }
    if let Some(priority) = filters.priority {
        clauses.push("#priority = :priority");
        names.push(("#priority", PRIORITY));
        values.push((":priority", s(priority.as_str())));
    }
    if let Some(q) = &filters.q {
        clauses.push("contains(#title_lc, :q)");
        names.push(("#title_lc", TITLE_LC));
        values.push((":q", s(q.clone())));
    }
    let expression = (!clauses.is_empty()).then(|| clauses.join(" AND "));
    (expression, names, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_to_tasks() {
        let task = Task::new(TaskFields {
            title: TaskTitle::parse("Buy Milk").unwrap(),
            description: Some(TaskDescription::parse("2 litres").unwrap()),
            completed: true,
            priority: Priority::High,
            due_date: Timestamp::parse("2026-12-01T10:00:00+01:00"),
        });
        let item = task_item(UserId::generate(), &task);
        assert_eq!(item[TITLE_LC], s("buy milk"));
        assert_eq!(task_from_item(&item).unwrap(), task);

        let bare = Task::new(TaskFields {
            description: None,
            due_date: None,
            ..task.fields.clone()
        });
        let item = task_item(UserId::generate(), &bare);
        assert!(!item.contains_key(DESCRIPTION) && !item.contains_key(DUE_DATE));
        assert_eq!(task_from_item(&item).unwrap(), bare);
    }

    #[test]
    fn filters_combine_with_and() {
        let (expression, names, values) = filter_expression(&ListFilters {
            completed: Some(true),
            priority: Some(Priority::Low),
            q: Some("milk".into()),
            order: Order::Desc,
        });
        assert_eq!(
            expression.as_deref(),
            Some("#completed = :completed AND #priority = :priority AND contains(#title_lc, :q)")
        );
        assert_eq!((names.len(), values.len()), (3, 3));
        assert_eq!(filter_expression(&ListFilters::default()).0, None);
    }
}
