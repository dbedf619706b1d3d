//! Recovery by email end to end, over HTTP against the local stack and the real maildev that
//! scripts/dev.sh starts with it (scripts/test.sh sets TASKLINE_STACK_MAILDEV_URL): the
//! verification link of a registration, then a password reset from the request to the mail in
//! the inbox to the confirm (timed), every session ended; and no token, password or link in
//! the stack's log.

use std::time::{Duration, Instant};

use crate::{me, url};
use devtools::maildev::{link_token, mails_to};
use devtools::openapi::{CheckedResponse, CheckedSend};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use taskline::mail::{NOTICE_SUBJECT, RESET_SUBJECT, VERIFY_SUBJECT};

fn inbox() -> String {
    std::env::var("TASKLINE_STACK_MAILDEV_URL")
        .expect("TASKLINE_STACK_MAILDEV_URL (run through scripts/test.sh)")
}

/// The newest mail to `to` with `subject` in the stack's inbox, waiting for it.
async fn mail(to: &str, subject: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut mails: Vec<Value> = mails_to(&inbox(), to)
            .await
            .into_iter()
            .filter(|m| m["subject"] == subject)
            .collect();
        if let Some(mail) = mails.pop() {
            return mail;
        }
        assert!(Instant::now() < deadline, "no {subject:?} to {to}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn post(client: &Client, path: &str, body: Value) -> CheckedResponse {
    client
        .post(url(path))
        .json(&body)
        .send_checked()
        .await
        .expect("the local stack answers")
}

async fn log_in(client: &Client, email: &str, password: &str) -> CheckedResponse {
    post(
        client,
        "/v1/auth/login",
        json!({ "email": email, "password": password }),
    )
    .await
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_password_reset_over_real_mail_ends_every_session_and_logs_no_secret() {
    let client = Client::new();
    let email = format!("e2e-reset-{}@example.com", uuid::Uuid::now_v7().simple());
    let (old_password, new_password) = ("old e2e passphrase", "new e2e passphrase 2");
    let response = post(
        &client,
        "/v1/auth/register",
        json!({ "email": email, "password": old_password, "name": "Reset" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // The registration's verification link verifies the email.
    let verification = link_token(&mail(&email, VERIFY_SUBJECT).await);
    let response = log_in(&client, &email, old_password).await;
    assert_eq!(response.status(), StatusCode::OK);
    let old_access = response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let body: Value = me(&client, &old_access).await.json().await.unwrap();
    assert_eq!(body["email_verified"], false);
    let response = post(
        &client,
        "/v1/auth/verify-email",
        json!({ "token": verification }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let body: Value = me(&client, &old_access).await.json().await.unwrap();
    assert_eq!(body["email_verified"], true);

    // The reset, timed from the request to the confirm's answer.
    let started = Instant::now();
    let response = post(
        &client,
        "/v1/auth/password-reset",
        json!({ "email": email }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let requested = started.elapsed();
    let reset_mail = mail(&email, RESET_SUBJECT).await;
    let delivered = started.elapsed();
    let token = link_token(&reset_mail);
    let response = post(
        &client,
        "/v1/auth/password-reset/confirm",
        json!({ "token": token, "new_password": new_password }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let confirmed = started.elapsed();
    eprintln!(
        "reset end to end: request answered in {} ms, mail in the inbox at {} ms, confirm \
         answered at {} ms",
        requested.as_millis(),
        delivered.as_millis(),
        confirmed.as_millis()
    );

    // Every session ended; the new password signs in, the old one not; the link is spent.
    assert_eq!(
        me(&client, &old_access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        log_in(&client, &email, old_password).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        log_in(&client, &email, new_password).await.status(),
        StatusCode::OK
    );
    let again = post(
        &client,
        "/v1/auth/password-reset/confirm",
        json!({ "token": token, "new_password": "yet another passphrase" }),
    )
    .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    mail(&email, NOTICE_SUBJECT).await;

    // Nothing secret in the stack's log: not the tokens, the links, the passwords.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log_path = std::env::var("TASKLINE_STACK_LOG")
        .expect("TASKLINE_STACK_LOG (run through scripts/test.sh)");
    let log = std::fs::read_to_string(&log_path).expect("the stack's log is readable");
    assert!(
        log.contains("/v1/auth/password-reset"),
        "the log at {log_path} should hold the requests' log lines"
    );
    for (what, secret) in [
        ("reset token", token.as_str()),
        ("verification token", verification.as_str()),
        ("old password", old_password),
        ("new password", new_password),
        ("access token", old_access.as_str()),
    ] {
        assert!(!log.contains(secret), "the {what} appears in {log_path}");
    }
    assert!(!log.contains(&token[token.len() / 2..]));
    assert!(!log.contains("#token="), "a link appears in {log_path}");
}
