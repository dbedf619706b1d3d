//! The integration tests of this crate, one binary (one link, one process per test run).

mod categories;
mod common;
mod concurrency;
mod dynamodb_calls;
mod hostile_input;
mod listing;
mod quota;
mod roundtrip;
mod routes;
mod sorting;
