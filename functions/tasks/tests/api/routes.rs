//! The tasks function's single-task routes (API.md, Tasks), driven through API Gateway events
//! against DynamoDB Local: create, read, replace, merge patch, delete, validation, If-Match,
//! authentication and isolation between users.

use crate::common::{counts, create, field_errors, send, task_path};
use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TestApp, TestRequest};
use serde_json::{Value, json};

/// The field names of a 422 problem's `errors`, sorted.
fn sorted_field_errors(problem: &Value) -> Vec<String> {
    let mut fields = field_errors(problem);
    fields.sort();
    fields
}

#[tokio::test]
async fn create_is_201_with_location_etag_and_defaults() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let response = send(
        &t,
        TestRequest::post("/v1/tasks")
            .bearer(&token)
            .json(&json!({"title": "  Buy milk  "})),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    let task = response.json();
    let id = task["id"].as_str().unwrap();
    assert_eq!(
        response.header("location").as_deref(),
        Some(task_path(id).as_str())
    );
    assert_eq!(response.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("application/json")
    );
    let uuid = uuid::Uuid::parse_str(id).unwrap();
    assert_eq!(uuid.get_version_num(), 7);
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["description"], Value::Null);
    assert_eq!(task["completed"], false);
    assert_eq!(task["priority"], "medium");
    assert_eq!(task["due_date"], Value::Null);
    assert_eq!(task["category_id"], Value::Null);
    assert_eq!(task["version"], 1);
    // RFC 3339 UTC, fixed millisecond precision.
    let created_at = task["created_at"].as_str().unwrap();
    assert_eq!(
        created_at.len(),
        "2026-01-01T00:00:00.000Z".len(),
        "{created_at}"
    );
    assert!(created_at.ends_with('Z'), "{created_at}");
    assert_eq!(task["updated_at"], task["created_at"]);
    let keys: Vec<&String> = task.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 10, "exactly the fields of API.md: {keys:?}");

    let fetched = send(&t, TestRequest::get(&task_path(id)).bearer(&token)).await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(fetched.json(), task);
}

#[tokio::test]
async fn create_stores_every_field_and_normalises_due_date_to_utc() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let task = create(
        &t,
        &token,
        json!({
            "title": "Report",
            "description": "Q4 numbers",
            "completed": true,
            "priority": "high",
            "due_date": "2026-12-01T10:30:00+02:00"
        }),
    )
    .await;
    assert_eq!(task["description"], "Q4 numbers");
    assert_eq!(task["completed"], true);
    assert_eq!(task["priority"], "high");
    assert_eq!(task["due_date"], "2026-12-01T08:30:00.000Z");
    assert_eq!(counts(&t, &token).await, (1, 1));
}

#[tokio::test]
async fn invalid_unknown_and_server_owned_fields_are_422_with_every_error() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let post = |body: Value| TestRequest::post("/v1/tasks").bearer(&token).json(&body);

    let problem = send(
        &t,
        post(json!({
            "title": "x".repeat(256),
            "description": "d".repeat(2001),
            "priority": "urgent",
            "completed": "yes",
            "due_date": "next tuesday",
            "colour": "red"
        })),
    )
    .await
    .problem(422);
    assert_eq!(
        sorted_field_errors(&problem),
        [
            "colour",
            "completed",
            "description",
            "due_date",
            "priority",
            "title"
        ]
    );

    let problem = send(
        &t,
        post(json!({
            "title": "ok", "id": "x", "user_id": "someone", "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z", "version": 9
        })),
    )
    .await
    .problem(422);
    assert_eq!(
        sorted_field_errors(&problem),
        ["created_at", "id", "updated_at", "user_id", "version"]
    );

    for body in [
        json!({}),
        json!({"title": ""}),
        json!({"title": "   "}),
        json!({"title": null}),
        json!({"title": 5}),
        json!({"title": "a", "priority": null}),
        json!({"title": "a", "completed": null}),
        json!({"title": "a", "description": 5}),
    ] {
        let problem = send(&t, post(body.clone())).await.problem(422);
        assert!(!sorted_field_errors(&problem).is_empty(), "{body}");
    }

    // Bounds are inclusive, in characters (not bytes).
    let task = create(
        &t,
        &token,
        json!({"title": "é".repeat(255), "description": "ü".repeat(2000)}),
    )
    .await;
    assert_eq!(task["title"].as_str().unwrap().chars().count(), 255);
    // Nothing invalid was stored.
    assert_eq!(counts(&t, &token).await, (1, 0));
}

