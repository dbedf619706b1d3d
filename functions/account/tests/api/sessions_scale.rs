//! Ending every other session (`DELETE /v1/sessions`, a password change) costs the same number
//! of DynamoDB round trips whatever the number of sessions, and ends each of them at once:
//! their refresh cookies and access tokens are refused, the current session goes on.

use crate::common::*;
use devtools::harness::{Session, TestApp, TestRequest, TestResponse, call};
use serde_json::json;
use taskline::auth::{FamilyId, RefreshToken, UserId, unix_now};
use taskline::store::{FamilyStart, StoredPassword};

/// Above the 200 sessions of these tests (the default bound is 100).
const MANY_SESSIONS: &str = "300";

/// `n` sessions of `user` started through the store, as a login starts them (without a
/// login's password hashing, so that hundreds are quick), at `now`.
pub async fn sessions_at(t: &TestApp, user: UserId, n: usize, now: i64) -> Vec<Session> {
    let Some(StoredPassword::Set { hash, .. }) =
        t.app.store.accounts().stored_password(user).await.unwrap()
    else {
        panic!("a user with a password");
    };
    let mut sessions = Vec::with_capacity(n);
    for _ in 0..n {
        let family = FamilyId::generate();
        let token = RefreshToken::generate(user, family).unwrap();
        let started = t
            .app
            .store
            .sessions()
            .start(&token, now, None, &hash, t.app.config.max_sessions_per_user)
            .await
            .unwrap();
        let FamilyStart::Started { generation } = started else {
            panic!("{started:?}");
        };
        sessions.push(Session {
            access_token: t
                .app
                .tokens
                .issue(user, family, generation)
                .unwrap()
                .access_token,
            refresh_cookie: token.expose().to_string(),
        });
    }
    sessions
}

/// What ending the others costs: the operations (sorted) and the sequential round trips.
async fn counted(t: &TestApp, req: TestRequest) -> (TestResponse, Vec<String>, usize) {
    let (response, mut calls, trips) = t
        .calls
        .trips_during(call(account::handle, &t.app, req))
        .await;
    calls.sort();
    (response, calls, trips)
}

/// Signs up, logs in (the current session) and adds `others` sessions; then ends the others
/// with `end` (a request of the current session) and checks that every other session is dead
/// and the current one alive. The calls `end` made.
async fn end_others_of(others: usize, end: impl Fn(&str) -> TestRequest) -> (Vec<String>, usize) {
    let t = TestApp::with_vars(&[("MAX_SESSIONS_PER_USER", MANY_SESSIONS)]).await;
    let user = UserId::parse(&sign_up(&t, "many@example.com").await).unwrap();
    let current = log_in(&t, "many@example.com").await;
    let others = sessions_at(&t, user, others, unix_now()).await;

    let (ended, calls, trips) = Box::pin(counted(&t, end(&current.access_token))).await;
    assert_eq!(ended.status(), 204, "{}", ended.text());

    for other in &others {
        assert_bearer_refused(&Box::pin(me(&t, &other.access_token)).await);
        assert_bearer_refused(&Box::pin(create_task(&t, &other.access_token, "late")).await);
        Box::pin(refresh_response(&t, &other.refresh_cookie))
            .await
            .problem(401);
    }
    let cookie = ended
        .header("set-cookie")
        .map(|_| ended.refresh_cookie())
        .unwrap_or(current.refresh_cookie);
    // The current session's access token of the generation before goes on, for a create
    // (whose transaction carries the standing check) as for a read.
    assert_token_works(&t, &current.access_token).await;
    assert_eq!(
        Box::pin(create_task(&t, &current.access_token, "kept"))
            .await
            .status(),
        201
    );
    let listed = Box::pin(list_sessions(&t, &current.access_token)).await;
    assert_eq!(listed.json()["items"].as_array().unwrap().len(), 1);
    let refreshed = refresh(&t, &cookie).await;
    assert_token_works(&t, &refreshed.access_token).await;
    (calls, trips)
}

async fn list_sessions(t: &TestApp, token: &str) -> TestResponse {
    call(
        account::handle,
        &t.app,
        TestRequest::get("/v1/sessions").bearer(token),
    )
    .await
}

