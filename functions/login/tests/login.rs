//! `POST /v1/auth/login` against DynamoDB Local: tokens, the refresh cookie, identical
//! failures for unknown emails and wrong passwords, and throttling.

use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use serde_json::json;
use shared::auth::RefreshToken;

const PASSWORD: &str = "correct horse battery";

async fn register(t: &TestApp, email: &str, password: &str) -> String {
    let response = call(
        register::handle,
        &t.app,
        TestRequest::post("/v1/auth/register")
            .json(&json!({"email": email, "password": password, "name": "Tester"})),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    response.json()["id"].as_str().unwrap().to_string()
}

async fn login(t: &TestApp, email: &str, password: &str) -> TestResponse {
    call(
        login::handle,
        &t.app,
        TestRequest::post("/v1/auth/login").json(&json!({"email": email, "password": password})),
    )
    .await
}

#[tokio::test]
async fn login_returns_a_bearer_token_and_sets_the_refresh_cookie() {
    let t = TestApp::new().await;
    let id = register(&t, "ada@example.com", PASSWORD).await;
    let response = login(&t, "ada@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );
    let body = response.json();
    let keys = devtools::harness::json_keys(&body);
    assert_eq!(keys, ["access_token", "expires_in", "token_type"]);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let user = t
        .app
        .tokens
        .verify(body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(user.to_string(), id);

    let set_cookie = response.header_all("set-cookie");
    let value = response.refresh_cookie();
    assert_eq!(
        set_cookie[0],
        format!(
            "__Host-taskline_refresh={value}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=2592000"
        )
    );
    // >= 256 random bits, beyond the user and family ids it carries.
    assert!(value.len() >= 86, "{value}");
    let token = RefreshToken::parse(&value).unwrap();
    assert_eq!(token.user().to_string(), id);

    // Only the token's SHA-256 is stored, never the token.
    let items = t.partition(&id).await;
    let sks: Vec<&str> = items
        .iter()
        .map(|i| i["sk"].as_s().unwrap().as_str())
        .collect();
    assert!(
        sks.contains(&format!("REFRESH#{}#{}", token.family(), token.hash()).as_str()),
        "{sks:?}"
    );
    assert!(!format!("{items:?}").contains(&value));
    let token_item = items
        .iter()
        .find(|i| i["sk"].as_s().unwrap().ends_with(&token.hash()))
        .unwrap();
    for attribute in [
        "issued_at",
        "idle_expires_at",
        "absolute_expires_at",
        "expires_at",
    ] {
        assert!(token_item[attribute].as_n().is_ok(), "{attribute}");
    }
}

#[tokio::test]
async fn same_site_of_the_cookie_comes_from_configuration() {
    let t = TestApp::with_vars(&[("COOKIE_SAMESITE", "Lax")]).await;
    register(&t, "lax@example.com", PASSWORD).await;
    let response = login(&t, "lax@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let set_cookie = &response.header_all("set-cookie")[0];
    assert!(set_cookie.contains("; SameSite=Lax;"), "{set_cookie}");
    assert!(!set_cookie.contains("Domain"), "{set_cookie}");
}

#[tokio::test]
async fn the_oauth2_password_form_is_accepted() {
    let t = TestApp::new().await;
    register(&t, "form@example.com", PASSWORD).await;
    let form = |body: &str| {
        TestRequest::post("/v1/auth/login").body("application/x-www-form-urlencoded", body)
    };
    let response = call(
        login::handle,
        &t.app,
        form("username=Form%40Example.com&password=correct+horse+battery"),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json()["token_type"], "Bearer");
    response.refresh_cookie();

    let response = call(
        login::handle,
        &t.app,
        form("grant_type=password&username=form%40example.com&password=correct+horse+battery"),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());

    let response = call(
        login::handle,
        &t.app,
        form("grant_type=client_credentials&username=form%40example.com&password=correct+horse+battery"),
    )
    .await;
    assert_eq!(response.problem(400)["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn emails_are_compared_case_insensitively() {
    let t = TestApp::new().await;
    register(&t, "Case@Example.com", PASSWORD).await;
    assert_eq!(
        login(&t, "  CASE@example.COM", PASSWORD).await.status(),
        200
    );
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_401() {
    let t = TestApp::new().await;
    register(&t, "known@example.com", PASSWORD).await;
    let wrong_password = login(&t, "known@example.com", "not the password").await;
    let unknown_email = login(&t, "unknown@example.com", "not the password").await;
    let body = wrong_password.problem(401);
    assert_eq!(body, unknown_email.problem(401));
    assert_eq!(wrong_password.text(), unknown_email.text());
    let mut a: Vec<_> = wrong_password
        .headers()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let mut b: Vec<_> = unknown_email.headers().keys().map(|k| k.as_str()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert!(wrong_password.header("set-cookie").is_none());
    assert_eq!(
        wrong_password.header("cache-control").as_deref(),
        Some("no-store")
    );
}

#[tokio::test]
async fn passwords_are_verified_exactly_as_given() {
    let t = TestApp::new().await;
    register(&t, "spaces@example.com", "  pass word  ").await;
    for almost in ["pass word", "  pass word", "pass word  ", " pass word "] {
        login(&t, "spaces@example.com", almost).await.problem(401);
    }
    assert_eq!(
        login(&t, "spaces@example.com", "  pass word  ")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn invalid_login_bodies_are_422_and_415() {
    let t = TestApp::new().await;
    let response = login(&t, "not-an-email", "x").await;
    let body = response.problem(422);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "password"]);
    // Over-long passwords are refused before any hashing.
    let response = login(&t, "a@example.com", &"x".repeat(129)).await;
    assert_eq!(response.problem(422)["errors"][0]["field"], "password");
    let response = call(
        login::handle,
        &t.app,
        TestRequest::post("/v1/auth/login").body("text/plain", "email=a"),
    )
    .await;
    response.problem(415);
}

fn retry_after(response: &TestResponse) -> u64 {
    response
        .header("retry-after")
        .expect("429 carries Retry-After")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn five_failures_within_15_minutes_lock_the_email_with_retry_after() {
    let t = TestApp::new().await;
    register(&t, "target@example.com", PASSWORD).await;
    register(&t, "bystander@example.com", PASSWORD).await;
    for _ in 0..5 {
        login(&t, "target@example.com", "guess guess")
            .await
            .problem(401);
    }
    // Refused before the password is looked at: even the right one.
    let locked = login(&t, "target@example.com", PASSWORD).await;
    locked.problem(429);
    let seconds = retry_after(&locked);
    assert!((850..=900).contains(&seconds), "{seconds}");
    assert_eq!(locked.header("cache-control").as_deref(), Some("no-store"));
    // Other accounts are unaffected.
    assert_eq!(
        login(&t, "bystander@example.com", PASSWORD).await.status(),
        200
    );
}

#[tokio::test]
async fn unknown_emails_are_throttled_like_known_ones() {
    let t = TestApp::new().await;
    for _ in 0..5 {
        login(&t, "nobody@example.com", "guess guess")
            .await
            .problem(401);
    }
    let locked = login(&t, "NOBODY@example.com", "guess guess").await;
    locked.problem(429);
    retry_after(&locked);
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    let t = TestApp::new().await;
    register(&t, "forgetful@example.com", PASSWORD).await;
    for _ in 0..4 {
        login(&t, "forgetful@example.com", "guess guess")
            .await
            .problem(401);
    }
    assert_eq!(
        login(&t, "forgetful@example.com", PASSWORD).await.status(),
        200
    );
    for _ in 0..4 {
        login(&t, "forgetful@example.com", "guess guess")
            .await
            .problem(401);
    }
    assert_eq!(
        login(&t, "forgetful@example.com", PASSWORD).await.status(),
        200
    );
    assert!(t.partition("LOGIN#forgetful@example.com").await.is_empty());
}

/// Moves the end of an email's throttle window (and its TTL) into the past, leaving the item.
async fn end_throttle_window(t: &TestApp, email: &str) {
    let past = (shared::auth::unix_now() - 1).to_string();
    t.client
        .update_item()
        .table_name(&t.table)
        .key("user_id", AttributeValue::S(format!("LOGIN#{email}")))
        .key("sk", AttributeValue::S("THROTTLE".into()))
        .update_expression("SET window_ends_at = :past, expires_at = :past")
        .expression_attribute_values(":past", AttributeValue::N(past))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_lock_ends_with_its_window_even_if_the_item_is_still_there() {
    let t = TestApp::new().await;
    register(&t, "patient@example.com", PASSWORD).await;
    for _ in 0..5 {
        login(&t, "patient@example.com", "guess guess")
            .await
            .problem(401);
    }
    login(&t, "patient@example.com", PASSWORD)
        .await
        .problem(429);
    let items = t.partition("LOGIN#patient@example.com").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["failures"].as_n().unwrap(), "5");
    assert!(items[0]["expires_at"].as_n().is_ok());
    // The window ended (DynamoDB Local would keep the expired item around).
    end_throttle_window(&t, "patient@example.com").await;
    assert_eq!(
        login(&t, "patient@example.com", PASSWORD).await.status(),
        200
    );
}

#[tokio::test]
async fn a_failure_after_the_window_starts_a_new_count() {
    let t = TestApp::new().await;
    register(&t, "later@example.com", PASSWORD).await;
    for _ in 0..5 {
        login(&t, "later@example.com", "guess guess")
            .await
            .problem(401);
    }
    end_throttle_window(&t, "later@example.com").await;
    login(&t, "later@example.com", "guess guess")
        .await
        .problem(401);
    let items = t.partition("LOGIN#later@example.com").await;
    assert_eq!(items[0]["failures"].as_n().unwrap(), "1");
    assert_eq!(login(&t, "later@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn parallel_guesses_cannot_exceed_the_budget() {
    let t = TestApp::new().await;
    register(&t, "parallel@example.com", PASSWORD).await;
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let app = t.app.clone();
            let req = TestRequest::post("/v1/auth/login").json(
                &json!({"email": "parallel@example.com", "password": format!("guess {i:04}")}),
            );
            tokio::spawn(async move { call(login::handle, &app, req).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().status());
    }
    statuses.sort();
    assert_eq!(statuses, [vec![401; 5], vec![429; 7]].concat());
}
