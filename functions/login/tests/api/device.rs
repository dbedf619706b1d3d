//! Device cookies (OWASP's slow brute-force protection): a browser that logged into an account
//! before is budgeted by its own device cookie, so strangers holding the email at its failure
//! ceiling do not lock the owner out; a cookie of another account, a forged or an expired one
//! gives no exemption; the device's own budget throttles it.

use devtools::harness::{TEST_PASSWORD, TestApp, TestRequest, TestResponse, call};
use taskline::auth::{DEVICE_COOKIE_TTL_SECS, DeviceKeys, UserId, unix_now};

use crate::common::{failures, register, retry_after};

const PASSWORD: &str = TEST_PASSWORD;
/// The owner's browser.
const HOME: &str = "198.51.100.20";

async fn send(t: &TestApp, req: TestRequest) -> TestResponse {
    call(login::handle, &t.app, req).await
}

fn login(ip: &str, email: &str, password: &str) -> TestRequest {
    TestRequest::login(email, password).source_ip(ip)
}

/// Strangers, one wrong guess from each of `n` addresses: with a ceiling of `n` per email,
/// the email is then held at it.
async fn strangers_guess(t: &TestApp, email: &str, n: u8) {
    for i in 0..n {
        send(t, login(&format!("192.0.2.{i}"), email, "guess guess"))
            .await
            .problem(401);
    }
}

#[tokio::test]
async fn a_login_sets_a_signed_device_cookie_bound_to_the_account() {
    let t = TestApp::with_vars(&[("COOKIE_SAMESITE", "Lax")]).await;
    let id = register(&t, "device@example.com", PASSWORD).await;
    let response = send(&t, login(HOME, "device@example.com", PASSWORD)).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let set_cookie = response.header_all("set-cookie");
    assert_eq!(set_cookie.len(), 2, "{set_cookie:?}");
    let value = response.device_cookie();
    assert_eq!(
        set_cookie[1],
        format!(
            "__Host-taskline_device={value}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=15552000"
        )
    );
    let device = t.app.devices.open(&value, unix_now()).unwrap();
    assert_eq!(device.user().to_string(), id);
    // Nothing of it is stored.
    assert!(!format!("{:?}", t.partition(&id).await).contains(&value));
    // The refresh cookie comes first, as before.
    assert!(set_cookie[0].starts_with("__Host-taskline_refresh="));
}

#[tokio::test]
async fn a_returning_browser_logs_in_while_strangers_hold_the_email_at_its_ceiling() {
    let t = TestApp::with_vars(&[("LOGIN_FAILURES_PER_EMAIL", "10")]).await;
    register(&t, "owner@example.com", PASSWORD).await;
    // Yesterday, at home.
    let yesterday = send(&t, login(HOME, "owner@example.com", PASSWORD)).await;
    assert_eq!(yesterday.status(), 200, "{}", yesterday.text());

    strangers_guess(&t, "owner@example.com", 10).await;
    // The ceiling holds for every client that never logged in, the right password too,
    // even from the owner's own address.
    for ip in ["192.0.2.200", HOME] {
        let locked = send(&t, login(ip, "owner@example.com", PASSWORD)).await;
        locked.problem(429);
        retry_after(&locked);
    }

    // The browser, sending back every cookie its last login set: in, with a new device
    // cookie; and again with that one, through the OAuth2 form too.
    let today = send(
        &t,
        login(HOME, "owner@example.com", PASSWORD).cookies_of(&yesterday),
    )
    .await;
    assert_eq!(today.status(), 200, "{}", today.text());
    today.refresh_cookie();
    assert_ne!(today.device_cookie(), yesterday.device_cookie());
    let form = TestRequest::post("/v1/auth/login")
        .source_ip("203.0.113.50")
        .body(
            "application/x-www-form-urlencoded",
            "grant_type=password&username=owner%40example.com&password=correct+horse+battery",
        )
        .cookies_of(&today);
    let response = send(&t, form).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    // The strangers are still held.
    send(&t, login("192.0.2.201", "owner@example.com", PASSWORD))
        .await
        .problem(429);
}

