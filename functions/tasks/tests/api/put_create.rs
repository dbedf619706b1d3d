//! Safe creates by PUT (API.md, Tasks): `PUT /v1/tasks/{id}` of a task that does
//! not exist creates it under the client's UUIDv7 (201, `Location`, version 1), through the
//! same transaction as a POST (quota, category, counts); `If-None-Match: *` only creates,
//! `If-Match` only replaces; an id that is not a UUIDv7 or lies over a day ahead is 422; and
//! racing PUT-creates of one id make exactly one task.

use crate::common::{
    client_id, counts, create, create_category, field_errors, send, stored_task_keys, task_path,
    v7_id_in,
};
use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use serde_json::{Value, json};
use tokio::task::JoinSet;

fn put(id: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::put(&task_path(id)).bearer(token).json(&body)
}

#[tokio::test]
async fn put_of_a_missing_uuidv7_creates_it_with_201_location_and_version_1() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let id = client_id();
    let response = send(
        &t,
        put(
            &id,
            &token,
            json!({"title": " Offline draft ", "completed": true}),
        ),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    assert_eq!(
        response.header("location").as_deref(),
        Some(task_path(&id).as_str())
    );
    assert_eq!(response.header("etag").as_deref(), Some("\"1\""));
    let task = response.json();
    assert_eq!(task["id"], id.as_str());
    assert_eq!(task["title"], "Offline draft");
    assert_eq!(task["version"], 1);
    assert_eq!(task["priority"], "medium");
    assert_eq!(task["updated_at"], task["created_at"]);
    assert_eq!(counts(&t, &token).await, (1, 1));
    let fetched = send(&t, TestRequest::get(&task_path(&id)).bearer(&token)).await;
    assert_eq!(fetched.json(), task);

    // The same PUT again replaces the task with what it holds: 200, no new version.
    let again = send(
        &t,
        put(
            &id,
            &token,
            json!({"title": "Offline draft", "completed": true}),
        ),
    )
    .await;
    assert_eq!(again.status(), 200, "{}", again.text());
    assert_eq!(again.json(), task);
    // Another body replaces it as PUT always did.
    let replaced = send(&t, put(&id, &token, json!({"title": "Synced"}))).await;
    assert_eq!(replaced.status(), 200, "{}", replaced.text());
    assert_eq!(replaced.json()["version"], 2);
    assert_eq!(counts(&t, &token).await, (1, 0));
}

#[tokio::test]
async fn if_none_match_star_only_creates_and_an_existing_task_is_412_and_unchanged() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let id = client_id();
    let create_only = |body: Value| put(&id, &token, body).header("if-none-match", "*");
    let created = send(&t, create_only(json!({"title": "first"}))).await;
    assert_eq!(created.status(), 201, "{}", created.text());
    let task = created.json();

    send(&t, create_only(json!({"title": "second"})))
        .await
        .problem(412);
    let fetched = send(&t, TestRequest::get(&task_path(&id)).bearer(&token)).await;
    assert_eq!(fetched.json(), task);
    assert_eq!(counts(&t, &token).await, (1, 0));

    // Any other If-None-Match is malformed on a write (400), and so are both headers at once.
    for (name, value) in [("if-none-match", "\"1\""), ("if-none-match", "W/\"1\"")] {
        let req = put(&client_id(), &token, json!({"title": "x"})).header(name, value);
        send(&t, req).await.problem(400);
    }
    let both = put(&client_id(), &token, json!({"title": "x"}))
        .header("if-none-match", "*")
        .header("if-match", "*");
    send(&t, both).await.problem(400);
    assert_eq!(counts(&t, &token).await, (1, 0));
}

#[tokio::test]
async fn if_match_only_replaces_and_a_missing_task_is_404() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let id = client_id();
    for if_match in ["\"1\"", "*"] {
        let req = put(&id, &token, json!({"title": "x"})).header("if-match", if_match);
        send(&t, req).await.problem(404);
    }
    assert_eq!(counts(&t, &token).await, (0, 0));
    assert!(stored_task_keys(&t, &user.to_string()).await.is_empty());
    // Without If-Match the same PUT creates.
    let created = send(&t, put(&id, &token, json!({"title": "x"}))).await;
    assert_eq!(created.status(), 201, "{}", created.text());

    let task = create(&t, &token, json!({"title": "kept"})).await;
    let id = task["id"].as_str().unwrap();
    let replaced = send(
        &t,
        put(id, &token, json!({"title": "replaced"})).header("if-match", "\"1\""),
    )
    .await;
    assert_eq!(replaced.status(), 200, "{}", replaced.text());
    assert_eq!(replaced.json()["version"], 2);
}

