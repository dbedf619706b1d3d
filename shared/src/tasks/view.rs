//! A stored task, its JSON representation and the user's totals.

use serde::Serialize;

use super::{TaskDescription, TaskFields, TaskId};
use crate::domain::{CategoryId, Timestamp};

/// A stored task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub fields: TaskFields,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

impl Task {
    /// A new task (version 1).
    pub fn new(fields: TaskFields) -> Self {
        Self::with_id(TaskId::generate(), fields)
    }

    /// A new task (version 1) under an id the client chose (a create by PUT).
    pub fn with_id(id: TaskId, fields: TaskFields) -> Self {
        let now = Timestamp::now();
        Self {
            id,
            fields,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// This task with `fields` as its next version.
    pub fn changed(&self, fields: TaskFields) -> Self {
        Self {
            id: self.id,
            fields,
            created_at: self.created_at,
            updated_at: Timestamp::now().max(self.updated_at),
            version: self.version + 1,
        }
    }

    /// Shows the task as uncategorised if its category is not one `live` accepts (deleted, or
    /// being deleted): no response ever names a category that does not exist.
    pub fn hide_category_unless(&mut self, live: impl Fn(CategoryId) -> bool) {
        if self.fields.category_id.is_some_and(|id| !live(id)) {
            self.fields.category_id = None;
        }
    }

    /// The `ETag` of this version: a strong tag, the version number quoted.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    /// The JSON representation of API.md.
    pub fn view(&self) -> TaskView<'_> {
        TaskView {
            id: self.id.to_string(),
            title: self.fields.title.as_str(),
            description: self
                .fields
                .description
                .as_ref()
                .map(TaskDescription::as_str),
            completed: self.fields.completed,
            priority: self.fields.priority.as_str(),
            due_date: self.fields.due_date,
            category_id: self.fields.category_id.map(|id| id.to_string()),
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

/// A task as the API returns it.
#[derive(Debug, Serialize)]
pub struct TaskView<'a> {
    pub id: String,
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub completed: bool,
    pub priority: &'static str,
    pub due_date: Option<Timestamp>,
    pub category_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

/// A page of a listing as the API returns it.
#[derive(Debug, Serialize)]
pub struct ListingView<'a> {
    pub items: Vec<TaskView<'a>>,
    pub next_cursor: Option<String>,
    pub counts: TaskCounts,
}

/// A user's task totals, maintained on every write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TaskCounts {
    pub total: u64,
    pub completed: u64,
}
