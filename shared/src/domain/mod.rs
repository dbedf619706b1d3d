//! Domain values every layer shares: ids and the one timestamp type. Imports nothing from
//! the HTTP edge, the store or auth.

mod ids;
mod timestamp;

pub(crate) use ids::canonical_v7_id;
pub use ids::{CategoryId, FamilyId, UserId, canonical_v7};
pub use timestamp::{Timestamp, TimestampError};
