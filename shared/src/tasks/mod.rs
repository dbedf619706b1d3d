//! Tasks: the domain types of docs/API.md's Tasks section. Input (`TaskCreate`,
//! `TaskReplace`, `TaskPatch`) is parsed at the edge into newtypes that only hold valid values,
//! so the store never sees unvalidated data; [`Task`] is what the store holds and the API returns.
//! One concern per file: [`id`](TaskId), fields (newtypes), input (request bodies), view (the
//! stored task and its JSON), query (listing parameters), cursor (sealed list positions).

mod cursor;
mod fields;
mod id;
mod input;
mod query;
mod view;

pub use cursor::{Continuation, CursorKeys, ListPosition, MAX_INDEX_KEY_BYTES};
pub use fields::{
    MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, Priority, TaskDescription, TaskFields, TaskTitle,
};
pub use id::{ID_FROM_THE_FUTURE, MAX_ID_AHEAD_SECS, NOT_A_UUIDV7, TaskId};
pub use input::{NO_SUCH_CATEGORY, SERVER_OWNED_FIELDS, TaskCreate, TaskPatch, TaskReplace};
pub use query::{CategoryFilter, ListFilters, ListQuery, Order, Sort};
pub use view::{ListingView, Task, TaskCounts, TaskView};

pub use crate::domain::{Timestamp, TimestampError};
