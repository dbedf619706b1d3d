//! Categories (API.md, Categories) against DynamoDB Local: CRUD, case-insensitive unique names
//! (also under concurrency), the 100 limit, colours, If-Match, isolation between users, and
//! the tasks' side: `category_id` validation, `task_count`, the `category` filter with cursors,
//! deletion detaching every task (also when cut short), and task items written before
//! categories existed.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TestApp, TestRequest, call};
use serde_json::{Value, json};
use taskline::auth::UserId;
use taskline::categories::CategoryId;
use taskline::store::task_item;
use taskline::tasks::{Priority, Task, TaskFields, TaskTitle};

use crate::common::{create, create_category, field_errors, list, send, task_path, walk};

type Item = HashMap<String, AttributeValue>;

fn category_path(id: &str) -> String {
    format!("/v1/categories/{id}")
}

async fn get_category(t: &TestApp, token: &str, id: &str) -> Value {
    let response = send(t, TestRequest::get(&category_path(id)).bearer(token)).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    response.json()
}

async fn categories(t: &TestApp, token: &str) -> Vec<Value> {
    let response = send(t, TestRequest::get("/v1/categories").bearer(token)).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    response.json()["items"].as_array().unwrap().clone()
}

async fn task_count(t: &TestApp, token: &str, id: &str) -> u64 {
    get_category(t, token, id).await["task_count"]
        .as_u64()
        .unwrap()
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

fn sk(item: &Item) -> &str {
    item["sk"].as_s().unwrap()
}

/// The stored item of the user with sort key `sort_key`, if any.
async fn stored(t: &TestApp, user: UserId, sort_key: &str) -> Option<Item> {
    t.partition(&user.to_string())
        .await
        .into_iter()
        .find(|item| sk(item) == sort_key)
}

#[tokio::test]
async fn categories_are_created_read_listed_by_name_patched_and_deleted() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let response = send(
        &t,
        TestRequest::post("/v1/categories")
            .bearer(&token)
            .json(&json!({"name": "  Work  "})),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    let work = response.json();
    let id = id_of(&work);
    assert_eq!(response.header("location"), Some(category_path(&id)));
    assert_eq!(response.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(work["name"], "Work");
    assert_eq!(work["color"], "#3B82F6");
    assert_eq!(work["task_count"], 0);
    assert_eq!(work["version"], 1);
    assert_eq!(work["updated_at"], work["created_at"]);
    let mut keys: Vec<_> = work.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "color",
            "created_at",
            "id",
            "name",
            "task_count",
            "updated_at",
            "version"
        ]
    );
    assert_eq!(get_category(&t, &token, &id).await, work);

    create_category(&t, &token, json!({"name": "admin", "color": "#00ff00"})).await;
    create_category(&t, &token, json!({"name": "Zoo"})).await;
    let names: Vec<_> = categories(&t, &token)
        .await
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["admin", "Work", "Zoo"]);

    let response = send(
        &t,
        TestRequest::patch(&category_path(&id))
            .bearer(&token)
            .json(&json!({"color": "#abcdef"})),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let patched = response.json();
    assert_eq!(patched["color"], "#ABCDEF");
    assert_eq!(patched["name"], "Work");
    assert_eq!(patched["version"], 2);
    assert_eq!(response.header("etag").as_deref(), Some("\"2\""));
    // A patch that changes nothing is no new version.
    let response = send(
        &t,
        TestRequest::patch(&category_path(&id))
            .bearer(&token)
            .json(&json!({"color": "#ABCDEF", "name": "Work"})),
    )
    .await;
    assert_eq!(response.json()["version"], 2);

    let response = send(&t, TestRequest::delete(&category_path(&id)).bearer(&token)).await;
    assert_eq!(response.status(), 204, "{}", response.text());
    send(&t, TestRequest::get(&category_path(&id)).bearer(&token))
        .await
        .problem(404);
    send(&t, TestRequest::delete(&category_path(&id)).bearer(&token))
        .await
        .problem(404);
    assert_eq!(categories(&t, &token).await.len(), 2);
    // The name is free again.
    create_category(&t, &token, json!({"name": "WORK"})).await;
}

