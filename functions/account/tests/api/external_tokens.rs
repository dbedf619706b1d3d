//! Tokens of an external identity provider (Better Auth: an Ed25519 JWKS, or the HS256
//! `BETTER_AUTH_SECRET`) on Bearer routes, against DynamoDB Local and a JWKS served by the
//! test on 127.0.0.1 with freshly generated keys.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use taskline::auth::{ExternalIdentity, ExternalTokens, identity_key};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

const ISSUER: &str = "https://auth.example.com";
const AUDIENCE: &str = "https://auth.example.com";
const BETTER_AUTH_SECRET: &str = "better-auth-secret-for-tests-0123456789abcdef";

/// A signing key of the provider and its public JWK.
struct ProviderKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    public: Vec<u8>,
    jwk: Value,
}

fn ed25519(kid: &str) -> ProviderKey {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let public = pair.public_key().as_ref().to_vec();
    ProviderKey {
        kid: kid.into(),
        alg: Algorithm::EdDSA,
        encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
        jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(&public),
                    "kid": kid, "alg": "EdDSA", "use": "sig"}),
        public,
    }
}

fn es256(kid: &str) -> ProviderKey {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    // Uncompressed point: 0x04 || x || y.
    let public = pair.public_key().as_ref().to_vec();
    ProviderKey {
        kid: kid.into(),
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid,
                    "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
                    "y": URL_SAFE_NO_PAD.encode(&public[33..65])}),
        public,
    }
}

/// The provider's JWKS endpoint: answers every request with the current key set and counts
/// the requests.
struct JwksServer {
    url: String,
    keys: Arc<Mutex<Vec<Value>>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(keys: &[&ProviderKey]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/auth/jwks", listener.local_addr().unwrap());
        let server = Self {
            url,
            keys: Arc::new(Mutex::new(Vec::new())),
            hits: Arc::new(AtomicUsize::new(0)),
        };
        server.publish(keys).await;
        let (published, hits) = (Arc::clone(&server.keys), Arc::clone(&server.hits));
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (published, hits) = (Arc::clone(&published), Arc::clone(&hits));
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    hits.fetch_add(1, Ordering::SeqCst);
                    let body = json!({ "keys": *published.lock().await }).to_string();
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        server
    }

    async fn publish(&self, keys: &[&ProviderKey]) {
        *self.keys.lock().await = keys.iter().map(|k| k.jwk.clone()).collect();
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// An app accepting the tokens of the provider whose JWKS `server` serves.
async fn jwks_app(server: &JwksServer) -> TestApp {
    TestApp::with_vars(&[
        ("EXTERNAL_JWT_ISSUER", ISSUER),
        ("EXTERNAL_JWT_AUDIENCE", AUDIENCE),
        ("EXTERNAL_JWKS_URL", &server.url),
    ])
    .await
}

/// The same, with JWKS refetches allowed every `interval` instead of every minute.
async fn jwks_app_refetching_every(server: &JwksServer, interval: Duration) -> TestApp {
    let mut t = jwks_app(server).await;
    let external = t.app.config.external_jwt.as_ref().unwrap();
    t.app.external = Some(Arc::new(
        ExternalTokens::new(external).with_refetch_interval(interval),
    ));
    t
}

async fn secret_app() -> TestApp {
    TestApp::with_vars(&[
        ("EXTERNAL_JWT_ISSUER", ISSUER),
        ("EXTERNAL_JWT_AUDIENCE", AUDIENCE),
        ("EXTERNAL_JWT_SECRET", BETTER_AUTH_SECRET),
    ])
    .await
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Claims as Better Auth's JWT plugin issues them.
fn claims(sub: &str) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now(),
        "exp": now() + 900,
        "email": format!("{sub}@example.com"),
        "name": "Ada Lovelace",
    })
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

fn header(alg: Algorithm, kid: &str) -> Header {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_string());
    header
}

