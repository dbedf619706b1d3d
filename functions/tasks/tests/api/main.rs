//! The integration tests of this crate, one binary (one link, one process per test run).

mod categories;
mod common;
mod concurrency;
mod dynamodb_calls;
mod hostile_input;
mod idempotency;
mod listing;
mod put_create;
mod quota;
mod roundtrip;
mod routes;
mod sorting;
