//! Ending a session ends its access tokens at once: they name their session (`sid`), and
//! authentication checks it, with the user, in one DynamoDB call.

use crate::common::*;
use devtools::harness::{TestApp, TestRequest};
use taskline::http::Auth;

#[tokio::test]
async fn authenticating_a_request_costs_exactly_one_dynamodb_call() {
    let t = TestApp::new().await;
    sign_up(&t, "counted@example.com").await;
    let session = log_in(&t, "counted@example.com").await;
    let req = TestRequest::get("/v1/tasks")
        .bearer(&session.access_token)
        .into_request();
    // Authenticated as a Bearer route does it: the token verified, then the standing checked.
    let authenticate = async || {
        let mut caller = t.app.caller(Auth::Bearer, &req).await?;
        caller.finish().await
    };
    let (user, calls) = t.calls.during(authenticate()).await;
    assert!(user.is_ok(), "{user:?}");
    assert_eq!(calls, ["BatchGetItem"]);

    // A refusal (here: the session has ended) costs the same single call.
    logout(&t, &session.refresh_cookie).await;
    let (user, calls) = t.calls.during(authenticate()).await;
    assert_eq!(user.unwrap_err().status(), 401);
    assert_eq!(calls, ["BatchGetItem"]);
}

#[tokio::test]
async fn after_logout_the_sessions_access_tokens_are_refused_at_once() {
    let t = TestApp::new().await;
    sign_up(&t, "leaver@example.com").await;
    let phone = log_in(&t, "leaver@example.com").await;
    let laptop = log_in(&t, "leaver@example.com").await;
    // A token of an earlier rotation of the same session ends with it too.
    let phone_rotated = refresh(&t, &phone.refresh_cookie).await;
    assert_token_works(&t, &phone.access_token).await;
    assert_token_works(&t, &phone_rotated.access_token).await;

    logout(&t, &phone_rotated.refresh_cookie).await;

    assert_token_refused(&t, &phone.access_token).await;
    assert_token_refused(&t, &phone_rotated.access_token).await;
    assert_token_works(&t, &laptop.access_token).await;
}

#[tokio::test]
async fn after_reuse_detection_the_revoked_sessions_access_tokens_are_refused() {
    let t = TestApp::new().await;
    sign_up(&t, "stolen@example.com").await;
    let first = log_in(&t, "stolen@example.com").await;
    let other = log_in(&t, "stolen@example.com").await;
    let second = refresh(&t, &first.refresh_cookie).await;
    let third = refresh(&t, &second.refresh_cookie).await;
    assert_token_works(&t, &third.access_token).await;

    // The first cookie, spent two rotations ago, is presented again: reuse.
    refresh_response(&t, &first.refresh_cookie)
        .await
        .problem(401);

    for token in [&first, &second, &third].map(|s| &s.access_token) {
        assert_token_refused(&t, token).await;
    }
    assert_token_works(&t, &other.access_token).await;
}

#[tokio::test]
async fn after_account_deletion_every_access_token_is_refused() {
    let t = TestApp::new().await;
    sign_up(&t, "gone@example.com").await;
    sign_up(&t, "bystander@example.com").await;
    let one = log_in(&t, "gone@example.com").await;
    let two = log_in(&t, "gone@example.com").await;
    let bystander = log_in(&t, "bystander@example.com").await;

    let deleted = delete_me(&t.app, &one.access_token).await;
    assert_eq!(deleted.status(), 204, "{}", deleted.text());

    for token in [&one.access_token, &two.access_token] {
        assert_token_refused(&t, token).await;
        assert_bearer_refused(&delete_me(&t.app, token).await);
    }
    assert_token_works(&t, &bystander.access_token).await;
}