#[tokio::test]
async fn a_device_cookie_of_another_user_a_forged_or_an_expired_one_gives_no_exemption() {
    let t = TestApp::with_vars(&[("LOGIN_FAILURES_PER_EMAIL", "5")]).await;
    let owner = register(&t, "held@example.com", PASSWORD).await;
    register(&t, "other@example.com", PASSWORD).await;
    let genuine = send(&t, login(HOME, "held@example.com", PASSWORD))
        .await
        .device_cookie();
    let others = send(&t, login(HOME, "other@example.com", PASSWORD))
        .await
        .device_cookie();
    strangers_guess(&t, "held@example.com", 5).await;

    let owner = UserId::parse(&owner).unwrap();
    let mut altered = genuine.clone().into_bytes();
    let last = altered.len() - 2;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let expired = t
        .app
        .devices
        .issue(owner, unix_now() - DEVICE_COOKIE_TTL_SECS - 1)
        .unwrap();
    let foreign_key = DeviceKeys::new(b"another-deployments-jwt-secret-0123456789")
        .issue(owner, unix_now())
        .unwrap();
    for (what, cookie) in [
        ("another user's", others.as_str()),
        ("altered", std::str::from_utf8(&altered).unwrap()),
        ("expired", expired.expose()),
        ("signed with another key", foreign_key.expose()),
        ("not a device cookie", "garbage"),
    ] {
        let response = send(
            &t,
            login(HOME, "held@example.com", PASSWORD).device_cookie(cookie),
        )
        .await;
        assert_eq!(response.status(), 429, "{what}: {}", response.text());
    }
    // The genuine one still does.
    let response = send(
        &t,
        login(HOME, "held@example.com", PASSWORD).device_cookie(&genuine),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    // And the other user's cookie works for the other user.
    let response = send(
        &t,
        login(HOME, "other@example.com", PASSWORD).device_cookie(&others),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
}

#[tokio::test]
async fn the_device_budget_throttles_the_device_alone() {
    let t = TestApp::new().await;
    register(&t, "careless@example.com", PASSWORD).await;
    let first = send(&t, login(HOME, "careless@example.com", PASSWORD)).await;
    let device = first.device_cookie();
    let id = t
        .app
        .devices
        .open(&device, unix_now())
        .unwrap()
        .id()
        .to_string();
    let with_device =
        |password: &str| login(HOME, "careless@example.com", password).device_cookie(&device);

    // A success clears the device's failures; only failures count.
    for _ in 0..4 {
        send(&t, with_device("guess guess")).await.problem(401);
    }
    assert_eq!(send(&t, with_device(PASSWORD)).await.status(), 200);
    assert_eq!(
        failures(&t, &format!("LOGIN_DEVICE#{id}"), "THROTTLE").await,
        None
    );
    // Default budget: 5 per device per window, then even the right password is refused.
    for _ in 0..5 {
        send(&t, with_device("guess guess")).await.problem(401);
    }
    let locked = send(&t, with_device(PASSWORD)).await;
    locked.problem(429);
    let seconds = retry_after(&locked);
    assert!((850..=900).contains(&seconds), "{seconds}");
    assert_eq!(
        failures(&t, &format!("LOGIN_DEVICE#{id}"), "THROTTLE")
            .await
            .as_deref(),
        Some("5")
    );
    // Its failures counted nowhere else: the email's and the address's budgets hold none (the
    // first login's own attempt was taken back), so the same address without the cookie still
    // logs in.
    assert_eq!(
        failures(&t, "LOGIN#careless@example.com", "THROTTLE")
            .await
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        failures(&t, &format!("LOGIN_IP#{HOME}"), "THROTTLE")
            .await
            .as_deref(),
        Some("0")
    );
    let response = send(&t, login(HOME, "careless@example.com", PASSWORD)).await;
    assert_eq!(response.status(), 200, "{}", response.text());
}

// --- The client's address behind CloudFront ---

const ORIGIN_SECRET: &str = "origin-verify-secret-for-the-tests-0123456789";
/// A CloudFront edge server: the connection API Gateway sees.
const EDGE: &str = "130.176.212.10";

/// A login as CloudFront delivers it: from the edge, with the origin secret (if `secret`) and
/// the viewer's address.
fn through_cloudfront(
    viewer: &str,
    secret: Option<&str>,
    email: &str,
    password: &str,
) -> TestRequest {
    let req = login(EDGE, email, password).header("cloudfront-viewer-address", viewer);
    match secret {
        Some(secret) => req.header("x-origin-verify", secret),
        None => req,
    }
}

#[tokio::test]
async fn behind_cloudfront_each_viewer_has_its_own_budget() {
    let t = TestApp::with_vars(&[("ORIGIN_VERIFY_SECRET", ORIGIN_SECRET)]).await;
    register(&t, "edge@example.com", PASSWORD).await;
    let guess = |viewer: &str| {
        through_cloudfront(
            viewer,
            Some(ORIGIN_SECRET),
            "edge@example.com",
            "guess guess",
        )
    };
    for _ in 0..5 {
        send(&t, guess("203.0.113.7:40001")).await.problem(401);
    }
    send(&t, guess("203.0.113.7:40002")).await.problem(429);
    // Another viewer behind the same edge is not held by the first one's failures.
    let response = send(
        &t,
        through_cloudfront(
            "198.51.100.9:51000",
            Some(ORIGIN_SECRET),
            "edge@example.com",
            PASSWORD,
        ),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    // The counters name the viewer, not the edge.
    assert_eq!(
        failures(&t, "LOGIN#edge@example.com", "THROTTLE#IP#203.0.113.7")
            .await
            .as_deref(),
        Some("5")
    );
    assert!(t.partition(&format!("LOGIN_IP#{EDGE}")).await.is_empty());
}

#[tokio::test]
async fn a_forged_viewer_address_without_the_secret_changes_nothing() {
    let t = TestApp::with_vars(&[("ORIGIN_VERIFY_SECRET", ORIGIN_SECRET)]).await;
    // Straight to API Gateway (or through CloudFront with a wrong secret), a new "viewer" each
    // time: all of them are the one connection's address.
    for i in 0..5 {
        let secret = (i % 2 == 1).then_some("origin-verify-secret-for-the-tests-0123456780");
        send(
            &t,
            through_cloudfront(
                &format!("203.0.113.{i}:443"),
                secret,
                "forged@example.com",
                "guess guess",
            ),
        )
        .await
        .problem(401);
    }
    send(
        &t,
        through_cloudfront(
            "203.0.113.99:443",
            None,
            "forged@example.com",
            "guess guess",
        ),
    )
    .await
    .problem(429);
    assert_eq!(
        failures(
            &t,
            "LOGIN#forged@example.com",
            &format!("THROTTLE#IP#{EDGE}")
        )
        .await
        .as_deref(),
        Some("5")
    );
}

#[tokio::test]
async fn without_a_configured_secret_only_the_connection_counts() {
    let t = TestApp::new().await;
    for i in 0..5 {
        send(
            &t,
            through_cloudfront(
                &format!("203.0.113.{i}:443"),
                Some(ORIGIN_SECRET),
                "local@example.com",
                "guess guess",
            ),
        )
        .await
        .problem(401);
    }
    send(
        &t,
        through_cloudfront(
            "203.0.113.9:443",
            Some(ORIGIN_SECRET),
            "local@example.com",
            "x y z w v",
        ),
    )
    .await
    .problem(429);
}

#[tokio::test]
async fn ipv6_addresses_of_one_64_share_a_budget() {
    let t = TestApp::with_vars(&[("ORIGIN_VERIFY_SECRET", ORIGIN_SECRET)]).await;
    register(&t, "six@example.com", PASSWORD).await;
    // Five hosts of one /64, each failing once (CloudFront writes IPv6 unbracketed).
    for host in 1..=5 {
        send(
            &t,
            through_cloudfront(
                &format!("2001:db8:1:2::{host:x}:50000"),
                Some(ORIGIN_SECRET),
                "six@example.com",
                "guess guess",
            ),
        )
        .await
        .problem(401);
    }
    send(
        &t,
        through_cloudfront(
            "2001:db8:1:2:ffff:ffff:ffff:ffff:50000",
            Some(ORIGIN_SECRET),
            "six@example.com",
            PASSWORD,
        ),
    )
    .await
    .problem(429);
    // The neighbouring /64 is another client.
    let response = send(
        &t,
        through_cloudfront(
            "2001:db8:1:3::1:50000",
            Some(ORIGIN_SECRET),
            "six@example.com",
            PASSWORD,
        ),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    // So are addresses API Gateway reports itself.
    for host in 1..=5 {
        send(
            &t,
            login(
                &format!("2001:db8:9:9::{host}"),
                "six@example.com",
                "guess guess",
            ),
        )
        .await
        .problem(401);
    }
    send(&t, login("2001:db8:9:9::99", "six@example.com", PASSWORD))
        .await
        .problem(429);
    assert_eq!(
        failures(&t, "LOGIN_IP#2001:db8:9:9::/64", "THROTTLE")
            .await
            .as_deref(),
        Some("5")
    );
}
