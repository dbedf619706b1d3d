//! `GET /v1/sessions`, `DELETE /v1/sessions/{id}`, `DELETE /v1/sessions`: a user sees their
//! live sessions (one per login) and ends them; an ended session's refresh cookie and access
//! tokens stop working at once.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use serde_json::{Value, json};
use taskline::auth::REFRESH_ABSOLUTE_TTL_SECS;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

async fn log_in_as(t: &TestApp, email: &str, user_agent: Option<&str>) -> Session {
    let mut req =
        TestRequest::post("/v1/auth/login").json(&json!({"email": email, "password": PASSWORD}));
    if let Some(user_agent) = user_agent {
        req = req.header("user-agent", user_agent);
    }
    let response = call(login::handle, &t.app, req).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    Session {
        access_token: response.json()["access_token"]
            .as_str()
            .unwrap()
            .to_string(),
        refresh_cookie: response.refresh_cookie(),
    }
}

async fn sessions_response(t: &TestApp, token: &str) -> TestResponse {
    call(
        account::handle,
        &t.app,
        TestRequest::get("/v1/sessions").bearer(token),
    )
    .await
}

async fn sessions(t: &TestApp, token: &str) -> Vec<Value> {
    let response = sessions_response(t, token).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    response.json()["items"].as_array().unwrap().clone()
}

/// The id of the session `token` belongs to (the one listed as current).
async fn current_id(t: &TestApp, token: &str) -> String {
    let listed = sessions(t, token).await;
    let current: Vec<_> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1, "{listed:?}");
    current[0]["id"].as_str().unwrap().to_string()
}

async fn end_session(t: &TestApp, token: &str, id: &str) -> TestResponse {
    call(
        account::handle,
        &t.app,
        TestRequest::delete(&format!("/v1/sessions/{id}")).bearer(token),
    )
    .await
}

async fn end_other_sessions(t: &TestApp, token: &str) -> TestResponse {
    call(
        account::handle,
        &t.app,
        TestRequest::delete("/v1/sessions").bearer(token),
    )
    .await
}

fn time_of(value: &Value) -> i64 {
    OffsetDateTime::parse(value.as_str().unwrap(), &Rfc3339)
        .unwrap()
        .unix_timestamp()
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test]
async fn each_login_is_a_session_with_its_user_agent_and_the_current_one_is_marked() {
    let t = TestApp::new().await;
    sign_up(&t, "lister@example.com").await;
    let before = now();
    let laptop = log_in_as(
        &t,
        "lister@example.com",
        Some("Mozilla/5.0 (X11; Linux) Firefox/140"),
    )
    .await;
    let phone = log_in_as(&t, "lister@example.com", Some("  curl/8.5\t\t(bot)  ")).await;
    let script = log_in_as(&t, "lister@example.com", None).await;
    let long = log_in_as(&t, "lister@example.com", Some(&"A".repeat(300))).await;

    let listed = sessions(&t, &phone.access_token).await;

    assert_eq!(listed.len(), 4, "{listed:?}");
    let agents: Vec<_> = listed.iter().map(|s| s["user_agent"].clone()).collect();
    assert_eq!(
        agents,
        [
            json!("Mozilla/5.0 (X11; Linux) Firefox/140"),
            json!("curl/8.5 (bot)"),
            Value::Null,
            json!("A".repeat(200)),
        ]
    );
    let current: Vec<_> = listed.iter().map(|s| s["current"] == true).collect();
    assert_eq!(current, [false, true, false, false]);
    for session in &listed {
        let created = time_of(&session["created_at"]);
        assert!(created >= before && created <= now(), "{session}");
        assert_eq!(session["last_used_at"], session["created_at"]);
        assert_eq!(session["id"].as_str().unwrap().len(), 32);
    }
    // Each session sees itself as the current one.
    for token in [&laptop, &script, &long].map(|s| &s.access_token) {
        assert_eq!(sessions(&t, token).await.len(), 4);
    }
    assert_ne!(
        current_id(&t, &laptop.access_token).await,
        current_id(&t, &phone.access_token).await
    );
}

