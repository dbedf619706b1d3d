//! Input that used to crash the function or poison stored data:
//! due dates the store cannot write back, text that renders as something else, and task
//! items that no longer parse (written directly to DynamoDB Local, as an older version or a
//! hand-made seed would have left them).

use crate::common::{counts, create, field_errors, list, send, task_path, walk};
use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TestApp, TestRequest};
use serde_json::{Value, json};

/// The two times of the issue: one past 9999-12-31 in UTC (panicked), one before 0000-01-01
/// in UTC (stored as year -1, then unreadable).
const UNSTORABLE_DUE_DATES: [&str; 2] = ["9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+00:01"];

#[tokio::test]
async fn due_dates_the_store_cannot_hold_are_422_on_post_put_and_patch() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let task = create(&t, &token, json!({"title": "x"})).await;
    let path = task_path(task["id"].as_str().unwrap());
    for due in UNSTORABLE_DUE_DATES {
        let body = json!({"title": "x", "due_date": due});
        for req in [
            TestRequest::post("/v1/tasks"),
            TestRequest::put(&path),
            TestRequest::patch(&path),
        ] {
            let problem = send(&t, req.bearer(&token).json(&body)).await.problem(422);
            assert_eq!(field_errors(&problem), ["due_date"], "{due}");
        }
    }
    // Nothing was written: one task, still version 1, and it reads back.
    assert_eq!(counts(&t, &token).await, (1, 0));
    let fetched = send(&t, TestRequest::get(&path).bearer(&token)).await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.json(), task);
}

#[tokio::test]
async fn due_dates_at_the_ends_of_the_range_are_kept() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    for (sent, stored) in [
        ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"),
        ("0000-01-01T00:00:00-00:01", "0000-01-01T00:01:00.000Z"),
        ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12-31T23:59:59+23:59", "9999-12-31T00:00:59.000Z"),
    ] {
        let task = create(&t, &token, json!({"title": "edge", "due_date": sent})).await;
        assert_eq!(task["due_date"], stored, "{sent}");
        let fetched = send(
            &t,
            TestRequest::get(&task_path(task["id"].as_str().unwrap())).bearer(&token),
        )
        .await;
        assert_eq!(fetched.json(), task);
    }
    assert_eq!(
        list(&t, &token, "").await["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn titles_refuse_control_and_bidi_characters_and_descriptions_keep_only_line_breaks_and_tabs()
{
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let post = |body: Value| TestRequest::post("/v1/tasks").bearer(&token).json(&body);

    for title in [
        "bad\u{0000}title",
        "a\u{1b}[31mred",
        "a\u{85}b",
        "txt.\u{202E}exe",
        "a\u{2067}b",
    ] {
        let problem = send(&t, post(json!({"title": title}))).await.problem(422);
        assert_eq!(field_errors(&problem), ["title"], "{title:?}");
    }
    let problem = send(
        &t,
        post(json!({"title": "ok", "description": "ding\u{0007}"})),
    )
    .await
    .problem(422);
    assert_eq!(field_errors(&problem), ["description"]);
    let problem = send(&t, post(json!({"title": "ok", "description": "\u{202D}"})))
        .await
        .problem(422);
    assert_eq!(field_errors(&problem), ["description"]);

    let task = create(
        &t,
        &token,
        json!({"title": "ok", "description": "one\n\ttwo\r\n"}),
    )
    .await;
    assert_eq!(task["description"], "one\n\ttwo\r\n");

    // PUT and PATCH apply the same rules.
    let path = task_path(task["id"].as_str().unwrap());
    for req in [TestRequest::put(&path), TestRequest::patch(&path)] {
        let problem = send(&t, req.bearer(&token).json(&json!({"title": "bad\u{0}"})))
            .await
            .problem(422);
        assert_eq!(field_errors(&problem), ["title"]);
    }
    assert_eq!(counts(&t, &token).await, (1, 0));
}

/// Overwrites attributes of a stored task directly in DynamoDB (`None` removes one).
async fn corrupt(t: &TestApp, user: &str, id: &str, changes: &[(&str, Option<AttributeValue>)]) {
    let mut request = t
        .client
        .update_item()
        .table_name(&t.table)
        .key(taskline::store::PK, AttributeValue::S(user.into()))
        .key(taskline::store::SK, AttributeValue::S(format!("TASK#{id}")));
    let mut sets = Vec::new();
    let mut removes = Vec::new();
    for (i, (name, value)) in changes.iter().enumerate() {
        request = request.expression_attribute_names(format!("#a{i}"), *name);
        match value {
            Some(value) => {
                sets.push(format!("#a{i} = :v{i}"));
                request = request.expression_attribute_values(format!(":v{i}"), value.clone());
            }
            None => removes.push(format!("#a{i}")),
        }
    }
    let mut expression = String::new();
    if !sets.is_empty() {
        expression.push_str(&format!("SET {} ", sets.join(", ")));
    }
    if !removes.is_empty() {
        expression.push_str(&format!("REMOVE {}", removes.join(", ")));
    }
    request
        .update_expression(expression)
        .condition_expression("attribute_exists(sk)")
        .send()
        .await
        .expect("corrupt the stored task");
}

fn s(value: &str) -> Option<AttributeValue> {
    Some(AttributeValue::S(value.into()))
}

#[tokio::test]
async fn unreadable_items_are_skipped_in_lists_a_problem_on_get_and_still_deletable() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let user = user.to_string();
    let mut ids = Vec::new();
    for i in 0..7 {
        let task = create(
            &t,
            &token,
            json!({"title": format!("task {i}"), "completed": i == 3}),
        )
        .await;
        ids.push(task["id"].as_str().unwrap().to_string());
    }
    // What the old code stored for 0000-01-01T00:00:00+00:01, a missing title, and a version
    // that is not a number.
    corrupt(
        &t,
        &user,
        &ids[1],
        &[("due_date", s("-0001-12-31T23:59:00.000Z"))],
    )
    .await;
    corrupt(&t, &user, &ids[3], &[("title", None)]).await;
    corrupt(&t, &user, &ids[5], &[("version", s("three"))]).await;
    let readable: Vec<&String> = [0, 2, 4, 6].iter().map(|&i| &ids[i]).collect();

    // Lists go on past them, on one page or across many.
    let page = list(&t, &token, "order=asc").await;
    let listed: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, readable);
    for limit in 1..=3 {
        let (walked, _) = walk(&t, &token, &format!("order=asc&limit={limit}")).await;
        assert_eq!(
            walked,
            readable.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        );
    }
    let (walked, _) = walk(&t, &token, "q=task&limit=2").await;
    assert_eq!(walked.len(), 4);

    // Reading one of them answers a problem that names it; PATCH cannot merge into it.
    for id in [&ids[1], &ids[3], &ids[5]] {
        let problem = send(&t, TestRequest::get(&task_path(id)).bearer(&token))
            .await
            .problem(500);
        assert_eq!(
            problem["type"],
            "https://taskline.dev/problems/unreadable-item"
        );
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(id.as_str()), "{detail}");
        let problem = send(
            &t,
            TestRequest::patch(&task_path(id))
                .bearer(&token)
                .json(&json!({"completed": true})),
        )
        .await
        .problem(500);
        assert_eq!(
            problem["type"],
            "https://taskline.dev/problems/unreadable-item"
        );
    }
    // Its neighbours are unaffected.
    let fetched = send(&t, TestRequest::get(&task_path(&ids[2])).bearer(&token)).await;
    assert_eq!(fetched.status(), 200);

    // Deleting needs only the key and version: each one goes, and is uncounted.
    assert_eq!(counts(&t, &token).await, (7, 1));
    let stale = send(
        &t,
        TestRequest::delete(&task_path(&ids[1]))
            .bearer(&token)
            .header("if-match", "\"2\""),
    )
    .await;
    stale.problem(412);
    let deleted = send(
        &t,
        TestRequest::delete(&task_path(&ids[1]))
            .bearer(&token)
            .header("if-match", "\"1\""),
    )
    .await;
    assert_eq!(deleted.status(), 204, "{}", deleted.text());
    for id in [&ids[3], &ids[5]] {
        let deleted = send(&t, TestRequest::delete(&task_path(id)).bearer(&token)).await;
        assert_eq!(deleted.status(), 204, "{}", deleted.text());
        send(&t, TestRequest::get(&task_path(id)).bearer(&token))
            .await
            .problem(404);
    }
    assert_eq!(counts(&t, &token).await, (4, 0));
    assert_eq!(
        t.partition(&user).await.len(),
        1 + 1 + 1 + 4,
        "user, session, counts and four tasks"
    );
}

