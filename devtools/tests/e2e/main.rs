//! End-to-end tests over HTTP against the running local stack (`#[ignore]`d: scripts/test.sh
//! runs this binary, whose name starts with `e2e`, once the stack is up).

mod account;
mod auth;
mod tasks;

/// The stack under test (set by scripts/test.sh).
fn base_url() -> String {
    std::env::var("TASKLINE_BASE_URL").expect("TASKLINE_BASE_URL (run through scripts/test.sh)")
}
