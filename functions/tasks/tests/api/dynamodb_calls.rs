//! DynamoDB round trips per request (each one is latency and CPU the client pays). A list, a get
//! and a create are ONE sequential round trip (the user's and session's standing is checked
//! concurrently with the read, or inside the create's transaction); a put, patch or delete is two
//! (the read with the standing check, then the conditional write). Every guarantee of
//! authentication holds all the same: a token of an ended or expired session, or of a deleted
//! account, is refused by every operation, and nothing is written.

use crate::common::{create, create_category, send, task_path};
use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TestApp, TestRequest, TestResponse};
use serde_json::json;
use taskline::store::{PK, SK, USER_SK};

/// The response, the operations made (sorted: concurrent calls start in any order) and the
/// sequential round trips they took.
async fn counted(t: &TestApp, req: TestRequest) -> (TestResponse, Vec<String>, usize) {
    let (response, mut calls, trips) = t.calls.trips_during(send(t, req)).await;
    calls.sort();
    (response, calls, trips)
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

#[tokio::test]
async fn list_get_and_create_are_one_round_trip_and_writes_two() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;

    let (created, calls, trips) = counted(
        &t,
        TestRequest::post("/v1/tasks")
            .bearer(&token)
            .json(&json!({"title": "counted"})),
    )
    .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    assert_eq!((calls, trips), (names(&["TransactWriteItems"]), 1));
    let id = created.json()["id"].as_str().unwrap().to_string();

    let (listed, calls, trips) = counted(&t, TestRequest::get("/v1/tasks").bearer(&token)).await;
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.json()["counts"], json!({"total": 1, "completed": 0}));
    // The standing with the counts item (totals, categories being deleted), and the tasks.
    assert_eq!((calls, trips), (names(&["BatchGetItem", "Query"]), 1));

    // Filtered by a category, the same; `category=none` must know the categories being
    // deleted (their tasks are uncategorised) before its query: two round trips.
    let category = create_category(&t, &token, json!({"name": "counted"})).await;
    let category = category["id"].as_str().unwrap();
    for (query, expected_trips) in [
        (format!("category={category}"), 1),
        ("category=none".into(), 2),
    ] {
        let (listed, calls, trips) = counted(
            &t,
            TestRequest::get(&format!("/v1/tasks?{query}")).bearer(&token),
        )
        .await;
        assert_eq!(listed.status(), 200, "{query}: {}", listed.text());
        assert_eq!(
            (calls, trips),
            (names(&["BatchGetItem", "Query"]), expected_trips),
            "{query}"
        );
    }

    let (got, calls, trips) = counted(&t, TestRequest::get(&task_path(&id)).bearer(&token)).await;
    assert_eq!(got.status(), 200);
    // The standing and the task in one BatchGetItem.
    assert_eq!((calls, trips), (names(&["BatchGetItem"]), 1));

    let writes = [
        TestRequest::patch(&task_path(&id))
            .bearer(&token)
            .json(&json!({"completed": true})),
        TestRequest::put(&task_path(&id))
            .bearer(&token)
            .json(&json!({"title": "replaced"})),
        TestRequest::delete(&task_path(&id)).bearer(&token),
    ];
    for req in writes {
        let (written, calls, trips) = counted(&t, req).await;
        assert!(written.status() < 300, "{}", written.text());
        let expected = names(&["BatchGetItem", "TransactWriteItems"]);
        assert_eq!((calls, trips), (expected, 2));
    }

    // Refused input costs the one standing check, and nothing else.
    let (refused, calls, trips) = counted(
        &t,
        TestRequest::post("/v1/tasks")
            .bearer(&token)
            .json(&json!({"title": ""})),
    )
    .await;
    assert_eq!(refused.status(), 422, "{}", refused.text());
    assert_eq!((calls, trips), (names(&["BatchGetItem"]), 1));
}

