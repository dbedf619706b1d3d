//! The services: what each request does, over the store's aggregates and in the domain's
//! terms. A service takes parsed input and an authenticated [`Caller`], runs the reads and
//! conditional writes (optimistic rounds retried by [`ConflictRetry`]) and maps the
//! store's outcomes to [`crate::error::ApiError`]s, beside the service that meets them. It
//! knows nothing of HTTP: the function crates parse a request, call a service and respond.

mod caller;
pub mod categories;
pub mod recovery;
mod retry;
pub mod tasks;

pub use caller::{Bearer, Caller, Deleting, DuringDeletion, admit};
pub use retry::{ConflictRetry, WRITE_ATTEMPTS};
