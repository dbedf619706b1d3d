//! Domain values every layer shares: ids and the one timestamp type. Imports nothing from
//! the HTTP edge, the store or auth.

mod ids;
mod timestamp;

pub use ids::{FamilyId, UserId};
pub use timestamp::{Timestamp, TimestampError};
