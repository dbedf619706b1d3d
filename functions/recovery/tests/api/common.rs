//! What the recovery tests share: accounts, sessions, the three requests, the mails.

use devtools::harness::{Session, TEST_PASSWORD, TestApp, TestRequest, TestResponse, call};
use devtools::maildev;
use serde_json::{Value, json};
use taskline::App;

/// A fresh address of this test (the run's inbox is shared).
pub fn address(label: &str) -> String {
    format!("{label}-{}@example.com", uuid::Uuid::now_v7().simple())
}

/// A new account of `email` with [`TEST_PASSWORD`] (asserting 201): its body.
pub async fn register(t: &TestApp, email: &str) -> Value {
    let response = call(
        register::handle,
        &t.app,
        TestRequest::registration(email, TEST_PASSWORD),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    response.json()
}

/// The id of a new account of `email` (see [`register`]).
pub async fn registered_id(t: &TestApp, email: &str) -> String {
    register(t, email).await["id"].as_str().unwrap().to_string()
}

pub async fn log_in(t: &TestApp, email: &str, password: &str) -> TestResponse {
    call(login::handle, &t.app, TestRequest::login(email, password)).await
}

pub async fn session(t: &TestApp, email: &str) -> Session {
    log_in(t, email, TEST_PASSWORD).await.session()
}

pub async fn me(t: &TestApp, access_token: &str) -> TestResponse {
    call(
        account::handle,
        &t.app,
        TestRequest::get("/v1/me").bearer(access_token),
    )
    .await
}

pub async fn request_reset_with(app: &App, email: &str, ip: &str) -> TestResponse {
    call(
        recovery::handle,
        app,
        TestRequest::post("/v1/auth/password-reset")
            .origin(devtools::harness::ALLOWED_ORIGIN)
            .source_ip(ip)
            .json(&json!({ "email": email })),
    )
    .await
}

pub async fn request_reset(t: &TestApp, email: &str) -> TestResponse {
    request_reset_with(&t.app, email, "198.51.100.7").await
}

pub async fn confirm_reset_with(app: &App, token: &str, new_password: &str) -> TestResponse {
    call(
        recovery::handle,
        app,
        TestRequest::post("/v1/auth/password-reset/confirm")
            .origin(devtools::harness::ALLOWED_ORIGIN)
            .json(&json!({ "token": token, "new_password": new_password })),
    )
    .await
}

pub async fn confirm_reset(t: &TestApp, token: &str, new_password: &str) -> TestResponse {
    confirm_reset_with(&t.app, token, new_password).await
}

pub async fn verify_email(t: &TestApp, token: &str) -> TestResponse {
    call(
        recovery::handle,
        &t.app,
        TestRequest::post("/v1/auth/verify-email")
            .origin(devtools::harness::ALLOWED_ORIGIN)
            .json(&json!({ "token": token })),
    )
    .await
}

pub async fn ask_for_verification(app: &App, access_token: &str) -> TestResponse {
    call(
        account::handle,
        app,
        TestRequest::post("/v1/me/verification-email").bearer(access_token),
    )
    .await
}

/// The token of the newest mail to `to` with `subject` in the run's inbox.
pub async fn mailed_token(to: &str, subject: &str) -> String {
    maildev::link_token(&maildev::latest_mail(to, subject).await)
}

/// Asserts the 400 of a link's token that cannot be used.
pub fn assert_invalid_token(response: &TestResponse) {
    let problem = response.problem(400);
    assert_eq!(
        problem["type"],
        "https://taskline.dev/problems/invalid-token"
    );
    assert_eq!(problem["title"], "Invalid token");
    assert_eq!(
        problem["detail"],
        "the link is invalid or has expired; ask for a new one"
    );
}

/// The link-token items (`TOKEN#...`) of `user`'s partition.
pub async fn token_items(t: &TestApp, user: &str) -> Vec<String> {
    t.partition(user)
        .await
        .iter()
        .filter_map(|item| item["sk"].as_s().ok().cloned())
        .filter(|sk| sk.starts_with("TOKEN#"))
        .collect()
}