#[tokio::test]
async fn ids_that_are_not_uuidv7_or_lie_more_than_a_day_ahead_are_422_naming_id() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let v7 = client_id();
    for id in [
        "9f1c8a52-3b4e-4d6f-8a7b-1c2d3e4f5a6b".to_string(), // v4
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8".to_string(), // v1
        v7.to_uppercase(),
        v7.replace('-', ""),
        "not-a-uuid".to_string(),
        v7_id_in(2 * 86_400),
    ] {
        let problem = send(&t, put(&id, &token, json!({"title": "x"})))
            .await
            .problem(422);
        assert_eq!(field_errors(&problem), ["id"], "{id}");
    }
    // The id's error comes with the body's.
    let problem = send(
        &t,
        put("not-a-uuid", &token, json!({"title": "", "version": 2})),
    )
    .await
    .problem(422);
    assert_eq!(field_errors(&problem), ["id", "version", "title"]);
    assert_eq!(counts(&t, &token).await, (0, 0));

    // An hour ahead (a client's fast clock) is fine.
    let ahead = v7_id_in(3600);
    let created = send(&t, put(&ahead, &token, json!({"title": "soon"}))).await;
    assert_eq!(created.status(), 201, "{}", created.text());
    assert_eq!(counts(&t, &token).await, (1, 0));

    // GET, PATCH and DELETE cannot create: for them a malformed id still names no task.
    let v4 = task_path("9f1c8a52-3b4e-4d6f-8a7b-1c2d3e4f5a6b");
    for req in [
        TestRequest::get(&v4),
        TestRequest::patch(&v4).json(&json!({"title": "x"})),
        TestRequest::delete(&v4),
    ] {
        send(&t, req.bearer(&token)).await.problem(404);
    }
}

#[tokio::test]
async fn a_put_create_obeys_the_quota_and_the_category_rules_of_a_post() {
    let t = TestApp::with_vars(&[("MAX_TASKS_PER_USER", "1")]).await;
    let (_, token) = t.signed_in_user().await;
    let only = create(&t, &token, json!({"title": "the only one"})).await;
    let problem = send(
        &t,
        put(&client_id(), &token, json!({"title": "one too many"})),
    )
    .await
    .problem(409);
    assert!(
        problem["detail"].as_str().unwrap().contains("quota"),
        "{problem}"
    );
    // Replacing at the quota creates nothing: allowed.
    let id = only["id"].as_str().unwrap();
    let replaced = send(&t, put(id, &token, json!({"title": "replaced"}))).await;
    assert_eq!(replaced.status(), 200, "{}", replaced.text());
    assert_eq!(counts(&t, &token).await, (1, 0));

    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let (_, other) = t.signed_in_user().await;
    let theirs = create_category(&t, &other, json!({"name": "Theirs"})).await["id"].clone();
    let problem = send(
        &t,
        put(
            &client_id(),
            &token,
            json!({"title": "x", "category_id": theirs}),
        ),
    )
    .await
    .problem(422);
    assert_eq!(field_errors(&problem), ["category_id"]);
    assert_eq!(counts(&t, &token).await, (0, 0));

    let mine = create_category(&t, &token, json!({"name": "Mine"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let id = client_id();
    let created = send(
        &t,
        put(&id, &token, json!({"title": "x", "category_id": mine})),
    )
    .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    assert_eq!(created.json()["category_id"], mine.as_str());
    let category = send(
        &t,
        TestRequest::get(&format!("/v1/categories/{mine}")).bearer(&token),
    )
    .await
    .json();
    assert_eq!(category["task_count"], 1);
    assert_eq!(counts(&t, &token).await, (1, 0));
}

/// Sends `requests` all at once; their statuses, sorted.
async fn all_at_once(t: &TestApp, requests: Vec<TestRequest>) -> Vec<(u16, Value)> {
    let mut clients = JoinSet::new();
    for req in requests {
        let app = t.app.clone();
        clients.spawn(async move {
            let response: TestResponse = call(tasks::handle, &app, req).await;
            let body = response.json();
            (response.status(), body)
        });
    }
    let mut answers = Vec::new();
    while let Some(answer) = clients.join_next().await {
        answers.push(answer.unwrap());
    }
    answers.sort_by_key(|(status, _)| *status);
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_put_creates_of_one_id_make_exactly_one_task() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;

    // Without a precondition: one creates, the others re-read and replace it.
    let id = client_id();
    let requests = (0..8)
        .map(|n| put(&id, &token, json!({"title": format!("writer {n}")})))
        .collect();
    let answers = all_at_once(&t, requests).await;
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 200, 200, 201],
        "{answers:?}"
    );
    assert!(answers.iter().all(|(_, task)| task["id"] == id.as_str()));
    assert_eq!(counts(&t, &token).await, (1, 0));
    assert_eq!(
        stored_task_keys(&t, &user.to_string()).await,
        [format!("TASK#{id}")]
    );

    // Create only: one 201, every other one 412.
    let id = client_id();
    let requests = (0..8)
        .map(|n| {
            put(&id, &token, json!({"title": format!("only {n}")})).header("if-none-match", "*")
        })
        .collect();
    let answers = all_at_once(&t, requests).await;
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(
        statuses,
        [201, 412, 412, 412, 412, 412, 412, 412],
        "{answers:?}"
    );
    let created = &answers[0].1;
    assert_eq!(created["version"], 1);
    assert_eq!(counts(&t, &token).await, (2, 0));
    assert_eq!(stored_task_keys(&t, &user.to_string()).await.len(), 2);
}