#[tokio::test]
async fn a_refresh_updates_last_used_at_and_stays_the_same_session() {
    let t = TestApp::new().await;
    sign_up(&t, "user@example.com").await;
    let first = log_in(&t, "user@example.com").await;
    let id = current_id(&t, &first.access_token).await;
    // Make the login look older, so the refresh's time differs from it.
    let pk = first_user_pk(&t, "user@example.com").await;
    t.client
        .update_item()
        .table_name(&t.table)
        .key("user_id", AttributeValue::S(pk))
        .key("sk", AttributeValue::S(format!("REFRESH#{id}")))
        .update_expression("SET created_at = :old")
        .expression_attribute_values(":old", AttributeValue::N((now() - 3600).to_string()))
        .send()
        .await
        .unwrap();

    let rotated = refresh(&t, &first.refresh_cookie).await;

    let listed = sessions(&t, &rotated.access_token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["current"], true);
    assert!(time_of(&listed[0]["last_used_at"]) >= now() - 5);
    assert!(time_of(&listed[0]["created_at"]) <= now() - 3600);
}

/// The partition key (user id) of a registered email.
async fn first_user_pk(t: &TestApp, email: &str) -> String {
    let session = log_in(t, email).await;
    let id = me(t, &session.access_token).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    logout(t, &session.refresh_cookie).await;
    id
}

#[tokio::test]
async fn ended_and_expired_sessions_are_not_listed() {
    let t = TestApp::new().await;
    let user = sign_up(&t, "ender@example.com").await;
    let kept = log_in(&t, "ender@example.com").await;
    let logged_out = log_in(&t, "ender@example.com").await;
    logout(&t, &logged_out.refresh_cookie).await;
    // A family past its absolute expiry whose item TTL has not removed yet.
    let expired = uuid::Uuid::now_v7().simple().to_string();
    t.client
        .put_item()
        .table_name(&t.table)
        .item("user_id", AttributeValue::S(user.clone()))
        .item("sk", AttributeValue::S(format!("REFRESH#{expired}")))
        .item(
            "created_at",
            AttributeValue::N((now() - REFRESH_ABSOLUTE_TTL_SECS - 10).to_string()),
        )
        .item(
            "absolute_expires_at",
            AttributeValue::N((now() - 10).to_string()),
        )
        .send()
        .await
        .unwrap();
    // One idle for longer than the idle expiry: no refresh can revive it.
    let idle = uuid::Uuid::now_v7().simple().to_string();
    t.client
        .put_item()
        .table_name(&t.table)
        .item("user_id", AttributeValue::S(user))
        .item("sk", AttributeValue::S(format!("REFRESH#{idle}")))
        .item(
            "created_at",
            AttributeValue::N((now() - 8 * 86_400).to_string()),
        )
        .item(
            "absolute_expires_at",
            AttributeValue::N((now() + 22 * 86_400).to_string()),
        )
        .send()
        .await
        .unwrap();

    let listed = sessions(&t, &kept.access_token).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["current"], true);
    end_session(&t, &kept.access_token, &expired)
        .await
        .problem(404);
}

#[tokio::test]
async fn a_family_item_of_the_old_layout_is_listed_and_can_be_ended() {
    let t = TestApp::new().await;
    let user = sign_up(&t, "veteran@example.com").await;
    let current = log_in(&t, "veteran@example.com").await;
    // Written before sessions were listed: no created_at, last_used_at nor user_agent, and a
    // spend recorded. Its id, a UUIDv7 as every family id, tells when it was created.
    let logged_in_at = now() - 2 * 86_400;
    let spent_at = now() - 60;
    let old = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        logged_in_at as u64,
        0,
    ))
    .simple()
    .to_string();
    let absolute = logged_in_at + REFRESH_ABSOLUTE_TTL_SECS;
    t.client
        .put_item()
        .table_name(&t.table)
        .item("user_id", AttributeValue::S(user.clone()))
        .item("sk", AttributeValue::S(format!("REFRESH#{old}")))
        .item(
            "absolute_expires_at",
            AttributeValue::N(absolute.to_string()),
        )
        .item("expires_at", AttributeValue::N(absolute.to_string()))
        .item("last_spent", AttributeValue::S("ab".repeat(32)))
        .item("last_spent_at", AttributeValue::N(spent_at.to_string()))
        .send()
        .await
        .unwrap();

    let listed = sessions(&t, &current.access_token).await;

    assert_eq!(listed.len(), 2, "{listed:?}");
    let veteran = listed.iter().find(|s| s["id"] == old.as_str()).unwrap();
    assert_eq!(time_of(&veteran["created_at"]), logged_in_at);
    assert_eq!(time_of(&veteran["last_used_at"]), spent_at, "{veteran}");
    assert_eq!(veteran["user_agent"], Value::Null);
    assert_eq!(veteran["current"], false);

    let ended = end_session(&t, &current.access_token, &old).await;
    assert_eq!(ended.status(), 204, "{}", ended.text());
    assert_eq!(sessions(&t, &current.access_token).await.len(), 1);
}

