//! Safe creates by POST: `POST /v1/tasks` with an `Idempotency-Key` (API.md, Tasks;
//! draft-ietf-httpapi-idempotency-key-header): the same key and body within 24 hours answers
//! the first response again and creates nothing; another body is 422; requests racing with one
//! key make one task; keys are per user; an expired key is free again; a malformed key is 400;
//! a refused create does not take its key.

use crate::common::{counts, field_errors, send, stored_task_keys, task_path};
use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TestApp, TestRequest, call};
use serde_json::json;
use taskline::store::{IDEMPOTENCY_SK_PREFIX, PK, SK, TTL};
use tokio::task::JoinSet;

const KEY: &str = "8e03978e-40d5-43e8-bc93-6894a57f9324";

fn keyed(token: &str, key: &str, body: &str) -> TestRequest {
    TestRequest::post("/v1/tasks")
        .bearer(token)
        .header("idempotency-key", key)
        .body("application/json", body)
}

/// The sort keys of the idempotency records of a user's partition.
async fn records(t: &TestApp, user: &str) -> Vec<String> {
    t.partition(user)
        .await
        .iter()
        .filter_map(|item| item[SK].as_s().ok().cloned())
        .filter(|sk| sk.starts_with(IDEMPOTENCY_SK_PREFIX))
        .collect()
}

