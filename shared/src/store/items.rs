//! One `#[derive(Serialize, Deserialize)]` struct per item kind, converted with serde_dynamo.
//! Field names are the stored attribute names (see [`super::keys`]); the layout is the one
//! the module comment of [`super`] describes, and the tests below pin it attribute by
//! attribute, so items written by earlier versions still read.

use serde::{Deserialize, Serialize};

use super::keys::{
    self, COUNTS_SK, EMAIL_SK, IDENTITY_SK, USER_SK, category_id_of_sk, task_id_of_sk,
};
use crate::auth::{Email, User, UserName};
use crate::categories::{Category, CategoryFields, CategoryName, Color};
use crate::domain::{CategoryId, Timestamp, UserId};
use crate::tasks::{Priority, Task, TaskCounts, TaskDescription, TaskFields, TaskTitle};

/// A task (`sk = TASK#<uuidv7>`). Times are kept as strings here: a stored value this version
/// refuses makes the task unreadable (with a reason), not the whole read a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct TaskItem {
    pub user_id: String,
    pub sk: String,
    pub title: String,
    pub title_lc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub completed: bool,
    pub priority: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// Absent when uncategorised (and on every task written before categories existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
    /// The keys of the sort indexes (derived from the fields above; absent on tasks written
    /// before the indexes existed, until the backfill writes them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_key: Option<String>,
}

impl TaskItem {
    pub fn new(user: UserId, task: &Task) -> Self {
        let f = &task.fields;
        Self {
            user_id: keys::user_pk(user),
            sk: keys::task_sk(task.id),
            title: f.title.as_str().to_string(),
            title_lc: f.title.search_key(),
            description: f.description.as_ref().map(|d| d.as_str().to_string()),
            completed: f.completed,
            priority: f.priority.as_str().to_string(),
            due_date: f.due_date.map(Timestamp::to_rfc3339),
            category_id: f.category_id.map(|id| id.to_string()),
            created_at: task.created_at.to_rfc3339(),
            updated_at: task.updated_at.to_rfc3339(),
            version: task.version,
            due_key: Some(keys::due_key(task.id, f.due_date)),
            priority_key: Some(keys::priority_key(task.id, f.priority)),
        }
    }
}

fn corrupt(what: &str) -> String {
    format!("stored task has an invalid {what}")
}

fn timestamp(value: &str, name: &str) -> Result<Timestamp, String> {
    Timestamp::parse(value).ok_or_else(|| corrupt(name))
}

/// Stored data is validated again, so a corrupt item is reported as unreadable (the error
/// names the attribute, never its value) rather than returned as invalid output.
impl TryFrom<TaskItem> for Task {
    type Error = String;

    fn try_from(item: TaskItem) -> Result<Self, String> {
        use keys::attr::*;
        let fields = TaskFields {
            title: TaskTitle::from_stored(&item.title).map_err(|_| corrupt(TITLE))?,
            description: item
                .description
                .as_deref()
                .map(|d| TaskDescription::from_stored(d).map_err(|_| corrupt(DESCRIPTION)))
                .transpose()?,
            completed: item.completed,
            priority: Priority::parse(&item.priority).ok_or_else(|| corrupt(PRIORITY))?,
            due_date: item
                .due_date
                .as_deref()
                .map(|d| timestamp(d, DUE_DATE))
                .transpose()?,
            category_id: item
                .category_id
                .as_deref()
                .map(|c| CategoryId::parse(c).ok_or_else(|| corrupt(CATEGORY_ID)))
                .transpose()?,
        };
        Ok(Task {
            id: task_id_of_sk(&item.sk).ok_or_else(|| corrupt("key"))?,
            fields,
            created_at: timestamp(&item.created_at, CREATED_AT)?,
            updated_at: timestamp(&item.updated_at, UPDATED_AT)?,
            version: item.version,
        })
    }
}

/// What is still readable of a task item that does not parse as a [`TaskItem`]: each
/// attribute is optional and any type is tolerated (`serde_dynamo` skips what does not fit).
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct TaskRemains {
    #[serde(default, deserialize_with = "lenient")]
    pub version: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub completed: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub category_id: Option<String>,
}

