//! Every key and attribute name of the table, written once: partition and sort key builders,
//! the attribute-name constants the item structs (see [`super::items`]) and the expressions
//! use, and the few attribute-value helpers expressions need.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{CategoryId, FamilyId, Timestamp, UserId};
use crate::tasks::{Priority, TaskId};

/// Partition key attribute.
pub const PK: &str = "user_id";
/// Sort key attribute.
pub const SK: &str = "sk";
/// TTL attribute (epoch seconds).
pub const TTL: &str = "expires_at";

/// Sort key of the user item.
pub const USER_SK: &str = "USER";
/// Sort key of the counts item.
pub const COUNTS_SK: &str = "COUNTS";
/// Sort key prefix of task items.
pub const TASK_SK_PREFIX: &str = "TASK#";
/// Sort key prefix of category items.
pub const CATEGORY_SK_PREFIX: &str = "CATEGORY#";
/// Sort key prefix of category name reservations.
pub const CATEGORY_NAME_SK_PREFIX: &str = "CATNAME#";
/// Sort key of an email reservation.
pub const EMAIL_SK: &str = "EMAIL";
/// Sort key of an identity link.
pub const IDENTITY_SK: &str = "IDENTITY";
/// Sort key of the throttle counters (login per email, IP, device, session; registration per
/// IP).
pub const THROTTLE_SK: &str = "THROTTLE";
const REFRESH_SK_PREFIX: &str = "REFRESH#";
/// Sort key prefix of idempotency records (`IDEM#<sha256 hex of the key>`).
pub const IDEMPOTENCY_SK_PREFIX: &str = "IDEM#";

/// The global secondary index serving `sort=due` (partition `user_id`, sort [`attr::DUE_KEY`]).
pub const DUE_INDEX: &str = "by_due";
/// The global secondary index serving `sort=priority` (partition `user_id`, sort
/// [`attr::PRIORITY_KEY`]).
pub const PRIORITY_INDEX: &str = "by_priority";
/// Prefix of the due key of a task with a due date: the fixed-width UTC time follows, so keys
/// sort like the times.
pub const DUE_KEY_DATED: &str = "D#";
/// Prefix of the due key of a task without a due date (they come after every dated key's
/// range is read, in either order).
pub const DUE_KEY_UNDATED: &str = "N#";

/// Attribute names (other than the keys).
pub mod attr {
    pub const TITLE: &str = "title";
    pub const TITLE_LC: &str = "title_lc";
    pub const DESCRIPTION: &str = "description";
    pub const COMPLETED: &str = "completed";
    pub const PRIORITY: &str = "priority";
    pub const DUE_DATE: &str = "due_date";
    pub const CREATED_AT: &str = "created_at";
    pub const UPDATED_AT: &str = "updated_at";
    pub const VERSION: &str = "version";
    /// A task's sort key in [`super::DUE_INDEX`] (see [`super::due_key`]); absent on tasks
    /// written before the index existed, until the backfill writes it.
    pub const DUE_KEY: &str = "due_key";
    /// A task's sort key in [`super::PRIORITY_INDEX`] (see [`super::priority_key`]).
    pub const PRIORITY_KEY: &str = "priority_key";
    pub const TOTAL: &str = "total";
    /// A task's category (absent when uncategorised, and on tasks written before categories).
    pub const CATEGORY_ID: &str = "category_id";
    pub const NAME: &str = "name";
    pub const NAME_LC: &str = "name_lc";
    pub const COLOR: &str = "color";
    pub const TASK_COUNT: &str = "task_count";
    /// How many categories the user has (a number of the counts item).
    pub const CATEGORIES: &str = "categories";
    /// The ids of the user's categories whose deletion has begun and not finished (a string
    /// set of the counts item): their tasks read as uncategorised until detached, and a
    /// listing learns which they are from the counts item it reads anyway (no query of its own).
    pub const DELETING_CATEGORIES: &str = "deleting_categories";
    pub const EMAIL: &str = "email";
    /// `true` on the user item of an external identity whose provider has not verified its
    /// email: the address is shown but not reserved (no email item), so the account's
    /// deletion leaves the email items alone.
    pub const EMAIL_UNVERIFIED: &str = "email_unverified";
    pub const PASSWORD_HASH: &str = "password_hash";
    /// `true` on the user item once the user proved access to its email (a verification
    /// link, a password reset), or a provider vouched for it.
    pub const EMAIL_VERIFIED: &str = "email_verified";
    /// A link token item's SHA-256 (hex) of its token.
    pub const TOKEN_HASH: &str = "token_hash";
    pub const OWNER: &str = "owner";
    /// Set on the user item once its account's deletion has begun, and on a category item
    /// once the category's deletion has (epoch seconds).
    pub const DELETING: &str = "deleting";
    pub const ABSOLUTE_EXPIRES_AT: &str = "absolute_expires_at";
    pub const SPENT_AT: &str = "spent_at";
    pub const ISSUED_AT: &str = "issued_at";
    pub const LAST_SPENT: &str = "last_spent";
    pub const LAST_SPENT_AT: &str = "last_spent_at";
    pub const LAST_USED_AT: &str = "last_used_at";
    /// The session generation: on the user item the current one (absent: 0), on a family
    /// item the one the session belongs to, on a token item the one it was issued in (see
    /// `super::sessions`).
    pub const SESSION_GEN: &str = "session_gen";
    /// A family item's oldest session generation whose tokens are still valid (absent: 0);
    /// a password change moves it to the new generation, ending the session's older tokens.
    pub const TOKENS_FROM: &str = "tokens_from";
    /// The user item's session that survived the latest end of the others (its access
    /// tokens of the generation before stay valid).
    pub const KEPT_SESSION: &str = "kept_session";
    /// The user item's string set of the sessions started in the current generation (some
    /// may have ended since: logins prune it when it reaches the bound).
    pub const SESSIONS: &str = "sessions";
    pub const FAILURES: &str = "failures";
    pub const WINDOW_ENDS_AT: &str = "window_ends_at";
}

