//! `POST /v1/auth/register` against DynamoDB Local, as API.md's Auth section states it.

use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use serde_json::{Value, json};

async fn register(t: &TestApp, body: Value) -> TestResponse {
    call(
        register::handle,
        &t.app,
        TestRequest::post("/v1/auth/register").json(&body),
    )
    .await
}

fn field_errors(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn registration_returns_the_new_user_and_stores_an_argon2id_hash() {
    let t = TestApp::new().await;
    let response = register(
        &t,
        json!({"email": "  Ada.Lovelace@Example.COM ", "password": "analytical engine", "name": " Ada "}),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );
    assert_eq!(response.header("location").as_deref(), Some("/v1/me"));
    let body = response.json();
    let keys = devtools::harness::json_keys(&body);
    assert_eq!(
        keys,
        ["created_at", "email", "email_verified", "id", "name"]
    );
    assert_eq!(body["email"], "ada.lovelace@example.com");
    assert_eq!(body["email_verified"], false);
    assert_eq!(body["name"], "Ada");
    let id = body["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    let created_at = body["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z'), "{created_at}");
    time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339)
        .unwrap();

    // The user item and its verification token (written with it; only the token's hash,
    // valid 24 hours).
    let items = t.partition(id).await;
    assert_eq!(items.len(), 2);
    let token = &items[0];
    assert_eq!(token["sk"].as_s().unwrap(), "TOKEN#VERIFY");
    assert_eq!(token["token_hash"].as_s().unwrap().len(), 64);
    let expires: i64 = token["expires_at"].as_n().unwrap().parse().unwrap();
    let in_a_day = time::OffsetDateTime::now_utc().unix_timestamp() + 24 * 3600;
    assert!((in_a_day - 60..=in_a_day).contains(&expires), "{expires}");
    assert_eq!(items[1]["sk"].as_s().unwrap(), "USER");
    let hash = items[1]["password_hash"].as_s().unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains("analytical"));
    let reservation = t.partition("EMAIL#ada.lovelace@example.com").await;
    assert_eq!(reservation.len(), 1);
    assert_eq!(reservation[0]["owner"].as_s().unwrap(), id);
}

#[tokio::test]
async fn a_taken_email_is_409_whatever_its_case_and_spacing() {
    let t = TestApp::new().await;
    let first = register(
        &t,
        json!({"email": "grace@example.com", "password": "cobol rules", "name": "Grace"}),
    )
    .await;
    assert_eq!(first.status(), 201);
    let again = register(
        &t,
        json!({"email": " GRACE@Example.com", "password": "other password", "name": "Impostor"}),
    )
    .await;
    let body = again.problem(409);
    assert_eq!(again.header("cache-control").as_deref(), Some("no-store"));
    assert!(body["detail"].as_str().unwrap().contains("email"));
}

#[tokio::test]
async fn of_eight_concurrent_registrations_of_one_email_exactly_one_succeeds() {
    let t = TestApp::new().await;
    let emails = [
        "race@example.com",
        "RACE@example.com",
        "Race@Example.com",
        " race@EXAMPLE.com",
        "rAcE@example.COM ",
        "race@example.com",
        "RACE@EXAMPLE.COM",
        "race@Example.Com",
    ];
    let tasks: Vec<_> = emails
        .iter()
        .map(|email| {
            let app = t.app.clone();
            let req = TestRequest::post("/v1/auth/register")
                .json(&json!({"email": email, "password": "same password", "name": "Racer"}));
            tokio::spawn(async move { call(register::handle, &app, req).await })
        })
        .collect();
    let mut created = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        let response = task.await.unwrap();
        match response.status() {
            201 => created.push(response.json()["id"].as_str().unwrap().to_string()),
            409 => conflicts += 1,
            other => panic!("unexpected {other}: {}", response.text()),
        }
    }
    assert_eq!(created.len(), 1, "exactly one registration wins");
    assert_eq!(conflicts, 7);
    let reservation = t.partition("EMAIL#race@example.com").await;
    assert_eq!(reservation.len(), 1);
    assert_eq!(reservation[0]["owner"].as_s().unwrap(), &created[0]);
}