fn sign(key: &ProviderKey, claims: &Value) -> String {
    jsonwebtoken::encode(&header(key.alg, &key.kid), claims, &key.encoding).unwrap()
}

fn sign_hs256(secret: &[u8], header: &Header, claims: &Value) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

async fn me(t: &TestApp, token: &str) -> TestResponse {
    call(
        account::handle,
        &t.app,
        TestRequest::get("/v1/me").bearer(token),
    )
    .await
}

/// The user id of a successful `GET /v1/me`.
async fn me_id(t: &TestApp, token: &str) -> String {
    let response = me(t, token).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    response.json()["id"].as_str().unwrap().to_string()
}

fn assert_bearer_refused(response: &TestResponse, case: &str) {
    assert_eq!(response.status(), 401, "{case}: {}", response.text());
    response.problem(401);
    assert!(
        response
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer")),
        "{case}: {:?}",
        response.header("www-authenticate")
    );
}

fn identity(sub: &str) -> ExternalIdentity {
    ExternalIdentity {
        issuer: ISSUER.into(),
        subject: sub.into(),
        email: None,
        email_verified: false,
        name: None,
        issued_at: None,
    }
}

#[tokio::test]
async fn an_external_token_works_on_tasks_and_me_for_a_user_created_on_first_use() {
    let key = ed25519("key-1");
    let server = JwksServer::start(&[&key]).await;
    let t = jwks_app(&server).await;
    let token = sign(&key, &claims("ba-user-1"));

    let response = me(&t, &token).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let user = response.json();
    assert_eq!(user["email"], "ba-user-1@example.com");
    assert_eq!(user["name"], "Ada Lovelace");

    let created = call(
        tasks::handle,
        &t.app,
        TestRequest::post("/v1/tasks")
            .bearer(&token)
            .json(&json!({"title": "From Better Auth"})),
    )
    .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    let listed = call(
        tasks::handle,
        &t.app,
        TestRequest::get("/v1/tasks").bearer(&token),
    )
    .await;
    assert_eq!(listed.status(), 200, "{}", listed.text());
    assert_eq!(listed.json()["items"][0]["title"], "From Better Auth");

    // A later token of the same identity is the same user.
    let again = sign(&key, &with(claims("ba-user-1"), json!({"name": "Renamed"})));
    assert_eq!(me_id(&t, &again).await, user["id"]);
    let link = t.partition(&identity_key(&identity("ba-user-1"))).await;
    assert_eq!(link.len(), 1);
    assert_eq!(
        link[0]["owner"].as_s().unwrap(),
        user["id"].as_str().unwrap()
    );

    // The user has no password: password login does not work for it.
    for password in ["", "correct horse battery"] {
        let login = call(
            login::handle,
            &t.app,
            TestRequest::post("/v1/auth/login")
                .json(&json!({"email": "ba-user-1@example.com", "password": password})),
        )
        .await;
        assert!(
            [401, 422].contains(&login.status()),
            "{}: {}",
            login.status(),
            login.text()
        );
    }
}

#[tokio::test]
async fn missing_email_and_name_claims_get_defaults() {
    let key = ed25519("key-1");
    let server = JwksServer::start(&[&key]).await;
    let t = jwks_app(&server).await;
    let token = sign(
        &key,
        &with(claims("anonymous"), json!({"email": null, "name": null})),
    );
    let response = me(&t, &token).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let user = response.json();
    assert!(
        user["email"]
            .as_str()
            .unwrap()
            .ends_with("@external.invalid"),
        "{user}"
    );
    assert_eq!(user["name"], "Taskline user");
}

