//! Sorts and due-date filters end to end, over HTTP against the real local stack: the tables
//! `make dev` creates from template.yaml carry the sort indexes, and a listing by due date or
//! priority pages through them. Every response is checked against openapi.yaml.

use crate::{call, signed_up};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn tasks_sort_by_due_date_and_priority_and_filter_overdue_over_http() {
    let client = Client::new();
    let token = signed_up(&client, "sorting").await;
    for (title, body) in [
        (
            "late",
            json!({"due_date": "2020-01-01T09:00:00Z", "priority": "high"}),
        ),
        (
            "done late",
            json!({"due_date": "2019-06-01T09:00:00Z", "completed": true, "priority": "low"}),
        ),
        ("someday", json!({})),
        (
            "next year",
            json!({"due_date": "2099-01-01T09:00:00+01:00", "priority": "low"}),
        ),
    ] {
        let mut body = body;
        body["title"] = json!(title);
        let response = call(&client, &token, Method::POST, "/v1/tasks", Some(body)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    // Every page of a listing, following its cursors.
    let walk = async |query: &str| -> Vec<String> {
        let mut titles = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/tasks?{query}&limit=1&cursor={c}"),
                None => format!("/v1/tasks?{query}&limit=1"),
            };
            let response = call(&client, &token, Method::GET, &path, None).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let page: Value = response.json().await.unwrap();
            titles.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["title"].as_str().unwrap().to_string()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return titles,
            }
        }
    };
    assert_eq!(
        walk("sort=due&order=asc").await,
        ["done late", "late", "next year", "someday"]
    );
    assert_eq!(
        walk("sort=due").await,
        ["next year", "late", "done late", "someday"]
    );
    assert_eq!(
        walk("sort=priority").await,
        ["late", "someday", "next year", "done late"]
    );
    assert_eq!(walk("overdue=true").await, ["late"]);
    assert_eq!(
        walk("sort=due&order=asc&due_before=2020-01-01T10:00:00%2B01:00").await,
        ["done late"]
    );
    assert_eq!(walk("due_after=2020-01-01T09:00:00Z").await, ["next year"]);
    let response = call(&client, &token, Method::GET, "/v1/tasks?sort=title", None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