#[tokio::test]
async fn malformed_and_non_json_bodies_are_400_and_415() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    send(
        &t,
        TestRequest::post("/v1/tasks")
            .bearer(&token)
            .body("application/json", "{\"title\":"),
    )
    .await
    .problem(400);
    send(
        &t,
        TestRequest::post("/v1/tasks")
            .bearer(&token)
            .body("text/plain", "title=x"),
    )
    .await
    .problem(415);
    send(
        &t,
        TestRequest::post("/v1/tasks")
            .bearer(&token)
            .json(&json!(["title"])),
    )
    .await
    .problem(422);
}

#[tokio::test]
async fn every_route_needs_a_valid_bearer_token() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let task = create(&t, &token, json!({"title": "mine"})).await;
    let path = task_path(task["id"].as_str().unwrap());
    let requests = || {
        vec![
            TestRequest::get("/v1/tasks"),
            TestRequest::post("/v1/tasks").json(&json!({"title": "x"})),
            TestRequest::get(&path),
            TestRequest::put(&path).json(&json!({"title": "x"})),
            TestRequest::patch(&path).json(&json!({"title": "x"})),
            TestRequest::delete(&path),
        ]
    };
    for req in requests() {
        let response = send(&t, req).await;
        response.problem(401);
        assert!(
            response
                .header("www-authenticate")
                .unwrap()
                .starts_with("Bearer")
        );
    }
    for req in requests() {
        send(&t, req.bearer("not.a.jwt")).await.problem(401);
    }
    // Nothing changed.
    let fetched = send(&t, TestRequest::get(&path).bearer(&token)).await;
    assert_eq!(fetched.json(), task);
    assert_eq!(counts(&t, &token).await, (1, 0));
}

#[tokio::test]
async fn another_users_task_is_404_for_every_method_and_untouched() {
    let t = TestApp::new().await;
    let (_, owner) = t.signed_in_user().await;
    let (_, other) = t.signed_in_user().await;
    let task = create(&t, &owner, json!({"title": "private", "completed": true})).await;
    let path = task_path(task["id"].as_str().unwrap());

    for req in [
        TestRequest::get(&path),
        TestRequest::put(&path)
            .header("if-match", "*")
            .json(&json!({"title": "stolen"})),
        TestRequest::patch(&path).json(&json!({"title": "stolen"})),
        TestRequest::delete(&path),
        TestRequest::patch(&path)
            .header("if-match", "\"1\"")
            .json(&json!({"completed": false})),
        TestRequest::delete(&path).header("if-match", "*"),
    ] {
        let problem = send(&t, req.bearer(&other)).await.problem(404);
        assert!(!problem.to_string().contains("private"));
    }
    let listing = crate::common::list(&t, &other, "").await;
    assert_eq!(listing["items"], json!([]));
    assert_eq!(listing["counts"], json!({"total": 0, "completed": 0}));

    // A PUT without If-Match creates a task of the caller's own under that id (ids are per
    // user): it neither reveals nor touches the owner's task.
    let own = send(
        &t,
        TestRequest::put(&path)
            .bearer(&other)
            .json(&json!({"title": "mine"})),
    )
    .await;
    assert_eq!(own.status(), 201, "{}", own.text());
    assert_eq!(own.json()["title"], "mine");
    assert_eq!(counts(&t, &other).await, (1, 0));

    let fetched = send(&t, TestRequest::get(&path).bearer(&owner)).await;
    assert_eq!(fetched.json(), task);
    assert_eq!(counts(&t, &owner).await, (1, 1));
}