/// A full primary key.
pub type Key = HashMap<String, AttributeValue>;

/// The key of item `sk` in partition `pk`.
pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Key {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

/// A string attribute value (key conditions and expression values).
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute value (expression values).
pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string attribute of an item read with a projection, if present.
pub fn text<'a>(item: &'a Key, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

/// A number attribute of an item read with a projection, if present and numeric.
pub fn number(item: &Key, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

/// The sort key of a key (or item), if it is a string.
pub fn sk_of(item: &Key) -> Option<&str> {
    text(item, SK)
}

/// Partition key of a user's items.
pub fn user_pk(user: UserId) -> String {
    user.to_string()
}

pub fn user_key(user: UserId) -> Key {
    key(user_pk(user), USER_SK)
}

pub fn counts_key(user: UserId) -> Key {
    key(user_pk(user), COUNTS_SK)
}

pub fn task_sk(id: TaskId) -> String {
    format!("{TASK_SK_PREFIX}{id}")
}

pub fn task_key(user: UserId, id: TaskId) -> Key {
    key(user_pk(user), task_sk(id))
}

/// A task's key in [`DUE_INDEX`]: `D#<due date, UTC, ms>#<id>`, or `N#<id>` without one.
/// The id (a UUIDv7, whose text sorts by creation time) breaks ties by creation.
pub fn due_key(id: TaskId, due: Option<Timestamp>) -> String {
    match due {
        Some(due) => format!("{DUE_KEY_DATED}{}#{id}", due.to_rfc3339()),
        None => format!("{DUE_KEY_UNDATED}{id}"),
    }
}

/// A task's key in [`PRIORITY_INDEX`]: `<rank>#<id>`, rank 1 (low) to 3 (high).
pub fn priority_key(id: TaskId, priority: Priority) -> String {
    let rank = match priority {
        Priority::Low => 1,
        Priority::Medium => 2,
        Priority::High => 3,
    };
    format!("{rank}#{id}")
}

/// The last sort key beginning with `prefix`, for a key condition `sk BETWEEN prefix AND
/// prefix_end(prefix)` that reads the same items as `begins_with(sk, prefix)`: for the keys
/// whose rest is ASCII (ids, the index keys), which every key family queried this way has.
/// Why not `begins_with`: DynamoDB Local evaluates it by reading the whole partition (a
/// `CATEGORY#` query of a 10,000-task partition took 12 ms instead of 4), while both read just
/// the range in DynamoDB; the tests and benchmarks run on DynamoDB Local.
pub fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// The task id a task item's sort key names.
pub fn task_id_of_sk(sk: &str) -> Option<TaskId> {
    sk.strip_prefix(TASK_SK_PREFIX).and_then(TaskId::parse)
}

/// Sort key of the record of idempotency key `digest` (see [`crate::domain::IdempotencyKey`]).
pub fn idempotency_sk(digest: &str) -> String {
    format!("{IDEMPOTENCY_SK_PREFIX}{digest}")
}

/// The key of the record of idempotency key `digest`.
pub fn idempotency_key(user: UserId, digest: &str) -> Key {
    key(user_pk(user), idempotency_sk(digest))
}

pub fn category_sk(id: CategoryId) -> String {
    format!("{CATEGORY_SK_PREFIX}{id}")
}

pub fn category_key(user: UserId, id: CategoryId) -> Key {
    key(user_pk(user), category_sk(id))
}

/// The category id a category item's sort key names.
pub fn category_id_of_sk(sk: &str) -> Option<CategoryId> {
    sk.strip_prefix(CATEGORY_SK_PREFIX)
        .and_then(CategoryId::parse)
}

/// Sort key of the reservation of a name (its [`crate::categories::CategoryName::unique_key`]).
pub fn category_name_sk(unique_key: &str) -> String {
    format!("{CATEGORY_NAME_SK_PREFIX}{unique_key}")
}

pub fn family_sk(family: FamilyId) -> String {
    format!("{REFRESH_SK_PREFIX}{family}")
}

/// Sort-key prefix of every token item of a family.
pub fn family_tokens_prefix(family: FamilyId) -> String {
    format!("{}#", family_sk(family))
}

pub fn token_sk(family: FamilyId, hash: &str) -> String {
    format!("{}{hash}", family_tokens_prefix(family))
}

/// Partition key of an email's reservation (the email as normalised by [`crate::auth::Email`]).
pub fn email_pk(email: &str) -> String {
    format!("EMAIL#{email}")
}

pub fn email_key(email: &str) -> Key {
    key(email_pk(email), EMAIL_SK)
}

/// Partition of the login throttles of one email.
pub fn login_pk(email: &str) -> String {
    format!("LOGIN#{email}")
}

/// Sort key of the (email, IP) throttle within the email's partition.
pub fn throttle_ip_sk(ip: &str) -> String {
    format!("{THROTTLE_SK}#IP#{ip}")
}

/// Partition of the login throttle of one source IP.
pub fn login_ip_pk(ip: &str) -> String {
    format!("LOGIN_IP#{ip}")
}

/// Partition of the login throttle of one device (a device cookie's id).
pub fn login_device_pk(device: &str) -> String {
    format!("LOGIN_DEVICE#{device}")
}

/// Partition of the password throttle of one session (its family id).
pub fn login_session_pk(session: &str) -> String {
    format!("LOGIN_SESSION#{session}")
}

/// Sort-key prefix of a user's link tokens (`TOKEN#RESET`, `TOKEN#VERIFY`).
pub const LINK_TOKEN_SK_PREFIX: &str = "TOKEN#";

/// The key of the user's link token of `kind` (`RESET`, `VERIFY`).
pub fn link_token_key(user: UserId, kind: &str) -> Key {
    key(user_pk(user), format!("{LINK_TOKEN_SK_PREFIX}{kind}"))
}

/// Partition of the password-reset throttle of one email.
pub fn reset_email_pk(email: &str) -> String {
    format!("RESET#{email}")
}

/// Partition of the password-reset throttle of one source IP.
pub fn reset_ip_pk(ip: &str) -> String {
    format!("RESET_IP#{ip}")
}

/// Partition of the verification-mail throttle of one user.
pub fn verify_mail_pk(user: &str) -> String {
    format!("VERIFY_MAIL#{user}")
}

/// Partition of the registration throttle of one source IP.
pub fn register_ip_pk(ip: &str) -> String {
    format!("REGISTER_IP#{ip}")
}
