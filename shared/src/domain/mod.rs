//! Domain values every layer shares: ids, the one timestamp type, idempotency keys and the
//! preconditions of writes.
//! Imports nothing from the HTTP edge, the store or auth.

mod idempotency;
mod ids;
mod precondition;
mod timestamp;

pub(crate) use idempotency::hex_sha256;
pub use idempotency::{
    Fingerprint, IDEMPOTENCY_WINDOW_SECS, IdempotencyKey, MAX_IDEMPOTENCY_KEY_CHARS,
};
pub(crate) use ids::canonical_v7_id;
pub use ids::{CategoryId, FamilyId, UserId, canonical_v7};
pub use precondition::{IfMatch, IfNoneMatch, PutPrecondition};
pub use timestamp::{Timestamp, TimestampError};
