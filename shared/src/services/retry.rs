//! The one loop of optimistic writes: read, decide, write conditionally on what was read, and
//! when the write loses a race (the item changed since it was read), read again and decide
//! again. So without `If-Match` no concurrent change is ever lost, and with `If-Match` the
//! re-read version no longer matches and the client gets 412.
//!
//! A loop of rounds rather than a closure run repeatedly: a round's reads borrow the request's
//! caller mutably, which an async closure run from a helper cannot lend it in a future that
//! must be `Send`.

use crate::store::backoff;

/// Read-check-write rounds of one write before it gives up with 409 (only reachable under
/// sustained contention on one item).
pub const WRITE_ATTEMPTS: u32 = 10;

/// The rounds of one optimistic write: `while rounds.next().await { ... }`, where a round
/// returns once it decides and falls through when it lost a race; after the loop, every
/// round was lost.
#[derive(Debug)]
pub struct ConflictRetry {
    attempt: u32,
    attempts: u32,
}

impl ConflictRetry {
    pub fn new(attempts: u32) -> Self {
        Self {
            attempt: 0,
            attempts,
        }
    }

    /// Whether another round may run; before every round but the first, a jittered backoff
    /// (so that racing writers spread out).
    pub async fn next(&mut self) -> bool {
        if self.attempt >= self.attempts {
            return false;
        }
        if self.attempt > 0 {
            backoff(self.attempt).await;
        }
        self.attempt += 1;
        true
    }
}