#[tokio::test]
async fn passwords_must_have_8_to_128_characters_counted_as_characters() {
    let t = TestApp::new().await;
    for (i, password) in ["1234567".to_string(), "x".repeat(129), "é".repeat(129)]
        .iter()
        .enumerate()
    {
        let response = register(
            &t,
            json!({"email": format!("short{i}@example.com"), "password": password, "name": "N"}),
        )
        .await;
        let body = response.problem(422);
        assert_eq!(field_errors(&body), ["password"]);
    }
    // Boundaries are allowed; 128 four-byte characters (512 bytes) still count as 128.
    for (i, password) in ["12345678".to_string(), "x".repeat(128), "🔑".repeat(128)]
        .iter()
        .enumerate()
    {
        let response = register(
            &t,
            json!({"email": format!("ok{i}@example.com"), "password": password, "name": "N"}),
        )
        .await;
        assert_eq!(response.status(), 201, "{}", response.text());
    }
}

#[tokio::test]
async fn invalid_fields_are_422_with_every_field_error() {
    let t = TestApp::new().await;
    let response = register(
        &t,
        json!({"email": "not-an-email", "password": 12345678, "name": "   "}),
    )
    .await;
    let body = response.problem(422);
    assert_eq!(field_errors(&body), ["email", "password", "name"]);

    let response = register(&t, json!({})).await;
    let body = response.problem(422);
    assert_eq!(field_errors(&body), ["email", "password", "name"]);
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["message"] == "is required")
    );

    let response = register(
        &t,
        json!({"email": "a@example.com", "password": "12345678", "name": "x".repeat(101)}),
    )
    .await;
    assert_eq!(field_errors(&response.problem(422)), ["name"]);
}

#[tokio::test]
async fn server_owned_and_unknown_fields_are_refused() {
    let t = TestApp::new().await;
    let response = register(
        &t,
        json!({
            "email": "mass@example.com", "password": "12345678", "name": "M",
            "id": "0190a1b2-0000-7000-8000-000000000000", "created_at": "2020-01-01T00:00:00Z",
            "is_admin": true
        }),
    )
    .await;
    let mut fields = field_errors(&response.problem(422));
    fields.sort();
    assert_eq!(fields, ["created_at", "id", "is_admin"]);
    assert!(t.partition("EMAIL#mass@example.com").await.is_empty());
}

#[tokio::test]
async fn malformed_or_non_json_bodies_are_400_and_415() {
    let t = TestApp::new().await;
    let response = call(
        register::handle,
        &t.app,
        TestRequest::post("/v1/auth/register").body("application/json", "{\"email\": "),
    )
    .await;
    response.problem(400);
    let response = call(
        register::handle,
        &t.app,
        TestRequest::post("/v1/auth/register").body(
            "application/x-www-form-urlencoded",
            "email=a%40example.com&password=12345678&name=A",
        ),
    )
    .await;
    response.problem(415);
}

#[tokio::test]
async fn names_with_control_or_bidi_characters_are_422_and_nothing_is_stored() {
    let t = TestApp::new().await;
    // U+202E (right-to-left override) would make the rest of the name render reversed.
    for (i, name) in [
        "Ada\u{202E}ecalevol",
        "Ada\u{2066}x",
        "Ada\u{0}",
        "Ada\u{9B}",
    ]
    .iter()
    .enumerate()
    {
        let email = format!("bidi{i}@example.com");
        let response = register(
            &t,
            json!({"email": email, "password": "12345678", "name": name}),
        )
        .await;
        assert_eq!(field_errors(&response.problem(422)), ["name"], "{name:?}");
        assert!(t.partition(&format!("EMAIL#{email}")).await.is_empty());
    }
}

// --- Cross-site requests ---

fn registration(email: &str) -> TestRequest {
    TestRequest::post("/v1/auth/register")
        .json(&json!({"email": email, "password": "analytical engine", "name": "Ada"}))
}

#[tokio::test]
async fn registration_from_the_allowed_origin_or_without_origin_is_served() {
    let t = TestApp::new().await;
    let spa = registration("spa@example.com")
        .origin(devtools::harness::ALLOWED_ORIGIN)
        .header("sec-fetch-site", "same-site");
    let response = call(register::handle, &t.app, spa).await;
    assert_eq!(response.status(), 201, "{}", response.text());
    let tool = registration("tool@example.com");
    let response = call(register::handle, &t.app, tool).await;
    assert_eq!(response.status(), 201, "{}", response.text());
}

