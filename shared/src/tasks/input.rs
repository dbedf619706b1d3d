//! Request bodies of the task writes (`TaskCreate`, `TaskReplace`, `TaskPatch`), parsed into
//! [`TaskFields`] with every field error collected.

use serde_json::{Map, Value};

use super::{Priority, TaskDescription, TaskFields, TaskTitle};
use crate::domain::{CategoryId, Timestamp};
use crate::error::ApiError;
use crate::fields::{Field, Fields};
use crate::text::string;

/// Fields a client may never write (sending them is a 422, never an assignment).
pub const SERVER_OWNED_FIELDS: &[&str] = &["id", "user_id", "created_at", "updated_at", "version"];

fn parse_title(value: &Value) -> Result<TaskTitle, String> {
    TaskTitle::parse(string(value)?)
}

fn parse_description(value: &Value) -> Result<TaskDescription, String> {
    TaskDescription::parse(string(value)?)
}

fn parse_completed(value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| "must be true or false".into())
}

fn parse_priority(value: &Value) -> Result<Priority, String> {
    Priority::parse(string(value)?).ok_or_else(|| "must be one of low, medium, high".into())
}

fn parse_due_date(value: &Value) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(string(value)?).map_err(|e| e.message().to_string())
}

fn parse_category_id(value: &Value) -> Result<CategoryId, String> {
    CategoryId::parse(string(value)?).ok_or_else(|| NO_SUCH_CATEGORY.into())
}

/// The field error of a `category_id` that names no category of the user.
pub const NO_SUCH_CATEGORY: &str = "must be the id of one of your categories, or null";

/// `POST /v1/tasks`: `title` required, every other field optional with its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCreate(pub TaskFields);

/// `PUT /v1/tasks/{id}`: the same full set of writable fields as a create; whatever is omitted
/// is reset to its default.
pub type TaskReplace = TaskCreate;

impl TaskCreate {
    pub fn parse(body: Map<String, Value>) -> Result<Self, ApiError> {
        let mut f = Fields::new(body).read_only(SERVER_OWNED_FIELDS);
        let title = f.required("title", parse_title);
        let description = f.field("description", parse_description);
        let completed = f.optional("completed", false, parse_completed);
        let priority = f.optional("priority", Priority::default(), parse_priority);
        let due_date = f.field("due_date", parse_due_date);
        let category_id = f.field("category_id", parse_category_id);
        f.finish(|| {
            Some(Self(TaskFields {
                title: title?,
                description: description?.into_option(),
                completed: completed?,
                priority: priority?,
                due_date: due_date?.into_option(),
                category_id: category_id?.into_option(),
            }))
        })
    }
}

/// `PATCH /v1/tasks/{id}`: a JSON merge patch (RFC 7396). Absent fields are kept; `null`
/// clears `description` and `due_date`; `title`, `completed` and `priority` cannot be null.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskPatch {
    pub title: Option<TaskTitle>,
    pub description: Option<Option<TaskDescription>>,
    pub completed: Option<bool>,
    pub priority: Option<Priority>,
    pub due_date: Option<Option<Timestamp>>,
    pub category_id: Option<Option<CategoryId>>,
}

impl TaskPatch {
    pub fn parse(body: Map<String, Value>) -> Result<Self, ApiError> {
        let mut f = Fields::new(body).read_only(SERVER_OWNED_FIELDS);
        let title = f.non_null("title", parse_title);
        let description = f.field("description", parse_description);
        let completed = f.non_null("completed", parse_completed);
        let priority = f.non_null("priority", parse_priority);
        let due_date = f.field("due_date", parse_due_date);
        let category_id = f.field("category_id", parse_category_id);
        f.finish(|| {
            Some(Self {
                title: title?,
                description: description?.into_patch(),
                completed: completed?,
                priority: priority?,
                due_date: due_date?.into_patch(),
                category_id: category_id?.into_patch(),
            })
        })
    }