#[tokio::test]
async fn a_retry_with_the_same_key_and_body_gets_the_first_response_and_creates_nothing() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let body = r#"{"title": "Pay rent", "priority": "high"}"#;
    let first = send(&t, keyed(&token, KEY, body)).await;
    assert_eq!(first.status(), 201, "{}", first.text());
    let task = first.json();
    let id = task["id"].as_str().unwrap().to_string();
    assert_eq!(
        first.header("location").as_deref(),
        Some(task_path(&id).as_str())
    );

    for _ in 0..2 {
        let again = send(&t, keyed(&token, KEY, body)).await;
        assert_eq!(again.status(), 201, "{}", again.text());
        assert_eq!(again.json(), task);
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.header("etag").as_deref(), Some("\"1\""));
        assert_eq!(
            again.header("content-type").as_deref(),
            Some("application/json")
        );
    }
    assert_eq!(counts(&t, &token).await, (1, 0));
    assert_eq!(stored_task_keys(&t, &user.to_string()).await.len(), 1);
    // The key is stored as a hash, never as sent.
    let records = records(&t, &user.to_string()).await;
    assert_eq!(records.len(), 1);
    assert!(!records[0].contains(KEY), "{records:?}");

    // The replay is the first response as it was, not the task as it is now.
    let patched = send(
        &t,
        TestRequest::patch(&task_path(&id))
            .bearer(&token)
            .json(&json!({"completed": true})),
    )
    .await;
    assert_eq!(patched.json()["version"], 2);
    let again = send(&t, keyed(&token, KEY, body)).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.json(), task);
    assert_eq!(counts(&t, &token).await, (1, 1));
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422_and_creates_nothing() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    send(&t, keyed(&token, KEY, r#"{"title": "one"}"#))
        .await
        .created_id();
    // Other bytes are another request, even for the same fields (raw-body fingerprint).
    for body in [r#"{"title": "two"}"#, r#"{"title":"one"}"#] {
        let problem = send(&t, keyed(&token, KEY, body)).await.problem(422);
        assert_eq!(field_errors(&problem), ["Idempotency-Key"], "{body}");
    }
    assert_eq!(counts(&t, &token).await, (1, 0));
    assert_eq!(stored_task_keys(&t, &user.to_string()).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn eight_parallel_requests_with_one_key_make_exactly_one_task() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let mut clients = JoinSet::new();
    for _ in 0..8 {
        let (app, token) = (t.app.clone(), token.clone());
        clients.spawn(async move {
            let response = call(
                tasks::handle,
                &app,
                keyed(&token, KEY, r#"{"title": "once"}"#),
            )
            .await;
            (response.status(), response.json())
        });
    }
    let mut ids = Vec::new();
    while let Some(answer) = clients.join_next().await {
        match answer.unwrap() {
            (201, task) => ids.push(task["id"].as_str().unwrap().to_string()),
            // Only while the first still held the key after every retry.
            (409, _) => {}
            (status, body) => panic!("unexpected {status}: {body}"),
        }
    }
    assert!(!ids.is_empty());
    ids.dedup();
    assert_eq!(ids.len(), 1, "every 201 names the one task: {ids:?}");
    assert_eq!(counts(&t, &token).await, (1, 0));
    assert_eq!(
        stored_task_keys(&t, &user.to_string()).await,
        [format!("TASK#{}", ids[0])]
    );
}

#[tokio::test]
async fn keys_are_per_user() {
    let t = TestApp::new().await;
    let (_, alice) = t.signed_in_user().await;
    let (_, bob) = t.signed_in_user().await;
    let body = r#"{"title": "same key, same body"}"#;
    let hers = send(&t, keyed(&alice, KEY, body)).await.created_id();
    let his = send(&t, keyed(&bob, KEY, body)).await.created_id();
    assert_ne!(hers, his);
    assert_eq!(counts(&t, &alice).await, (1, 0));
    assert_eq!(counts(&t, &bob).await, (1, 0));
    // Bob's replay is his own task, never Alice's.
    let again = send(&t, keyed(&bob, KEY, body)).await;
    assert_eq!(again.created_id(), his);
}

#[tokio::test]
async fn a_key_is_free_again_once_its_24_hours_are_over() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let body = r#"{"title": "daily"}"#;
    let first = send(&t, keyed(&token, KEY, body)).await.created_id();
    let record = records(&t, &user.to_string()).await.remove(0);
    let expires_at = t
        .partition(&user.to_string())
        .await
        .into_iter()
        .find(|item| item[SK].as_s().unwrap() == &record)
        .map(|item| item[TTL].as_n().unwrap().parse::<i64>().unwrap())
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (now + 86_400 - 5..=now + 86_400 + 5).contains(&expires_at),
        "{expires_at}"
    );

    // 24 hours later: expired, and (TTL deletes late) still stored.
    t.client
        .update_item()
        .table_name(&t.table)
        .key(PK, AttributeValue::S(user.to_string()))
        .key(SK, AttributeValue::S(record.clone()))
        .update_expression("SET #ttl = :past")
        .expression_attribute_names("#ttl", TTL)
        .expression_attribute_values(":past", AttributeValue::N((now - 1).to_string()))
        .send()
        .await
        .unwrap();
    let second = send(&t, keyed(&token, KEY, body)).await.created_id();
    assert_ne!(second, first);
    assert_eq!(counts(&t, &token).await, (2, 0));
    // The record now names the second create, for another 24 hours.
    let again = send(&t, keyed(&token, KEY, body)).await;
    assert_eq!(again.created_id(), second);
    assert_eq!(records(&t, &user.to_string()).await, [record]);
}

#[tokio::test]
async fn a_malformed_key_is_400_and_creates_nothing() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let too_long = "k".repeat(256);
    for key in ["", "   ", too_long.as_str(), "caf\u{e9}", "tab\there"] {
        let response = send(&t, keyed(&token, key, r#"{"title": "x"}"#)).await;
        assert_eq!(response.status(), 400, "{key:?}: {}", response.text());
        response.problem(400);
    }
    // The longest key is fine.
    let longest = "k".repeat(255);
    send(&t, keyed(&token, &longest, r#"{"title": "x"}"#))
        .await
        .created_id();
    assert_eq!(counts(&t, &token).await, (1, 0));
}

#[tokio::test]
async fn a_refused_create_does_not_take_its_key() {
    let t = TestApp::with_vars(&[("MAX_TASKS_PER_USER", "1")]).await;
    let (user, token) = t.signed_in_user().await;
    // Invalid: 422, and the corrected request with the same key creates.
    send(&t, keyed(&token, KEY, r#"{"title": ""}"#))
        .await
        .problem(422);
    assert!(records(&t, &user.to_string()).await.is_empty());
    let created = send(&t, keyed(&token, KEY, r#"{"title": "fixed"}"#))
        .await
        .created_id();

    // Over the quota: 409, and once there is room the same key creates.
    let other = "another-key";
    send(&t, keyed(&token, other, r#"{"title": "full"}"#))
        .await
        .problem(409);
    let deleted = send(&t, TestRequest::delete(&task_path(&created)).bearer(&token)).await;
    assert_eq!(deleted.status(), 204);
    let response = send(&t, keyed(&token, other, r#"{"title": "full"}"#)).await;
    assert_eq!(response.status(), 201, "{}", response.text());
    // A replay of a create is answered even when the quota has filled since.
    let replay = send(&t, keyed(&token, other, r#"{"title": "full"}"#)).await;
    assert_eq!(replay.json(), response.json());
    assert_eq!(counts(&t, &token).await, (1, 0));
}