#[tokio::test]
async fn ending_a_session_ends_its_refresh_cookie_and_access_tokens_at_once() {
    let t = TestApp::new().await;
    sign_up(&t, "remote@example.com").await;
    let laptop = log_in(&t, "remote@example.com").await;
    let phone = log_in(&t, "remote@example.com").await;
    let phone_id = current_id(&t, &phone.access_token).await;

    let ended = end_session(&t, &laptop.access_token, &phone_id).await;

    assert_eq!(ended.status(), 204, "{}", ended.text());
    assert_token_refused(&t, &phone.access_token).await;
    refresh_response(&t, &phone.refresh_cookie)
        .await
        .problem(401);
    assert_token_works(&t, &laptop.access_token).await;
    let listed = sessions(&t, &laptop.access_token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["current"], true);
    // Ending it again: it is no longer a live session.
    end_session(&t, &laptop.access_token, &phone_id)
        .await
        .problem(404);
}

#[tokio::test]
async fn the_current_session_can_be_ended_too() {
    let t = TestApp::new().await;
    sign_up(&t, "self@example.com").await;
    let session = log_in(&t, "self@example.com").await;
    let id = current_id(&t, &session.access_token).await;

    let ended = end_session(&t, &session.access_token, &id).await;

    assert_eq!(ended.status(), 204, "{}", ended.text());
    assert_token_refused(&t, &session.access_token).await;
    refresh_response(&t, &session.refresh_cookie)
        .await
        .problem(401);
}

#[tokio::test]
async fn another_users_unknown_or_malformed_session_ids_are_404() {
    let t = TestApp::new().await;
    sign_up(&t, "mallory@example.com").await;
    sign_up(&t, "victim@example.com").await;
    let mallory = log_in(&t, "mallory@example.com").await;
    let victim = log_in(&t, "victim@example.com").await;
    let victims_id = current_id(&t, &victim.access_token).await;

    for id in [
        victims_id.clone(),
        uuid::Uuid::now_v7().simple().to_string(),
        "not-a-session".to_string(),
        "REFRESH%23x".to_string(),
    ] {
        end_session(&t, &mallory.access_token, &id)
            .await
            .problem(404);
    }

    assert_token_works(&t, &victim.access_token).await;
    refresh(&t, &victim.refresh_cookie).await;
    assert_eq!(sessions(&t, &mallory.access_token).await.len(), 1);
}

#[tokio::test]
async fn ending_every_other_session_keeps_only_the_current_one() {
    let t = TestApp::new().await;
    sign_up(&t, "everywhere@example.com").await;
    sign_up(&t, "neighbour@example.com").await;
    let here = log_in(&t, "everywhere@example.com").await;
    let others = [
        log_in(&t, "everywhere@example.com").await,
        refresh(
            &t,
            &log_in(&t, "everywhere@example.com").await.refresh_cookie,
        )
        .await,
    ];
    let neighbour = log_in(&t, "neighbour@example.com").await;

    let ended = end_other_sessions(&t, &here.access_token).await;

    assert_eq!(ended.status(), 204, "{}", ended.text());
    for other in &others {
        assert_token_refused(&t, &other.access_token).await;
        refresh_response(&t, &other.refresh_cookie)
            .await
            .problem(401);
    }
    assert_token_works(&t, &here.access_token).await;
    refresh(&t, &here.refresh_cookie).await;
    let listed = sessions(&t, &here.access_token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["current"], true);
    assert_token_works(&t, &neighbour.access_token).await;
}

#[tokio::test]
async fn session_routes_need_a_live_bearer_token() {
    let t = TestApp::new().await;
    sign_up(&t, "anon@example.com").await;
    let session = log_in(&t, "anon@example.com").await;
    let id = current_id(&t, &session.access_token).await;
    logout(&t, &session.refresh_cookie).await;
    for req in [
        TestRequest::get("/v1/sessions"),
        TestRequest::delete("/v1/sessions"),
        TestRequest::delete(&format!("/v1/sessions/{id}")),
    ] {
        assert_bearer_refused(&call(account::handle, &t.app, req.clone()).await);
        assert_bearer_refused(
            &call(account::handle, &t.app, req.bearer(&session.access_token)).await,
        );
    }
}
