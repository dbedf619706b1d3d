//! Categories end to end, over HTTP against the real local stack (`cargo lambda watch` routes
//! `/v1/categories*` to the tasks function): create, file a task, filter, delete, and the task
//! left without a category. Every response is checked against openapi.yaml.

use crate::{call, signed_up};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_category_files_tasks_filters_them_and_its_deletion_leaves_them_uncategorised() {
    let client = Client::new();
    let token = signed_up(&client, "categories").await;
    let response = call(
        &client,
        &token,
        Method::POST,
        "/v1/categories",
        Some(json!({"name": "Work", "color": "#0ea5e9"})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let category: Value = response.json().await.unwrap();
    let id = category["id"].as_str().unwrap().to_string();
    assert_eq!(category["color"], "#0EA5E9");

    let response = call(
        &client,
        &token,
        Method::POST,
        "/v1/categories",
        Some(json!({"name": "work"})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    let filed = call(
        &client,
        &token,
        Method::POST,
        "/v1/tasks",
        Some(json!({"title": "Write report", "category_id": id})),
    )
    .await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let filed: Value = filed.json().await.unwrap();
    let plain = call(
        &client,
        &token,
        Method::POST,
        "/v1/tasks",
        Some(json!({"title": "Water plants"})),
    )
    .await;
    assert_eq!(plain.status(), StatusCode::CREATED);

    let titles = async |query: &str| -> Vec<String> {
        let response = call(
            &client,
            &token,
            Method::GET,
            &format!("/v1/tasks?{query}"),
            None,
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let page: Value = response.json().await.unwrap();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(titles(&format!("category={id}")).await, ["Write report"]);
    assert_eq!(titles("category=none").await, ["Water plants"]);
    let response = call(
        &client,
        &token,
        Method::GET,
        &format!("/v1/categories/{id}"),
        None,
    )
    .await;
    let read: Value = response.json().await.unwrap();
    assert_eq!(read["task_count"], 1);

    let response = call(
        &client,
        &token,
        Method::DELETE,
        &format!("/v1/categories/{id}"),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let path = format!("/v1/tasks/{}", filed["id"].as_str().unwrap());
    let task: Value = call(&client, &token, Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(task["category_id"], Value::Null);
    assert_eq!(task["version"], 2);
    assert_eq!(
        titles("category=none").await,
        ["Water plants", "Write report"]
    );
    let response = call(&client, &token, Method::GET, "/v1/categories", None).await;
    let list: Value = response.json().await.unwrap();
    assert_eq!(list, json!({"items": []}));
}