#[tokio::test]
async fn names_are_unique_per_user_case_insensitively() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let (_, other) = t.signed_in_user().await;
    create_category(&t, &token, json!({"name": "Home"})).await;
    for name in ["home", " HOME ", "Home"] {
        send(
            &t,
            TestRequest::post("/v1/categories")
                .bearer(&token)
                .json(&json!({ "name": name })),
        )
        .await
        .problem(409);
    }
    // Another user's names do not collide.
    create_category(&t, &other, json!({"name": "home"})).await;

    // Renaming onto a taken name is 409; a change of case of one's own name is fine.
    let errands = create_category(&t, &token, json!({"name": "Errands"})).await;
    let path = category_path(&id_of(&errands));
    let rename = async |name: &str| {
        send(
            &t,
            TestRequest::patch(&path)
                .bearer(&token)
                .json(&json!({ "name": name })),
        )
        .await
    };
    rename("HOME").await.problem(409);
    let response = rename("errands").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json()["name"], "errands");
    // After a rename the old name is free and the new one taken.
    let response = rename("Shopping").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    create_category(&t, &token, json!({"name": "Errands"})).await;
    send(
        &t,
        TestRequest::post("/v1/categories")
            .bearer(&token)
            .json(&json!({"name": "shopping"})),
    )
    .await
    .problem(409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_parallel_creates_of_one_name_exactly_one_wins() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let mut clients = tokio::task::JoinSet::new();
    for i in 0..8 {
        let app = t.app.clone();
        let name = if i % 2 == 0 { "Garden" } else { "gARDEN" };
        let req = TestRequest::post("/v1/categories")
            .bearer(&token)
            .json(&json!({ "name": name }));
        clients.spawn(async move { call(tasks::handle, &app, req).await.status() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = clients.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(categories(&t, &token).await.len(), 1);
}

#[tokio::test]
async fn at_most_100_categories_per_user() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    for i in 0..100 {
        create_category(&t, &token, json!({ "name": format!("c{i}") })).await;
    }
    let response = send(
        &t,
        TestRequest::post("/v1/categories")
            .bearer(&token)
            .json(&json!({"name": "one too many"})),
    )
    .await;
    response.problem(409);
    let all = categories(&t, &token).await;
    assert_eq!(all.len(), 100);
    // Deleting one makes room for one.
    let response = send(
        &t,
        TestRequest::delete(&category_path(&id_of(&all[0]))).bearer(&token),
    )
    .await;
    assert_eq!(response.status(), 204);
    create_category(&t, &token, json!({"name": "one more"})).await;
    // With 100 live categories (none being deleted), `category=none` lists the plain task.
    let task = create(&t, &token, json!({"title": "plain"})).await;
    let (ids, _) = walk(&t, &token, "category=none").await;
    assert_eq!(ids, [id_of(&task)]);
}

#[tokio::test]
async fn invalid_names_colours_and_fields_are_422() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    for (body, fields) in [
        (json!({}), vec!["name"]),
        (json!({"name": "   "}), vec!["name"]),
        (json!({"name": "x".repeat(101)}), vec!["name"]),
        (json!({"name": "a\u{202E}b"}), vec!["name"]),
        (json!({"name": "a\nb"}), vec!["name"]),
        (json!({"name": 7}), vec!["name"]),
        (json!({"name": "ok", "color": "blue"}), vec!["color"]),
        (json!({"name": "ok", "color": "#12345"}), vec!["color"]),
        (json!({"name": "ok", "color": null}), vec!["color"]),
        (json!({"name": "ok", "task_count": 5}), vec!["task_count"]),
        (json!({"name": "ok", "id": "x"}), vec!["id"]),
        (json!({"name": "ok", "icon": "x"}), vec!["icon"]),
    ] {
        let response = send(
            &t,
            TestRequest::post("/v1/categories")
                .bearer(&token)
                .json(&body),
        )
        .await;
        assert_eq!(field_errors(&response.problem(422)), fields, "{body}");
    }
    let c = create_category(
        &t,
        &token,
        json!({"name": "x".repeat(100), "color": "#a0B1c2"}),
    )
    .await;
    assert_eq!(c["color"], "#A0B1C2");
    let response = send(
        &t,
        TestRequest::patch(&category_path(&id_of(&c)))
            .bearer(&token)
            .json(&json!({"name": null, "colour": "#000000"})),
    )
    .await;
    assert_eq!(field_errors(&response.problem(422)), ["name", "colour"]);
    assert!(categories(&t, &token).await.len() == 1);
}

#[tokio::test]
async fn patch_and_delete_honour_if_match() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let c = create_category(&t, &token, json!({"name": "Work"})).await;
    let path = category_path(&id_of(&c));
    let patch = |if_match: &str| {
        TestRequest::patch(&path)
            .bearer(&token)
            .header("if-match", if_match)
            .json(&json!({"name": "Job"}))
    };
    send(&t, patch("\"2\"")).await.problem(412);
    send(&t, patch("3")).await.problem(400);
    let response = send(&t, patch("\"1\"")).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json()["version"], 2);
    let delete = |if_match: &str| {
        TestRequest::delete(&path)
            .bearer(&token)
            .header("if-match", if_match)
    };
    send(&t, delete("\"1\"")).await.problem(412);
    assert_eq!(get_category(&t, &token, &id_of(&c)).await["name"], "Job");
    let response = send(&t, delete("\"2\"")).await;
    assert_eq!(response.status(), 204, "{}", response.text());
}