    /// The fields after this patch.
    pub fn apply(&self, current: &TaskFields) -> TaskFields {
        TaskFields {
            title: self.title.clone().unwrap_or_else(|| current.title.clone()),
            description: self
                .description
                .clone()
                .unwrap_or_else(|| current.description.clone()),
            completed: self.completed.unwrap_or(current.completed),
            priority: self.priority.unwrap_or(current.priority),
            due_date: self.due_date.unwrap_or(current.due_date),
            category_id: self.category_id.unwrap_or(current.category_id),
        }
    }
}

trait FieldExt<T> {
    fn into_option(self) -> Option<T>;
    fn into_patch(self) -> Option<Option<T>>;
}

impl<T> FieldExt<T> for Field<T> {
    /// Absent or null both mean "none" (create and replace).
    fn into_option(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            Field::Absent | Field::Null => None,
        }
    }
    /// Absent keeps, null clears, a value sets (merge patch).
    fn into_patch(self) -> Option<Option<T>> {
        match self {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Value(v) => Some(Some(v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn field_errors(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn out_of_range_due_dates_are_field_errors_on_create_and_patch() {
        for due in ["9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+00:01"] {
            let err =
                TaskCreate::parse(object(json!({"title": "x", "due_date": due}))).unwrap_err();
            assert_eq!(field_errors(err), ["due_date"], "{due}");
            let err = TaskPatch::parse(object(json!({"due_date": due}))).unwrap_err();
            assert_eq!(field_errors(err), ["due_date"], "{due}");
        }
    }

    #[test]
    fn titles_and_descriptions_refuse_text_that_renders_as_something_else() {
        let err = TaskCreate::parse(object(json!({"title": "bad\u{0}title"}))).unwrap_err();
        assert_eq!(field_errors(err), ["title"]);
        let err =
            TaskCreate::parse(object(json!({"title": "invoice\u{202E}fdp.exe"}))).unwrap_err();
        assert_eq!(field_errors(err), ["title"]);
        let err = TaskCreate::parse(object(json!({"title": "a", "description": "ding\u{7}"})))
            .unwrap_err();
        assert_eq!(field_errors(err), ["description"]);
        let err = TaskPatch::parse(object(json!({"title": "a\u{85}b"}))).unwrap_err();
        assert_eq!(field_errors(err), ["title"]);
        let TaskCreate(fields) = TaskCreate::parse(object(
            json!({"title": "a", "description": "line\n\tnext\r\n"}),
        ))
        .unwrap();
        assert_eq!(fields.description.unwrap().as_str(), "line\n\tnext\r\n");
    }

    #[test]
    fn create_applies_defaults_and_collects_every_error() {
        let TaskCreate(fields) = TaskCreate::parse(object(json!({"title": " a "}))).unwrap();
        assert_eq!(fields.title.as_str(), "a");
        assert_eq!(fields.priority, Priority::Medium);
        assert!(!fields.completed && fields.description.is_none() && fields.due_date.is_none());

        let err = TaskCreate::parse(object(json!({
            "id": "x", "priority": "urgent", "completed": "yes", "due_date": "soon", "owner": 1
        })))
        .unwrap_err();
        assert_eq!(
            field_errors(err),
            ["id", "title", "completed", "priority", "due_date", "owner"]
        );
    }

    #[test]
    fn merge_patch_keeps_absent_clears_null_and_refuses_null_for_required_fields() {
        let current = TaskCreate::parse(object(json!({
            "title": "t", "description": "d", "due_date": "2026-01-01T00:00:00Z", "priority": "high"
        })))
        .unwrap()
        .0;
        let patch =
            TaskPatch::parse(object(json!({"description": null, "completed": true}))).unwrap();
        let next = patch.apply(&current);
        assert_eq!(next.description, None);
        assert_eq!(next.due_date, current.due_date);
        assert!(next.completed);
        assert_eq!(next.priority, Priority::High);
        assert_eq!(
            TaskPatch::parse(Map::new()).unwrap().apply(&current),
            current
        );

        let err = TaskPatch::parse(object(
            json!({"title": null, "priority": null, "completed": null, "version": 3}),
        ))
        .unwrap_err();
        assert_eq!(
            field_errors(err),
            ["version", "title", "completed", "priority"]
        );
    }
}