/// A task in a category costs what any task costs: whether its category lives is answered
/// from the counts item's set of categories being deleted, read in the standing check's
/// BatchGetItem (as a listing does), not by a read of the category item after it. A task
/// whose category is being deleted reads, and is written, as uncategorised, all the same.
#[tokio::test]
async fn a_task_in_a_category_is_one_round_trip_to_read_and_two_to_write() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let category = create_category(&t, &token, json!({"name": "counted"})).await;
    let category = category["id"].as_str().unwrap().to_string();
    let task = create(
        &t,
        &token,
        json!({"title": "filed", "category_id": category}),
    )
    .await;
    let id = task["id"].as_str().unwrap().to_string();

    let (got, calls, trips) = counted(&t, TestRequest::get(&task_path(&id)).bearer(&token)).await;
    assert_eq!(got.status(), 200, "{}", got.text());
    assert_eq!(got.json()["category_id"], json!(category));
    assert_eq!((calls, trips), (names(&["BatchGetItem"]), 1));

    let writes = [
        TestRequest::patch(&task_path(&id))
            .bearer(&token)
            .json(&json!({"completed": true})),
        TestRequest::put(&task_path(&id))
            .bearer(&token)
            .json(&json!({"title": "replaced", "category_id": category})),
        TestRequest::delete(&task_path(&id)).bearer(&token),
    ];
    for req in writes {
        let (written, calls, trips) = counted(&t, req).await;
        assert!(written.status() < 300, "{}", written.text());
        if written.status() == 200 {
            assert_eq!(written.json()["category_id"], json!(category));
        }
        let expected = names(&["BatchGetItem", "TransactWriteItems"]);
        assert_eq!((calls, trips), (expected, 2));
    }

    // A category whose deletion has begun (cut short, so its task still names it): the set
    // says it is gone, with no more calls; the task reads and is written as uncategorised.
    let task = create(
        &t,
        &token,
        json!({"title": "orphaned", "category_id": category}),
    )
    .await;
    let id = task["id"].as_str().unwrap().to_string();
    let category_id = taskline::domain::CategoryId::parse(&category).unwrap();
    let stored = t
        .app
        .store
        .categories()
        .get(user, category_id)
        .await
        .unwrap()
        .unwrap();
    t.app
        .store
        .categories()
        .mark_deleting(user, &stored, taskline::auth::unix_now())
        .await
        .unwrap();
    let (got, calls, trips) = counted(&t, TestRequest::get(&task_path(&id)).bearer(&token)).await;
    assert_eq!(got.status(), 200, "{}", got.text());
    assert_eq!(got.json()["category_id"], serde_json::Value::Null);
    assert_eq!((calls, trips), (names(&["BatchGetItem"]), 1));
    let (patched, calls, trips) = counted(
        &t,
        TestRequest::patch(&task_path(&id))
            .bearer(&token)
            .json(&json!({"completed": true})),
    )
    .await;
    assert_eq!(patched.status(), 200, "{}", patched.text());
    assert_eq!(patched.json()["category_id"], serde_json::Value::Null);
    let expected = names(&["BatchGetItem", "TransactWriteItems"]);
    assert_eq!((calls, trips), (expected, 2));
}

/// Safe creates: a PUT that creates is a put's two round trips; a POST with an
/// `Idempotency-Key` stays one (the record is in the create's transaction), and its replay is
/// two (the refused transaction, then the read of the record).
#[tokio::test]
async fn a_put_create_is_two_round_trips_a_keyed_create_one_and_its_replay_two() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    // A PUT that creates: the read with the standing check, then the create's transaction.
    let (put_created, calls, trips) = counted(
        &t,
        TestRequest::put(&task_path(&uuid::Uuid::now_v7().to_string()))
            .bearer(&token)
            .json(&json!({"title": "put-created"})),
    )
    .await;
    assert_eq!(put_created.status(), 201, "{}", put_created.text());
    let expected = names(&["BatchGetItem", "TransactWriteItems"]);
    assert_eq!((calls, trips), (expected, 2));

    // A POST with an Idempotency-Key is still one transaction; its replay reads the record.
    let keyed = || {
        TestRequest::post("/v1/tasks")
            .bearer(&token)
            .header("idempotency-key", "counted-key")
            .json(&json!({"title": "keyed"}))
    };
    let (first, calls, trips) = counted(&t, keyed()).await;
    assert_eq!(first.status(), 201, "{}", first.text());
    assert_eq!((calls, trips), (names(&["TransactWriteItems"]), 1));
    let (replayed, calls, trips) = counted(&t, keyed()).await;
    assert_eq!(replayed.status(), 201, "{}", replayed.text());
    assert_eq!(
        (calls, trips),
        (names(&["GetItem", "TransactWriteItems"]), 2)
    );
}

/// Every session family item of the user, by sort key.
async fn family_sks(t: &TestApp, user: &str) -> Vec<String> {
    t.partition(user)
        .await
        .iter()
        .filter_map(|item| item[SK].as_s().ok().cloned())
        .filter(|sk| sk.starts_with("REFRESH#"))
        .collect()
}

/// Deletes the user's session family items (what logging out does), directly.
async fn end_sessions(t: &TestApp, user: &str) {
    for sk in family_sks(t, user).await {
        t.client
            .delete_item()
            .table_name(&t.table)
            .key(PK, AttributeValue::S(user.into()))
            .key(SK, AttributeValue::S(sk))
            .send()
            .await
            .unwrap();
    }
}