/// A value of the wanted type, or `None` for any other stored type.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<T> {
        Wanted(T),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Either::<T>::deserialize(deserializer)? {
        Either::Wanted(value) => Some(value),
        Either::Other(_) => None,
    })
}

/// The user's task totals (`sk = COUNTS`), maintained with `ADD`; absent numbers are zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct CountsItem {
    pub user_id: String,
    pub sk: String,
    #[serde(default)]
    pub total: i64,
    #[serde(default)]
    pub completed: i64,
}

/// What a listing reads of the counts item: the totals, and the categories whose deletion has
/// begun (their tasks read as uncategorised until their deletion has detached them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingTotals {
    pub counts: TaskCounts,
    pub deleting_categories: Vec<CategoryId>,
}

impl CountsItem {
    pub fn new(user: UserId, counts: TaskCounts) -> Self {
        Self {
            user_id: keys::user_pk(user),
            sk: COUNTS_SK.into(),
            total: i64::try_from(counts.total).unwrap_or(i64::MAX),
            completed: i64::try_from(counts.completed).unwrap_or(i64::MAX),
        }
    }
}

/// A category (`sk = CATEGORY#<uuidv7>`). `task_count` moves with `ADD` (absent reads as zero);
/// `deleting` (epoch seconds) is set once the category's deletion has begun.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct CategoryItem {
    pub user_id: String,
    pub sk: String,
    pub name: String,
    pub name_lc: String,
    pub color: String,
    #[serde(default)]
    pub task_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting: Option<i64>,
}

impl CategoryItem {
    pub fn new(user: UserId, category: &Category) -> Self {
        Self {
            user_id: keys::user_pk(user),
            sk: keys::category_sk(category.id),
            name: category.fields.name.as_str().to_string(),
            name_lc: category.fields.name.unique_key(),
            color: category.fields.color.as_str().to_string(),
            task_count: i64::try_from(category.task_count).unwrap_or(i64::MAX),
            created_at: category.created_at,
            updated_at: category.updated_at,
            version: category.version,
            deleting: None,
        }
    }
}

/// Stored data is validated again: a corrupt item is an error, never invalid output.
impl TryFrom<CategoryItem> for Category {
    type Error = super::error::StoreError;

    fn try_from(item: CategoryItem) -> Result<Self, Self::Error> {
        use super::error::StoreError::Corrupt;
        Ok(Category {
            id: category_id_of_sk(&item.sk).ok_or(Corrupt("category item with a bad key"))?,
            fields: CategoryFields {
                name: CategoryName::parse(&item.name)
                    .map_err(|_| Corrupt("category item with a bad name"))?,
                color: Color::parse(&item.color)
                    .map_err(|_| Corrupt("category item with a bad color"))?,
            },
            // A negative count (never written by the API) reads as zero.
            task_count: u64::try_from(item.task_count).unwrap_or(0),
            created_at: item.created_at,
            updated_at: item.updated_at,
            version: item.version,
        })
    }
}

/// The reservation of a category name (`sk = CATNAME#<lowercased name>`), one per name of a
/// user, so that uniqueness holds under concurrency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct CategoryNameItem {
    pub user_id: String,
    pub sk: String,
    pub category_id: String,
}

impl CategoryNameItem {
    pub fn new(user: UserId, name: &CategoryName, id: CategoryId) -> Self {
        Self {
            user_id: keys::user_pk(user),
            sk: keys::category_name_sk(&name.unique_key()),
            category_id: id.to_string(),
        }
    }
}

/// A user (`sk = USER`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct UserItem {
    pub user_id: String,
    pub sk: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: Timestamp,
    /// The email is shown but not reserved (see [`keys::attr::EMAIL_UNVERIFIED`]); absent
    /// when it is reserved, as on every user written before it existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email_unverified: bool,
    /// The user proved access to the email (see [`keys::attr::EMAIL_VERIFIED`]); absent
    /// until then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email_verified: bool,
}

impl UserItem {
    pub fn new(user: &User, password_hash: String) -> Self {
        Self {
            user_id: keys::user_pk(user.id),
            sk: USER_SK.into(),
            email: user.email.to_string(),
            name: user.name.as_str().to_string(),
            password_hash,
            created_at: user.created_at,
            email_unverified: false,
            email_verified: user.email_verified,
        }
    }
}

