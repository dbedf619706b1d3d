//! Tasks: the domain types of docs/API.md's Tasks section. Input (`TaskCreate`,
//! `TaskReplace`, `TaskPatch`) is parsed at the edge into newtypes that only hold valid values,
//! so the store never sees unvalidated data; [`Task`] is what the store holds and the API returns.

mod cursor;
mod query;

pub use cursor::{CursorKeys, ListPosition};
pub use query::{ListFilters, ListQuery, Order};

use std::fmt;

use lambda_http::http::header;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::{Field, Fields, Request, string};
use crate::text::{self, TextKind};

/// Fields a client may never write (sending them is a 422, never an assignment).
pub const SERVER_OWNED_FIELDS: &[&str] = &["id", "user_id", "created_at", "updated_at", "version"];

/// Longest title, in characters, after trimming.
pub const MAX_TITLE_CHARS: usize = 255;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// A task's id: a UUIDv7 in canonical (lowercase, hyphenated) form, so that its string order
/// is creation order and one task has exactly one URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(Uuid);

impl TaskId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// A path segment or stored key as a task id; anything but a canonical UUIDv7 is `None`
    /// (the handlers answer 404: a malformed id names no task).
    pub fn parse(s: &str) -> Option<Self> {
        let uuid = Uuid::try_parse(s).ok()?;
        (uuid.get_version_num() == 7 && uuid.hyphenated().to_string() == s).then_some(Self(uuid))
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_hyphenated().fmt(f)
    }
}

/// A title: trimmed, 1..=255 characters, one line of visible text (see [`crate::text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTitle(String);

impl TaskTitle {
    pub fn parse(s: &str) -> Result<Self, String> {
        let title = Self::from_stored(s)?;
        text::check(TextKind::Line, title.as_str())?;
        Ok(title)
    }

