//! Accounts and sessions end to end, over HTTP against the real local stack (scripts/test.sh
//! sets TASKLINE_BASE_URL, TASKLINE_STACK_LOG, TASKLINE_STACK_DYNAMODB_ENDPOINT and
//! TASKLINE_STACK_LOG_LEVEL, and starts the stack with LOG_LEVEL=trace): register, log in, read
//! the account, refresh with the cookie, log out, delete the account; and no secret reaches the
//! logs, at any level.
//!
//! Every response goes through `send_checked`, which checks it against openapi.yaml.

use crate::{COOKIE, me, refresh, set_cookie, set_cookie_named, url};
use aws_sdk_dynamodb::types::AttributeValue;
use devtools::openapi::CheckedSend;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn unique_email() -> String {
    format!("e2e-{}@Example.com", uuid::Uuid::now_v7().simple())
}

async fn register(client: &Client, email: &str, password: &str) -> Value {
    let response = client
        .post(url("/v1/auth/register"))
        .json(&json!({"email": email, "password": password, "name": "End To End"}))
        .send_checked()
        .await
        .expect("the local stack answers");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

/// Logs in; returns the access token, the refresh cookie's value and the device cookie's.
async fn login(client: &Client, email: &str, password: &str) -> (String, String, String) {
    let response = client
        .post(url("/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (cookie, line) = set_cookie(&response);
    assert_eq!(
        line,
        format!("{COOKIE}={cookie}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=2592000")
    );
    let device_cookie = taskline::http::DEVICE_COOKIE;
    let (device, line) = set_cookie_named(&response, device_cookie);
    assert_eq!(
        line,
        format!(
            "{device_cookie}={device}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=15552000"
        )
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    (
        body["access_token"].as_str().unwrap().to_string(),
        cookie,
        device,
    )
}

/// The stored argon2 hash of `email`'s password, read from the stack's DynamoDB Local (if
/// scripts/test.sh said where it is).
async fn stored_password_hash(email: &str) -> Option<String> {
    let endpoint = std::env::var("TASKLINE_STACK_DYNAMODB_ENDPOINT").ok()?;
    let client = devtools::tables::local_client(&endpoint).await;
    let reservation = client
        .get_item()
        .table_name("TasklineTable")
        .key(
            "user_id",
            AttributeValue::S(format!("EMAIL#{}", email.to_lowercase())),
        )
        .key("sk", AttributeValue::S("EMAIL".into()))
        .send()
        .await
        .expect("read the email reservation")
        .item
        .expect("the email is reserved");
    let user = reservation["owner"].as_s().unwrap().clone();
    let item = client
        .get_item()
        .table_name("TasklineTable")
        .key("user_id", AttributeValue::S(user))
        .key("sk", AttributeValue::S("USER".into()))
        .send()
        .await
        .expect("read the user")
        .item
        .expect("the user exists");
    Some(item["password_hash"].as_s().unwrap().clone())
}

/// The whole session life cycle, then a look at everything the stack logged meanwhile.
#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_session_from_registration_to_logout_leaves_no_secret_in_the_logs() {
    let client = Client::new();
    let email = unique_email();
    let password = format!("  e2e secret {}  ", uuid::Uuid::now_v7().simple());
    let user = register(&client, &email, &password).await;
    assert_eq!(user["email"], email.to_lowercase());

    let (access, first_cookie, device_cookie) = login(&client, &email, &password).await;
    let response = me(&client, &access).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), user);
    let password_hash = stored_password_hash(&email).await;

    // Bearer requests of the tasks function log nothing secret either.
    let response = client
        .post(url("/v1/tasks"))
        .bearer_auth(&access)
        .json(&json!({"title": "log nothing secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = client
        .get(url("/v1/tasks"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let response = refresh(&client, &first_cookie).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (second_cookie, _) = set_cookie(&response);
    assert_ne!(second_cookie, first_cookie);
    let refreshed: Value = response.json().await.unwrap();
    let second_access = refreshed["access_token"].as_str().unwrap().to_string();
    assert_eq!(me(&client, &second_access).await.status(), StatusCode::OK);

    // A foreign page cannot log the user out.
    let response = client
        .post(url("/v1/auth/logout"))
        .header("origin", "https://evil.example")
        .header("cookie", format!("{COOKIE}={second_cookie}"))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = client
        .post(url("/v1/auth/logout"))
        .header("origin", "http://localhost:5173")
        .header("cookie", format!("{COOKIE}={second_cookie}"))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (cleared, line) = set_cookie(&response);
    assert_eq!(cleared, "");
    assert!(line.ends_with("Max-Age=0"), "{line}");
    assert_eq!(
        refresh(&client, &second_cookie).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A wrong password, whose body must not be logged either.
    let response = client
        .post(url("/v1/auth/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username={}&password=wrong-{}",
            email.replace('@', "%40"),
            uuid::Uuid::now_v7().simple()
        ))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Give the stack a moment to flush its output, then read all of it.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let log_path = std::env::var("TASKLINE_STACK_LOG")
        .expect("TASKLINE_STACK_LOG (run through scripts/test.sh)");
    let log = std::fs::read_to_string(&log_path).expect("the stack's log is readable");
    assert!(
        log.contains("/v1/auth/refresh"),
        "the log at {log_path} should hold the requests' log lines"
    );
    let level = std::env::var("TASKLINE_STACK_LOG_LEVEL").unwrap_or_default();
    if level == "trace" {
        // scripts/test.sh runs the stack at LOG_LEVEL=trace: our debug lines are there, the
        // dependencies' raw events and request bodies are not.
        assert!(
            log.contains("\"level\":\"DEBUG\"") || log.contains("\"level\":\"TRACE\""),
            "the stack at {log_path} should log at trace level"
        );
    }
    if let Some(hash) = &password_hash {
        assert!(
            !log.contains(hash.as_str()),
            "the password hash appears in {log_path}"
        );
        // Its salt and digest alone neither.
        let digest = hash.rsplit('$').next().unwrap();
        assert!(
            !log.contains(digest),
            "the password digest appears in {log_path}"
        );
    }
    for (what, secret) in [
        ("password", password.trim()),
        ("access token", access.as_str()),
        ("refreshed access token", second_access.as_str()),
        ("refresh cookie", first_cookie.as_str()),
        ("rotated refresh cookie", second_cookie.as_str()),
        ("device cookie", device_cookie.as_str()),
    ] {
        assert!(!log.contains(secret), "the {what} appears in {log_path}");
    }
    // Nor any part of a token long enough to matter (a JWT's signature, a cookie's half).
    assert!(!log.contains(access.rsplit('.').next().unwrap()));
    assert!(!log.contains(&first_cookie[first_cookie.len() / 2..]));
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_deleted_account_loses_its_tokens_sessions_and_email_at_once() {
    let client = Client::new();
    let email = unique_email();
    let password = "delete me please";
    register(&client, &email, password).await;
    let (access, cookie, _) = login(&client, &email, password).await;

    // The password is asked for again: without it, or a wrong one, nothing is deleted.
    let response = client
        .delete(url("/v1/me"))
        .bearer_auth(&access)
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = client
        .delete(url("/v1/me"))
        .bearer_auth(&access)
        .json(&json!({"password": "not the password"}))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(me(&client, &access).await.status(), StatusCode::OK);

    let response = client
        .delete(url("/v1/me"))
        .bearer_auth(&access)
        .json(&json!({"password": password}))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let response = me(&client, &access).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(
        refresh(&client, &cookie).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The email is free again.
    register(&client, &email, password).await;
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_replayed_refresh_cookie_ends_its_session() {
    let client = Client::new();
    let email = unique_email();
    let password = "replay attack";
    register(&client, &email, password).await;
    let (_, first, _) = login(&client, &email, password).await;
    let response = refresh(&client, &first).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (second, _) = set_cookie(&response);
    let response = refresh(&client, &second).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (third, _) = set_cookie(&response);
    // `first` is no longer the family's most recently spent token, so even within the reuse
    // grace (REFRESH_REUSE_GRACE_SECS) presenting it is reuse: the whole family ends.
    assert_eq!(
        refresh(&client, &first).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&client, &third).await.status(),
        StatusCode::UNAUTHORIZED
    );
}
