//! The account function's routes, driven through API Gateway events against DynamoDB Local.

use devtools::harness::{ALLOWED_ORIGIN, TestApp, TestRequest, call};

#[tokio::test]
async fn health_is_ok_without_credentials() {
    let t = TestApp::new().await;
    let response = call(account::handle, &t.app, TestRequest::get("/v1/health")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json(), serde_json::json!({"status": "ok"}));
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn unknown_route_is_404_problem_json() {
    let t = TestApp::new().await;
    let response = call(account::handle, &t.app, TestRequest::get("/v1/unknown")).await;
    response.problem(404);
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let t = TestApp::new().await;
    let response = call(account::handle, &t.app, TestRequest::post("/v1/health")).await;
    response.problem(405);
    assert_eq!(response.header("allow").as_deref(), Some("GET, OPTIONS"));
}

#[tokio::test]
async fn allowed_origin_gets_credentialed_cors_and_foreign_origin_none() {
    let t = TestApp::new().await;
    let allowed = call(
        account::handle,
        &t.app,
        TestRequest::get("/v1/health").origin(ALLOWED_ORIGIN),
    )
    .await;
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(
        allowed
            .header("access-control-allow-credentials")
            .as_deref(),
        Some("true")
    );
    assert_eq!(allowed.header("vary").as_deref(), Some("Origin"));

    let foreign = call(
        account::handle,
        &t.app,
        TestRequest::get("/v1/health").origin("https://evil.example"),
    )
    .await;
    assert_eq!(foreign.status(), 200);
    assert!(foreign.header("access-control-allow-origin").is_none());
    assert!(foreign.header("access-control-allow-credentials").is_none());
}

#[tokio::test]
async fn origins_come_from_configuration() {
    let t = TestApp::with_vars(&[("ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let response = call(
        account::handle,
        &t.app,
        TestRequest::options("/v1/health").origin("https://app.example.com"),
    )
    .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        response.header("access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    let default_origin = call(
        account::handle,
        &t.app,
        TestRequest::options("/v1/health").origin(ALLOWED_ORIGIN),
    )
    .await;
    assert!(
        default_origin
            .header("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn every_response_is_no_store() {
    let t = TestApp::new().await;
    for req in [TestRequest::get("/v1/health"), TestRequest::get("/nope")] {
        let response = call(account::handle, &t.app, req).await;
        assert_eq!(
            response.header("cache-control").as_deref(),
            Some("no-store")
        );
    }
}