    /// A title read back from the store: its bounds are checked, its characters are not, so
    /// a title stored before control and bidi characters were refused stays readable (its
    /// owner can still see, replace or delete the task).
    pub fn from_stored(s: &str) -> Result<Self, String> {
        let trimmed = s.trim();
        match trimmed.chars().count() {
            0 => Err("must not be empty".into()),
            n if n > MAX_TITLE_CHARS => {
                Err(format!("must be at most {MAX_TITLE_CHARS} characters"))
            }
            _ => Ok(Self(trimmed.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercased title the store keeps for case-insensitive search.
    pub fn search_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A description: at most 2000 characters, kept exactly as sent; line breaks and tabs are the
/// only control characters it may hold (see [`crate::text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDescription(String);

impl TaskDescription {
    pub fn parse(s: &str) -> Result<Self, String> {
        let description = Self::from_stored(s)?;
        text::check(TextKind::Multiline, s)?;
        Ok(description)
    }

    /// A description read back from the store: bounded, characters unchecked (as
    /// [`TaskTitle::from_stored`]).
    pub fn from_stored(s: &str) -> Result<Self, String> {
        if s.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(format!(
                "must be at most {MAX_DESCRIPTION_CHARS} characters"
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
}

impl Priority {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// A point in time, UTC, at millisecond precision; parsed from any RFC 3339 offset and always
/// written as `YYYY-MM-DDTHH:MM:SS.sssZ` (fixed width, so the strings sort like the times).
/// Only years 0000..=9999 in UTC exist: they are the times that this format can write and
/// read back, so every accepted time round-trips through the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

const TIMESTAMP_FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

/// Why a string is not a [`Timestamp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampError {
    /// Not an RFC 3339 date-time.
    Malformed,
    /// A valid RFC 3339 date-time whose UTC year is outside 0000..=9999.
    OutOfRange,
}

impl TimestampError {
    /// The field error message for a time sent by a client.
    pub fn message(self) -> &'static str {
        match self {
            Self::Malformed => "must be an RFC 3339 date-time, e.g. 2026-12-31T17:00:00Z",
            Self::OutOfRange => {
                "must lie between 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z once converted to UTC"
            }
        }
    }
}

impl Timestamp {
    /// `t` in UTC, truncated to milliseconds, if its UTC year is 0000..=9999. The conversion is
    /// checked: near the ends of the calendar an offset can carry a time past what
    /// `OffsetDateTime` holds (`9999-12-31T23:59:59-23:59`), where `to_offset` would panic.
    fn truncated(t: OffsetDateTime) -> Result<Self, TimestampError> {
        let utc = t
            .checked_to_offset(time::UtcOffset::UTC)
            .filter(|utc| (0..=9999).contains(&utc.year()))
            .ok_or(TimestampError::OutOfRange)?;
        // Digits beyond milliseconds are dropped (truncated, never rounded up into the next
        // second, which could leave the range).
        let millis = utc.millisecond();
        Ok(Self(utc.replace_millisecond(millis).unwrap_or(utc)))
    }

    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Self::truncated(now).unwrap_or(Self(now))
    }

    /// An RFC 3339 date-time (any offset), telling a malformed string from a time out of range.
    pub fn parse_rfc3339(s: &str) -> Result<Self, TimestampError> {
        let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| TimestampError::Malformed)?;
        Self::truncated(t)
    }

    /// An RFC 3339 date-time (any offset) within 0000..=9999 UTC, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::parse_rfc3339(s).ok()
    }

    pub fn to_rfc3339(self) -> String {
        // Every timestamp has a UTC year 0000..=9999, so formatting cannot fail.
        self.0.format(TIMESTAMP_FORMAT).unwrap_or_default()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

/// Every field a client may write: what PUT replaces, what PATCH merges into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFields {
    pub title: TaskTitle,
    pub description: Option<TaskDescription>,
    pub completed: bool,
    pub priority: Priority,
    pub due_date: Option<Timestamp>,
}

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
        f.finish(|| {
            Some(Self(TaskFields {
                title: title?,
                description: description?.into_option(),
                completed: completed?,
                priority: priority?,
                due_date: due_date?.into_option(),
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
}

impl TaskPatch {
    pub fn parse(body: Map<String, Value>) -> Result<Self, ApiError> {
        let mut f = Fields::new(body).read_only(SERVER_OWNED_FIELDS);
        let title = non_null(&mut f, "title", parse_title);
        let description = f.field("description", parse_description);
        let completed = non_null(&mut f, "completed", parse_completed);
        let priority = non_null(&mut f, "priority", parse_priority);
        let due_date = f.field("due_date", parse_due_date);
        f.finish(|| {
            Some(Self {
                title: title?,
                description: description?.into_patch(),
                completed: completed?,
                priority: priority?,
                due_date: due_date?.into_patch(),
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
        }
    }
}

/// A merge-patch field that may be absent (kept) but not `null`. The outer `Option` is
/// `None` when invalid (error recorded), the inner one when absent.
fn non_null<T>(
    f: &mut Fields,
    name: &str,
    parse: impl FnOnce(&Value) -> Result<T, String>,
) -> Option<Option<T>> {
    match f.field(name, parse)? {
        Field::Absent => Some(None),
        Field::Value(value) => Some(Some(value)),
        // `optional` records "must not be null" and gives `None`.
        Field::Null => f
            .optional::<Option<T>>(name, None, |_| Ok(None))
            .map(|_| None),
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
        let now = Timestamp::now();
        Self {
            id: TaskId::generate(),
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
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

/// A user's task totals, maintained on every write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TaskCounts {
    pub total: u64,
    pub completed: u64,
}

/// The `If-Match` precondition of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: the write applies to whatever version is current (retried on races).
    Any,
    /// `If-Match: *`: the task must exist (as for any write).
    Exists,
    /// One or more versions (`"3"` or `"3", "4"`): the current version must be one of them.
    Versions(Vec<u64>),
}

impl IfMatch {
    /// Reads every `If-Match` header. A value that is not `*` or a list of quoted versions is a
    /// malformed request (400), so a client sending `If-Match: 3` learns why instead of
    /// getting a puzzling 412. Weak tags (`W/"3"`) never match (RFC 9110: strong comparison).
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let mut versions = Vec::new();
        let mut any_header = false;
        for value in req.headers().get_all(header::IF_MATCH) {
            any_header = true;
            let value = value.to_str().map_err(|_| malformed_if_match())?.trim();
            if value == "*" {
                return Ok(Self::Exists);
            }
            for tag in value.split(',').map(str::trim) {
                if let Some(weak) = tag.strip_prefix("W/") {
                    parse_quoted_version(weak).ok_or_else(malformed_if_match)?;
                    continue;
                }
                versions.push(parse_quoted_version(tag).ok_or_else(malformed_if_match)?);
            }
        }
        Ok(if any_header {
            Self::Versions(versions)
        } else {
            Self::Any
        })
    }

    pub fn matches(&self, version: u64) -> bool {
        match self {
            Self::Any | Self::Exists => true,
            Self::Versions(versions) => versions.contains(&version),
        }
    }

    /// As [`Self::matches`] for a stored task whose version may be unreadable: then only a
    /// precondition that names no version holds.
    pub fn matches_stored(&self, version: Option<u64>) -> bool {
        match version {
            Some(version) => self.matches(version),
            None => !matches!(self, Self::Versions(_)),
        }
    }
}

fn parse_quoted_version(tag: &str) -> Option<u64> {
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    inner.parse().ok()
}

fn malformed_if_match() -> ApiError {
    ApiError::BadRequest(
        "If-Match must be * or a list of quoted versions, e.g. If-Match: \"3\"".into(),
    )
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
    fn task_ids_are_canonical_uuidv7_only() {
        let id = TaskId::generate();
        assert_eq!(TaskId::parse(&id.to_string()), Some(id));
        assert_eq!(TaskId::parse(&id.to_string().to_uppercase()), None);
        assert_eq!(TaskId::parse(&id.as_uuid().simple().to_string()), None);
        assert_eq!(TaskId::parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), None);
        assert_eq!(TaskId::parse("not-a-uuid"), None);
        assert_eq!(TaskId::parse(""), None);
    }

    #[test]
    fn titles_are_trimmed_and_bounded_in_characters() {
        assert_eq!(
            TaskTitle::parse("  Buy milk \n").unwrap().as_str(),
            "Buy milk"
        );
        assert!(TaskTitle::parse("   ").is_err());
        assert!(TaskTitle::parse(&"é".repeat(255)).is_ok());
        assert!(TaskTitle::parse(&"é".repeat(256)).is_err());
        assert!(TaskDescription::parse(&"ü".repeat(2000)).is_ok());
        assert!(TaskDescription::parse(&"ü".repeat(2001)).is_err());
    }

    #[test]
    fn due_dates_are_normalised_to_utc_z() {
        let t = Timestamp::parse("2026-12-01T10:30:00+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T08:30:00.000Z");
        let precise = Timestamp::parse("2026-12-01T08:30:00.123456789Z").unwrap();
        assert_eq!(precise.to_rfc3339(), "2026-12-01T08:30:00.123Z");
        assert!(
            Timestamp::parse("2026-12-01T08:30:00.5-00:30")
                .unwrap()
                .to_rfc3339()
                > precise.to_rfc3339()
        );
        assert!(Timestamp::parse("2026-12-01").is_none());
        assert!(Timestamp::parse("tomorrow").is_none());
        assert!(Timestamp::now().to_rfc3339().ends_with('Z'));
    }

    #[test]
    fn due_dates_outside_0000_to_9999_utc_are_out_of_range_not_a_panic() {
        use TimestampError::OutOfRange;
        // One minute past 9999-12-31T23:59:59Z in UTC: `to_offset` panicked here.
        assert_eq!(
            Timestamp::parse_rfc3339("9999-12-31T23:59:59-23:59"),
            Err(OutOfRange)
        );
        // Year -1 in UTC: stored as "-0001-..." it could never be read back.
        assert_eq!(
            Timestamp::parse_rfc3339("0000-01-01T00:00:00+00:01"),
            Err(OutOfRange)
        );
        assert_eq!(
            Timestamp::parse_rfc3339("0000-01-01T00:00:00+23:59"),
            Err(OutOfRange)
        );
        assert_eq!(
            Timestamp::parse_rfc3339("9999-12-31T23:59:59.999999999Z")
                .unwrap()
                .to_rfc3339(),
            "9999-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("9999-12-31T23:59:59.999+00:01")
                .unwrap()
                .to_rfc3339(),
            "9999-12-31T23:58:59.999Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("0000-01-01T00:00:00-00:01")
                .unwrap()
                .to_rfc3339(),
            "0000-01-01T00:01:00.000Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("0000-01-01T00:00:00Z")
                .unwrap()
                .to_rfc3339(),
            "0000-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("2026-13-01T00:00:00Z"),
            Err(TimestampError::Malformed)
        );
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

    fn if_match(values: &[&str]) -> Result<IfMatch, ApiError> {
        let mut builder = lambda_http::http::Request::builder();
        for v in values {
            builder = builder.header("if-match", *v);
        }
        IfMatch::from_request(&builder.body(lambda_http::Body::Empty).unwrap())
    }

    #[test]
    fn if_match_reads_quoted_versions_star_and_refuses_garbage() {
        assert_eq!(if_match(&[]).unwrap(), IfMatch::Any);
        assert_eq!(if_match(&["*"]).unwrap(), IfMatch::Exists);
        assert_eq!(
            if_match(&["\"3\", \"4\"", "\"7\""]).unwrap(),
            IfMatch::Versions(vec![3, 4, 7])
        );
        let weak = if_match(&["W/\"3\""]).unwrap();
        assert!(!weak.matches(3));
        for bad in ["3", "\"\"", "\"abc\"", "\"-1\"", "\"3", ""] {
            assert_eq!(if_match(&[bad]).unwrap_err().status(), 400, "{bad}");
        }
    }
}
