//! `POST /v1/auth/refresh` and `POST /v1/auth/logout` against DynamoDB Local: rotation, reuse
//! detection by family, concurrency, expiry on read, the Origin check and logout.

use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{ALLOWED_ORIGIN, TEST_PASSWORD, TestApp, TestRequest, TestResponse, call};
use taskline::auth::{FamilyId, RefreshToken, UserId, unix_now as now};

const COOKIE: &str = taskline::http::REFRESH_COOKIE;

async fn register(t: &TestApp, email: &str) -> String {
    call(
        register::handle,
        &t.app,
        TestRequest::registration(email, TEST_PASSWORD),
    )
    .await
    .created_id()
}

/// Logs in and returns the refresh cookie's value.
async fn login(t: &TestApp, email: &str) -> String {
    call(
        login::handle,
        &t.app,
        TestRequest::login(email, TEST_PASSWORD),
    )
    .await
    .session()
    .refresh_cookie
}

/// A registered user (id) with a logged-in session (refresh cookie value).
async fn session(t: &TestApp, email: &str) -> (String, String) {
    let id = register(t, email).await;
    (id, login(t, email).await)
}

async fn refresh(t: &TestApp, value: &str) -> TestResponse {
    call(refresh::handle, &t.app, TestRequest::refresh(value)).await
}

async fn logout(t: &TestApp, value: &str) -> TestResponse {
    call(refresh::handle, &t.app, TestRequest::logout(value)).await
}

/// Asserts a 401 about the refresh cookie (problem+json, no Bearer challenge, no new cookie).
fn assert_refused(response: &TestResponse) {
    response.problem(401);
    assert!(response.header("www-authenticate").is_none());
    assert!(response.header("set-cookie").is_none());
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );
}

/// Sort keys of the refresh items (family and tokens) in a user's partition.
async fn refresh_items(t: &TestApp, user: &str) -> Vec<String> {
    t.partition(user)
        .await
        .iter()
        .map(|i| i["sk"].as_s().unwrap().clone())
        .filter(|sk| sk.starts_with("REFRESH#"))
        .collect()
}

fn token_sk(value: &str) -> String {
    let token = RefreshToken::parse(value).unwrap();
    format!("REFRESH#{}#{}", token.family(), token.hash())
}

#[tokio::test]
async fn refresh_rotates_the_cookie_and_issues_a_new_access_token() {
    let t = TestApp::new().await;
    let (user, first) = session(&t, "rotate@example.com").await;
    let response = refresh(&t, &first).await;
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
    let subject = t
        .app
        .tokens
        .verify(body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(subject.user.to_string(), user);

    let second = response.refresh_cookie();
    assert_ne!(second, first);
    assert_eq!(
        response.header_all("set-cookie")[0],
        format!("{COOKIE}={second}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=2592000")
    );
    let same_family = RefreshToken::parse(&second).unwrap().family();
    assert_eq!(same_family, RefreshToken::parse(&first).unwrap().family());

    // The old token is spent (kept to recognise reuse), the new one is its child.
    let items = t.partition(&user).await;
    let old = items
        .iter()
        .find(|i| i["sk"].as_s().unwrap() == &token_sk(&first))
        .unwrap();
    assert!(old["spent_at"].as_n().is_ok());
    let new = items
        .iter()
        .find(|i| i["sk"].as_s().unwrap() == &token_sk(&second))
        .unwrap();
    assert!(new.get("spent_at").is_none());
    assert_eq!(
        new["parent"].as_s().unwrap(),
        &RefreshToken::parse(&first).unwrap().hash()
    );

    // And the child rotates in turn.
    assert_eq!(refresh(&t, &second).await.status(), 200);
}

/// An app without reuse grace: every re-presentation of a spent token is reuse.
async fn without_grace() -> TestApp {
    TestApp::with_vars(&[("REFRESH_REUSE_GRACE_SECS", "0")]).await
}

#[tokio::test]
async fn reusing_a_spent_token_revokes_its_family_but_not_other_logins() {
    let t = without_grace().await;
    let (user, first) = session(&t, "reuse@example.com").await;
    let other_login = login(&t, "reuse@example.com").await;
    let second = refresh(&t, &first).await.refresh_cookie();

    // The spent token comes back (stolen, or replayed): refused, and its family is revoked.
    let replay = refresh(&t, &first).await;
    assert_refused(&replay);
    assert_refused(&refresh(&t, &second).await);
    let family = RefreshToken::parse(&first).unwrap().family();
    let left = refresh_items(&t, &user).await;
    assert!(
        left.iter().all(|sk| !sk.contains(&family.to_string())),
        "{left:?}"
    );

    // The other login's family lives on.
    let response = refresh(&t, &other_login).await;
    assert_eq!(response.status(), 200, "{}", response.text());
}

#[tokio::test]
async fn without_grace_of_eight_concurrent_refreshes_with_one_token_exactly_one_succeeds() {
    let t = without_grace().await;
    let (_, token) = session(&t, "race@example.com").await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let app = t.app.clone();
            let req = TestRequest::refresh(&token);
            tokio::spawn(async move { call(refresh::handle, &app, req).await })
        })
        .collect();
    let mut statuses = Vec::new();
    let mut winners = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        statuses.push(response.status());
        if response.status() == 200 {
            winners.push(response.refresh_cookie());
        }
    }
    statuses.sort();
    assert_eq!(statuses, [200, 401, 401, 401, 401, 401, 401, 401]);
    // The losers presented a token that was spent by then: that is reuse, so the family,
    // the winner's new token included, is revoked.
    assert_refused(&refresh(&t, &winners[0]).await);
}

