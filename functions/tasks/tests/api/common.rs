//! Helpers shared by the tasks function's integration tests.
use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use serde_json::Value;

/// Sends one request to the tasks function.
pub async fn send(t: &TestApp, req: TestRequest) -> TestResponse {
    call(tasks::handle, &t.app, req).await
}

/// Creates a task and returns its JSON (asserting 201).
pub async fn create(t: &TestApp, token: &str, body: Value) -> Value {
    let response = send(t, TestRequest::post("/v1/tasks").bearer(token).json(&body)).await;
    assert_eq!(response.status(), 201, "create failed: {}", response.text());
    response.json()
}

/// Creates a category and returns its JSON (asserting 201).
pub async fn create_category(t: &TestApp, token: &str, body: Value) -> Value {
    let response = send(
        t,
        TestRequest::post("/v1/categories")
            .bearer(token)
            .json(&body),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    response.json()
}

/// `GET /v1/tasks?<query>` as JSON (asserting 200).
pub async fn list(t: &TestApp, token: &str, query: &str) -> Value {
    let response = send(
        t,
        TestRequest::get(&format!("/v1/tasks?{query}")).bearer(token),
    )
    .await;
    assert_eq!(response.status(), 200, "list failed: {}", response.text());
    response.json()
}

/// Every page of a listing, following `next_cursor`; returns the ids in order and the page sizes.
pub async fn walk(t: &TestApp, token: &str, query: &str) -> (Vec<String>, Vec<usize>) {
    let mut ids = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let q = match &cursor {
            Some(c) => format!("{query}&cursor={c}"),
            None => query.to_string(),
        };
        let page = list(t, token, &q).await;
        let items = page["items"].as_array().expect("items").clone();
        sizes.push(items.len());
        ids.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => {
                assert!(page["next_cursor"].is_null());
                return (ids, sizes);
            }
        }
    }
    panic!("listing did not end");
}

/// The counts of a listing.
pub async fn counts(t: &TestApp, token: &str) -> (u64, u64) {
    let page = list(t, token, "limit=1").await;
    (
        page["counts"]["total"].as_u64().unwrap(),
        page["counts"]["completed"].as_u64().unwrap(),
    )
}

pub fn task_path(id: &str) -> String {
    format!("/v1/tasks/{id}")
}

/// A UUIDv7 (canonical) whose time lies `secs` from now (negative: in the past), as a client
/// generates one for a PUT that creates.
pub fn v7_id_in(secs: i64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let at = u64::try_from(now + secs).expect("a time after 1970");
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, at, 0)).to_string()
}

/// A fresh client-generated task id.
pub fn client_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The sort keys of the task items of a user's partition.
pub async fn stored_task_keys(t: &TestApp, user: &str) -> Vec<String> {
    t.partition(user)
        .await
        .iter()
        .filter_map(|item| item["sk"].as_s().ok().cloned())
        .filter(|sk| sk.starts_with("TASK#"))
        .collect()
}

/// The field names of a 422 problem's `errors`, in order.
pub fn field_errors(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}
