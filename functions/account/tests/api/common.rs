//! Accounts as a client makes them (register, then log in), and the requests of the tests of
//! sessions ending and of account deletion.
pub use devtools::harness::Session;
use devtools::harness::{TEST_PASSWORD, TestApp, TestRequest, TestResponse, call};
use serde_json::json;
use taskline::App;

pub const PASSWORD: &str = TEST_PASSWORD;

/// `POST /v1/auth/register` of `email`.
pub async fn register_response(t: &TestApp, email: &str) -> TestResponse {
    call(
        register::handle,
        &t.app,
        TestRequest::registration(email, PASSWORD),
    )
    .await
}

/// Registers `email` (asserting 201) and returns its id.
pub async fn sign_up(t: &TestApp, email: &str) -> String {
    register_response(t, email).await.created_id()
}

pub async fn log_in_response(t: &TestApp, email: &str) -> TestResponse {
    call(login::handle, &t.app, TestRequest::login(email, PASSWORD)).await
}

/// A new session (a login, asserting 200).
pub async fn log_in(t: &TestApp, email: &str) -> Session {
    log_in_response(t, email).await.session()
}

pub async fn refresh_response(t: &TestApp, cookie: &str) -> TestResponse {
    call(refresh::handle, &t.app, TestRequest::refresh(cookie)).await
}

/// The session after rotating `cookie` (asserting 200).
pub async fn refresh(t: &TestApp, cookie: &str) -> Session {
    refresh_response(t, cookie).await.session()
}

pub async fn logout(t: &TestApp, cookie: &str) {
    let response = call(refresh::handle, &t.app, TestRequest::logout(cookie)).await;
    assert_eq!(response.status(), 204, "{}", response.text());
}

pub async fn me(t: &TestApp, token: &str) -> TestResponse {
    call(
        account::handle,
        &t.app,
        TestRequest::get("/v1/me").bearer(token),
    )
    .await
}

/// `DELETE /v1/me` with the token and the password ([`PASSWORD`]) the account confirms it by.
pub async fn delete_me(app: &App, token: &str) -> TestResponse {
    call(
        account::handle,
        app,
        TestRequest::delete("/v1/me")
            .bearer(token)
            .json(&json!({"password": PASSWORD})),
    )
    .await
}

pub async fn list_tasks(t: &TestApp, token: &str) -> TestResponse {
    call(
        tasks::handle,
        &t.app,
        TestRequest::get("/v1/tasks").bearer(token),
    )
    .await
}

pub async fn create_task(t: &TestApp, token: &str, title: &str) -> TestResponse {
    call(
        tasks::handle,
        &t.app,
        TestRequest::post("/v1/tasks")
            .bearer(token)
            .json(&json!({"title": title})),
    )
    .await
}

/// Asserts a 401 of a Bearer route (problem+json with `WWW-Authenticate: Bearer`).
pub fn assert_bearer_refused(response: &TestResponse) {
    response.problem(401);
    assert!(
        response
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer")),
        "{:?}",
        response.header("www-authenticate")
    );
}

/// Asserts the token works on a tasks route and on `/v1/me`.
pub async fn assert_token_works(t: &TestApp, token: &str) {
    let listed = list_tasks(t, token).await;
    assert_eq!(listed.status(), 200, "{}", listed.text());
    let me = me(t, token).await;
    assert_eq!(me.status(), 200, "{}", me.text());
}

/// Asserts the token is refused (401) on a tasks route and on `/v1/me`.
pub async fn assert_token_refused(t: &TestApp, token: &str) {
    assert_bearer_refused(&list_tasks(t, token).await);
    assert_bearer_refused(&me(t, token).await);
}
