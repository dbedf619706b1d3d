//! The integration tests of this crate, one binary (one link, one process per test run).

mod common;
mod device;
mod login;
mod oauth_form;
mod privilege;
