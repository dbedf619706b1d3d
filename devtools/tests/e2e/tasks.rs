//! End-to-end checks over HTTP against the real local stack (`make dev`: DynamoDB Local and
//! `cargo lambda watch` with its router). Ignored by default; scripts/test.sh starts the
//! stack on a free port and runs them with TASKLINE_BASE_URL set.
//!
//! Every response goes through `send_checked`, which checks it against openapi.yaml.

use crate::{base_url, signed_up, url};
use devtools::openapi::{CheckedResponse, CheckedSend};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

async fn send(method: Method, path: &str, headers: &[(&str, &str)]) -> CheckedResponse {
    let mut request = Client::new().request(method, format!("{}{path}", base_url()));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request
        .send_checked()
        .await
        .expect("the local stack answers")
}

fn header(response: &CheckedResponse, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn health_answers_ok() {
    let response = send(Method::GET, "/v1/health", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn unknown_routes_are_404_problem_json() {
    for path in ["/", "/v2/tasks", "/v1/nothing/here", "/v1/healthz"] {
        let response = send(Method::GET, path, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            header(&response, "content-type").as_deref(),
            Some("application/problem+json"),
            "{path}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], 404);
    }
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn wrong_method_is_405_with_allow() {
    let response = send(Method::DELETE, "/v1/health", &[]).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&response, "allow").as_deref(), Some("GET, OPTIONS"));
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/problem+json")
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn preflight_from_an_allowed_origin_is_approved() {
    let response = send(
        Method::OPTIONS,
        "/v1/tasks",
        &[
            ("origin", "http://localhost:5173"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type",
            ),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some("http://localhost:5173")
    );
    assert_eq!(
        header(&response, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let methods = header(&response, "access-control-allow-methods").unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let headers = header(&response, "access-control-allow-headers").unwrap();
    for h in [
        "Authorization",
        "Content-Type",
        "If-Match",
        "If-None-Match",
        "Idempotency-Key",
    ] {
        assert!(headers.contains(h), "{headers}");
    }
    assert!(header(&response, "vary").unwrap().contains("Origin"));
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn preflight_from_a_foreign_origin_gets_no_cors_headers() {
    let response = send(
        Method::OPTIONS,
        "/v1/tasks/0190a1b2-0000-7000-8000-000000000000",
        &[
            ("origin", "http://localhost:5174"),
            ("access-control-request-method", "DELETE"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for name in [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
    ] {
        assert!(header(&response, name).is_none(), "{name} was sent");
    }
}

/// The user's task totals, from a listing.
async fn total(client: &Client, token: &str) -> u64 {
    let response = client
        .get(url("/v1/tasks?limit=1"))
        .bearer_auth(token)
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    page["counts"]["total"].as_u64().unwrap()
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn safe_creates_put_under_a_client_id_and_a_post_retried_with_its_idempotency_key() {
    let client = Client::new();
    let token = signed_up(&client, "tasks").await;

    // PUT of a client-generated UUIDv7: created once, then 412 for create-only.
    let id = uuid::Uuid::now_v7().to_string();
    let put = || {
        client
            .put(url(&format!("/v1/tasks/{id}")))
            .bearer_auth(&token)
            .header("if-none-match", "*")
            .json(&json!({"title": "made offline"}))
    };
    let created = put().send_checked().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        header(&created, "location").as_deref(),
        Some(format!("/v1/tasks/{id}").as_str())
    );
    let task: Value = created.json().await.unwrap();
    assert_eq!(
        (task["id"].as_str(), task["version"].as_u64()),
        (Some(id.as_str()), Some(1))
    );
    let again = put().send_checked().await.unwrap();
    assert_eq!(again.status(), StatusCode::PRECONDITION_FAILED);

    // POST retried with its Idempotency-Key: the first response again, one task.
    let key = uuid::Uuid::now_v7().to_string();
    let post = || {
        client
            .post(url("/v1/tasks"))
            .bearer_auth(&token)
            .header("idempotency-key", &key)
            .header("content-type", "application/json")
            .body(r#"{"title": "sent twice"}"#)
    };
    let first = post().send_checked().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_location = header(&first, "location");
    let first_body: Value = first.json().await.unwrap();
    let replay = post().send_checked().await.unwrap();
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(header(&replay, "location"), first_location);
    let replay_body: Value = replay.json().await.unwrap();
    assert_eq!(replay_body, first_body);
    assert_eq!(total(&client, &token).await, 2);
}
