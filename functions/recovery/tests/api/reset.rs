//! `POST /v1/auth/password-reset` and `/confirm`: a link to the account's address, one use,
//! 30 minutes, every session ended, nothing revealed about which addresses have accounts.

use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TEST_PASSWORD, TestApp, TestRequest, call};
use devtools::maildev;
use serde_json::json;
use taskline::mail::{NOTICE_SUBJECT, RESET_SUBJECT};

use crate::common::*;

const NEW_PASSWORD: &str = "a brand new passphrase";

#[tokio::test]
async fn a_reset_link_sets_a_new_password_ends_every_session_and_verifies_the_email() {
    let t = TestApp::new().await;
    let email = address("reset");
    register(&t, &email).await;
    let (first, second) = (session(&t, &email).await, session(&t, &email).await);

    let started = std::time::Instant::now();
    let response = request_reset(&t, &email).await;
    let requested = started.elapsed();
    assert_eq!(response.status(), 202);
    assert_eq!(response.json(), json!({ "status": "accepted" }));
    let mail = maildev::latest_mail(&email, RESET_SUBJECT).await;
    let delivered = started.elapsed();
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.lines()
            .any(|line| line.starts_with("http://localhost:5173/reset-password#token=")),
        "the link on a line of its own: {text}"
    );
    let token = maildev::link_token(&mail);

    let response = confirm_reset(&t, &token, NEW_PASSWORD).await;
    assert_eq!(response.status(), 204, "{}", response.text());
    eprintln!(
        "reset through the handlers: request answered in {} ms, mail read from maildev at {} \
         ms, confirm answered at {} ms",
        requested.as_millis(),
        delivered.as_millis(),
        started.elapsed().as_millis()
    );

    // Every session ended: access tokens and refresh cookies alike.
    for session in [&first, &second] {
        me(&t, &session.access_token).await.problem(401);
        call(
            refresh::handle,
            &t.app,
            TestRequest::refresh(&session.refresh_cookie).origin(devtools::harness::ALLOWED_ORIGIN),
        )
        .await
        .problem(401);
    }
    log_in(&t, &email, TEST_PASSWORD).await.problem(401);
    let fresh = log_in(&t, &email, NEW_PASSWORD).await.session();
    assert_eq!(
        me(&t, &fresh.access_token).await.json()["email_verified"],
        true
    );
    // The notice went to the account's address.
    let notice = maildev::latest_mail(&email, NOTICE_SUBJECT).await;
    assert!(
        notice["text"]
            .as_str()
            .unwrap()
            .contains("If this was not you")
    );
}

#[tokio::test]
async fn unknown_known_and_external_addresses_get_the_same_answer_and_only_one_gets_mail() {
    let t = TestApp::new().await;
    let known = address("known");
    let unknown = address("unknown");
    let external = address("external");
    register(&t, &known).await;
    let external_id = registered_id(&t, &external).await;
    // An external identity's account has no password (its stored hash is the one nobody
    // knows the password of).
    t.client
        .update_item()
        .table_name(&t.table)
        .key("user_id", AttributeValue::S(external_id))
        .key("sk", AttributeValue::S("USER".into()))
        .update_expression("SET password_hash = :h")
        .expression_attribute_values(
            ":h",
            AttributeValue::S(
                "$argon2id$v=19$m=19456,t=2,p=1$dRqS9JxXEm0U5mqBxsJ+ZQ$HPuIMKLG6SDAdA0U/0Oes7kkjoc7Fu7Voqzr/tbL+MM"
                    .into(),
            ),
        )
        .send()
        .await
        .unwrap();

    let mut answers = Vec::new();
    for email in [&known, &unknown, &external] {
        let response = request_reset(&t, email).await;
        answers.push((
            response.status(),
            response.header("content-type"),
            response.text(),
        ));
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 202);

    maildev::latest_mail(&known, RESET_SUBJECT).await;
    assert!(maildev::mails(&unknown, RESET_SUBJECT).await.is_empty());
    assert!(maildev::mails(&external, RESET_SUBJECT).await.is_empty());
}

