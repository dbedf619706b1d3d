//! End-to-end tests over HTTP against the running local stack (`#[ignore]`d: scripts/test.sh
//! runs this binary, whose name starts with `e2e`, once the stack is up).

mod account;
mod auth;
mod categories;
mod recovery;
mod sorting;
mod tasks;

/// The stack under test (set by scripts/test.sh).
fn base_url() -> String {
    std::env::var("TASKLINE_BASE_URL").expect("TASKLINE_BASE_URL (run through scripts/test.sh)")
}

use devtools::openapi::{CheckedResponse, CheckedSend};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const COOKIE: &str = taskline::http::REFRESH_COOKIE;

fn url(path: &str) -> String {
    format!("{}{path}", base_url())
}

/// The refresh cookie a response sets: its value and the whole `Set-Cookie` line. (The cookie
/// is `Secure`, which a client over plain http would not send back, so tests carry it.)
fn set_cookie(response: &CheckedResponse) -> (String, String) {
    set_cookie_named(response, COOKIE)
}

/// The cookie `name` a response sets (exactly once): its value and the whole `Set-Cookie` line.
fn set_cookie_named(response: &CheckedResponse, name: &str) -> (String, String) {
    let lines: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .filter(|line| line.starts_with(&format!("{name}=")))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let value = lines[0]
        .split(';')
        .next()
        .unwrap()
        .strip_prefix(&format!("{name}="))
        .unwrap()
        .to_string();
    (value, lines[0].clone())
}

/// `GET /v1/me` with `token`.
async fn me(client: &Client, token: &str) -> CheckedResponse {
    client
        .get(url("/v1/me"))
        .bearer_auth(token)
        .send_checked()
        .await
        .unwrap()
}

async fn refresh(client: &Client, cookie: &str) -> CheckedResponse {
    client
        .post(url("/v1/auth/refresh"))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .send_checked()
        .await
        .unwrap()
}

/// A fresh account's access token (`label` names the test in the email).
async fn signed_up(client: &Client, label: &str) -> String {
    let email = format!("e2e-{label}-{}@example.com", uuid::Uuid::now_v7().simple());
    let password = "correct horse battery staple";
    let response = client
        .post(url("/v1/auth/register"))
        .json(&json!({"email": email, "password": password, "name": "E2E"}))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = client
        .post(url("/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// One Bearer request with an optional JSON body.
async fn call(
    client: &Client,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> CheckedResponse {
    let mut request = client.request(method, url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send_checked().await.unwrap()
}
