//! `POST /v1/me/password`: the current password is verified (and a wrong one counted against
//! the session's own budget, not the email's), the new one follows registration's rules, every
//! other session ends at once and the current one continues under a new refresh cookie.

use crate::common::*;
use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn change_password(t: &TestApp, token: &str, body: &Value) -> TestResponse {
    call(
        account::handle,
        &t.app,
        TestRequest::post("/v1/me/password")
            .bearer(token)
            .json(body),
    )
    .await
}

async fn change(t: &TestApp, token: &str, current: &str, new: &str) -> TestResponse {
    change_password(
        t,
        token,
        &json!({"current_password": current, "new_password": new}),
    )
    .await
}

async fn log_in_with(t: &TestApp, email: &str, password: &str) -> TestResponse {
    call(login::handle, &t.app, TestRequest::login(email, password)).await
}

#[tokio::test]
async fn a_change_mails_a_notice_to_the_accounts_address_and_stands_if_the_mail_fails() {
    let t = TestApp::new().await;
    let email = format!("notice-{}@example.com", uuid::Uuid::now_v7().simple());
    sign_up(&t, &email).await;
    let session = log_in(&t, &email).await;
    let changed = change(&t, &session.access_token, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 204, "{}", changed.text());
    let notice = devtools::maildev::latest_mail(&email, taskline::mail::NOTICE_SUBJECT).await;
    assert!(
        notice["text"]
            .as_str()
            .unwrap()
            .contains("If this was not you")
    );

    // Nothing listens on the SMTP port: the change stands all the same (best effort).
    let dead = devtools::free_port().unwrap().to_string();
    let app = t.app_with(&[("SMTP_PORT", &dead)]);
    let response = call(
        account::handle,
        &app,
        TestRequest::post("/v1/me/password")
            .bearer(&session.access_token)
            .json(&json!({"current_password": NEW_PASSWORD, "new_password": PASSWORD})),
    )
    .await;
    assert_eq!(response.status(), 204, "{}", response.text());
    assert_eq!(log_in_with(&t, &email, PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn the_new_password_logs_in_and_the_old_one_no_longer_does() {
    let t = TestApp::new().await;
    sign_up(&t, "changer@example.com").await;
    let session = log_in(&t, "changer@example.com").await;

    let changed = change(&t, &session.access_token, PASSWORD, NEW_PASSWORD).await;

    assert_eq!(changed.status(), 204, "{}", changed.text());
    assert!(changed.text().is_empty());
    log_in_with(&t, "changer@example.com", PASSWORD)
        .await
        .problem(401);
    assert_eq!(
        log_in_with(&t, "changer@example.com", NEW_PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn every_other_session_ends_at_once_and_the_current_one_continues() {
    let t = TestApp::new().await;
    sign_up(&t, "keeper@example.com").await;
    let laptop = log_in(&t, "keeper@example.com").await;
    let phone = log_in(&t, "keeper@example.com").await;
    let tablet = refresh(&t, &log_in(&t, "keeper@example.com").await.refresh_cookie).await;
    sign_up(&t, "bystander@example.com").await;
    let bystander = log_in(&t, "bystander@example.com").await;

    let changed = change(&t, &laptop.access_token, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 204, "{}", changed.text());

    // The other sessions: access tokens refused at once, refresh cookies dead.
    for other in [&phone, &tablet] {
        assert_token_refused(&t, &other.access_token).await;
        refresh_response(&t, &other.refresh_cookie)
            .await
            .problem(401);
    }
    // The current session: its access token works, the 204 carried its new refresh cookie,
    // which rotates as usual and stays in the same session.
    assert_token_works(&t, &laptop.access_token).await;
    let rotated_cookie = changed.refresh_cookie();
    assert_ne!(rotated_cookie, laptop.refresh_cookie);
    let set_cookie = changed.header("set-cookie").unwrap();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("Path=/"),
        "{set_cookie}"
    );
    let next = refresh(&t, &rotated_cookie).await;
    assert_token_works(&t, &next.access_token).await;
    assert_token_works(&t, &laptop.access_token).await;
    assert_token_works(&t, &bystander.access_token).await;
}

#[tokio::test]
async fn the_current_sessions_old_cookie_is_refused_without_ending_the_session() {
    let t = TestApp::new().await;
    sign_up(&t, "oldcookie@example.com").await;
    let first = log_in(&t, "oldcookie@example.com").await;
    // A spent cookie of the session too (within the reuse grace before the change).
    let second = refresh(&t, &first.refresh_cookie).await;

    let changed = change(&t, &second.access_token, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 204, "{}", changed.text());
    let rotated_cookie = changed.refresh_cookie();

    // Old cookies are unknown tokens now: 401, not reuse, so the session lives on.
    for old in [&second.refresh_cookie, &first.refresh_cookie] {
        refresh_response(&t, old).await.problem(401);
    }
    assert_token_works(&t, &second.access_token).await;
    let next = refresh(&t, &rotated_cookie).await;
    assert_token_works(&t, &next.access_token).await;
}

#[tokio::test]
async fn a_wrong_current_password_is_403_and_changes_nothing() {
    let t = TestApp::new().await;
    sign_up(&t, "wrong@example.com").await;
    let session = log_in(&t, "wrong@example.com").await;
    let other = log_in(&t, "wrong@example.com").await;

    change(&t, &session.access_token, "not the password", NEW_PASSWORD)
        .await
        .problem(403);

    assert_token_works(&t, &other.access_token).await;
    refresh(&t, &other.refresh_cookie).await;
    assert_eq!(
        log_in_with(&t, "wrong@example.com", PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn wrong_current_passwords_are_counted_against_the_session() {
    let t = TestApp::new().await;
    sign_up(&t, "guessed@example.com").await;
    let session = log_in(&t, "guessed@example.com").await;
    let other = log_in(&t, "guessed@example.com").await;

    // Default budget: 5 failures per session.
    for _ in 0..5 {
        change(&t, &session.access_token, "not the password", NEW_PASSWORD)
            .await
            .problem(403);
    }
    // Over budget: refused before the password is looked at, the right one too...
    let throttled = change(&t, &session.access_token, PASSWORD, NEW_PASSWORD).await;
    throttled.problem(429);
    let retry_after: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!((850..=900).contains(&retry_after), "{retry_after}");
    let family = session.id(&t.app).to_string();
    let counter = t.partition(&format!("LOGIN_SESSION#{family}")).await;
    assert_eq!(counter[0]["failures"].as_n().unwrap(), "5");
    // ... from any address: the budget is the session's.
    let elsewhere = call(
        account::handle,
        &t.app,
        TestRequest::post("/v1/me/password")
            .bearer(&session.access_token)
            .source_ip("198.51.100.7")
            .json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
    )
    .await;
    elsewhere.problem(429);
    // The email's login budgets counted none of it: the same address still logs in.
    assert!(
        t.partition("LOGIN#guessed@example.com")
            .await
            .iter()
            .all(|item| item["failures"].as_n().unwrap() == "0")
    );
    assert_eq!(
        log_in_with(&t, "guessed@example.com", PASSWORD)
            .await
            .status(),
        200
    );
    // Another session has its own budget.
    let changed = change(&t, &other.access_token, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 204, "{}", changed.text());
}

#[tokio::test]
async fn a_signed_in_user_changes_the_password_while_strangers_hold_the_email_at_its_ceiling() {
    let t = TestApp::with_vars(&[("LOGIN_FAILURES_PER_EMAIL", "3")]).await;
    sign_up(&t, "besieged@example.com").await;
    let session = log_in(&t, "besieged@example.com").await;
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        call(
            login::handle,
            &t.app,
            TestRequest::login("besieged@example.com", "guess guess").source_ip(ip),
        )
        .await
        .problem(401);
    }
    log_in_with(&t, "besieged@example.com", PASSWORD)
        .await
        .problem(429);
    // The signed-in session is not held by the email's ceiling.
    let changed = change(&t, &session.access_token, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 204, "{}", changed.text());
}

#[tokio::test]
async fn the_new_password_follows_the_registration_rules() {
    let t = TestApp::new().await;
    sign_up(&t, "rules@example.com").await;
    let session = log_in(&t, "rules@example.com").await;
    for (body, field) in [
        (
            json!({"current_password": PASSWORD, "new_password": "short"}),
            "new_password",
        ),
        (
            json!({"current_password": PASSWORD, "new_password": "x".repeat(129)}),
            "new_password",
        ),
        (
            json!({"current_password": PASSWORD, "new_password": null}),
            "new_password",
        ),
        (json!({"current_password": PASSWORD}), "new_password"),
        (json!({"new_password": NEW_PASSWORD}), "current_password"),
        (
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "email": "x@example.com"}),
            "email",
        ),
    ] {
        let problem = change_password(&t, &session.access_token, &body)
            .await
            .problem(422);
        let fields: Vec<_> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, [field], "{body}");
    }
    // A new password of exactly 128 characters, spaces kept as given.
    let long = format!(" {} ", "y".repeat(126));
    assert_eq!(
        change(&t, &session.access_token, PASSWORD, &long)
            .await
            .status(),
        204
    );
    assert_eq!(
        log_in_with(&t, "rules@example.com", &long).await.status(),
        200
    );
}

#[tokio::test]
async fn two_concurrent_changes_leave_exactly_one_new_password() {
    let t = TestApp::new().await;
    sign_up(&t, "racer@example.com").await;
    let one = log_in(&t, "racer@example.com").await;
    let two = log_in(&t, "racer@example.com").await;

    let (first, second) = tokio::join!(
        change(&t, &one.access_token, PASSWORD, "first new password"),
        change(&t, &two.access_token, PASSWORD, "second new password"),
    );

    let statuses = [first.status(), second.status()];
    let winner = match statuses {
        [204, 403 | 409] => "first new password",
        [403 | 409, 204] => "second new password",
        other => panic!("expected one 204 and one 403/409, got {other:?}"),
    };
    let loser = if winner == "first new password" {
        "second new password"
    } else {
        "first new password"
    };
    assert_eq!(
        log_in_with(&t, "racer@example.com", winner).await.status(),
        200
    );
    log_in_with(&t, "racer@example.com", loser)
        .await
        .problem(401);
    log_in_with(&t, "racer@example.com", PASSWORD)
        .await
        .problem(401);
}

#[tokio::test]
async fn an_account_without_a_password_gets_409() {
    const SECRET: &str = "better-auth-secret-for-tests-0123456789abcdef";
    let t = TestApp::with_vars(&[
        ("EXTERNAL_JWT_ISSUER", "https://auth.example.com"),
        ("EXTERNAL_JWT_AUDIENCE", "https://auth.example.com"),
        ("EXTERNAL_JWT_SECRET", SECRET),
    ])
    .await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let token = jsonwebtoken::encode(
        &Header::default(),
        &json!({"iss": "https://auth.example.com", "aud": "https://auth.example.com",
                "sub": "ext-1", "iat": now, "exp": now + 900,
                "email": "ext-1@example.com", "name": "Ext"}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();

    change(&t, &token, PASSWORD, NEW_PASSWORD)
        .await
        .problem(409);
    // Nor does a password "set" this way log in.
    log_in_with(&t, "ext-1@example.com", NEW_PASSWORD)
        .await
        .problem(401);
}

#[tokio::test]
async fn a_password_change_needs_a_bearer_token() {
    let t = TestApp::new().await;
    let anonymous = call(
        account::handle,
        &t.app,
        TestRequest::post("/v1/me/password")
            .json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
    )
    .await;
    assert_bearer_refused(&anonymous);
}

#[tokio::test]
async fn a_login_with_the_old_password_racing_the_change_keeps_no_session() {
    let t = TestApp::new().await;
    sign_up(&t, "race-login@example.com").await;
    let changer = log_in(&t, "race-login@example.com").await;

    // Logins with the old password, started while the change verifies, hashes and sweeps:
    // some read the old hash before it is replaced and write their session after the sweep.
    let mut logins = tokio::task::JoinSet::new();
    for i in 0..8u64 {
        let app = t.app.clone();
        logins.spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(15 * i)).await;
            // From another source: their failures after the change must not throttle it.
            let req = TestRequest::post("/v1/auth/login")
                .source_ip("198.51.100.9")
                .json(&json!({"email": "race-login@example.com", "password": PASSWORD}));
            call(login::handle, &app, req).await
        });
    }
    let changed = change(&t, &changer.access_token, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 204, "{}", changed.text());

    // Whatever each login answered, no session opened with the old password survives.
    while let Some(login) = logins.join_next().await {
        let login = login.unwrap();
        if login.status() == 200 {
            let token = login.json()["access_token"].as_str().unwrap().to_string();
            assert_token_refused(&t, &token).await;
        }
    }
    let listed = call(
        account::handle,
        &t.app,
        TestRequest::get("/v1/sessions").bearer(&changer.access_token),
    )
    .await;
    assert_eq!(listed.json()["items"].as_array().unwrap().len(), 1);
}