#[tokio::test]
async fn missing_and_malformed_ids_are_404_for_every_method_but_put() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let existing = create(&t, &token, json!({"title": "x"})).await;
    let existing_id = existing["id"].as_str().unwrap();
    let missing = uuid::Uuid::now_v7().to_string();
    for id in [
        missing.as_str(),
        "not-a-uuid",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        &existing_id.to_uppercase(),
        &existing_id.replace('-', ""),
        "..%2F..%2Fusers",
    ] {
        let path = task_path(id);
        for req in [
            TestRequest::get(&path),
            TestRequest::patch(&path).json(&json!({"title": "x"})),
            TestRequest::delete(&path),
        ] {
            send(&t, req.bearer(&token)).await.problem(404);
        }
    }
    // A PUT replacing only (If-Match) of a missing task is a 404 too.
    let replace_only = TestRequest::put(&task_path(&missing))
        .header("if-match", "*")
        .json(&json!({"title": "x"}));
    send(&t, replace_only.bearer(&token)).await.problem(404);
    // A PUT may create (see put_create.rs): a malformed id is a 422 there, with or without
    // If-Match, and a missing one is created.
    for id in [
        "not-a-uuid",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        &existing_id.to_uppercase(),
        &existing_id.replace('-', ""),
        "..%2F..%2Fusers",
    ] {
        let req = TestRequest::put(&task_path(id)).json(&json!({"title": "x"}));
        send(&t, req.bearer(&token)).await.problem(422);
        let req = TestRequest::put(&task_path(id))
            .header("if-match", "\"1\"")
            .json(&json!({"title": "x"}));
        send(&t, req.bearer(&token)).await.problem(422);
    }
    assert_eq!(counts(&t, &token).await, (1, 0));
}

#[tokio::test]
async fn unsupported_methods_are_405_with_allow() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let response = send(
        &t,
        TestRequest::post(&task_path(&uuid::Uuid::now_v7().to_string())).bearer(&token),
    )
    .await;
    response.problem(405);
    assert_eq!(
        response.header("allow").as_deref(),
        Some("GET, PUT, PATCH, DELETE, OPTIONS")
    );
    send(&t, TestRequest::delete("/v1/tasks").bearer(&token))
        .await
        .problem(405);
}

#[tokio::test]
async fn put_replaces_every_field_and_resets_omitted_ones() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let task = create(
        &t,
        &token,
        json!({"title": "Old", "description": "d", "completed": true, "priority": "high",
               "due_date": "2026-01-01T00:00:00Z"}),
    )
    .await;
    let path = task_path(task["id"].as_str().unwrap());
    assert_eq!(counts(&t, &token).await, (1, 1));

    let response = send(
        &t,
        TestRequest::put(&path)
            .bearer(&token)
            .json(&json!({"title": " New "})),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.header("etag").as_deref(), Some("\"2\""));
    let replaced = response.json();
    assert_eq!(replaced["id"], task["id"]);
    assert_eq!(replaced["title"], "New");
    assert_eq!(replaced["description"], Value::Null);
    assert_eq!(replaced["completed"], false);
    assert_eq!(replaced["priority"], "medium");
    assert_eq!(replaced["due_date"], Value::Null);
    assert_eq!(replaced["version"], 2);
    assert_eq!(replaced["created_at"], task["created_at"]);
    assert!(replaced["updated_at"].as_str() >= task["updated_at"].as_str());
    // Un-completing through PUT moves the completed count.
    assert_eq!(counts(&t, &token).await, (1, 0));

    let fetched = send(&t, TestRequest::get(&path).bearer(&token)).await;
    assert_eq!(fetched.json(), replaced);

    // PUT requires a title and refuses server-owned fields, like POST.
    let problem = send(
        &t,
        TestRequest::put(&path)
            .bearer(&token)
            .json(&json!({"priority": "low", "version": 7})),
    )
    .await
    .problem(422);
    assert_eq!(sorted_field_errors(&problem), ["title", "version"]);
}