fn delete_sessions(token: &str) -> TestRequest {
    TestRequest::delete("/v1/sessions").bearer(token)
}

fn change_password(token: &str) -> TestRequest {
    TestRequest::post("/v1/me/password")
        .bearer(token)
        .json(&json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}))
}

#[tokio::test]
async fn ending_200_other_sessions_costs_what_ending_1_does() {
    let one = Box::pin(end_others_of(1, delete_sessions)).await;
    let many = Box::pin(end_others_of(200, delete_sessions)).await;
    assert_eq!(one, many);
    // Authentication, the user item, the one transaction (was 602 for 200 others).
    assert_eq!(
        one,
        (
            vec![
                "BatchGetItem".to_string(),
                "GetItem".into(),
                "TransactWriteItems".into()
            ],
            3
        )
    );
}

#[tokio::test]
async fn a_password_change_with_200_other_sessions_costs_what_one_with_1_does() {
    let one = Box::pin(end_others_of(1, change_password)).await;
    let many = Box::pin(end_others_of(200, change_password)).await;
    assert_eq!(one, many);
    // Authentication, the password, the throttle's attempt, the user and current session
    // (concurrently), the one transaction (was 612 for 200 others).
    assert_eq!(one.1, 6, "{one:?}");
}

#[tokio::test]
async fn a_login_beyond_the_bound_ends_the_least_recently_used_session() {
    let t = TestApp::new().await;
    assert_eq!(t.app.config.max_sessions_per_user, 100);
    let user = UserId::parse(&sign_up(&t, "bounded@example.com").await).unwrap();
    // 100 sessions, each started a second after the one before.
    let start = unix_now() - 1_000;
    let mut sessions = Vec::new();
    for i in 0..100 {
        sessions.extend(sessions_at(&t, user, 1, start + i).await);
    }
    // The oldest is used now: the least recently used is the second.
    let used = Box::pin(refresh(&t, &sessions[0].refresh_cookie)).await;
    let lru = sessions[1].clone();
    let lru_id = lru.id(&t.app).to_string();

    let newest = Box::pin(log_in(&t, "bounded@example.com")).await;

    assert_bearer_refused(&Box::pin(me(&t, &lru.access_token)).await);
    Box::pin(refresh_response(&t, &lru.refresh_cookie))
        .await
        .problem(401);
    assert_token_works(&t, &used.access_token).await;
    assert_token_works(&t, &sessions[2].access_token).await;
    assert_token_works(&t, &newest.access_token).await;
    let listed = Box::pin(list_sessions(&t, &newest.access_token)).await;
    let items = listed.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 100);
    assert!(items.iter().all(|item| item["id"] != lru_id.as_str()));

    // Ended sessions make room without ending a live one.
    logout(&t, &used.refresh_cookie).await;
    let another = Box::pin(log_in(&t, "bounded@example.com")).await;
    assert_token_works(&t, &sessions[2].access_token).await;
    assert_token_works(&t, &another.access_token).await;
    let listed = Box::pin(list_sessions(&t, &another.access_token)).await;
    assert_eq!(listed.json()["items"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn a_refresh_racing_the_end_of_the_other_sessions_keeps_the_current_one() {
    let t = TestApp::new().await;
    sign_up(&t, "racing@example.com").await;
    let other = Box::pin(log_in(&t, "racing@example.com")).await;
    for _ in 0..4 {
        let current = Box::pin(log_in(&t, "racing@example.com")).await;
        // The session's refresh re-reads and rotates again if the end of the others moved
        // the generation (and re-stamped this session) between its read and its write.
        let (ended, refreshed) = tokio::join!(
            Box::pin(call(
                account::handle,
                &t.app,
                delete_sessions(&current.access_token)
            )),
            Box::pin(refresh_response(&t, &current.refresh_cookie))
        );
        assert_eq!(ended.status(), 204, "{}", ended.text());
        assert_eq!(refreshed.status(), 200, "{}", refreshed.text());
        let refreshed = refreshed.session();
        assert_token_works(&t, &refreshed.access_token).await;
        Box::pin(refresh(&t, &refreshed.refresh_cookie)).await;
    }
    assert_bearer_refused(&Box::pin(me(&t, &other.access_token)).await);
}
