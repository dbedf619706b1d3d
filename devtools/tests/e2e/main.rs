//! End-to-end tests over HTTP against the running local stack (`#[ignore]`d: scripts/test.sh
//! runs this binary, whose name starts with `e2e`, once the stack is up).

mod account;
mod auth;
mod categories;
mod sorting;
mod tasks;

/// The stack under test (set by scripts/test.sh).
fn base_url() -> String {
    std::env::var("TASKLINE_BASE_URL").expect("TASKLINE_BASE_URL (run through scripts/test.sh)")
}

use devtools::openapi::{CheckedResponse, CheckedSend};
use reqwest::Client;

const COOKIE: &str = shared::http::REFRESH_COOKIE;

fn url(path: &str) -> String {
    format!("{}{path}", base_url())
}

/// The refresh cookie a response sets: its value and the whole `Set-Cookie` line. (The cookie
/// is `Secure`, which a client over plain http would not send back, so tests carry it.)
fn set_cookie(response: &CheckedResponse) -> (String, String) {
    let lines: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let value = lines[0]
        .split(';')
        .next()
        .unwrap()
        .strip_prefix(&format!("{COOKIE}="))
        .unwrap()
        .to_string();
    (value, lines[0].clone())
}

async fn refresh(client: &Client, cookie: &str) -> CheckedResponse {
    client
        .post(url("/v1/auth/refresh"))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .send_checked()
        .await
        .unwrap()
}