#[tokio::test]
async fn another_users_or_an_unknown_category_is_404() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let (_, other) = t.signed_in_user().await;
    let c = create_category(&t, &token, json!({"name": "Mine"})).await;
    let path = category_path(&id_of(&c));
    for request in [
        TestRequest::get(&path),
        TestRequest::patch(&path).json(&json!({"name": "Theirs"})),
        TestRequest::delete(&path),
        TestRequest::get("/v1/categories/not-an-id"),
        TestRequest::get(
            &path
                .to_uppercase()
                .replace("/V1/CATEGORIES/", "/v1/categories/"),
        ),
        TestRequest::get(&category_path(&uuid::Uuid::now_v7().to_string())),
    ] {
        send(&t, request.bearer(&other)).await.problem(404);
    }
    assert!(categories(&t, &other).await.is_empty());
    assert_eq!(get_category(&t, &token, &id_of(&c)).await["name"], "Mine");
    // No route without a token.
    let response = send(&t, TestRequest::get("/v1/categories")).await;
    response.problem(401);
}

#[tokio::test]
async fn a_tasks_category_id_must_name_a_category_of_the_same_user() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let (_, other) = t.signed_in_user().await;
    let theirs = create_category(&t, &other, json!({"name": "Theirs"})).await;
    let mine = create_category(&t, &token, json!({"name": "Mine"})).await;
    for category_id in [
        theirs["id"].clone(),
        json!(uuid::Uuid::now_v7().to_string()),
        json!("0b4f5f3e-2c1d-4a5b-9c8d-7e6f5a4b3c2d"),
        json!("work"),
        json!(7),
    ] {
        let response = send(
            &t,
            TestRequest::post("/v1/tasks")
                .bearer(&token)
                .json(&json!({"title": "t", "category_id": category_id})),
        )
        .await;
        assert_eq!(
            field_errors(&response.problem(422)),
            ["category_id"],
            "{category_id}"
        );
    }
    let task = create(&t, &token, json!({"title": "t", "category_id": mine["id"]})).await;
    assert_eq!(task["category_id"], mine["id"]);
    let path = task_path(task["id"].as_str().unwrap());
    for request in [
        TestRequest::patch(&path).json(&json!({"category_id": theirs["id"]})),
        TestRequest::put(&path).json(&json!({"title": "t", "category_id": theirs["id"]})),
    ] {
        let response = send(&t, request.bearer(&token)).await;
        assert_eq!(field_errors(&response.problem(422)), ["category_id"]);
    }
    // Nothing was written by the refused requests.
    let fetched = send(&t, TestRequest::get(&path).bearer(&token)).await;
    assert_eq!(fetched.json(), task);
    assert_eq!(task_count(&t, &other, &id_of(&theirs)).await, 0);
    assert_eq!(task_count(&t, &token, &id_of(&mine)).await, 1);
    let uncategorised = create(&t, &token, json!({"title": "u"})).await;
    assert_eq!(uncategorised["category_id"], Value::Null);
}