#[tokio::test]
async fn put_replaces_an_unreadable_item_with_new_fields() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let user = user.to_string();
    let task = create(&t, &token, json!({"title": "old", "completed": true})).await;
    let id = task["id"].as_str().unwrap();
    corrupt(
        &t,
        &user,
        id,
        &[
            ("due_date", s("-0001-12-31T23:59:00.000Z")),
            ("priority", s("urgent")),
        ],
    )
    .await;

    // A version that is not the stored one is refused, as for any task.
    send(
        &t,
        TestRequest::put(&task_path(id))
            .bearer(&token)
            .header("if-match", "\"7\"")
            .json(&json!({"title": "new"})),
    )
    .await
    .problem(412);

    let replaced = send(
        &t,
        TestRequest::put(&task_path(id))
            .bearer(&token)
            .header("if-match", "\"1\"")
            .json(&json!({"title": "new", "due_date": "2027-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(replaced.status(), 200, "{}", replaced.text());
    assert_eq!(replaced.header("etag").as_deref(), Some("\"2\""));
    let body = replaced.json();
    assert_eq!(body["title"], "new");
    assert_eq!(body["priority"], "medium");
    assert_eq!(body["completed"], false);
    assert_eq!(body["due_date"], "2027-01-01T00:00:00.000Z");
    assert_eq!(body["created_at"], task["created_at"]);
    assert_eq!(body["version"], 2);

    let fetched = send(&t, TestRequest::get(&task_path(id)).bearer(&token)).await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.json(), body);
    assert_eq!(list(&t, &token, "").await["items"][0], body);
    // It was counted as completed; now it is not.
    assert_eq!(counts(&t, &token).await, (1, 0));
}

#[tokio::test]
async fn an_item_without_a_version_can_be_replaced_and_then_deleted() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let task = create(&t, &token, json!({"title": "old"})).await;
    let id = task["id"].as_str().unwrap();
    corrupt(
        &t,
        &user.to_string(),
        id,
        &[("version", None), ("created_at", None)],
    )
    .await;
    // No version to match: only a precondition that names none holds.
    send(
        &t,
        TestRequest::put(&task_path(id))
            .bearer(&token)
            .header("if-match", "\"1\"")
            .json(&json!({"title": "new"})),
    )
    .await
    .problem(412);
    let replaced = send(
        &t,
        TestRequest::put(&task_path(id))
            .bearer(&token)
            .header("if-match", "*")
            .json(&json!({"title": "new"})),
    )
    .await;
    assert_eq!(replaced.status(), 200, "{}", replaced.text());
    assert_eq!(replaced.json()["version"], 1);
    let deleted = send(
        &t,
        TestRequest::delete(&task_path(id))
            .bearer(&token)
            .header("if-match", "\"1\""),
    )
    .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(counts(&t, &token).await, (0, 0));
}
