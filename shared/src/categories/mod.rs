//! Categories: the domain types of docs/API.md's Categories section. Input
//! ([`CategoryCreate`], [`CategoryPatch`]) is parsed at the edge into newtypes that only hold
//! valid values; [`Category`] is what the store holds and the API returns. The id,
//! [`CategoryId`], is a domain value (tasks name their category by it).

mod fields;
mod input;
mod view;

pub use fields::{CategoryFields, CategoryName, Color, DEFAULT_COLOR, MAX_NAME_CHARS};
pub use input::{CategoryCreate, CategoryPatch, SERVER_OWNED_FIELDS};
pub use view::{Category, CategoryView};

pub use crate::domain::CategoryId;

/// Most categories one user may have (409 beyond).
pub const MAX_CATEGORIES_PER_USER: u64 = 100;
