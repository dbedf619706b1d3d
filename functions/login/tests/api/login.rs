//! `POST /v1/auth/login` against DynamoDB Local: tokens, the refresh cookie, identical
//! failures for unknown emails and wrong passwords, cross-site refusal, and throttling per
//! (email, source IP), per source IP and per email.

use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TEST_PASSWORD, TestApp, TestRequest, TestResponse, call};
use serde_json::json;
use taskline::auth::RefreshToken;

use crate::common::{failures, register, retry_after};

const PASSWORD: &str = TEST_PASSWORD;

async fn login(t: &TestApp, email: &str, password: &str) -> TestResponse {
    login_from(t, "127.0.0.1", email, password).await
}

/// A JSON login as API Gateway delivers it from the client address `ip`.
async fn login_from(t: &TestApp, ip: &str, email: &str, password: &str) -> TestResponse {
    call(
        login::handle,
        &t.app,
        TestRequest::login(email, password).source_ip(ip),
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
        .unwrap()
        .user;
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
    // The (email, IP) count is gone; the per-email total keeps every failure (and no success).
    let items = t.partition("LOGIN#forgetful@example.com").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["sk"].as_s().unwrap(), "THROTTLE");
    assert_eq!(items[0]["failures"].as_n().unwrap(), "8");
}

