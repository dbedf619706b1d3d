//! End-to-end checks over HTTP against the real local stack (`make dev`: DynamoDB Local and
//! `cargo lambda watch` with its router). Ignored by default; scripts/test.sh starts the
//! stack on a free port and runs them with TASKLINE_BASE_URL set.
//!
//! Every response goes through `send_checked`, which checks it against openapi.yaml.

use crate::base_url;
use devtools::openapi::{CheckedResponse, CheckedSend};
use reqwest::{Client, Method, StatusCode};

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
    for h in ["Authorization", "Content-Type", "If-Match"] {
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
