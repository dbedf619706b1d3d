//! The integration tests of this crate, one binary (one link, one process per test run).

mod common;
mod deletion;
mod docs;
mod external_tokens;
mod me;
mod password;
mod profile;
mod reauthentication;
mod routes;
mod sessions_end;
mod sessions_list;
mod sessions_scale;