#[tokio::test]
async fn patch_is_a_json_merge_patch() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let task = create(
        &t,
        &token,
        json!({"title": "T", "description": "d", "priority": "low",
               "due_date": "2026-01-01T00:00:00Z"}),
    )
    .await;
    let path = task_path(task["id"].as_str().unwrap());
    let patch = |body: Value| TestRequest::patch(&path).bearer(&token).json(&body);

    // Absent fields are kept; a value sets.
    let response = send(&t, patch(json!({"completed": true}))).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.header("etag").as_deref(), Some("\"2\""));
    let patched = response.json();
    assert_eq!(patched["completed"], true);
    assert_eq!(patched["description"], "d");
    assert_eq!(patched["priority"], "low");
    assert_eq!(patched["due_date"], "2026-01-01T00:00:00.000Z");
    assert_eq!(patched["version"], 2);
    assert_eq!(counts(&t, &token).await, (1, 1));

    // null clears description and due_date.
    let cleared = send(&t, patch(json!({"description": null, "due_date": null})))
        .await
        .json();
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["due_date"], Value::Null);
    assert_eq!(cleared["title"], "T");
    assert_eq!(cleared["version"], 3);

    // null cannot clear a required field; nothing is written.
    for body in [
        json!({"title": null}),
        json!({"priority": null}),
        json!({"completed": null}),
        json!({"title": ""}),
        json!({"id": "x"}),
        json!({"unknown": 1}),
    ] {
        send(&t, patch(body)).await.problem(422);
    }
    // A patch that changes nothing is not a new version.
    let unchanged = send(&t, patch(json!({}))).await;
    assert_eq!(unchanged.status(), 200);
    assert_eq!(unchanged.json()["version"], 3);
    assert_eq!(unchanged.header("etag").as_deref(), Some("\"3\""));

    let fetched = send(&t, TestRequest::get(&path).bearer(&token))
        .await
        .json();
    assert_eq!(fetched, cleared);
}

#[tokio::test]
async fn if_match_mismatch_is_412_for_put_patch_and_delete() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let task = create(&t, &token, json!({"title": "T"})).await;
    let path = task_path(task["id"].as_str().unwrap());

    let response = send(
        &t,
        TestRequest::patch(&path)
            .bearer(&token)
            .header("if-match", "\"1\"")
            .json(&json!({"title": "T2"})),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.header("etag").as_deref(), Some("\"2\""));

    // Version 1 is stale now.
    for req in [
        TestRequest::patch(&path).json(&json!({"title": "lost"})),
        TestRequest::put(&path).json(&json!({"title": "lost"})),
        TestRequest::delete(&path),
    ] {
        send(&t, req.bearer(&token).header("if-match", "\"1\""))
            .await
            .problem(412);
    }
    let current = send(&t, TestRequest::get(&path).bearer(&token))
        .await
        .json();
    assert_eq!(current["title"], "T2");
    assert_eq!(current["version"], 2);

    // A malformed If-Match is a 400 (not silently ignored).
    for value in ["2", "W/", "\"two\""] {
        send(
            &t,
            TestRequest::patch(&path)
                .bearer(&token)
                .header("if-match", value)
                .json(&json!({"title": "x"})),
        )
        .await
        .problem(400);
    }
    // A weak tag never matches (strong comparison).
    send(
        &t,
        TestRequest::patch(&path)
            .bearer(&token)
            .header("if-match", "W/\"2\"")
            .json(&json!({"title": "x"})),
    )
    .await
    .problem(412);

    // The current version (or one of a list, or *) matches.
    let put = send(
        &t,
        TestRequest::put(&path)
            .bearer(&token)
            .header("if-match", "\"9\", \"2\"")
            .json(&json!({"title": "T3"})),
    )
    .await;
    assert_eq!(put.status(), 200, "{}", put.text());
    assert_eq!(put.json()["version"], 3);
    let star = send(
        &t,
        TestRequest::patch(&path)
            .bearer(&token)
            .header("if-match", "*")
            .json(&json!({"priority": "high"})),
    )
    .await;
    assert_eq!(star.status(), 200);
    let deleted = send(
        &t,
        TestRequest::delete(&path)
            .bearer(&token)
            .header("if-match", "\"4\""),
    )
    .await;
    assert_eq!(deleted.status(), 204, "{}", deleted.text());
}

