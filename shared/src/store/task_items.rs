//! Task items as read: a task, or an item that no longer parses, named by its key.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::error::StoreError;
use super::expr::Cond;
use super::items::{CountsItem, TaskItem, TaskRemains};
use super::keys::{SK, attr, sk_of, task_id_of_sk, task_sk};
use crate::domain::{CategoryId, Timestamp, UserId};
use crate::tasks::{Task, TaskCounts, TaskFields, TaskId};

pub(super) type Item = HashMap<String, AttributeValue>;

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
    pub(super) fn unchanged(&self) -> Cond {
        let version = match &self.stored_version {
            Some(version) => Cond::Eq(attr::VERSION, version.clone()),
            None => Cond::NotExists(attr::VERSION),
        };
        Cond::Exists(SK).and(version)
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

pub(super) fn task_id_of(item: &Item) -> Option<TaskId> {
    sk_of(item).and_then(task_id_of_sk)
}
