//! `GET /v1/me` and `DELETE /v1/me` against DynamoDB Local: the account, access-token
//! validation (forgeries of every kind are 401) and complete account deletion.

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use devtools::harness::{TestApp, TestRequest, call, test_vars};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::common::{
    assert_bearer_refused, log_in, log_in_response, me, refresh_response, register_response,
};

struct Account {
    id: String,
    email: String,
    registered: Value,
    access_token: String,
    /// The `sid` of `access_token`.
    session: String,
    refresh_cookie: String,
}

/// A registered account with one session.
async fn sign_up(t: &TestApp, email: &str) -> Account {
    let response = register_response(t, email).await;
    assert_eq!(response.status(), 201, "{}", response.text());
    let registered = response.json();
    let session = log_in(t, email).await;
    Account {
        id: registered["id"].as_str().unwrap().to_string(),
        email: email.to_string(),
        registered,
        session: session.id(&t.app).to_string(),
        access_token: session.access_token,
        refresh_cookie: session.refresh_cookie,
    }
}

#[tokio::test]
async fn me_returns_the_account_as_registered() {
    let t = TestApp::new().await;
    let account = sign_up(&t, "Me@Example.com").await;
    let response = me(&t, &account.access_token).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );
    let body = response.json();
    assert_eq!(body, account.registered);
    assert_eq!(body["email"], "me@example.com");
    assert!(body.get("password_hash").is_none());
}

/// `GET /v1/me` is one DynamoDB round trip: the user item comes with the standing check, in
/// its one BatchGetItem (not a GetItem after it).
#[tokio::test]
async fn me_is_one_round_trip() {
    let t = TestApp::new().await;
    let account = sign_up(&t, "counted@example.com").await;
    let (response, calls, trips) = t.calls.trips_during(me(&t, &account.access_token)).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json(), account.registered);
    assert_eq!((calls, trips), (vec!["BatchGetItem".to_string()], 1));
}

#[tokio::test]
async fn me_without_a_bearer_token_is_401_with_a_challenge() {
    let t = TestApp::new().await;
    assert_bearer_refused(&call(account::handle, &t.app, TestRequest::get("/v1/me")).await);
    let account = sign_up(&t, "scheme@example.com").await;
    for value in [
        format!("Basic {}", account.access_token),
        account.access_token.clone(),
        "Bearer".to_string(),
        "Bearer not.a.jwt".to_string(),
    ] {
        let response = call(
            account::handle,
            &t.app,
            TestRequest::get("/v1/me").header("authorization", &value),
        )
        .await;
        assert_bearer_refused(&response);
    }
    assert_bearer_refused(&call(account::handle, &t.app, TestRequest::delete("/v1/me")).await);
}

fn secret() -> Vec<u8> {
    test_vars("unused")["JWT_SECRET"].as_bytes().to_vec()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The claims the service signs for `account`'s session.
fn claims(account: &Account) -> Value {
    json!({
        "sub": account.id,
        "sid": account.session,
        "iat": now(),
        "exp": now() + 900,
        "iss": "taskline",
        "aud": "taskline-api",
        "jti": uuid::Uuid::now_v7().to_string(),
    })
}

fn sign(alg: Algorithm, typ: Option<&str>, claims: &Value, key: &[u8]) -> String {
    let mut header = Header::new(alg);
    header.typ = typ.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key)).unwrap()
}

