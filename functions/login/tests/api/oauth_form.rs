//! The OAuth2 password form of `POST /v1/auth/login` (RFC 6749 §4.3.2) as standard OAuth2
//! clients send it, and its errors with the RFC 6749 §5.2 `error` and `error_description`
//! members that those clients read.

use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use serde_json::{Value, json};

const EMAIL: &str = "oauth@example.com";
const PASSWORD: &str = devtools::harness::TEST_PASSWORD;

async fn registered() -> TestApp {
    let t = TestApp::new().await;
    call(
        register::handle,
        &t.app,
        TestRequest::registration(EMAIL, PASSWORD),
    )
    .await
    .created_id();
    t
}

async fn form(t: &TestApp, body: &str) -> TestResponse {
    call(
        login::handle,
        &t.app,
        TestRequest::post("/v1/auth/login").body("application/x-www-form-urlencoded", body),
    )
    .await
}

/// The problem+json of `status`, which also carries the OAuth2 `error` code and a description
/// in RFC 6749's character set (printable ASCII without `"` and `\`).
fn oauth_problem(response: &TestResponse, status: u16, code: &str) -> Value {
    let body = response.problem(status);
    assert_eq!(body["error"], code, "{body}");
    let description = body["error_description"]
        .as_str()
        .expect("error_description");
    assert!(!description.is_empty());
    assert!(
        description
            .chars()
            .all(|c| (' '..='~').contains(&c) && c != '"' && c != '\\'),
        "{description:?}"
    );
    body
}

#[tokio::test]
async fn every_field_of_the_password_grant_is_accepted_and_client_fields_are_ignored() {
    let t = registered().await;
    // What authlib's OAuth2Session.fetch_token and Swagger UI's Authorize dialog send.
    for body in [
        "grant_type=password&username=oauth%40example.com&password=correct+horse+battery&client_id=taskline-docs",
        "grant_type=password&username=oauth%40example.com&password=correct+horse+battery&scope=&client_id=&client_secret=",
        "grant_type=password&username=oauth%40example.com&password=correct+horse+battery&scope=read+write&client_id=any&client_secret=anything",
    ] {
        let response = form(&t, body).await;
        assert_eq!(response.status(), 200, "{body}: {}", response.text());
        assert_eq!(response.json()["token_type"], "Bearer");
        response.refresh_cookie();
    }
}

#[tokio::test]
async fn wrong_credentials_are_invalid_grant_401() {
    let t = registered().await;
    let wrong_password = form(
        &t,
        "grant_type=password&username=oauth%40example.com&password=not+the+password",
    )
    .await;
    let body = oauth_problem(&wrong_password, 401, "invalid_grant");
    assert!(wrong_password.header("set-cookie").is_none());
    // Unknown emails are indistinguishable, as on the JSON path.
    let unknown = form(
        &t,
        "grant_type=password&username=nobody%40example.com&password=not+the+password",
    )
    .await;
    assert_eq!(oauth_problem(&unknown, 401, "invalid_grant"), body);
}

#[tokio::test]
async fn another_grant_type_is_unsupported_grant_type_400() {
    let t = registered().await;
    for body in [
        "grant_type=client_credentials&client_id=a&client_secret=b",
        "grant_type=authorization_code&code=x",
        "grant_type=&username=oauth%40example.com&password=correct+horse+battery",
        "grant_type=PASSWORD&username=oauth%40example.com&password=correct+horse+battery",
    ] {
        oauth_problem(&form(&t, body).await, 400, "unsupported_grant_type");
    }
}

#[tokio::test]
async fn missing_invalid_or_unknown_fields_are_invalid_request_400() {
    let t = registered().await;
    for (body, field) in [
        (
            "grant_type=password&password=correct+horse+battery",
            "username",
        ),
        (
            "grant_type=password&username=oauth%40example.com",
            "password",
        ),
        // Empty fields: no email and no password, as in JSON (never 422 on this path).
        ("username=&password=", "username"),
        (
            "username=not-an-email&password=correct+horse+battery",
            "username",
        ),
        (
            "username=oauth%40example.com&password=correct+horse+battery&role=admin",
            "role",
        ),
    ] {
        let response = form(&t, body).await;
        let problem = oauth_problem(&response, 400, "invalid_request");
        // The field errors are kept too, for clients that read problem+json.
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "{body}: {problem}");
        assert!(
            problem["error_description"]
                .as_str()
                .is_some_and(|d| d.contains(field)),
            "{body}: {problem}"
        );
    }
    // RFC 6749 §3.2: a repeated parameter is an invalid request.
    let repeated = form(
        &t,
        "username=oauth%40example.com&username=oauth%40example.com&password=correct+horse+battery",
    )
    .await;
    oauth_problem(&repeated, 400, "invalid_request");
    // The problem type is the generic bad request's: the OAuth2 code says the rest.
    assert_eq!(
        form(&t, "username=&password=").await.problem(400)["type"],
        "https://taskline.dev/problems/bad-request"
    );
}

#[tokio::test]
async fn the_json_path_keeps_422_field_errors_without_oauth_members() {
    let t = registered().await;
    let response = call(
        login::handle,
        &t.app,
        TestRequest::post("/v1/auth/login")
            .json(&json!({"email": EMAIL, "password": PASSWORD, "client_id": "x"})),
    )
    .await;
    let body = response.problem(422);
    assert_eq!(body["errors"][0]["field"], "client_id");
    assert!(body.get("error").is_none(), "{body}");
    let wrong = call(
        login::handle,
        &t.app,
        TestRequest::post("/v1/auth/login")
            .json(&json!({"email": EMAIL, "password": "not the password"})),
    )
    .await;
    assert!(wrong.problem(401).get("error").is_none());
}