#[tokio::test]
async fn concurrent_first_uses_create_one_user_and_fetch_the_jwks_once() {
    let key = ed25519("key-1");
    let server = JwksServer::start(&[&key]).await;
    let t = jwks_app(&server).await;
    let token = sign(&key, &claims("racer"));
    let (a, b, c, d, e, f) = tokio::join!(
        me_id(&t, &token),
        me_id(&t, &token),
        me_id(&t, &token),
        me_id(&t, &token),
        me_id(&t, &token),
        me_id(&t, &token)
    );
    let ids = [a, b, c, d, e, f];
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(server.hits(), 1);
    let link = t.partition(&identity_key(&identity("racer"))).await;
    assert_eq!(link.len(), 1);
}

#[tokio::test]
async fn the_jwks_is_fetched_once_for_many_requests() {
    let ed = ed25519("ed");
    let ec = es256("ec");
    let server = JwksServer::start(&[&ed, &ec]).await;
    let t = jwks_app(&server).await;
    assert_eq!(
        server.hits(),
        0,
        "fetched lazily, by the first external token"
    );
    for i in 0..10 {
        let key = if i % 2 == 0 { &ed } else { &ec };
        me_id(&t, &sign(key, &claims(&format!("user-{}", i % 3)))).await;
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_a_removed_key_is_refused() {
    let old = ed25519("2026-11");
    let new = ed25519("2026-12");
    let server = JwksServer::start(&[&old]).await;
    let interval = Duration::from_millis(300);
    let t = jwks_app_refetching_every(&server, interval).await;
    let id = me_id(&t, &sign(&old, &claims("rotating"))).await;
    assert_eq!(server.hits(), 1);

    // The provider rotates: the new key replaces the old one.
    server.publish(&[&new]).await;
    tokio::time::sleep(interval).await;
    for _ in 0..3 {
        assert_eq!(me_id(&t, &sign(&new, &claims("rotating"))).await, id);
    }
    assert_eq!(server.hits(), 2, "one refetch for the new kid");
    assert_bearer_refused(
        &me(&t, &sign(&old, &claims("rotating"))).await,
        "a key no longer published",
    );
}

#[tokio::test]
async fn an_unknown_kid_refetches_at_most_once_a_minute() {
    let published = ed25519("published");
    let later = ed25519("later");
    let server = JwksServer::start(&[&published]).await;
    let t = jwks_app(&server).await;
    me_id(&t, &sign(&published, &claims("someone"))).await;
    assert_eq!(server.hits(), 1);
    // A key published after the fetch is unknown until a minute has passed: made-up kids
    // cannot make us hammer the provider.
    server.publish(&[&published, &later]).await;
    for _ in 0..5 {
        assert_bearer_refused(
            &me(&t, &sign(&later, &claims("someone"))).await,
            "unknown kid",
        );
    }
    assert_eq!(server.hits(), 1);

    // With an app whose first token names an unknown kid: one fetch, then none.
    let server = JwksServer::start(&[&published]).await;
    let t = jwks_app(&server).await;
    for _ in 0..5 {
        assert_bearer_refused(
            &me(&t, &sign(&later, &claims("someone"))).await,
            "unknown kid",
        );
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn every_forgery_is_refused_with_a_bearer_challenge() {
    let key = ed25519("key-1");
    let ec = es256("key-ec");
    let unpublished = ed25519("key-1");
    let server = JwksServer::start(&[&key, &ec]).await;
    let t = jwks_app(&server).await;
    let good = claims("victim");
    // The victim exists, so refusals are about the token, not a missing account.
    me_id(&t, &sign(&key, &good)).await;

    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": "key-1"})),
        b64(&good)
    );
    let jwk_text = key.jwk.to_string();
    let mut at_jwt = header(Algorithm::EdDSA, "key-1");
    at_jwt.typ = Some("at+jwt".into());
    let mut odd_typ = header(Algorithm::EdDSA, "key-1");
    odd_typ.typ = Some("dpop+jwt".into());
    let mut no_kid = header(Algorithm::EdDSA, "key-1");
    no_kid.kid = None;
    let encode = |header: &Header, k: &ProviderKey, claims: &Value| {
        jsonwebtoken::encode(header, claims, &k.encoding).unwrap()
    };

    let forgeries: Vec<(&str, String)> = vec![
        ("alg none", alg_none),
        (
            "key confusion: HS256 keyed with the Ed25519 public key",
            sign_hs256(&key.public, &header(Algorithm::HS256, "key-1"), &good),
        ),
        (
            "key confusion: HS256 keyed with the JWK text",
            sign_hs256(
                jwk_text.as_bytes(),
                &header(Algorithm::HS256, "key-1"),
                &good,
            ),
        ),
        (
            "key confusion: HS256 keyed with the EC public key",
            sign_hs256(&ec.public, &header(Algorithm::HS256, "key-ec"), &good),
        ),
        (
            "wrong alg: ES256 token naming the EdDSA key",
            encode(&header(Algorithm::ES256, "key-1"), &ec, &good),
        ),
        (
            "wrong alg: EdDSA token naming the ES256 key",
            encode(&header(Algorithm::EdDSA, "key-ec"), &key, &good),
        ),
        (
            "signed by an unpublished key with a published kid",
            sign(&unpublished, &good),
        ),
        ("unknown kid", sign(&ed25519("key-2"), &good)),
        ("no kid", encode(&no_kid, &key, &good)),
        (
            "expired beyond the leeway",
            sign(&key, &with(good.clone(), json!({"exp": now() - 45}))),
        ),
        (
            "exp as a string",
            sign(
                &key,
                &with(good.clone(), json!({"exp": (now() + 900).to_string()})),
            ),
        ),
        (
            "no exp",
            sign(&key, &with(good.clone(), json!({"exp": null}))),
        ),
        (
            "wrong iss",
            sign(
                &key,
                &with(good.clone(), json!({"iss": "https://evil.example.com"})),
            ),
        ),
        (
            "taskline's iss",
            sign(&key, &with(good.clone(), json!({"iss": "taskline"}))),
        ),
        (
            "no iss",
            sign(&key, &with(good.clone(), json!({"iss": null}))),
        ),
        (
            "wrong aud",
            sign(&key, &with(good.clone(), json!({"aud": "someone-else"}))),
        ),
        (
            "no aud",
            sign(&key, &with(good.clone(), json!({"aud": null}))),
        ),
        (
            "no sub",
            sign(&key, &with(good.clone(), json!({"sub": null}))),
        ),
        (
            "empty sub",
            sign(&key, &with(good.clone(), json!({"sub": " "}))),
        ),
        (
            "not yet valid (nbf)",
            sign(&key, &with(good.clone(), json!({"nbf": now() + 3600}))),
        ),
        ("typ at+jwt", encode(&at_jwt, &key, &good)),
        ("another typ", encode(&odd_typ, &key, &good)),
        ("tampered signature", {
            let token = sign(&key, &good);
            let (rest, signature) = token.rsplit_once('.').unwrap();
            format!("{rest}.{}", signature.chars().rev().collect::<String>())
        }),
        ("tampered payload", {
            let token = sign(&key, &good);
            let parts: Vec<&str> = token.split('.').collect();
            let other = b64(&with(good.clone(), json!({"sub": "someone-else"})));
            format!("{}.{other}.{}", parts[0], parts[2])
        }),
    ];
    for (case, token) in &forgeries {
        assert_bearer_refused(&me(&t, token).await, case);
        let tasks = call(
            tasks::handle,
            &t.app,
            TestRequest::get("/v1/tasks").bearer(token),
        )
        .await;
        assert_bearer_refused(&tasks, case);
    }
    // The unknown kids above do not refetch within the minute.
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_token_expired_within_the_leeway_is_accepted() {
    let key = ed25519("key-1");
    let server = JwksServer::start(&[&key]).await;
    let t = jwks_app(&server).await;
    let token = sign(&key, &with(claims("late"), json!({"exp": now() - 10})));
    me_id(&t, &token).await;
}

#[tokio::test]
async fn the_shared_secret_mode_accepts_hs256_only() {
    let t = secret_app().await;
    let mut plain = Header::new(Algorithm::HS256);
    plain.typ = None;
    let good = claims("secret-user");
    let id = me_id(
        &t,
        &sign_hs256(
            BETTER_AUTH_SECRET.as_bytes(),
            &Header::new(Algorithm::HS256),
            &good,
        ),
    )
    .await;
    assert_eq!(
        me_id(
            &t,
            &sign_hs256(BETTER_AUTH_SECRET.as_bytes(), &plain, &good)
        )
        .await,
        id,
        "typ may be absent"
    );

    let ed = ed25519("key-1");
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let forgeries: Vec<(&str, String)> = vec![
        ("EdDSA", sign(&ed, &good)),
        (
            "HS384 with the secret",
            sign_hs256(
                BETTER_AUTH_SECRET.as_bytes(),
                &Header::new(Algorithm::HS384),
                &good,
            ),
        ),
        (
            "alg none",
            format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&good)),
        ),
        (
            "another secret",
            sign_hs256(
                b"another-secret-0123456789abcdef0123456789",
                &Header::new(Algorithm::HS256),
                &good,
            ),
        ),
        (
            "expired",
            sign_hs256(
                BETTER_AUTH_SECRET.as_bytes(),
                &Header::new(Algorithm::HS256),
                &with(good.clone(), json!({"exp": now() - 45})),
            ),
        ),
        (
            "wrong aud",
            sign_hs256(
                BETTER_AUTH_SECRET.as_bytes(),
                &Header::new(Algorithm::HS256),
                &with(good.clone(), json!({"aud": "x"})),
            ),
        ),
        (
            "taskline's own secret, typ JWT",
            sign_hs256(
                devtools::harness::test_vars("t")["JWT_SECRET"].as_bytes(),
                &Header::new(Algorithm::HS256),
                &with(
                    good.clone(),
                    json!({"iss": "taskline", "aud": "taskline-api"}),
                ),
            ),
        ),
    ];
    for (case, token) in &forgeries {
        assert_bearer_refused(&me(&t, token).await, case);
    }
}

#[tokio::test]
async fn external_tokens_are_refused_when_no_provider_is_configured() {
    let t = TestApp::new().await;
    assert!(t.app.external.is_none());
    let key = ed25519("key-1");
    let token = sign(&key, &claims("nobody"));
    assert_bearer_refused(&me(&t, &token).await, "EdDSA token");
    let token = sign_hs256(
        BETTER_AUTH_SECRET.as_bytes(),
        &Header::new(Algorithm::HS256),
        &claims("nobody"),
    );
    assert_bearer_refused(&me(&t, &token).await, "HS256 token");
}

#[tokio::test]
async fn taskline_tokens_still_work_when_a_provider_is_configured() {
    let t = secret_app().await;
    let (_, token) = t.signed_in_user().await;
    let response = call(
        tasks::handle,
        &t.app,
        TestRequest::get("/v1/tasks").bearer(&token),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text());
}

#[tokio::test]
async fn an_email_of_a_password_account_is_not_merged_with_an_external_identity() {
    let t = secret_app().await;
    let registered = call(
        register::handle,
        &t.app,
        TestRequest::post("/v1/auth/register").json(&json!({
            "email": "taken@example.com", "password": "correct horse battery", "name": "Owner"
        })),
    )
    .await;
    assert_eq!(registered.status(), 201, "{}", registered.text());
    let token = sign_hs256(
        BETTER_AUTH_SECRET.as_bytes(),
        &Header::new(Algorithm::HS256),
        &with(
            claims("intruder"),
            json!({"email": "Taken@Example.com", "email_verified": true}),
        ),
    );
    let response = me(&t, &token).await;
    response.problem(409);
    assert!(
        t.partition(&identity_key(&identity("intruder")))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_deleted_account_is_not_resurrected_by_its_identity() {
    let t = secret_app().await;
    let token = sign_hs256(
        BETTER_AUTH_SECRET.as_bytes(),
        &Header::new(Algorithm::HS256),
        &claims("leaver"),
    );
    let id = me_id(&t, &token).await;
    let deleted = call(
        account::handle,
        &t.app,
        TestRequest::delete("/v1/me").bearer(&token),
    )
    .await;
    assert_eq!(deleted.status(), 204, "{}", deleted.text());
    assert!(t.partition(&id).await.is_empty());
    assert_bearer_refused(&me(&t, &token).await, "token of a deleted account");
    let tasks = call(
        tasks::handle,
        &t.app,
        TestRequest::get("/v1/tasks").bearer(&token),
    )
    .await;
    assert_bearer_refused(&tasks, "token of a deleted account");
}

#[tokio::test]
async fn an_unreachable_or_silent_jwks_is_503_within_bounded_time() {
    let key = ed25519("key-1");
    // Nothing listens on a port just released.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_url = format!("http://{}/jwks", closed.local_addr().unwrap());
    drop(closed);
    // A server that accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/jwks", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    for url in [closed_url, silent_url] {
        let t = TestApp::with_vars(&[
            ("EXTERNAL_JWT_ISSUER", ISSUER),
            ("EXTERNAL_JWT_AUDIENCE", AUDIENCE),
            ("EXTERNAL_JWKS_URL", &url),
        ])
        .await;
        let started = std::time::Instant::now();
        let response = me(&t, &sign(&key, &claims("waiting"))).await;
        response.problem(503);
        assert!(
            started.elapsed() < taskline::auth::FETCH_TIMEOUT + Duration::from_secs(2),
            "{url}: {:?}",
            started.elapsed()
        );
        // Within the minute the provider is not asked again: the next token fails at once.
        let started = std::time::Instant::now();
        me(&t, &sign(&key, &claims("waiting"))).await.problem(503);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}

/// Registers `email` with a password; the response.
async fn register(t: &TestApp, email: &str) -> TestResponse {
    call(
        register::handle,
        &t.app,
        TestRequest::post("/v1/auth/register").json(&json!({
            "email": email, "password": "correct horse battery", "name": "Owner"
        })),
    )
    .await
}

/// A token as Better Auth 1.7's `jwt()` plugin issues it with its defaults: EdDSA, signed by
/// the key its JWKS publishes, no `typ`, `iss` and `aud` both its base URL, the whole user
/// object as claims (`emailVerified` camel-cased).
fn better_auth_token(key: &ProviderKey, sub: &str, email: &str, email_verified: bool) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = None;
    header.kid = Some(key.kid.clone());
    let claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now(),
        "exp": now() + 900,
        "id": sub,
        "name": "Ada Lovelace",
        "email": email,
        "emailVerified": email_verified,
        "image": null,
        "createdAt": "2026-12-01T10:00:00.000Z",
        "updatedAt": "2026-12-01T10:00:00.000Z",
    });
    jsonwebtoken::encode(&header, &claims, &key.encoding).unwrap()
}

#[tokio::test]
async fn a_better_auth_token_as_issued_is_accepted_with_the_jwks_settings() {
    let key = ed25519("ba-key");
    let server = JwksServer::start(&[&key]).await;
    let t = jwks_app(&server).await;
    let token = better_auth_token(&key, "ba-user", "ada@example.com", true);
    assert!(jsonwebtoken::decode_header(&token).unwrap().typ.is_none());
    let response = me(&t, &token).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json()["email"], "ada@example.com");
    assert_eq!(response.json()["name"], "Ada Lovelace");
}