#[tokio::test]
async fn task_count_follows_creates_moves_and_deletes_of_tasks() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let a = id_of(&create_category(&t, &token, json!({"name": "A"})).await);
    let b = id_of(&create_category(&t, &token, json!({"name": "B"})).await);
    let counts = async || {
        (
            task_count(&t, &token, &a).await,
            task_count(&t, &token, &b).await,
        )
    };

    let t1 = create(&t, &token, json!({"title": "1", "category_id": a})).await;
    let t2 = create(&t, &token, json!({"title": "2", "category_id": a})).await;
    assert_eq!(counts().await, (2, 0));

    let patch = async |task: &Value, body: Value| {
        let response = send(
            &t,
            TestRequest::patch(&task_path(task["id"].as_str().unwrap()))
                .bearer(&token)
                .json(&body),
        )
        .await;
        assert_eq!(response.status(), 200, "{}", response.text());
        response.json()
    };
    assert_eq!(
        patch(&t1, json!({"category_id": b})).await["category_id"],
        b
    );
    assert_eq!(counts().await, (1, 1));
    // A change of another field keeps the category and the counts.
    assert_eq!(
        patch(&t1, json!({"completed": true})).await["category_id"],
        b
    );
    assert_eq!(counts().await, (1, 1));
    // null uncategorises.
    assert_eq!(
        patch(&t1, json!({"category_id": null})).await["category_id"],
        Value::Null
    );
    assert_eq!(counts().await, (1, 0));
    assert_eq!(
        patch(&t1, json!({"category_id": b})).await["category_id"],
        b
    );

    // PUT without category_id uncategorises.
    let response = send(
        &t,
        TestRequest::put(&task_path(t2["id"].as_str().unwrap()))
            .bearer(&token)
            .json(&json!({"title": "2"})),
    )
    .await;
    assert_eq!(response.json()["category_id"], Value::Null);
    assert_eq!(counts().await, (0, 1));

    let response = send(
        &t,
        TestRequest::delete(&task_path(t1["id"].as_str().unwrap())).bearer(&token),
    )
    .await;
    assert_eq!(response.status(), 204);
    assert_eq!(counts().await, (0, 0));
}

#[tokio::test]
async fn the_category_filter_returns_each_matching_task_exactly_once_across_pages() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let a = id_of(&create_category(&t, &token, json!({"name": "A"})).await);
    create_category(&t, &token, json!({"name": "B"})).await;
    let mut in_a = Vec::new();
    let mut completed_in_a = 0;
    let mut none = Vec::new();
    for i in 0..25 {
        if i % 3 == 0 {
            none.push(id_of(
                &create(&t, &token, json!({"title": format!("t{i}")})).await,
            ));
        } else {
            completed_in_a += usize::from(i % 2 == 0);
            let body = json!({"title": format!("t{i}"), "category_id": a, "completed": i % 2 == 0});
            in_a.push(id_of(&create(&t, &token, body).await));
        }
    }
    for order in ["desc", "asc"] {
        for (query, expected) in [
            (format!("category={a}"), &in_a),
            ("category=none".into(), &none),
        ] {
            let (ids, _) = walk(&t, &token, &format!("{query}&limit=4&order={order}")).await;
            let mut expected = expected.clone();
            expected.sort();
            if order == "desc" {
                expected.reverse();
            }
            assert_eq!(ids, expected, "{query} {order}");
        }
    }
    // With other filters too.
    let (ids, _) = walk(&t, &token, &format!("category={a}&completed=true&limit=3")).await;
    assert_eq!(ids.len(), completed_in_a);
    // The cursor binds the filter.
    let page = list(&t, &token, &format!("category={a}&limit=2")).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    send(
        &t,
        TestRequest::get(&format!("/v1/tasks?category=none&limit=2&cursor={cursor}"))
            .bearer(&token),
    )
    .await
    .problem(400);
    for bad in ["bogus", "NONE", ""] {
        send(
            &t,
            TestRequest::get(&format!("/v1/tasks?category={bad}")).bearer(&token),
        )
        .await
        .problem(400);
    }
    // A category that is not the caller's has no tasks.
    let page = list(&t, &token, &format!("category={}", uuid::Uuid::now_v7())).await;
    assert!(page["items"].as_array().unwrap().is_empty());
    assert_eq!(page["next_cursor"], Value::Null);
}