/// Refreshes with `token` and returns the new cookie, asserting 200.
async fn refreshed(t: &TestApp, token: &str) -> String {
    let response = refresh(t, token).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let body = response.json();
    let access = body["access_token"].as_str().unwrap();
    assert!(t.app.tokens.verify(access).is_ok());
    response.refresh_cookie()
}

/// Whether any item of `token`'s family is left (revocation deletes them all).
async fn family_alive(t: &TestApp, user: &str, token: &str) -> bool {
    let family = RefreshToken::parse(token).unwrap().family().to_string();
    refresh_items(t, user)
        .await
        .iter()
        .any(|sk| sk.contains(&family))
}

#[tokio::test]
async fn within_grace_parallel_refreshes_with_one_token_all_get_working_sessions() {
    let t = TestApp::new().await;
    let (user, token) = session(&t, "tabs@example.com").await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let app = t.app.clone();
            let req = TestRequest::refresh(&token);
            tokio::spawn(async move { call(refresh::handle, &app, req).await })
        })
        .collect();
    let mut cookies = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        assert_eq!(response.status(), 200, "{}", response.text());
        cookies.push(response.refresh_cookie());
    }
    // Exactly one rotation happened: the token was spent once, and every answer is a token
    // of the same family descending from it.
    let family = RefreshToken::parse(&token).unwrap().family();
    for cookie in &cookies {
        let child = RefreshToken::parse(cookie).unwrap();
        assert_eq!(child.family(), family);
    }
    // Every answer carries the one successor of the token: one chain, one child item.
    assert!(cookies.iter().all(|cookie| *cookie == cookies[0]));
    assert_eq!(token_items(&t, &user, &token).await, 2);
    // The token handed out keeps working (within the grace, presented again and again).
    for cookie in &cookies {
        refreshed(&t, cookie).await;
    }
    assert!(family_alive(&t, &user, &token).await);
}

/// The token items of `token`'s family (its family item left out).
async fn token_items(t: &TestApp, user: &str, token: &str) -> usize {
    let family = RefreshToken::parse(token).unwrap().family();
    let prefix = format!("REFRESH#{family}#");
    refresh_items(t, user)
        .await
        .iter()
        .filter(|sk| sk.starts_with(&prefix))
        .count()
}

#[tokio::test]
async fn a_retried_refresh_within_grace_gets_the_same_successor() {
    let t = TestApp::new().await;
    let (user, first) = session(&t, "retry@example.com").await;
    let lost = refreshed(&t, &first).await;
    // The response carrying `lost` never reached the client, which sends `first` again: it
    // gets the very token the first answer carried, and no second child is stored.
    let retried = refreshed(&t, &first).await;
    assert_eq!(lost, retried);
    assert_eq!(token_items(&t, &user, &first).await, 2);
    let next = refreshed(&t, &retried).await;
    refreshed(&t, &next).await;
    assert!(family_alive(&t, &user, &first).await);
}