impl TryFrom<UserItem> for User {
    type Error = super::error::StoreError;

    fn try_from(item: UserItem) -> Result<Self, Self::Error> {
        Ok(User {
            id: UserId::parse(&item.user_id)
                .ok_or(super::error::StoreError::Corrupt("user item with a bad id"))?,
            email: Email::from_stored(item.email),
            name: UserName::from_stored(item.name),
            created_at: item.created_at,
            email_verified: item.email_verified,
        })
    }
}

/// A link's token (`sk = TOKEN#<kind>`, one per kind per user): only the SHA-256 of the token
/// is stored; `expires_at` is also the TTL (checked on read and in the consuming condition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct LinkTokenItem {
    pub user_id: String,
    pub sk: String,
    pub token_hash: String,
    pub expires_at: i64,
}

/// What authentication reads of a user or family item (a projection): the sort key, the
/// deletion mark (epoch seconds, set once the account's deletion has begun) and a family's
/// expiry.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct StandingItem {
    #[serde(default)]
    pub sk: Option<String>,
    #[serde(default)]
    pub deleting: Option<i64>,
    #[serde(default)]
    pub absolute_expires_at: Option<i64>,
    /// The counts item's totals, when the standing read also fetches it (a listing).
    #[serde(default)]
    pub total: Option<i64>,
    #[serde(default)]
    pub completed: Option<i64>,
    /// The counts item's categories whose deletion has begun (a listing).
    #[serde(default)]
    pub deleting_categories: Option<Vec<String>>,
    /// The user item's session generation (absent: 0) and the session that survived its
    /// latest move.
    #[serde(default)]
    pub session_gen: Option<u64>,
    #[serde(default)]
    pub kept_session: Option<String>,
}

impl StandingItem {
    /// What a listing reads of a counts item (see [`ListingTotals`]), read along with the
    /// standing or on its own: a negative count (never written by the API) reads as zero, an
    /// id that does not parse (it names no category a task can hold) is left out.
    pub fn listing_totals(&self) -> ListingTotals {
        let count = |n: Option<i64>| u64::try_from(n.unwrap_or(0)).unwrap_or(0);
        ListingTotals {
            counts: TaskCounts {
                total: count(self.total),
                completed: count(self.completed),
            },
            deleting_categories: self
                .deleting_categories
                .iter()
                .flatten()
                .filter_map(|id| CategoryId::parse(id))
                .collect(),
        }
    }
}

/// The password hash of a user item, and its email when projected (a projection; absent for
/// items of no user).
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct PasswordItem {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub password_hash: Option<String>,
}

/// A family item as the session list reads it: all but the sort key optional, and of any
/// stored type, since items of older logins lack `last_used_at` and `user_agent` (and the
/// oldest, or those of test tools, `created_at` or even `absolute_expires_at`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct SessionItem {
    pub sk: String,
    #[serde(default, deserialize_with = "lenient")]
    pub created_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub absolute_expires_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub last_used_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub last_spent_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub user_agent: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub session_gen: Option<u64>,
}

/// What starting and ending sessions read of the user item (a projection): its password hash,
/// deletion mark, session generation and the sessions started in it.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct UserSessionsItem {
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub deleting: Option<i64>,
    #[serde(default)]
    pub session_gen: Option<u64>,
    #[serde(default)]
    pub sessions: Option<Vec<String>>,
}

/// An email reservation (`user_id = EMAIL#<email>`, `sk = EMAIL`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct EmailItem {
    pub user_id: String,
    pub sk: String,
    pub owner: String,
}

impl EmailItem {
    pub fn new(user: &User) -> Self {
        Self {
            user_id: keys::email_pk(user.email.as_str()),
            sk: EMAIL_SK.into(),
            owner: keys::user_pk(user.id),
        }
    }
}

/// A link of an external identity (`sk = IDENTITY`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct IdentityItem {
    pub user_id: String,
    pub sk: String,
    pub issuer: String,
    pub subject: String,
    pub owner: String,
}

impl IdentityItem {
    pub fn new(pk: String, issuer: String, subject: String, owner: UserId) -> Self {
        Self {
            user_id: pk,
            sk: IDENTITY_SK.into(),
            issuer,
            subject,
            owner: keys::user_pk(owner),
        }
    }
}