/// Writes `n` task items directly in the API's layout, naming `category` (its `task_count` and
/// the user's counts moved to match): what many tasks written by the API leave behind.
async fn seed(t: &TestApp, user: UserId, n: usize, category: Option<&str>) -> Vec<Item> {
    let category_id = category.map(|c| CategoryId::parse(c).unwrap());
    let mut items = Vec::new();
    for i in 0..n {
        let task = Task::new(TaskFields {
            title: TaskTitle::parse(&format!("seeded {i}")).unwrap(),
            description: None,
            completed: false,
            priority: Priority::Medium,
            due_date: None,
            category_id,
        });
        items.push(task_item(user, &task).unwrap());
    }
    for chunk in items.chunks(25) {
        let requests = chunk
            .iter()
            .map(|item| {
                aws_sdk_dynamodb::types::WriteRequest::builder()
                    .put_request(
                        aws_sdk_dynamodb::types::PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect();
        let output = t
            .client
            .batch_write_item()
            .request_items(&t.table, requests)
            .send()
            .await
            .unwrap();
        assert!(output.unprocessed_items.unwrap_or_default().is_empty());
    }
    let add = |sk: String, attribute: &str| {
        t.client
            .update_item()
            .table_name(&t.table)
            .key("user_id", AttributeValue::S(user.to_string()))
            .key("sk", AttributeValue::S(sk))
            .update_expression("ADD #a :n")
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(":n", AttributeValue::N(n.to_string()))
            .send()
    };
    add("COUNTS".into(), "total").await.unwrap();
    if let Some(id) = category {
        add(format!("CATEGORY#{id}"), "task_count").await.unwrap();
    }
    items
}

#[tokio::test]
async fn deleting_a_category_detaches_every_one_of_its_tasks() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let doomed = id_of(&create_category(&t, &token, json!({"name": "Doomed"})).await);
    let kept = id_of(&create_category(&t, &token, json!({"name": "Kept"})).await);
    // More tasks than one page of the detaching sweep reads, plus one of another category.
    seed(&t, user, 450, Some(&doomed)).await;
    let other = create(&t, &token, json!({"title": "kept", "category_id": kept})).await;
    assert_eq!(task_count(&t, &token, &doomed).await, 450);

    let response = send(
        &t,
        TestRequest::delete(&category_path(&doomed)).bearer(&token),
    )
    .await;
    assert_eq!(response.status(), 204, "{}", response.text());

    let items = t.partition(&user.to_string()).await;
    let tasks: Vec<_> = items
        .iter()
        .filter(|i| sk(i).starts_with("TASK#"))
        .collect();
    assert_eq!(tasks.len(), 451);
    for task in &tasks {
        if sk(task) == format!("TASK#{}", id_of(&other)) {
            assert_eq!(task["category_id"].as_s().unwrap(), &kept);
            assert_eq!(task["version"].as_n().unwrap(), "1");
        } else {
            assert!(!task.contains_key("category_id"));
            assert_eq!(task["version"].as_n().unwrap(), "2", "each version +1");
        }
    }
    let (none, _) = walk(&t, &token, "category=none&limit=100").await;
    assert_eq!(none.len(), 450);
    // Nothing of the category is left: no item, no name reservation; the count is down.
    assert!(
        !items
            .iter()
            .any(|i| sk(i).contains(&doomed) || sk(i) == "CATNAME#doomed")
    );
    let counts = items.iter().find(|i| sk(i) == "COUNTS").unwrap();
    assert_eq!(counts["categories"].as_n().unwrap(), "1");
    // It is no longer among the categories being deleted (the set, emptied, is gone).
    assert!(!counts.contains_key("deleting_categories"), "{counts:?}");
    assert_eq!(task_count(&t, &token, &kept).await, 1);
}

#[tokio::test]
async fn a_deletion_cut_short_shows_no_dangling_id_and_is_resumed() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let c = create_category(&t, &token, json!({"name": "Half"})).await;
    let id = id_of(&c);
    let task = create(&t, &token, json!({"title": "t", "category_id": id})).await;
    let plain = create(&t, &token, json!({"title": "plain"})).await;
    // What a DELETE that timed out right after marking the category leaves behind.
    let category = t
        .app
        .store
        .categories()
        .get(user, CategoryId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let marked = t
        .app
        .store
        .categories()
        .mark_deleting(user, &category, taskline::auth::unix_now())
        .await
        .unwrap();
    assert_eq!(marked, taskline::store::CategoryWrite::Written);
    // Listed among the categories being deleted, which is how a listing knows without querying
    // every category.
    let counts = stored(&t, user, "COUNTS").await.unwrap();
    assert_eq!(
        counts["deleting_categories"].as_ss().unwrap(),
        &vec![id.clone()]
    );

    // The category is gone for reads, its tasks read as uncategorised, its name is free.
    send(&t, TestRequest::get(&category_path(&id)).bearer(&token))
        .await
        .problem(404);
    assert!(categories(&t, &token).await.is_empty());
    let page = list(&t, &token, "").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["category_id"].is_null()));
    let (none, _) = walk(&t, &token, "category=none").await;
    assert_eq!(
        none.into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([id_of(&task), id_of(&plain)])
    );
    assert!(
        list(&t, &token, &format!("category={id}")).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let path = task_path(&id_of(&task));
    let one = send(&t, TestRequest::get(&path).bearer(&token)).await;
    assert_eq!(one.json()["category_id"], Value::Null);
    // No task can be attached to it any more.
    let response = send(
        &t,
        TestRequest::post("/v1/tasks")
            .bearer(&token)
            .json(&json!({"title": "late", "category_id": id})),
    )
    .await;
    assert_eq!(field_errors(&response.problem(422)), ["category_id"]);
    // A write of its task keeps it uncategorised (the stored id is not written back).
    let response = send(
        &t,
        TestRequest::patch(&path)
            .bearer(&token)
            .json(&json!({"title": "renamed"})),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json()["category_id"], Value::Null);
    create_category(&t, &token, json!({"name": "half"})).await;

    // The next DELETE finishes it.
    let response = send(&t, TestRequest::delete(&category_path(&id)).bearer(&token)).await;
    assert_eq!(response.status(), 204, "{}", response.text());
    let items = t.partition(&user.to_string()).await;
    assert!(
        items
            .iter()
            .filter(|i| sk(i).starts_with("TASK#"))
            .all(|i| !i.contains_key("category_id"))
    );
    assert!(!items.iter().any(|i| sk(i) == format!("CATEGORY#{id}")));
    send(&t, TestRequest::delete(&category_path(&id)).bearer(&token))
        .await
        .problem(404);
}

/// A deletion begun by a version that kept no set of the categories being deleted (only the
/// mark and the count): a `DELETE` resuming it lists it first, so that its tasks read as
/// uncategorised even if that `DELETE` is cut short too; then finishes it.
#[tokio::test]
async fn a_deletion_begun_before_the_deleting_set_is_listed_when_resumed() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let id = id_of(&create_category(&t, &token, json!({"name": "Old"})).await);
    let task = create(&t, &token, json!({"title": "t", "category_id": id})).await;
    let pk = AttributeValue::S(user.to_string());
    t.client
        .update_item()
        .table_name(&t.table)
        .key("user_id", pk.clone())
        .key("sk", AttributeValue::S(format!("CATEGORY#{id}")))
        .update_expression("SET deleting = :now")
        .expression_attribute_values(":now", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    // Unlisted, its id would show on its task; listed, as the resuming DELETE does first:
    let category = CategoryId::parse(&id).unwrap();
    t.app
        .store
        .categories()
        .list_as_deleting(user, category)
        .await
        .unwrap();
    let page = list(&t, &token, "").await;
    assert_eq!(page["items"][0]["id"], task["id"]);
    assert_eq!(page["items"][0]["category_id"], Value::Null);
    let (none, _) = walk(&t, &token, "category=none").await;
    assert_eq!(none, [id_of(&task)]);

    let response = send(&t, TestRequest::delete(&category_path(&id)).bearer(&token)).await;
    assert_eq!(response.status(), 204, "{}", response.text());
    let counts = stored(&t, user, "COUNTS").await.unwrap();
    assert!(!counts.contains_key("deleting_categories"), "{counts:?}");
    let task_item = stored(&t, user, &format!("TASK#{}", id_of(&task)))
        .await
        .unwrap();
    assert!(!task_item.contains_key("category_id"));
}

/// A task naming a category that is gone without being listed among the categories being
/// deleted (a deletion begun by a version that kept no set, not yet resumed): its first read
/// takes the set's word, as a listing does, so the write's check that the category lives
/// fails; the read after that conflict asks the category item itself, and the write goes
/// through, uncategorised, instead of losing every race.
#[tokio::test]
async fn a_write_of_a_task_of_an_unlisted_gone_category_goes_through_uncategorised() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let id = id_of(&create_category(&t, &token, json!({"name": "Old"})).await);
    let task = create(&t, &token, json!({"title": "t", "category_id": id})).await;
    t.client
        .update_item()
        .table_name(&t.table)
        .key("user_id", AttributeValue::S(user.to_string()))
        .key("sk", AttributeValue::S(format!("CATEGORY#{id}")))
        .update_expression("SET deleting = :now")
        .expression_attribute_values(":now", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let path = task_path(&id_of(&task));
    let response = send(
        &t,
        TestRequest::patch(&path)
            .bearer(&token)
            .json(&json!({"title": "renamed"})),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json()["category_id"], Value::Null);
    assert_eq!(response.json()["version"], 2);
    let stored = stored(&t, user, &format!("TASK#{}", id_of(&task)))
        .await
        .unwrap();
    assert!(!stored.contains_key("category_id"), "{stored:?}");
}

#[tokio::test]
async fn tasks_written_before_categories_list_and_filter_as_uncategorised() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    // Task items in the layout of the API before categories: no `category_id` attribute.
    let old = seed(&t, user, 5, None).await;
    assert!(old.iter().all(|item| !item.contains_key("category_id")));
    let c = id_of(&create_category(&t, &token, json!({"name": "New"})).await);
    let new = create(&t, &token, json!({"title": "new", "category_id": c})).await;

    let page = list(&t, &token, "").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    assert_eq!(
        items.iter().filter(|i| i["category_id"].is_null()).count(),
        5
    );
    assert_eq!(page["counts"]["total"], 6);
    let (none, _) = walk(&t, &token, "category=none&limit=2").await;
    assert_eq!(none.len(), 5);
    let (mine, _) = walk(&t, &token, &format!("category={c}")).await;
    assert_eq!(mine, [id_of(&new)]);
    // An old task reads, and can be moved into a category.
    let old_id = sk(&old[0]).strip_prefix("TASK#").unwrap().to_string();
    let fetched = send(&t, TestRequest::get(&task_path(&old_id)).bearer(&token)).await;
    assert_eq!(fetched.json()["category_id"], Value::Null);
    let response = send(
        &t,
        TestRequest::patch(&task_path(&old_id))
            .bearer(&token)
            .json(&json!({"category_id": c})),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(task_count(&t, &token, &c).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tasks_moved_into_a_category_while_it_is_deleted_never_keep_its_id() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let doomed = id_of(&create_category(&t, &token, json!({"name": "Racy"})).await);
    let mut tasks = Vec::new();
    for i in 0..20 {
        tasks.push(id_of(
            &create(&t, &token, json!({"title": format!("racer {i}")})).await,
        ));
    }
    let mut clients = tokio::task::JoinSet::new();
    for (i, task) in tasks.iter().enumerate() {
        let app = t.app.clone();
        let req = TestRequest::patch(&task_path(task))
            .bearer(&token)
            .json(&json!({ "category_id": doomed }));
        clients.spawn(async move { (i, call(tasks::handle, &app, req).await.status()) });
    }
    let app = t.app.clone();
    let delete = TestRequest::delete(&category_path(&doomed)).bearer(&token);
    clients.spawn(async move { (usize::MAX, call(tasks::handle, &app, delete).await.status()) });
    while let Some(done) = clients.join_next().await {
        let (i, status) = done.unwrap();
        if i == usize::MAX {
            assert_eq!(status, 204);
        } else {
            // Attached before the deletion began (then detached by it), or refused after.
            assert!(status == 200 || status == 422, "task {i}: {status}");
        }
    }
    let items = t.partition(&user.to_string()).await;
    assert!(!items.iter().any(|i| sk(i).contains(&doomed)));
    for task in items.iter().filter(|i| sk(i).starts_with("TASK#")) {
        assert!(!task.contains_key("category_id"), "{task:?}");
    }
    let (none, _) = walk(&t, &token, "category=none").await;
    assert_eq!(none.len(), 20);
}