#[tokio::test]
async fn delete_is_204_then_404_and_uncounts() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let done = create(&t, &token, json!({"title": "done", "completed": true})).await;
    let open = create(&t, &token, json!({"title": "open"})).await;
    assert_eq!(counts(&t, &token).await, (2, 1));

    let path = task_path(done["id"].as_str().unwrap());
    let response = send(&t, TestRequest::delete(&path).bearer(&token)).await;
    assert_eq!(response.status(), 204);
    assert!(response.text().is_empty());
    assert_eq!(counts(&t, &token).await, (1, 0));
    send(&t, TestRequest::get(&path).bearer(&token))
        .await
        .problem(404);
    send(&t, TestRequest::delete(&path).bearer(&token))
        .await
        .problem(404);
    send(
        &t,
        TestRequest::patch(&path)
            .bearer(&token)
            .json(&json!({"title": "back"})),
    )
    .await
    .problem(404);
    // A second delete did not uncount anything.
    assert_eq!(counts(&t, &token).await, (1, 0));

    // The item is gone from the user's partition; the other task and the counts remain.
    let partition = t.partition(&user.to_string()).await;
    let sort_keys: Vec<String> = partition
        .iter()
        .map(|item| item["sk"].as_s().unwrap().clone())
        .collect();
    assert!(sort_keys.contains(&format!("TASK#{}", open["id"].as_str().unwrap())));
    assert!(!sort_keys.contains(&format!("TASK#{}", done["id"].as_str().unwrap())));
    assert!(sort_keys.contains(&"COUNTS".to_string()));
}

#[tokio::test]
async fn tasks_live_in_the_token_users_partition_whatever_the_request_says() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let (victim, _) = t.signed_in_user().await;
    // The user id can only come from the token: a body field naming another user is refused.
    send(
        &t,
        TestRequest::post("/v1/tasks")
            .bearer(&token)
            .json(&json!({"title": "x", "user_id": victim.to_string()})),
    )
    .await
    .problem(422);
    let task = create(&t, &token, json!({"title": "Mixed Case"})).await;
    let partition = t.partition(&user.to_string()).await;
    let item = partition
        .iter()
        .find(|item| item["sk"].as_s().unwrap().starts_with("TASK#"))
        .expect("task item");
    assert_eq!(
        item["sk"].as_s().unwrap(),
        &format!("TASK#{}", task["id"].as_str().unwrap())
    );
    assert_eq!(item["title_lc"].as_s().unwrap(), "mixed case");
    let victim_items = t.partition(&victim.to_string()).await;
    assert!(
        victim_items.iter().all(|item| ["USER", "REFRESH#"]
            .iter()
            .any(|k| item["sk"].as_s().unwrap().starts_with(k))),
        "only the user and its session: {victim_items:?}"
    );
}

#[tokio::test]
async fn a_task_cannot_be_created_for_a_deleted_account() {
    // The race of a create with DELETE /v1/me: the user item is gone between authentication
    // and the write. The write must not leave an orphan task (or counts) behind.
    let t = TestApp::new().await;
    let (user, _token) = t.signed_in_user().await;
    t.client
        .delete_item()
        .table_name(&t.table)
        .key("user_id", AttributeValue::S(user.to_string()))
        .key("sk", AttributeValue::S("USER".into()))
        .send()
        .await
        .unwrap();
    let fields = taskline::tasks::TaskCreate::parse(
        json!({"title": "orphan?"}).as_object().unwrap().clone(),
    )
    .unwrap()
    .0;
    let err = t
        .app
        .store
        .tasks()
        .create(user, None, &taskline::tasks::Task::new(fields), 10_000)
        .await
        .unwrap();
    assert_eq!(err, taskline::store::CreateOutcome::AccountGone);
    let left = t.partition(&user.to_string()).await;
    assert!(
        left.iter()
            .all(|item| item["sk"].as_s().unwrap().starts_with("REFRESH#")),
        "no task or counts item: {left:?}"
    );
}