#[tokio::test]
async fn an_unverified_email_is_shown_but_not_reserved() {
    let key = ed25519("ba-key");
    let server = JwksServer::start(&[&key]).await;
    let t = jwks_app(&server).await;
    // Someone signs up at the provider with the owner's address, which it never verified.
    let squatter = better_auth_token(&key, "squatter", "owner@example.com", false);
    let response = me(&t, &squatter).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json()["email"], "owner@example.com");
    // The owner can still register the address.
    let registered = register(&t, "owner@example.com").await;
    assert_eq!(registered.status(), 201, "{}", registered.text());
    // Deleting the squatter's account leaves the owner's reservation alone.
    let deleted = call(
        account::handle,
        &t.app,
        TestRequest::delete("/v1/me").bearer(&squatter),
    )
    .await;
    assert_eq!(deleted.status(), 204, "{}", deleted.text());
    let again = register(&t, "owner@example.com").await;
    again.problem(409);
    let login = call(
        login::handle,
        &t.app,
        TestRequest::login("owner@example.com", "correct horse battery"),
    )
    .await;
    assert_eq!(login.status(), 200, "{}", login.text());
}

#[tokio::test]
async fn a_verified_email_is_reserved_in_either_spelling() {
    let key = ed25519("ba-key");
    let server = JwksServer::start(&[&key]).await;
    let t = jwks_app(&server).await;
    // Better Auth's `emailVerified`.
    let token = better_auth_token(&key, "verified-1", "one@example.com", true);
    assert_eq!(me(&t, &token).await.status(), 200);
    register(&t, "one@example.com").await.problem(409);
    // OpenID Connect's `email_verified`.
    let token = sign(
        &key,
        &with(
            claims("verified-2"),
            json!({"email": "two@example.com", "email_verified": true}),
        ),
    );
    assert_eq!(me(&t, &token).await.status(), 200);
    register(&t, "two@example.com").await.problem(409);
    // Neither claim: not reserved.
    let token = sign(
        &key,
        &with(claims("unverified"), json!({"email": "three@example.com"})),
    );
    assert_eq!(me(&t, &token).await.status(), 200);
    assert_eq!(register(&t, "three@example.com").await.status(), 201);
}