#[tokio::test]
async fn registration_from_a_foreign_page_is_refused_and_creates_nothing() {
    let t = TestApp::new().await;
    for req in [
        registration("csrf@example.com").origin("https://evil.example"),
        registration("csrf@example.com").origin("null"),
        registration("csrf@example.com").header("sec-fetch-site", "cross-site"),
        registration("csrf@example.com")
            .origin(devtools::harness::ALLOWED_ORIGIN)
            .header("sec-fetch-site", "cross-site"),
    ] {
        let response = call(register::handle, &t.app, req.clone()).await;
        response.problem(403);
        assert!(response.header_all("set-cookie").is_empty(), "{req:?}");
    }
    assert!(t.partition("EMAIL#csrf@example.com").await.is_empty());
    let response = call(register::handle, &t.app, registration("csrf@example.com")).await;
    assert_eq!(response.status(), 201, "{}", response.text());
}

// --- The registration budget per client address ---

#[tokio::test]
async fn twenty_registrations_an_hour_per_address_then_429_with_retry_after() {
    let t = TestApp::new().await;
    assert_eq!(
        t.app.config.register_throttle,
        taskline::config::RegisterThrottle {
            per_ip: 20,
            window_secs: 3600,
        }
    );
    for i in 0..20 {
        // A taken email costs a hash too, and counts.
        let email = if i == 19 {
            "loop0@example.com".to_string()
        } else {
            format!("loop{i}@example.com")
        };
        let response = call(
            register::handle,
            &t.app,
            registration(&email).source_ip("203.0.113.40"),
        )
        .await;
        assert_eq!(
            response.status(),
            if i == 19 { 409 } else { 201 },
            "{}",
            response.text()
        );
    }
    let refused = call(
        register::handle,
        &t.app,
        registration("loop20@example.com").source_ip("203.0.113.40"),
    )
    .await;
    refused.problem(429);
    let seconds: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&seconds), "{seconds}");
    // Refused before anything was written.
    assert!(t.partition("EMAIL#loop20@example.com").await.is_empty());
    // Another address is not held.
    let response = call(
        register::handle,
        &t.app,
        registration("loop20@example.com").source_ip("198.51.100.40"),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
}

#[tokio::test]
async fn invalid_registrations_do_not_count_and_an_ipv6_64_shares_one_budget() {
    let t = TestApp::with_vars(&[("REGISTRATIONS_PER_IP", "2")]).await;
    // Refused before hashing: no cost, no count.
    for _ in 0..3 {
        let response = call(
            register::handle,
            &t.app,
            TestRequest::post("/v1/auth/register")
                .source_ip("2001:db8:4:4::1")
                .json(
                    &json!({"email": "not an email", "password": "analytical engine", "name": "A"}),
                ),
        )
        .await;
        response.problem(422);
    }
    for (host, email) in [("::1", "six1@example.com"), ("::2", "six2@example.com")] {
        let response = call(
            register::handle,
            &t.app,
            registration(email).source_ip(&format!("2001:db8:4:4{host}")),
        )
        .await;
        assert_eq!(response.status(), 201, "{}", response.text());
    }
    call(
        register::handle,
        &t.app,
        registration("six3@example.com").source_ip("2001:db8:4:4:ffff::3"),
    )
    .await
    .problem(429);
    let counter = t.partition("REGISTER_IP#2001:db8:4:4::/64").await;
    assert_eq!(counter.len(), 1, "{counter:?}");
    assert_eq!(counter[0]["failures"].as_n().unwrap(), "2");
    // The next /64 is another client.
    let response = call(
        register::handle,
        &t.app,
        registration("six3@example.com").source_ip("2001:db8:4:5::3"),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
}

#[tokio::test]
async fn behind_cloudfront_registrations_are_budgeted_per_viewer() {
    const SECRET: &str = "origin-verify-secret-for-the-tests-0123456789";
    let t = TestApp::with_vars(&[
        ("REGISTRATIONS_PER_IP", "1"),
        ("ORIGIN_VERIFY_SECRET", SECRET),
    ])
    .await;
    let through_edge = |email: &str, viewer: &str| {
        registration(email)
            .source_ip("130.176.212.10")
            .header("x-origin-verify", SECRET)
            .header("cloudfront-viewer-address", viewer)
    };
    for (email, viewer) in [
        ("v1@example.com", "203.0.113.1:1000"),
        ("v2@example.com", "203.0.113.2:1000"),
    ] {
        let response = call(register::handle, &t.app, through_edge(email, viewer)).await;
        assert_eq!(response.status(), 201, "{}", response.text());
    }
    call(
        register::handle,
        &t.app,
        through_edge("v3@example.com", "203.0.113.1:2000"),
    )
    .await
    .problem(429);
}