#[tokio::test]
async fn a_token_works_once_even_under_two_concurrent_confirms() {
    let t = TestApp::new().await;
    let email = address("race");
    register(&t, &email).await;
    assert_eq!(request_reset(&t, &email).await.status(), 202);
    let token = mailed_token(&email, RESET_SUBJECT).await;

    let (a, b) = tokio::join!(
        confirm_reset(&t, &token, "first new passphrase"),
        confirm_reset(&t, &token, "second new passphrase"),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort_unstable();
    assert_eq!(statuses, [204, 400], "{} / {}", a.text(), b.text());
    let (winner, loser) = if a.status() == 204 {
        ("first new passphrase", &b)
    } else {
        ("second new passphrase", &a)
    };
    assert_invalid_token(loser);
    log_in(&t, &email, winner).await.session();
    // And once more, after the race: spent.
    assert_invalid_token(&confirm_reset(&t, &token, NEW_PASSWORD).await);
}

#[tokio::test]
async fn an_expired_token_is_refused_and_changes_nothing() {
    let t = TestApp::new().await;
    let email = address("expired");
    let user = registered_id(&t, &email).await;
    assert_eq!(request_reset(&t, &email).await.status(), 202);
    let token = mailed_token(&email, RESET_SUBJECT).await;
    // 31 minutes later (the item's expiry moved into the past; DynamoDB's TTL deletes late).
    t.client
        .update_item()
        .table_name(&t.table)
        .key("user_id", AttributeValue::S(user))
        .key("sk", AttributeValue::S("TOKEN#RESET".into()))
        .update_expression("SET expires_at = expires_at - :later")
        .expression_attribute_values(":later", AttributeValue::N((31 * 60).to_string()))
        .send()
        .await
        .unwrap();

    assert_invalid_token(&confirm_reset(&t, &token, NEW_PASSWORD).await);
    log_in(&t, &email, TEST_PASSWORD).await.session();
}

#[tokio::test]
async fn a_newer_request_replaces_the_older_link() {
    let t = TestApp::new().await;
    let email = address("newer");
    let user = registered_id(&t, &email).await;
    assert_eq!(request_reset(&t, &email).await.status(), 202);
    let older = mailed_token(&email, RESET_SUBJECT).await;
    assert_eq!(request_reset(&t, &email).await.status(), 202);
    let newer = mailed_token(&email, RESET_SUBJECT).await;
    assert_ne!(older, newer);
    // One live reset token (and registration's verification token) in the partition.
    let mut tokens = token_items(&t, &user).await;
    tokens.sort();
    assert_eq!(tokens, ["TOKEN#RESET", "TOKEN#VERIFY"]);

    assert_invalid_token(&confirm_reset(&t, &older, NEW_PASSWORD).await);
    assert_eq!(confirm_reset(&t, &newer, NEW_PASSWORD).await.status(), 204);
    assert_eq!(token_items(&t, &user).await, ["TOKEN#VERIFY"]);
}

#[tokio::test]
async fn malformed_unknown_and_forged_tokens_are_invalid_tokens() {
    let t = TestApp::new().await;
    let email = address("forged");
    let user = registered_id(&t, &email).await;
    assert_eq!(request_reset(&t, &email).await.status(), 202);
    let token = mailed_token(&email, RESET_SUBJECT).await;
    // The real token's user with other random bits: the hash does not match.
    let mut forged = token.clone();
    let last = if forged.ends_with('A') { 'B' } else { 'A' };
    forged.pop();
    forged.push(last);
    for bad in ["", "not a token", &"A".repeat(64), &forged] {
        assert_invalid_token(&confirm_reset(&t, bad, NEW_PASSWORD).await);
    }
    // None of them spent the real one.
    assert_eq!(confirm_reset(&t, &token, NEW_PASSWORD).await.status(), 204);
    assert!(
        !token_items(&t, &user)
            .await
            .contains(&"TOKEN#RESET".to_string())
    );
}

#[tokio::test]
async fn the_new_password_follows_the_registration_rules() {
    let t = TestApp::new().await;
    let email = address("rules");
    register(&t, &email).await;
    assert_eq!(request_reset(&t, &email).await.status(), 202);
    let token = mailed_token(&email, RESET_SUBJECT).await;
    let problem = confirm_reset(&t, &token, "short").await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "new_password");
    // A refused password spends nothing.
    assert_eq!(confirm_reset(&t, &token, NEW_PASSWORD).await.status(), 204);
}

#[tokio::test]
async fn reset_requests_are_budgeted_per_address_and_per_client() {
    let t = TestApp::new().await;
    let app = t.app_with(&[
        ("PASSWORD_RESETS_PER_EMAIL", "2"),
        ("PASSWORD_RESETS_PER_IP", "3"),
    ]);
    // Per email, known or not.
    let email = address("budget");
    for ip in ["203.0.113.1", "203.0.113.2"] {
        assert_eq!(request_reset_with(&app, &email, ip).await.status(), 202);
    }
    let refused = request_reset_with(&app, &email, "203.0.113.3").await;
    refused.problem(429);
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");

    // Per client address, whatever the email.
    for _ in 0..3 {
        let other = address("spray");
        assert_eq!(
            request_reset_with(&app, &other, "203.0.113.9")
                .await
                .status(),
            202
        );
    }
    request_reset_with(&app, &address("spray"), "203.0.113.9")
        .await
        .problem(429);
    assert_eq!(
        request_reset_with(&app, &address("spray"), "203.0.113.10")
            .await
            .status(),
        202
    );
}

#[tokio::test]
async fn a_foreign_origin_is_refused_on_every_recovery_route() {
    let t = TestApp::new().await;
    for (path, body) in [
        (
            "/v1/auth/password-reset",
            json!({ "email": "ada@example.com" }),
        ),
        (
            "/v1/auth/password-reset/confirm",
            json!({ "token": "x", "new_password": NEW_PASSWORD }),
        ),
        ("/v1/auth/verify-email", json!({ "token": "x" })),
    ] {
        let response = call(
            recovery::handle,
            &t.app,
            TestRequest::post(path)
                .origin("https://evil.example")
                .json(&body),
        )
        .await;
        response.problem(403);
    }
    // Nothing was counted or read for the refused requests.
    assert!(t.calls.names().is_empty(), "{:?}", t.calls.names());
}

/// An address the API accepts but the mail server refuses for good (SMTP 5xx; maildev refuses
/// addresses of the longest length an address may have, 254, as the fuzzer found) gets the
/// same 202 as any other: a 503 would say that an account has it (unknown addresses send
/// nothing), and a retry would fail alike. No link went out, so no token is kept.
#[tokio::test]
async fn an_address_the_mail_server_refuses_gets_the_same_answer_and_no_token() {
    let t = TestApp::new().await;
    let label = "a".repeat(63);
    let email = format!(
        "r{}@{label}.{label}.{label}.{}",
        uuid::Uuid::now_v7().simple(),
        "a".repeat(28)
    );
    assert_eq!(email.len(), 254);
    let user = registered_id(&t, &email).await;

    let response = request_reset(&t, &email).await;
    assert_eq!(response.status(), 202, "{}", response.text());
    assert_eq!(response.json(), json!({ "status": "accepted" }));
    assert_eq!(token_items(&t, &user).await, Vec::<String>::new());
    let unknown = request_reset(&t, &address("unknown")).await;
    assert_eq!(
        (unknown.status(), unknown.text()),
        (response.status(), response.text())
    );
}
