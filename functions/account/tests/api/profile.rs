//! `PATCH /v1/me`: a user changes their name, under registration's rules, and nothing else.

use crate::common::*;
use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use serde_json::{Value, json};

async fn patch_me(t: &TestApp, token: &str, body: &Value) -> TestResponse {
    call(
        account::handle,
        &t.app,
        TestRequest::patch("/v1/me").bearer(token).json(body),
    )
    .await
}

fn field_errors(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_new_name_is_stored_trimmed_and_returned_with_the_user() {
    let t = TestApp::new().await;
    let id = sign_up(&t, "renamed@example.com").await;
    let session = log_in(&t, "renamed@example.com").await;

    let response = patch_me(&t, &session.access_token, &json!({"name": "  Ada L.  "})).await;

    assert_eq!(response.status(), 200, "{}", response.text());
    let user = response.json();
    assert_eq!(user["id"], id.as_str());
    assert_eq!(user["email"], "renamed@example.com");
    assert_eq!(user["name"], "Ada L.");
    assert_eq!(me(&t, &session.access_token).await.json(), user);
}

#[tokio::test]
async fn names_follow_the_registration_rules() {
    let t = TestApp::new().await;
    sign_up(&t, "rules@example.com").await;
    let session = log_in(&t, "rules@example.com").await;
    for name in [
        json!(""),
        json!("   "),
        json!("x".repeat(101)),
        json!("tab\there"),
        json!("a\u{202E}b"),
        json!(null),
        json!(42),
    ] {
        let problem = patch_me(&t, &session.access_token, &json!({ "name": name }))
            .await
            .problem(422);
        assert_eq!(field_errors(&problem), ["name"], "{name}");
    }
    assert_eq!(
        patch_me(&t, &session.access_token, &json!({"name": "é".repeat(100)}))
            .await
            .status(),
        200
    );
    assert_eq!(
        me(&t, &session.access_token).await.json()["name"],
        "é".repeat(100)
    );
}

#[tokio::test]
async fn other_fields_and_an_empty_object_are_refused_and_change_nothing() {
    let t = TestApp::new().await;
    sign_up(&t, "fields@example.com").await;
    let session = log_in(&t, "fields@example.com").await;
    let before = me(&t, &session.access_token).await.json();
    for (body, fields) in [
        (json!({}), vec!["name"]),
        (
            json!({"name": "New", "email": "x@example.com"}),
            vec!["email"],
        ),
        (json!({"name": "New", "id": "x"}), vec!["id"]),
        (
            json!({"name": "New", "created_at": "2020-01-01T00:00:00Z"}),
            vec!["created_at"],
        ),
        (
            json!({"name": "New", "password": "long enough password"}),
            vec!["password"],
        ),
        (json!({"name": "New", "nickname": "N"}), vec!["nickname"]),
    ] {
        let problem = patch_me(&t, &session.access_token, &body)
            .await
            .problem(422);
        assert_eq!(field_errors(&problem), fields, "{body}");
    }
    assert_eq!(me(&t, &session.access_token).await.json(), before);
}

#[tokio::test]
async fn bad_bodies_and_missing_tokens_are_refused() {
    let t = TestApp::new().await;
    sign_up(&t, "bodies@example.com").await;
    let session = log_in(&t, "bodies@example.com").await;
    let not_json = call(
        account::handle,
        &t.app,
        TestRequest::patch("/v1/me")
            .bearer(&session.access_token)
            .body("application/json", "{\"name\":"),
    )
    .await;
    not_json.problem(400);
    let form = call(
        account::handle,
        &t.app,
        TestRequest::patch("/v1/me")
            .bearer(&session.access_token)
            .body("text/plain", "name=x"),
    )
    .await;
    form.problem(415);
    let anonymous = call(
        account::handle,
        &t.app,
        TestRequest::patch("/v1/me").json(&json!({"name": "x"})),
    )
    .await;
    assert_bearer_refused(&anonymous);
}