/// Gives the user's sessions an absolute expiry in the past (TTL has not removed them yet).
async fn expire_sessions(t: &TestApp, user: &str) {
    for sk in family_sks(t, user).await {
        t.client
            .update_item()
            .table_name(&t.table)
            .key(PK, AttributeValue::S(user.into()))
            .key(SK, AttributeValue::S(sk))
            .update_expression("SET absolute_expires_at = :past")
            .expression_attribute_values(":past", AttributeValue::N("1000".into()))
            .send()
            .await
            .unwrap();
    }
}

async fn delete_user_item(t: &TestApp, user: &str) {
    t.client
        .delete_item()
        .table_name(&t.table)
        .key(PK, AttributeValue::S(user.into()))
        .key(SK, AttributeValue::S(USER_SK.into()))
        .send()
        .await
        .unwrap();
}

async fn mark_user_deleting(t: &TestApp, user: &str) {
    t.client
        .update_item()
        .table_name(&t.table)
        .key(PK, AttributeValue::S(user.into()))
        .key(SK, AttributeValue::S(USER_SK.into()))
        .update_expression("SET deleting = :now")
        .expression_attribute_values(":now", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
}

/// Every operation, on an existing task, a missing one and with refused input: all 401, and
/// the partition is left exactly as it was.
async fn assert_every_operation_refused(t: &TestApp, user: &str, token: &str, id: &str) {
    let before = t.partition(user).await;
    let missing = task_path("01936f1e-8f3a-7c41-9d2b-5a7e0c4f8b21");
    let requests = [
        TestRequest::get("/v1/tasks"),
        TestRequest::get("/v1/tasks?limit=0"),
        TestRequest::post("/v1/tasks").json(&json!({"title": "orphan"})),
        TestRequest::post("/v1/tasks").json(&json!({"title": ""})),
        TestRequest::get(&task_path(id)),
        TestRequest::get(&missing),
        TestRequest::get("/v1/tasks/not-an-id"),
        TestRequest::patch(&task_path(id)).json(&json!({"completed": true})),
        TestRequest::patch(&missing).json(&json!({"completed": true})),
        TestRequest::put(&task_path(id)).json(&json!({"title": "replaced"})),
        TestRequest::put(&task_path(id)).json(&json!({"nonsense": 1})),
        // A PUT that would create, and a POST with an idempotency key.
        TestRequest::put(&missing).json(&json!({"title": "created?"})),
        TestRequest::put(&missing)
            .header("if-none-match", "*")
            .json(&json!({"title": "created?"})),
        TestRequest::post("/v1/tasks")
            .header("idempotency-key", "refused-key")
            .json(&json!({"title": "keyed orphan"})),
        TestRequest::delete(&task_path(id)),
    ];
    for req in requests {
        let response = send(t, req.bearer(token)).await;
        assert_eq!(response.status(), 401, "{}", response.text());
    }
    assert_eq!(t.partition(user).await, before, "something was written");
}

/// A signed-in user with one task, its token, and the task's id.
async fn user_with_a_task(t: &TestApp) -> (String, String, String) {
    let (user, token) = t.signed_in_user().await;
    let task = create(t, &token, json!({"title": "kept"})).await;
    let id = task["id"].as_str().unwrap().to_string();
    (user.to_string(), token, id)
}

#[tokio::test]
async fn a_token_of_an_ended_session_is_refused_by_every_operation_and_writes_nothing() {
    let t = TestApp::new().await;
    let (user, token, id) = user_with_a_task(&t).await;
    end_sessions(&t, &user).await;
    assert_every_operation_refused(&t, &user, &token, &id).await;
}

#[tokio::test]
async fn a_token_of_an_expired_session_is_refused_by_every_operation_and_writes_nothing() {
    let t = TestApp::new().await;
    let (user, token, id) = user_with_a_task(&t).await;
    expire_sessions(&t, &user).await;
    assert_every_operation_refused(&t, &user, &token, &id).await;
}

#[tokio::test]
async fn a_token_of_a_deleted_account_is_refused_by_every_operation_and_writes_nothing() {
    let t = TestApp::new().await;
    let (user, token, id) = user_with_a_task(&t).await;
    delete_user_item(&t, &user).await;
    assert_every_operation_refused(&t, &user, &token, &id).await;
}

#[tokio::test]
async fn a_token_of_an_account_being_deleted_is_refused_by_every_operation_and_writes_nothing() {
    let t = TestApp::new().await;
    let (user, token, id) = user_with_a_task(&t).await;
    mark_user_deleting(&t, &user).await;
    assert_every_operation_refused(&t, &user, &token, &id).await;
}