/// Moves the end of every throttle window of `email` (per email and per (email, IP)) and of
/// the IP `127.0.0.1` (and their TTL) into the past, leaving the items.
async fn end_throttle_window(t: &TestApp, email: &str) {
    let past = (taskline::auth::unix_now() - 1).to_string();
    let mut keys: Vec<(String, String)> = t
        .partition(&format!("LOGIN#{email}"))
        .await
        .iter()
        .map(|item| {
            (
                item["user_id"].as_s().unwrap().clone(),
                item["sk"].as_s().unwrap().clone(),
            )
        })
        .collect();
    keys.push(("LOGIN_IP#127.0.0.1".into(), "THROTTLE".into()));
    for (pk, sk) in keys {
        t.client
            .update_item()
            .table_name(&t.table)
            .key("user_id", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .update_expression("SET window_ends_at = :past, expires_at = :past")
            .expression_attribute_values(":past", AttributeValue::N(past.clone()))
            .send()
            .await
            .unwrap();
    }
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
    assert_eq!(items.len(), 2, "per email and per (email, IP): {items:?}");
    for item in &items {
        assert_eq!(item["failures"].as_n().unwrap(), "5");
        assert!(item["expires_at"].as_n().is_ok());
    }
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
    for sk in ["THROTTLE", "THROTTLE#IP#127.0.0.1"] {
        let count = failures(&t, "LOGIN#later@example.com", sk).await;
        assert_eq!(count.as_deref(), Some("1"), "{sk}");
    }
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

// --- Cross-site requests (login CSRF) ---

fn form_login(body: &str) -> TestRequest {
    TestRequest::post("/v1/auth/login").body("application/x-www-form-urlencoded", body)
}

#[tokio::test]
async fn login_from_the_allowed_origin_or_without_origin_is_served() {
    let t = TestApp::new().await;
    register(&t, "spa@example.com", PASSWORD).await;
    let body = json!({"email": "spa@example.com", "password": PASSWORD});
    for req in [
        TestRequest::post("/v1/auth/login")
            .origin(devtools::harness::ALLOWED_ORIGIN)
            .header("sec-fetch-site", "same-site")
            .json(&body),
        TestRequest::post("/v1/auth/login").json(&body),
    ] {
        let response = call(login::handle, &t.app, req).await;
        assert_eq!(response.status(), 200, "{}", response.text());
        response.refresh_cookie();
    }
}

#[tokio::test]
async fn login_from_a_foreign_page_is_refused_without_a_cookie() {
    let t = TestApp::new().await;
    register(&t, "attacker@example.com", PASSWORD).await;
    let json_body = json!({"email": "attacker@example.com", "password": PASSWORD});
    let form_body = "username=attacker%40example.com&password=correct+horse+battery";
    let refused = [
        // The auto-submitted form of a foreign page, as a browser sends it.
        form_login(form_body)
            .origin("https://evil.example")
            .header("sec-fetch-site", "cross-site"),
        form_login(form_body).origin("https://evil.example"),
        form_login(form_body).origin("null"),
        form_login(form_body).header("sec-fetch-site", "cross-site"),
        TestRequest::post("/v1/auth/login")
            .origin("http://localhost:5174")
            .json(&json_body),
        TestRequest::post("/v1/auth/login")
            .header("sec-fetch-site", "cross-site")
            .json(&json_body),
    ];
    for req in refused {
        let response = call(login::handle, &t.app, req.clone()).await;
        response.problem(403);
        assert!(response.header_all("set-cookie").is_empty(), "{req:?}");
        assert!(!response.text().contains("access_token"), "{req:?}");
    }
    // The same form without a browser's cross-site markers still works (OAuth2 tools).
    let response = call(login::handle, &t.app, form_login(form_body)).await;
    assert_eq!(response.status(), 200, "{}", response.text());
}

// --- Throttling per (email, source IP), per source IP and per email ---

#[tokio::test]
async fn the_contract_budgets_are_the_defaults() {
    let t = TestApp::new().await;
    assert_eq!(
        t.app.config.login_throttle,
        taskline::config::LoginThrottle {
            per_email_ip: 5,
            per_ip: 100,
            per_email: 50,
            per_device: 5,
            window_secs: 15 * 60,
        }
    );
}

#[tokio::test]
async fn five_failures_from_one_ip_do_not_stop_a_correct_login_from_another() {
    let t = TestApp::new().await;
    register(&t, "victim@example.com", PASSWORD).await;
    for _ in 0..5 {
        login_from(&t, "203.0.113.7", "victim@example.com", "guess guess")
            .await
            .problem(401);
    }
    let locked = login_from(&t, "203.0.113.7", "victim@example.com", PASSWORD).await;
    locked.problem(429);
    retry_after(&locked);
    // The owner, elsewhere, is not locked out by the stranger.
    let response = login_from(&t, "198.51.100.20", "victim@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    // The stranger still is.
    login_from(&t, "203.0.113.7", "victim@example.com", PASSWORD)
        .await
        .problem(429);
}

#[tokio::test]
async fn x_forwarded_for_does_not_change_the_source() {
    let t = TestApp::new().await;
    for i in 0..5 {
        let req = TestRequest::post("/v1/auth/login")
            .source_ip("203.0.113.8")
            .header("x-forwarded-for", &format!("10.0.0.{i}"))
            .json(&json!({"email": "xff@example.com", "password": "guess guess"}));
        call(login::handle, &t.app, req).await.problem(401);
    }
    let req = TestRequest::post("/v1/auth/login")
        .source_ip("203.0.113.8")
        .header("x-forwarded-for", "10.0.0.99")
        .json(&json!({"email": "xff@example.com", "password": "guess guess"}));
    call(login::handle, &t.app, req).await.problem(429);
}

#[tokio::test]
async fn one_ip_spraying_120_emails_is_stopped_at_its_budget_with_retry_after() {
    // A small per-IP budget keeps the test fast (each failure costs a password hash); the
    // default of 100 is checked above.
    let t = TestApp::with_vars(&[("LOGIN_FAILURES_PER_IP", "10")]).await;
    register(&t, "sprayed@example.com", PASSWORD).await;
    // Twenty at a time (the budget holds under concurrency too).
    let mut statuses = Vec::new();
    for batch in (0..120).collect::<Vec<_>>().chunks(20) {
        let tasks: Vec<_> = batch
            .iter()
            .map(|&i| {
                // Unknown emails count like known ones; one known account among them.
                let email = if i == 5 {
                    "sprayed@example.com".to_string()
                } else {
                    format!("user{i}@example.com")
                };
                let app = t.app.clone();
                let req = TestRequest::post("/v1/auth/login")
                    .source_ip("203.0.113.9")
                    .json(&json!({"email": email, "password": "Summer2026!"}));
                tokio::spawn(async move { call(login::handle, &app, req).await })
            })
            .collect();
        for task in tasks {
            let response = task.await.unwrap();
            if response.status() == 429 {
                let seconds = retry_after(&response);
                assert!((1..=900).contains(&seconds), "{seconds}");
            }
            statuses.push(response.status());
        }
    }
    statuses.sort();
    assert_eq!(statuses, [vec![401; 10], vec![429; 110]].concat());
    // The sprayed account's owner is unaffected elsewhere.
    let response = login_from(&t, "198.51.100.21", "sprayed@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        failures(&t, "LOGIN_IP#203.0.113.9", "THROTTLE")
            .await
            .as_deref(),
        Some("10")
    );
}

#[tokio::test]
async fn the_per_email_ceiling_holds_across_many_ips() {
    // One guess per address; a small ceiling keeps the test fast (the default of 50 is
    // checked above).
    let t = TestApp::with_vars(&[("LOGIN_FAILURES_PER_EMAIL", "10")]).await;
    register(&t, "popular@example.com", PASSWORD).await;
    for i in 0..10 {
        login_from(
            &t,
            &format!("192.0.2.{i}"),
            "popular@example.com",
            "guess guess",
        )
        .await
        .problem(401);
    }
    for ip in ["192.0.2.200", "2001:db8::1"] {
        let locked = login_from(&t, ip, "popular@example.com", PASSWORD).await;
        locked.problem(429);
        retry_after(&locked);
    }
    // Other emails from the same addresses are fine.
    register(&t, "other@example.com", PASSWORD).await;
    let response = login_from(&t, "192.0.2.1", "other@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200, "{}", response.text());
}

#[tokio::test]
async fn the_per_email_ceiling_counts_unknown_emails_too() {
    let t = TestApp::with_vars(&[("LOGIN_FAILURES_PER_EMAIL", "3")]).await;
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        login_from(&t, ip, "ghost@example.com", "guess guess")
            .await
            .problem(401);
    }
    let locked = login_from(&t, "192.0.2.4", "GHOST@example.com", "guess guess").await;
    locked.problem(429);
    retry_after(&locked);
}

#[tokio::test]
async fn a_success_clears_only_its_own_email_ip_count_and_counts_nowhere() {
    let t = TestApp::with_vars(&[
        ("LOGIN_FAILURES_PER_IP", "4"),
        ("LOGIN_FAILURES_PER_EMAIL", "4"),
    ])
    .await;
    register(&t, "mallory@example.com", PASSWORD).await;
    register(&t, "alice@example.com", PASSWORD).await;
    let mallory = "203.0.113.66";

    // Successes count nowhere.
    for _ in 0..5 {
        let response = login_from(&t, mallory, "mallory@example.com", PASSWORD).await;
        assert_eq!(response.status(), 200, "{}", response.text());
    }
    // Per IP: logging into an account of one's own between guesses does not reset the
    // address's total.
    for victim in ["v1@example.com", "v2@example.com"] {
        login_from(&t, mallory, victim, "guess guess")
            .await
            .problem(401);
        let response = login_from(&t, mallory, "mallory@example.com", PASSWORD).await;
        assert_eq!(response.status(), 200, "{}", response.text());
    }
    login_from(&t, mallory, "v3@example.com", "guess guess")
        .await
        .problem(401);
    login_from(&t, mallory, "v4@example.com", "guess guess")
        .await
        .problem(401);
    login_from(&t, mallory, "mallory@example.com", PASSWORD)
        .await
        .problem(429);
    assert_eq!(
        failures(&t, "LOGIN_IP#203.0.113.66", "THROTTLE")
            .await
            .as_deref(),
        Some("4")
    );

    // Per email: the owner's success clears the owner's (email, IP) count, not the failures
    // others caused.
    for ip in ["192.0.2.10", "192.0.2.11"] {
        login_from(&t, ip, "alice@example.com", "guess guess")
            .await
            .problem(401);
    }
    login_from(&t, "198.51.100.5", "alice@example.com", "guess guess")
        .await
        .problem(401);
    let response = login_from(&t, "198.51.100.5", "alice@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        failures(&t, "LOGIN#alice@example.com", "THROTTLE#IP#198.51.100.5").await,
        None
    );
    assert_eq!(
        failures(&t, "LOGIN#alice@example.com", "THROTTLE#IP#192.0.2.10")
            .await
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        failures(&t, "LOGIN#alice@example.com", "THROTTLE")
            .await
            .as_deref(),
        Some("3")
    );
    login_from(&t, "192.0.2.12", "alice@example.com", "guess guess")
        .await
        .problem(401);
    login_from(&t, "198.51.100.5", "alice@example.com", PASSWORD)
        .await
        .problem(429);
}

#[tokio::test]
async fn parallel_guesses_cannot_exceed_the_per_ip_budget() {
    let t = TestApp::with_vars(&[("LOGIN_FAILURES_PER_IP", "3")]).await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let app = t.app.clone();
            let req = TestRequest::post("/v1/auth/login")
                .source_ip("203.0.113.70")
                .json(&json!({"email": format!("p{i}@example.com"), "password": "guess guess"}));
            tokio::spawn(async move { call(login::handle, &app, req).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().status());
    }
    statuses.sort();
    assert_eq!(statuses, [vec![401; 3], vec![429; 5]].concat());
    // Refused attempts were taken back from the per-email counters: only 3 hold a failure.
    let mut counted = 0;
    for i in 0..8 {
        if failures(&t, &format!("LOGIN#p{i}@example.com"), "THROTTLE")
            .await
            .as_deref()
            == Some("1")
        {
            counted += 1;
        }
    }
    assert_eq!(counted, 3);
}