#[tokio::test]
async fn subjects_are_compared_exactly_as_signed() {
    let key = ed25519("ba-key");
    let server = JwksServer::start(&[&key]).await;
    let t = jwks_app(&server).await;
    let padded = me_id(&t, &sign(&key, &claims(" a"))).await;
    let bare = me_id(&t, &sign(&key, &claims("a"))).await;
    assert_ne!(padded, bare);
    assert_eq!(me_id(&t, &sign(&key, &claims(" a"))).await, padded);
}

#[tokio::test]
async fn an_account_without_a_password_is_deleted_only_with_a_fresh_token() {
    let key = ed25519("ba-key");
    let server = JwksServer::start(&[&key]).await;
    let t = jwks_app(&server).await;
    let id = me_id(&t, &sign(&key, &claims("leaver"))).await;
    let delete = |token: String| {
        call(
            account::handle,
            &t.app,
            TestRequest::delete("/v1/me").bearer(&token),
        )
    };
    // Issued 6 minutes ago (still valid), or without `iat`: the sign-in is not fresh.
    let stale = sign(&key, &with(claims("leaver"), json!({"iat": now() - 360})));
    let undated = sign(&key, &with(claims("leaver"), json!({"iat": null})));
    for token in [stale, undated] {
        assert_eq!(me_id(&t, &token).await, id);
        let refused = delete(token).await;
        let problem = refused.problem(403);
        assert!(
            problem["detail"].as_str().unwrap().contains("5 minutes"),
            "{problem}"
        );
    }
    assert!(!t.partition(&id).await.is_empty());
    // A token of a sign-in 4 minutes ago deletes it.
    let fresh = sign(&key, &with(claims("leaver"), json!({"iat": now() - 240})));
    let deleted = delete(fresh).await;
    assert_eq!(deleted.status(), 204, "{}", deleted.text());
    assert!(t.partition(&id).await.is_empty());
}
