//! `DELETE /v1/me` asks for the current password again: an access token alone (a stolen one,
//! a session left open) erases nothing.

use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use serde_json::{Value, json};

use crate::common::{PASSWORD, assert_token_works, delete_me, log_in, sign_up};

async fn delete_with(t: &TestApp, token: &str, body: Option<Value>) -> TestResponse {
    let request = TestRequest::delete("/v1/me").bearer(token);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    call(account::handle, &t.app, request).await
}

#[tokio::test]
async fn a_deletion_without_the_right_password_is_refused_and_deletes_nothing() {
    let t = TestApp::new().await;
    let id = sign_up(&t, "careful@example.com").await;
    let session = log_in(&t, "careful@example.com").await;
    let before = t.partition(&id).await;

    // No body, or no `password`: 422 naming the field.
    for body in [None, Some(json!({}))] {
        let response = delete_with(&t, &session.access_token, body.clone()).await;
        let problem = response.problem(422);
        assert_eq!(
            problem["errors"][0]["field"], "password",
            "{body:?}: {problem}"
        );
    }
    // A wrong one: 403, as a wrong current password of a password change.
    let response = delete_with(
        &t,
        &session.access_token,
        Some(json!({"password": "not the password at all"})),
    )
    .await;
    let problem = response.problem(403);
    assert!(
        problem["detail"].as_str().unwrap().contains("password"),
        "{problem}"
    );
    // Unknown fields are refused as everywhere else.
    delete_with(
        &t,
        &session.access_token,
        Some(json!({"password": PASSWORD, "force": true})),
    )
    .await
    .problem(422);

    assert_eq!(t.partition(&id).await, before);
    assert_token_works(&t, &session.access_token).await;

    let deleted = delete_me(&t.app, &session.access_token).await;
    assert_eq!(deleted.status(), 204, "{}", deleted.text());
    assert!(t.partition(&id).await.is_empty());
}

#[tokio::test]
async fn wrong_passwords_on_deletion_are_throttled_by_the_accounts_own_budget() {
    let t = TestApp::new().await;
    sign_up(&t, "guessed@example.com").await;
    let session = log_in(&t, "guessed@example.com").await;
    let wrong = || Some(json!({"password": "a wrong guess, again"}));
    // The account's budget for authenticated password checks is 5 failures in the window.
    for _ in 0..5 {
        delete_with(&t, &session.access_token, wrong())
            .await
            .problem(403);
    }
    let throttled = delete_with(&t, &session.access_token, wrong()).await;
    throttled.problem(429);
    assert!(throttled.header("retry-after").is_some());
    // Not the email's login budgets: the owner still logs in from the same address.
    log_in(&t, "guessed@example.com").await;
}
