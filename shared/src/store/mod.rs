//! The one DynamoDB store. A single table (defined in template.yaml) holds every item; each
//! user's items live under the user's id as partition key, so an account is one partition.
//!
//! | item            | `user_id` (partition)  | `sk` (sort)                 |
//! |-----------------|------------------------|-----------------------------|
//! | user            | `<user uuid>`          | `USER`                      |
//! | task counts     | `<user uuid>`          | `COUNTS`                    |
//! | task            | `<user uuid>`          | `TASK#<task uuidv7>`        |
//! | category        | `<user uuid>`          | `CATEGORY#<uuidv7>`         |
//! | category name   | `<user uuid>`          | `CATNAME#<lowercased name>` |
//! | refresh family  | `<user uuid>`          | `REFRESH#<family>`          |
//! | refresh token   | `<user uuid>`          | `REFRESH#<family>#<hash>`   |
//! | idempotency record | `<user uuid>`       | `IDEM#<sha256 hex of the key>` |
//! | email reservation | `EMAIL#<email>`      | `EMAIL`                     |
//! | login throttle (email) | `LOGIN#<email>` | `THROTTLE`                  |
//! | login throttle (email, IP) | `LOGIN#<email>` | `THROTTLE#IP#<ip>`      |
//! | login throttle (IP) | `LOGIN_IP#<ip>`    | `THROTTLE`                  |
//! | login throttle (device) | `LOGIN_DEVICE#<device id>` | `THROTTLE`         |
//! | login throttle (session) | `LOGIN_SESSION#<session id>` | `THROTTLE`      |
//! | registration throttle (IP) | `REGISTER_IP#<ip>` | `THROTTLE`              |
//! | identity link   | `EXT#<b64url(iss)>#<sub>` | `IDENTITY`               |
//! | link token      | `<user uuid>`          | `TOKEN#RESET`, `TOKEN#VERIFY` |
//! | reset throttle (email) | `RESET#<email>` | `THROTTLE`                  |
//! | reset throttle (IP) | `RESET_IP#<ip>`    | `THROTTLE`                  |
//! | verification-mail throttle | `VERIFY_MAIL#<user uuid>` | `THROTTLE`    |
//!
//! Task items keep `title_lc` (the lowercased title, for `q`), `version`, the sort keys of
//! the global secondary indexes `by_due` (`due_key`) and `by_priority` (`priority_key`; see
//! [`keys::due_key`], [`keys::priority_key`], [`backfill`]) and, when categorised,
//! `category_id`; the counts item holds numbers `total`, `completed` and
//! `categories` (see [`tasks`], [`categories`]).
//!
//! The user item carries `deleting` once its account's deletion has begun: from then on every
//! write into the partition fails its condition and only `DELETE /v1/me` authenticates (see
//! [`users`]). It also carries the user's session generation (`session_gen`), the session
//! kept by its latest move (`kept_session`) and the sessions started since (`sessions`, a
//! string set); family and token items carry the generation they belong to (see
//! [`sessions`]).
//!
//! The user item carries `email_verified` once the user proved access to the email; link
//! tokens hold only their hash (see [`link_tokens`]).
//!
//! `expires_at` (epoch seconds) is the table's TTL attribute. DynamoDB deletes expired items
//! late (and DynamoDB Local not reliably), so expiry is always checked on read as well.
//!
//! Operations are grouped by concern in the submodules, all as methods of [`Store`]. Keys and
//! attribute names are written once in `keys`, items are typed structs in `items` (converted
//! with serde_dynamo), every conditional transaction ends in a named outcome (`writes`), and
//! every failure is a [`StoreError`] that keeps its source: the store decides no HTTP status.

mod backfill;
mod categories;
mod core;
mod error;
mod expr;
mod idempotency;
mod identities;
mod items;
mod keys;
mod link_tokens;
mod listing;
mod session_ends;
mod session_info;
mod sessions;
mod standing;
mod task_items;
mod tasks;
mod throttle;
mod users;
mod warm;
mod writes;

pub use backfill::BackfillReport;
pub use categories::Categories;
pub use categories::{CategoryCreation, CategoryWrite, StoredCategory};
pub use core::Store;
pub use error::StoreError;
pub use idempotency::{Idempotency, KeyedCreate};
pub use identities::ExternalLink;
pub use items::ListingTotals;
pub use keys::{
    CATEGORY_NAME_SK_PREFIX, CATEGORY_SK_PREFIX, COUNTS_SK, DUE_INDEX, IDEMPOTENCY_SK_PREFIX,
    IDENTITY_SK, Key, PK, PRIORITY_INDEX, SK, TASK_SK_PREFIX, TTL, USER_SK, key,
};
pub use link_tokens::{Registration, TokenUse};
pub use listing::{ListPage, ListRequest, MAX_ITEMS_READ_PER_LIST};
pub use session_ends::Keep;
pub use session_info::SessionInfo;
pub use sessions::{FamilyStart, RefreshState, Rotation, Sessions};
pub use standing::{SessionCondition, Standing, Standings};
pub use task_items::{StoredTask, UnreadableTask, counts_item, task_item};
pub use tasks::{CreateOutcome, Tasks, WriteOutcome};
pub use throttle::{
    AttemptOutcome, LoginAttempt, PasswordBudget, RegistrationAttempt, Throttle, Throttled,
};
pub use users::{Accounts, Deletion, PasswordWrite, StoredPassword, UserCreation};
pub use writes::backoff;