fn unsigned(header: Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

#[tokio::test]
async fn forged_and_foreign_access_tokens_are_401() {
    let t = TestApp::new().await;
    let account = sign_up(&t, "forge@example.com").await;
    let key = secret();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims(&account);
        change(&mut c);
        c
    };

    // The control: a token signed exactly as the service signs works, so the refusals
    // below are about what each one changes.
    let genuine = sign(Algorithm::HS256, Some("at+jwt"), &claims(&account), &key);
    assert_eq!(me(&t, &genuine).await.status(), 200);

    let forged = [
        (
            "alg none",
            unsigned(json!({"alg": "none", "typ": "at+jwt"}), &claims(&account)),
        ),
        (
            "alg none with a signature",
            format!(
                "{}{}",
                unsigned(json!({"alg": "none", "typ": "at+jwt"}), &claims(&account)),
                genuine.rsplit('.').next().unwrap()
            ),
        ),
        (
            "wrong key",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &claims(&account),
                b"another-secret-0123456789abcdef0123",
            ),
        ),
        (
            "other algorithm (HS512)",
            sign(Algorithm::HS512, Some("at+jwt"), &claims(&account), &key),
        ),
        (
            "expired beyond the leeway",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| c["exp"] = json!(now() - 120)),
                &key,
            ),
        ),
        (
            "string-typed exp",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| c["exp"] = json!((now() - 120).to_string())),
                &key,
            ),
        ),
        (
            "string-typed exp in the future",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| c["exp"] = json!((now() + 900).to_string())),
                &key,
            ),
        ),
        (
            "missing exp",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
                &key,
            ),
        ),
        (
            "wrong aud",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| c["aud"] = json!("another-api")),
                &key,
            ),
        ),
        (
            "non-string aud",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| c["aud"] = json!(42)),
                &key,
            ),
        ),
        (
            "missing aud",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("aud");
                }),
                &key,
            ),
        ),
        (
            "wrong iss",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| c["iss"] = json!("someone-else")),
                &key,
            ),
        ),
        (
            "non-string iss",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| c["iss"] = json!(["taskline"])),
                &key,
            ),
        ),
        (
            "other typ (JWT)",
            sign(Algorithm::HS256, Some("JWT"), &claims(&account), &key),
        ),
        (
            "no typ",
            sign(Algorithm::HS256, None, &claims(&account), &key),
        ),
        (
            "missing sub",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("sub");
                }),
                &key,
            ),
        ),
        (
            "sub not a user id",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| c["sub"] = json!("admin")),
                &key,
            ),
        ),
        (
            "sub of a user that does not exist",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| c["sub"] = json!(uuid::Uuid::now_v7().to_string())),
                &key,
            ),
        ),
        (
            "missing sid (a token of before sessions were named)",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("sid");
                }),
                &key,
            ),
        ),
        (
            "sid of a session that does not exist",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| c["sid"] = json!(uuid::Uuid::now_v7().simple().to_string())),
                &key,
            ),
        ),
        (
            "sid not a session id",
            sign(
                Algorithm::HS256,
                Some("at+jwt"),
                &with(&|c| c["sid"] = json!(42)),
                &key,
            ),
        ),
        ("tampered payload", {
            let mut parts: Vec<String> = genuine.split('.').map(str::to_string).collect();
            parts[1] = URL_SAFE_NO_PAD
                .encode(with(&|c| c["sub"] = json!(uuid::Uuid::now_v7().to_string())).to_string());
            parts.join(".")
        }),
    ];
    for (what, token) in forged {
        let response = me(&t, &token).await;
        assert_eq!(response.status(), 401, "{what}: {}", response.text());
        assert_bearer_refused(&response);
    }
}

#[tokio::test]
async fn a_token_just_past_exp_is_accepted_within_the_leeway() {
    let t = TestApp::new().await;
    let account = sign_up(&t, "leeway@example.com").await;
    let mut c = claims(&account);
    c["exp"] = json!(now() - 5);
    let token = sign(Algorithm::HS256, Some("at+jwt"), &c, &secret());
    assert_eq!(me(&t, &token).await.status(), 200);
}

/// Items of the kinds the tasks function keeps in a user's partition, written directly.
async fn put_task_like_items(t: &TestApp, user: &str, tasks: usize) {
    for i in 0..tasks {
        t.client
            .put_item()
            .table_name(&t.table)
            .item("user_id", AttributeValue::S(user.into()))
            .item(
                "sk",
                AttributeValue::S(format!("TASK#{}", uuid::Uuid::now_v7())),
            )
            .item("title", AttributeValue::S(format!("task {i}")))
            .send()
            .await
            .unwrap();
    }
    t.client
        .put_item()
        .table_name(&t.table)
        .item("user_id", AttributeValue::S(user.into()))
        .item("sk", AttributeValue::S("COUNTS".into()))
        .item("total", AttributeValue::N(tasks.to_string()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn deleting_the_account_removes_every_item_and_the_email_reservation() {
    let t = TestApp::new().await;
    let account = sign_up(&t, "Leaving@Example.com").await;
    let bystander = sign_up(&t, "staying@example.com").await;
    // A second session, one rotation (a spent token stays until its family ends) and tasks.
    let second = log_in_response(&t, &account.email).await;
    assert_eq!(second.status(), 200);
    let rotated = refresh_response(&t, &account.refresh_cookie).await;
    assert_eq!(rotated.status(), 200);
    put_task_like_items(&t, &account.id, 60).await;
    assert!(t.partition(&account.id).await.len() > 60);

    let response = call(
        account::handle,
        &t.app,
        TestRequest::delete("/v1/me")
            .bearer(&account.access_token)
            .json(&json!({"password": crate::common::PASSWORD})),
    )
    .await;
    assert_eq!(response.status(), 204, "{}", response.text());
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );

    // Nothing is left in DynamoDB: no user, task, counts or refresh item, no reservation.
    assert_eq!(t.partition(&account.id).await, vec![]);
    assert_eq!(t.partition("EMAIL#leaving@example.com").await, vec![]);

    // Its outstanding access tokens stop working at once; its sessions are gone.
    assert_bearer_refused(&me(&t, &account.access_token).await);
    assert_bearer_refused(
        &call(
            account::handle,
            &t.app,
            TestRequest::delete("/v1/me")
                .bearer(&account.access_token)
                .json(&json!({"password": crate::common::PASSWORD})),
        )
        .await,
    );
    let refreshed = refresh_response(&t, &account.refresh_cookie).await;
    refreshed.problem(401);
    log_in_response(&t, &account.email).await.problem(401);

    // Other accounts are untouched, and the email can be registered again.
    assert_eq!(me(&t, &bystander.access_token).await.status(), 200);
    assert!(t.partition(&bystander.id).await.len() >= 3);
    let again = sign_up(&t, "leaving@example.com").await;
    assert_ne!(again.id, account.id);
}