#[tokio::test]
async fn a_replay_within_grace_gets_the_winners_token_whose_second_use_after_the_grace_is_reuse() {
    // Grace in whole seconds: 2 keeps the replay inside it whatever second it falls in.
    let t = TestApp::with_vars(&[("REFRESH_REUSE_GRACE_SECS", "2")]).await;
    let (user, t0) = session(&t, "replay@example.com").await;
    let t1 = refreshed(&t, &t0).await;
    // A thief replays T0 inside the grace: no second chain, the same successor.
    let t1_again = refreshed(&t, &t0).await;
    assert_eq!(t1, t1_again);
    // One holder uses it, then the other, after the grace of that use: reuse, which ends
    // the family.
    let t2 = refreshed(&t, &t1).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let reused = refresh(&t, &t1_again).await;
    assert_refused(&reused);
    assert!(reused.text().contains("already used"), "{}", reused.text());
    assert_refused(&refresh(&t, &t2).await);
    assert!(!family_alive(&t, &user, &t0).await);
}

#[tokio::test]
async fn the_just_spent_token_after_the_grace_interval_is_reuse_and_revokes() {
    let t = TestApp::with_vars(&[("REFRESH_REUSE_GRACE_SECS", "1")]).await;
    let (user, first) = session(&t, "late@example.com").await;
    let second = refreshed(&t, &first).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_refused(&refresh(&t, &first).await);
    assert_refused(&refresh(&t, &second).await);
    assert!(!family_alive(&t, &user, &first).await);
}

#[tokio::test]
async fn an_older_spent_token_within_grace_is_reuse_and_revokes() {
    let t = TestApp::new().await;
    let (user, grandparent) = session(&t, "grandparent@example.com").await;
    let parent = refreshed(&t, &grandparent).await;
    let current = refreshed(&t, &parent).await;
    // `grandparent` was spent seconds ago, but it is not the family's latest spent token.
    assert_refused(&refresh(&t, &grandparent).await);
    assert_refused(&refresh(&t, &current).await);
    assert!(!family_alive(&t, &user, &grandparent).await);
}

#[tokio::test]
async fn a_token_whose_grace_successor_was_rotated_is_reuse() {
    let t = TestApp::new().await;
    let (user, first) = session(&t, "sibling@example.com").await;
    let winner = refreshed(&t, &first).await;
    let sibling = refreshed(&t, &first).await;
    assert_eq!(winner, sibling);
    // The successor is rotated: `first` is now an older spent token.
    refreshed(&t, &sibling).await;
    assert_refused(&refresh(&t, &first).await);
    assert_refused(&refresh(&t, &winner).await);
    assert!(!family_alive(&t, &user, &first).await);
}

#[tokio::test]
async fn a_spent_token_after_logout_is_401_even_within_grace() {
    let t = TestApp::new().await;
    let (user, first) = session(&t, "loggedout@example.com").await;
    let second = refreshed(&t, &first).await;
    assert_eq!(logout(&t, &second).await.status(), 204);
    assert_refused(&refresh(&t, &first).await);
    assert_refused(&refresh(&t, &second).await);
    assert!(!family_alive(&t, &user, &first).await);
}

#[tokio::test]
async fn a_spent_token_after_reuse_detection_is_401_even_within_grace() {
    let t = TestApp::new().await;
    let (user, grandparent) = session(&t, "revoked@example.com").await;
    let parent = refreshed(&t, &grandparent).await;
    refreshed(&t, &parent).await;
    assert_refused(&refresh(&t, &grandparent).await);
    // `parent` was the latest spent token, within grace: but the family is gone.
    assert_refused(&refresh(&t, &parent).await);
    assert!(!family_alive(&t, &user, &grandparent).await);
}

#[tokio::test]
async fn missing_malformed_tampered_and_unknown_cookies_are_401() {
    let t = TestApp::new().await;
    let (user, token) = session(&t, "tamper@example.com").await;
    assert_refused(
        &call(
            refresh::handle,
            &t.app,
            TestRequest::post("/v1/auth/refresh"),
        )
        .await,
    );
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for value in [
        "",
        "garbage",
        "x".repeat(86).as_str(),
        &tampered,
        &token[..40],
    ] {
        assert_refused(&refresh(&t, value).await);
    }
    // Well formed, right user and family, but not a token we issued.
    let parsed = RefreshToken::parse(&token).unwrap();
    let forged = RefreshToken::generate(parsed.user(), parsed.family()).unwrap();
    assert_refused(&refresh(&t, forged.expose()).await);
    let stranger = RefreshToken::generate(UserId::generate(), FamilyId::generate()).unwrap();
    assert_refused(&refresh(&t, stranger.expose()).await);
    // None of that spent or revoked the real token.
    assert!(!refresh_items(&t, &user).await.is_empty());
    assert_eq!(refresh(&t, &token).await.status(), 200);
}