/// A refresh-token family (`sk = REFRESH#<family>`); `last_spent*` once a token was rotated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct FamilyItem {
    pub user_id: String,
    pub sk: String,
    pub created_at: i64,
    pub absolute_expires_at: i64,
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_spent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_spent_at: Option<i64>,
    /// Set by every refresh (items of older logins lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
    /// The login's `User-Agent` summary, `NULL` without one (older items lack it).
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The session generation the session belongs to (older items lack it: 0).
    #[serde(default)]
    pub session_gen: u64,
    /// Tokens issued in an older generation than this are dead (absent: 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_from: Option<u64>,
}

/// A refresh token (`sk = REFRESH#<family>#<sha256 hex>`); `spent_at` once rotated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct TokenItem {
    pub user_id: String,
    pub sk: String,
    pub issued_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_at: Option<i64>,
    /// The session generation the token was issued in (older items lack it: 0).
    #[serde(default)]
    pub session_gen: u64,
}

/// A login failure counter (see `throttle`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ThrottleItem {
    pub user_id: String,
    pub sk: String,
    pub failures: i64,
    pub window_ends_at: i64,
    pub expires_at: i64,
}

/// The record of a create made with an idempotency key (`sk = IDEM#<sha256 hex of the key>`),
/// written in the create's own transaction: the fingerprint of the request body, the task and
/// the body of the first response. `expires_at` is the table's TTL attribute; DynamoDB deletes
/// late, so readers and the create's condition treat an expired record as absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct IdempotencyItem {
    pub user_id: String,
    pub sk: String,
    pub fingerprint: String,
    pub task_id: String,
    pub response: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;
    use crate::store::keys::{Key, n, s};
    use crate::tasks::TaskId;

    fn layout(pairs: &[(&str, AttributeValue)]) -> Key {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect::<HashMap<_, _>>()
    }

    fn round_trips<T>(item: &T, expected: Key)
    where
        T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let written: Key = serde_dynamo::to_item(item).unwrap();
        assert_eq!(written, expected);
        let read: T = serde_dynamo::from_item(expected).unwrap();
        assert_eq!(&read, item);
    }

    #[test]
    fn task_items_keep_the_hand_built_layout() {
        let user = UserId::generate();
        let task = Task::new(TaskFields {
            title: TaskTitle::parse("Buy Milk").unwrap(),
            description: Some(TaskDescription::parse("2 litres").unwrap()),
            completed: true,
            priority: Priority::High,
            due_date: Timestamp::parse("2026-12-01T10:00:00+01:00"),
            category_id: Some(CategoryId::generate()),
        });
        let item = TaskItem::new(user, &task);
        round_trips(
            &item,
            layout(&[
                ("user_id", s(user.to_string())),
                ("sk", s(format!("TASK#{}", task.id))),
                ("title", s("Buy Milk")),
                ("title_lc", s("buy milk")),
                ("description", s("2 litres")),
                ("completed", AttributeValue::Bool(true)),
                ("priority", s("high")),
                ("due_date", s("2026-12-01T09:00:00.000Z")),
                (
                    "category_id",
                    s(task.fields.category_id.unwrap().to_string()),
                ),
                ("created_at", s(task.created_at.to_rfc3339())),
                ("updated_at", s(task.updated_at.to_rfc3339())),
                ("version", n(1)),
                (
                    "due_key",
                    s(format!("D#2026-12-01T09:00:00.000Z#{}", task.id)),
                ),
                ("priority_key", s(format!("3#{}", task.id))),
            ]),
        );
        assert_eq!(Task::try_from(item).unwrap(), task);

        let bare = Task::new(TaskFields {
            description: None,
            due_date: None,
            category_id: None,
            ..task.fields.clone()
        });
        let mut written: Key = serde_dynamo::to_item(TaskItem::new(user, &bare)).unwrap();
        assert!(
            !written.contains_key("description")
                && !written.contains_key("due_date")
                && !written.contains_key("category_id")
        );
        assert_eq!(written["due_key"], s(format!("N#{}", bare.id)));
        let read: TaskItem = serde_dynamo::from_item(written.clone()).unwrap();
        assert_eq!(Task::try_from(read).unwrap(), bare);
        // A task written before the sort indexes existed (no index keys) still reads.
        written.remove("due_key");
        written.remove("priority_key");
        let old: TaskItem = serde_dynamo::from_item(written).unwrap();
        assert_eq!(Task::try_from(old).unwrap(), bare);
    }

    #[test]
    fn index_keys_sort_like_the_listing_orders() {
        let (older, newer) = (TaskId::generate(), TaskId::generate());
        let at = |t: &str| Timestamp::parse(t);
        // Due: by time across the whole calendar, ties by creation, undated apart.
        let mut due = vec![
            keys::due_key(newer, at("2026-12-01T09:00:00Z")),
            keys::due_key(older, at("9999-12-31T23:59:59.999Z")),
            keys::due_key(older, at("0000-01-01T00:00:00Z")),
            keys::due_key(older, at("2026-12-01T09:00:00Z")),
            keys::due_key(older, at("2026-12-01T08:59:59.999Z")),
        ];
        due.sort();
        let expected = [
            keys::due_key(older, at("0000-01-01T00:00:00Z")),
            keys::due_key(older, at("2026-12-01T08:59:59.999Z")),
            keys::due_key(older, at("2026-12-01T09:00:00Z")),
            keys::due_key(newer, at("2026-12-01T09:00:00Z")),
            keys::due_key(older, at("9999-12-31T23:59:59.999Z")),
        ];
        assert_eq!(due, expected);
        assert!(keys::due_key(older, None).starts_with(keys::DUE_KEY_UNDATED));
        assert!(keys::due_key(older, None) < keys::due_key(newer, None));
        // Priority: low < medium < high, ties by creation.
        let mut priority = vec![
            keys::priority_key(older, Priority::High),
            keys::priority_key(newer, Priority::Low),
            keys::priority_key(older, Priority::Medium),
            keys::priority_key(older, Priority::Low),
        ];
        priority.sort();
        assert_eq!(
            priority,
            [
                keys::priority_key(older, Priority::Low),
                keys::priority_key(newer, Priority::Low),
                keys::priority_key(older, Priority::Medium),
                keys::priority_key(older, Priority::High),
            ]
        );
        // Every key fits in a cursor.
        assert!(
            keys::due_key(older, at("2026-12-01T09:00:00Z")).len()
                <= crate::tasks::MAX_INDEX_KEY_BYTES
        );
    }

    #[test]
    fn what_remains_of_a_corrupt_task_is_read_leniently() {
        let remains: TaskRemains = serde_dynamo::from_item(layout(&[
            ("version", s("three")),
            ("completed", AttributeValue::Bool(true)),
            ("created_at", n(5)),
        ]))
        .unwrap();
        assert_eq!(remains.version, None);
        assert_eq!(remains.completed, Some(true));
        assert_eq!(remains.created_at, None);
    }

    #[test]
    fn categories_and_name_reservations_have_their_layout() {
        let user = UserId::generate();
        let category = Category::new(CategoryFields {
            name: CategoryName::parse("Work").unwrap(),
            color: Color::parse("#abcdef").unwrap(),
        });
        let item = CategoryItem::new(user, &category);
        round_trips(
            &item,
            layout(&[
                ("user_id", s(user.to_string())),
                ("sk", s(format!("CATEGORY#{}", category.id))),
                ("name", s("Work")),
                ("name_lc", s("work")),
                ("color", s("#ABCDEF")),
                ("task_count", n(0)),
                ("created_at", s(category.created_at.to_rfc3339())),
                ("updated_at", s(category.updated_at.to_rfc3339())),
                ("version", n(1)),
            ]),
        );
        assert_eq!(Category::try_from(item).unwrap(), category);
        round_trips(
            &CategoryNameItem::new(user, &category.fields.name, category.id),
            layout(&[
                ("user_id", s(user.to_string())),
                ("sk", s("CATNAME#work")),
                ("category_id", s(category.id.to_string())),
            ]),
        );
    }

    #[test]
    fn counts_users_and_reservations_keep_their_layout() {
        let user = User::new(
            Email::parse("ada@example.com").unwrap(),
            UserName::parse("Ada").unwrap(),
        );
        let pk = user.id.to_string();
        round_trips(
            &CountsItem::new(
                user.id,
                TaskCounts {
                    total: 3,
                    completed: 1,
                },
            ),
            layout(&[
                ("user_id", s(&pk)),
                ("sk", s("COUNTS")),
                ("total", n(3)),
                ("completed", n(1)),
            ]),
        );
        round_trips(
            &UserItem::new(&user, "$argon2id$hash".into()),
            layout(&[
                ("user_id", s(&pk)),
                ("sk", s("USER")),
                ("email", s("ada@example.com")),
                ("name", s("Ada")),
                ("password_hash", s("$argon2id$hash")),
                ("created_at", s(user.created_at.to_rfc3339())),
            ]),
        );
        round_trips(
            &EmailItem::new(&user),
            layout(&[
                ("user_id", s("EMAIL#ada@example.com")),
                ("sk", s("EMAIL")),
                ("owner", s(&pk)),
            ]),
        );
        round_trips(
            &IdentityItem::new("EXT#aXNz#sub".into(), "iss".into(), "sub".into(), user.id),
            layout(&[
                ("user_id", s("EXT#aXNz#sub")),
                ("sk", s("IDENTITY")),
                ("issuer", s("iss")),
                ("subject", s("sub")),
                ("owner", s(&pk)),
            ]),
        );
    }

    #[test]
    fn sessions_and_throttles_keep_their_layout() {
        round_trips(
            &FamilyItem {
                user_id: "u".into(),
                sk: "REFRESH#f".into(),
                created_at: 1,
                absolute_expires_at: 2,
                expires_at: 2,
                last_spent: None,
                last_spent_at: None,
                last_used_at: None,
                user_agent: None,
                session_gen: 3,
                tokens_from: None,
            },
            layout(&[
                ("user_id", s("u")),
                ("sk", s("REFRESH#f")),
                ("created_at", n(1)),
                ("absolute_expires_at", n(2)),
                ("expires_at", n(2)),
                ("user_agent", AttributeValue::Null(true)),
                ("session_gen", n(3)),
            ]),
        );
        // Items of before session generations are of generation 0.
        let old: FamilyItem = serde_dynamo::from_item(layout(&[
            ("user_id", s("u")),
            ("sk", s("REFRESH#f")),
            ("created_at", n(1)),
            ("absolute_expires_at", n(2)),
            ("expires_at", n(2)),
        ]))
        .unwrap();
        assert_eq!((old.session_gen, old.tokens_from), (0, None));
        round_trips(
            &TokenItem {
                user_id: "u".into(),
                sk: "REFRESH#f#h".into(),
                issued_at: 1,
                idle_expires_at: 2,
                absolute_expires_at: 3,
                expires_at: 3,
                parent: Some("p".into()),
                spent_at: Some(4),
                session_gen: 0,
            },
            layout(&[
                ("user_id", s("u")),
                ("sk", s("REFRESH#f#h")),
                ("issued_at", n(1)),
                ("idle_expires_at", n(2)),
                ("absolute_expires_at", n(3)),
                ("expires_at", n(3)),
                ("parent", s("p")),
                ("spent_at", n(4)),
                ("session_gen", n(0)),
            ]),
        );
        round_trips(
            &ThrottleItem {
                user_id: "LOGIN#a@b.c".into(),
                sk: "THROTTLE".into(),
                failures: 1,
                window_ends_at: 9,
                expires_at: 9,
            },
            layout(&[
                ("user_id", s("LOGIN#a@b.c")),
                ("sk", s("THROTTLE")),
                ("failures", n(1)),
                ("window_ends_at", n(9)),
                ("expires_at", n(9)),
            ]),
        );
    }

    #[test]
    fn idempotency_records_keep_their_layout() {
        round_trips(
            &IdempotencyItem {
                user_id: "u".into(),
                sk: "IDEM#ab".into(),
                fingerprint: "cd".into(),
                task_id: "t".into(),
                response: "{}".into(),
                created_at: 1,
                expires_at: 86_401,
            },
            layout(&[
                ("user_id", s("u")),
                ("sk", s("IDEM#ab")),
                ("fingerprint", s("cd")),
                ("task_id", s("t")),
                ("response", s("{}")),
                ("created_at", n(1)),
                ("expires_at", n(86_401)),
            ]),
        );
    }
}
