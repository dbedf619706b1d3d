//! Categories end to end, over HTTP against the real local stack (`cargo lambda watch` routes
//! `/v1/categories*` to the tasks function): create, file a task, filter, delete, and the task
//! left without a category. Every response is checked against openapi.yaml.

use crate::url;
use devtools::openapi::{CheckedResponse, CheckedSend};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// A fresh account's access token.
pub(crate) async fn signed_up(client: &Client) -> String {
    let email = format!(
        "e2e-categories-{}@example.com",
        uuid::Uuid::now_v7().simple()
    );
    let password = "correct horse battery staple";
    let response = client
        .post(url("/v1/auth/register"))
        .json(&json!({"email": email, "password": password, "name": "Categories E2E"}))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = client
        .post(url("/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

pub(crate) async fn call(
    client: &Client,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> CheckedResponse {
    let mut request = client.request(method, url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send_checked().await.unwrap()
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_category_files_tasks_filters_them_and_its_deletion_leaves_them_uncategorised() {
    let client = Client::new();
    let token = signed_up(&client).await;
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
