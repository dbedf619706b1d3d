//! Domain values every layer shares: ids and the one timestamp type. Imports nothing from
//! the HTTP edge, the store or auth.

mod ids;
mod timestamp;

pub use ids::{CategoryId, FamilyId, UserId, canonical_v7};
pub use timestamp::{Timestamp, TimestampError};
