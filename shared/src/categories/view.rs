//! A stored category and its JSON representation.

use serde::Serialize;

use super::{CategoryFields, CategoryId};
use crate::domain::Timestamp;

/// A stored category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: CategoryId,
    pub fields: CategoryFields,
    /// Tasks naming this category, moved by every task write in the same transaction.
    pub task_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

impl Category {
    /// A new category (version 1, no tasks).
    pub fn new(fields: CategoryFields) -> Self {
        let now = Timestamp::now();
        Self {
            id: CategoryId::generate(),
            fields,
            task_count: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// This category with `fields` as its next version.
    pub fn changed(&self, fields: CategoryFields) -> Self {
        Self {
            fields,
            updated_at: Timestamp::now().max(self.updated_at),
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// The `ETag` of this version: a strong tag, the version number quoted.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    /// The JSON representation of API.md.
    pub fn view(&self) -> CategoryView<'_> {
        CategoryView {
            id: self.id.to_string(),
            name: self.fields.name.as_str(),
            color: self.fields.color.as_str(),
            task_count: self.task_count,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

/// A category as the API returns it.
#[derive(Debug, Serialize)]
pub struct CategoryView<'a> {
    pub id: String,
    pub name: &'a str,
    pub color: &'a str,
    pub task_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}