async fn set_number(t: &TestApp, user: &str, sk: &str, attribute: &str, value: i64) {
    t.client
        .update_item()
        .table_name(&t.table)
        .key("user_id", AttributeValue::S(user.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .update_expression("SET #a = :v")
        .condition_expression("attribute_exists(sk)")
        .expression_attribute_names("#a", attribute)
        .expression_attribute_values(":v", AttributeValue::N(value.to_string()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_token_unused_for_7_days_is_401_though_its_item_is_still_there() {
    let t = TestApp::new().await;
    let (user, token) = session(&t, "idle@example.com").await;
    let sk = token_sk(&token);
    let item = t
        .partition(&user)
        .await
        .into_iter()
        .find(|i| i["sk"].as_s().unwrap() == &sk)
        .unwrap();
    let issued: i64 = item["issued_at"].as_n().unwrap().parse().unwrap();
    let idle: i64 = item["idle_expires_at"].as_n().unwrap().parse().unwrap();
    assert_eq!(idle - issued, 7 * 24 * 3600);
    set_number(&t, &user, &sk, "idle_expires_at", now() - 1).await;
    assert_refused(&refresh(&t, &token).await);
    assert!(refresh_items(&t, &user).await.contains(&sk));
}

#[tokio::test]
async fn a_family_past_30_days_is_401_though_its_items_are_still_there() {
    let t = TestApp::new().await;
    let (user, token) = session(&t, "old@example.com").await;
    let sk = token_sk(&token);
    let item = t
        .partition(&user)
        .await
        .into_iter()
        .find(|i| i["sk"].as_s().unwrap() == &sk)
        .unwrap();
    let issued: i64 = item["issued_at"].as_n().unwrap().parse().unwrap();
    let absolute: i64 = item["absolute_expires_at"].as_n().unwrap().parse().unwrap();
    assert_eq!(absolute - issued, 30 * 24 * 3600);
    assert_eq!(item["expires_at"].as_n().unwrap(), &absolute.to_string());
    set_number(&t, &user, &sk, "absolute_expires_at", now() - 1).await;
    assert_refused(&refresh(&t, &token).await);
}

#[tokio::test]
async fn a_rotated_token_keeps_the_family_deadline() {
    let t = TestApp::new().await;
    let (user, first) = session(&t, "deadline@example.com").await;
    // Shorten the family's life: the child must not outlive it.
    let deadline = now() + 3600;
    set_number(
        &t,
        &user,
        &token_sk(&first),
        "absolute_expires_at",
        deadline,
    )
    .await;
    let second = refresh(&t, &first).await.refresh_cookie();
    let items = t.partition(&user).await;
    let child = items
        .iter()
        .find(|i| i["sk"].as_s().unwrap() == &token_sk(&second))
        .unwrap();
    assert_eq!(
        child["absolute_expires_at"].as_n().unwrap(),
        &deadline.to_string()
    );
    assert_eq!(
        child["idle_expires_at"].as_n().unwrap(),
        &deadline.to_string()
    );
}

#[tokio::test]
async fn a_foreign_origin_is_403_and_spends_nothing() {
    let t = TestApp::new().await;
    let (user, token) = session(&t, "csrf@example.com").await;
    for path in ["/v1/auth/refresh", "/v1/auth/logout"] {
        for origin in ["https://evil.example", "null"] {
            let response = call(
                refresh::handle,
                &t.app,
                TestRequest::post(path)
                    .origin(origin)
                    .refresh_cookie(&token),
            )
            .await;
            response.problem(403);
            assert!(response.header("set-cookie").is_none());
        }
    }
    let before = t.partition(&user).await;
    assert!(before.iter().all(|i| i.get("spent_at").is_none()));
    // An allowed origin (and no origin, above) works, with credentialed CORS.
    let response = call(
        refresh::handle,
        &t.app,
        TestRequest::refresh(&token).origin(ALLOWED_ORIGIN),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.header("access-control-allow-origin").as_deref(),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(
        response
            .header("access-control-allow-credentials")
            .as_deref(),
        Some("true")
    );
}

#[tokio::test]
async fn logout_clears_the_cookie_and_revokes_only_its_family() {
    let t = TestApp::new().await;
    let (user, token) = session(&t, "bye@example.com").await;
    let other = login(&t, "bye@example.com").await;
    let rotated = refresh(&t, &token).await.refresh_cookie();

    let response = logout(&t, &rotated).await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );
    assert_eq!(
        response.header_all("set-cookie"),
        [format!(
            "{COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0"
        )]
    );
    assert_refused(&refresh(&t, &rotated).await);
    let family = RefreshToken::parse(&token).unwrap().family().to_string();
    let left = refresh_items(&t, &user).await;
    assert!(left.iter().all(|sk| !sk.contains(&family)), "{left:?}");
    assert!(!left.is_empty());
    assert_eq!(refresh(&t, &other).await.status(), 200);
}

#[tokio::test]
async fn logout_without_a_valid_cookie_still_clears_it() {
    let t = TestApp::new().await;
    let (user, token) = session(&t, "idempotent@example.com").await;
    let response = call(
        refresh::handle,
        &t.app,
        TestRequest::post("/v1/auth/logout"),
    )
    .await;
    assert_eq!(response.status(), 204);
    assert!(response.header_all("set-cookie")[0].contains("Max-Age=0"));
    // A forged token of a live family revokes nothing.
    let parsed = RefreshToken::parse(&token).unwrap();
    let forged = RefreshToken::generate(parsed.user(), parsed.family()).unwrap();
    assert_eq!(logout(&t, forged.expose()).await.status(), 204);
    assert!(!refresh_items(&t, &user).await.is_empty());
    assert_eq!(refresh(&t, &token).await.status(), 200);
}

#[tokio::test]
async fn tokens_of_a_deleted_user_no_longer_refresh() {
    let t = TestApp::new().await;
    let (user, token) = session(&t, "gone@example.com").await;
    t.client
        .delete_item()
        .table_name(&t.table)
        .key("user_id", AttributeValue::S(user.clone()))
        .key("sk", AttributeValue::S("USER".into()))
        .send()
        .await
        .unwrap();
    assert_refused(&refresh(&t, &token).await);
}

#[tokio::test]
async fn only_post_is_allowed() {
    let t = TestApp::new().await;
    let response = call(
        refresh::handle,
        &t.app,
        TestRequest::get("/v1/auth/refresh"),
    )
    .await;
    response.problem(405);
    assert_eq!(response.header("allow").as_deref(), Some("POST, OPTIONS"));
}

#[tokio::test]
async fn a_grace_re_presentation_racing_a_newer_rotation_has_one_consistent_outcome() {
    for round in 0..4 {
        let t = TestApp::new().await;
        let (user, first) = session(&t, &format!("race{round}@example.com")).await;
        let second = refreshed(&t, &first).await;
        // `first` again (within grace) while `second` is rotated: either the grace answer
        // (`second` again) comes before the rotation (then both answers work, `second`
        // within its own grace), or after it `first` is an older token (reuse: the family is
        // revoked).
        let (late, rotation) = tokio::join!(refresh(&t, &first), refresh(&t, &second));
        if late.status() == 200 {
            assert_eq!(rotation.status(), 200, "{}", rotation.text());
            refreshed(&t, &late.refresh_cookie()).await;
            refreshed(&t, &rotation.refresh_cookie()).await;
            assert!(family_alive(&t, &user, &first).await);
        } else {
            assert_refused(&late);
            assert!(!family_alive(&t, &user, &first).await);
            if rotation.status() == 200 {
                assert_refused(&refresh(&t, &rotation.refresh_cookie()).await);
            }
        }
    }
}

/// Removes `attribute` from the item `sk` of `user`'s partition (items of an older layout).
async fn remove_attribute(t: &TestApp, user: &str, sk: &str, attribute: &str) {
    t.client
        .update_item()
        .table_name(&t.table)
        .key("user_id", AttributeValue::S(user.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .update_expression("REMOVE #a")
        .condition_expression("attribute_exists(sk)")
        .expression_attribute_names("#a", attribute)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn families_and_tokens_written_before_session_generations_still_rotate() {
    let t = TestApp::new().await;
    let (user, token) = session(&t, "generations@example.com").await;
    let family = RefreshToken::parse(&token).unwrap().family();
    // The layout of before: no generation on the family, the token or the user.
    remove_attribute(&t, &user, &format!("REFRESH#{family}"), "session_gen").await;
    remove_attribute(&t, &user, &token_sk(&token), "session_gen").await;
    remove_attribute(&t, &user, "USER", "sessions").await;

    let second = refreshed(&t, &token).await;
    let response = refresh(&t, &second).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let access = response.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(t.app.tokens.verify(&access).unwrap().generation, 0);
    // Within the grace the spent token still gets its one successor.
    assert_eq!(refreshed(&t, &second).await, response.refresh_cookie());
}
