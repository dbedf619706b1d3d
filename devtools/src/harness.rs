//! Black-box test support: a fresh table (created from template.yaml) per test on a shared
//! DynamoDB Local, and API Gateway HTTP API (v2) events parsed by `lambda_http` exactly as in
//! production, handed to a function's `handle`.
//!
//! Every DynamoDB call a function makes runs under that function's IAM policy as
//! template.yaml grants it ([`crate::iam`]): DynamoDB Local enforces no IAM, so the harness
//! does. [`call`] knows the function from the `handle` it is given (`login::handle` runs as
//! the function whose binary is `login`), so no test can run a function without its policy; a
//! call the policy does not allow fails as it would in AWS, and the test panics naming the
//! function, the action and the resource.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::http::HeaderMap;
use serde_json::{Value, json};
use taskline::App;
use taskline::auth::{FamilyId, UserId};
use taskline::config::Config;
use taskline::http::{Request, Response};
use taskline::store::Store;

use crate::dynamodb_local::{DynamoDbLocal, Storage};
use crate::iam::Policy;
use crate::{free_port, iam, repo_root, tables};

/// Set by scripts/test.sh to share one DynamoDB Local between all test processes.
pub const ENDPOINT_VAR: &str = "TASKLINE_TEST_DYNAMODB_ENDPOINT";

/// The origin the test configuration allows.
pub const ALLOWED_ORIGIN: &str = "http://localhost:5173";

static LOCAL: OnceLock<(String, Option<DynamoDbLocal>)> = OnceLock::new();

/// The DynamoDB endpoint for tests: the shared one, or one started for this process.
pub fn dynamodb_endpoint() -> &'static str {
    &LOCAL
        .get_or_init(|| match std::env::var(ENDPOINT_VAR) {
            Ok(endpoint) if !endpoint.is_empty() => (endpoint, None),
            _ => {
                let port = free_port().expect("free port");
                let server = DynamoDbLocal::start(port, &Storage::InMemory)
                    .expect("start DynamoDB Local (run scripts/bootstrap.sh first)");
                (server.endpoint(), Some(server))
            }
        })
        .0
}

/// Configuration of a test app, as environment variables (overridable per test). Mail goes
/// to the run's maildev (see [`crate::maildev`]).
pub fn test_vars(table: &str) -> HashMap<String, String> {
    let smtp_port = crate::maildev::smtp_port().to_string();
    [
        ("APP_URL", ALLOWED_ORIGIN),
        ("MAIL_FROM", "taskline <no-reply@taskline.test>"),
        ("SMTP_HOST", "127.0.0.1"),
        ("SMTP_PORT", smtp_port.as_str()),
        ("SMTP_TLS", "none"),
        ("TABLE_NAME", table),
        ("ALLOWED_ORIGINS", ALLOWED_ORIGIN),
        ("JWT_SECRET", "test-jwt-secret-0123456789abcdef0123456789"),
        ("JWT_ISSUER", "taskline"),
        ("JWT_AUDIENCE", "taskline-api"),
        ("CURSOR_SECRET", "test-cursor-secret-0123456789abcdef012345"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// An app over its own, freshly created table.
pub struct TestApp {
    pub app: App,
    pub client: Client,
    pub table: String,
    /// Every DynamoDB operation the app (not the test's own `client`) made, in order.
    pub calls: DynamoDbCalls,
}

/// Records the name of each DynamoDB operation a client makes (`"BatchGetItem"`, ...): one
/// entry per operation, however many attempts its retries take. Also counts sequential round
/// trips: a call starting while another is in flight overlaps it and adds none (the latency
/// a request pays is its sequential round trips, not its calls).
#[derive(Debug, Clone, Default)]
pub struct DynamoDbCalls(Arc<Mutex<Recorded>>);

#[derive(Debug, Default)]
struct Recorded {
    names: Vec<String>,
    in_flight: usize,
    round_trips: usize,
}

impl DynamoDbCalls {
    /// The operations recorded so far.
    pub fn names(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|calls| calls.names.clone())
            .unwrap_or_default()
    }

    /// Sequential round trips so far: calls that overlap count once.
    pub fn round_trips(&self) -> usize {
        self.0.lock().map(|calls| calls.round_trips).unwrap_or(0)
    }

    /// The operations made while `work` ran, and how many sequential round trips they took.
    pub async fn trips_during<T>(
        &self,
        work: impl std::future::Future<Output = T>,
    ) -> (T, Vec<String>, usize) {
        let before = self.round_trips();
        let (out, names) = self.during(work).await;
        (out, names, self.round_trips() - before)
    }

    /// The operations made while `work` ran (other tasks' calls meanwhile count too).
    pub async fn during<T>(&self, work: impl std::future::Future<Output = T>) -> (T, Vec<String>) {
        let before = self.names().len();
        let out = work.await;
        let names = self.names();
        (out, names.get(before..).unwrap_or_default().to_vec())
    }

    /// `client` with this recorder attached.
    fn attach(&self, client: &Client) -> Client {
        let config = client
            .config()
            .to_builder()
            .interceptor(self.clone())
            .build();
        Client::from_conf(config)
    }
}

/// The IAM check of every DynamoDB call: the call runs as the function of the [`call`] (or
/// [`as_function`]) it belongs to, and must be allowed by that function's policy.
#[derive(Debug, Clone)]
struct IamCheck(Arc<HashMap<String, Policy>>);

impl IamCheck {
    /// The policies of template.yaml's functions, over the test's table `table`.
    fn for_table(table: &str) -> Self {
        let tables = tables::from_template(&repo_root().join("template.yaml"))
            .expect("read template.yaml")
            .into_iter()
            .map(|t| (t.logical_id, table.to_string()))
            .collect();
        let policies = iam::function_policies(&repo_root().join("template.yaml"), &tables)
            .unwrap_or_else(|e| panic!("the functions' policies of template.yaml: {e}"));
        Self(Arc::new(policies))
    }

    /// `client` with this check attached.
    fn attach(&self, client: &Client) -> Client {
        let config = client
            .config()
            .to_builder()
            .interceptor(self.clone())
            .build();
        Client::from_conf(config)
    }
}

impl aws_sdk_dynamodb::config::Intercept for IamCheck {
    fn name(&self) -> &'static str {
        "IamCheck"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<
            '_,
        >,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let policy = |function: &String| match self.0.get(function) {
            Some(policy) => policy.check(context.input()),
            None => Err(format!("template.yaml has no policy for {function}")),
        };
        let verdict = match running_functions().as_slice() {
            // The test's own use of the store, outside any function.
            [] => return Ok(()),
            [function] => policy(function),
            // A task spawned while several functions run: it must be allowed whichever of
            // them spawned it (never a pass a call of one of them would not get).
            several => several
                .iter()
                .map(policy)
                .collect::<Result<Vec<()>, String>>()
                .map(|_| ())
                .map_err(|denied| {
                    format!("(a task spawned while {several:?} ran, checked against each) {denied}")
                }),
        };
        verdict.map_err(|denied| {
            if let Ok(mut denials) = DENIALS.lock() {
                denials.push(denied.clone());
            }
            // As AWS would answer: the call fails.
            format!("AccessDeniedException (taskline test harness): {denied}").into()
        })
    }
}

/// Calls the policy check refused since the last look (reported by the [`as_function`] that
/// ends next, whichever test made them: each test is its own process under nextest).
static DENIALS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The functions whose calls are in progress in this process, one entry per call: a DynamoDB
/// call made outside any function's poll (a task the function spawned) belongs to them.
static IN_FLIGHT: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    /// The functions being polled on this thread, innermost last.
    static POLLING: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The functions (template logical ids) a DynamoDB call made now may run as: the one being
/// polled on this thread; else (a task a function spawned, polled on its own) every function
/// with a call in flight; none outside every function (the test's own setup).
fn running_functions() -> Vec<String> {
    if let Some(function) = POLLING.with(|p| p.borrow().last().cloned()) {
        return vec![function];
    }
    let mut in_flight = IN_FLIGHT.lock().map(|f| f.clone()).unwrap_or_default();
    in_flight.sort();
    in_flight.dedup();
    in_flight
}

/// The logical id in template.yaml of the function built as `binary` (`login` ->
/// `LoginFunction`).
pub fn function_of_binary(binary: &str) -> String {
    static FUNCTIONS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let functions = FUNCTIONS.get_or_init(Mutex::default);
    let mut functions = functions.lock().expect("function names");
    functions
        .entry(binary.to_string())
        .or_insert_with(|| {
            iam::function_of_binary(&repo_root().join("template.yaml"), binary)
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .clone()
}

/// A future polled as `function`'s: the DynamoDB calls it makes run under that policy.
struct Polled<F> {
    function: String,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Polled<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let function = self.function.clone();
        POLLING.with(|p| p.borrow_mut().push(function));
        let out = self.inner.as_mut().poll(cx);
        POLLING.with(|p| p.borrow_mut().pop());
        out
    }
}

/// Removes one in-flight entry of its function when the call ends (or is dropped).
struct InFlight(String);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut in_flight) = IN_FLIGHT.lock()
            && let Some(at) = in_flight.iter().position(|f| *f == self.0)
        {
            in_flight.remove(at);
        }
    }
}

/// Runs `work` as the function built as `binary` (`"login"`): its DynamoDB calls must be
/// allowed by that function's policy in template.yaml. Panics, naming each refused call,
/// if one was not.
pub async fn as_function<T>(binary: &str, work: impl Future<Output = T>) -> T {
    let function = function_of_binary(binary);
    if let Ok(mut in_flight) = IN_FLIGHT.lock() {
        in_flight.push(function.clone());
    }
    let guard = InFlight(function.clone());
    let out = Polled {
        function,
        inner: Box::pin(work),
    }
    .await;
    drop(guard);
    let denied = DENIALS
        .lock()
        .map(|mut d| std::mem::take(&mut *d))
        .unwrap_or_default();
    assert!(
        denied.is_empty(),
        "IAM (template.yaml) refused calls of the function:\n{}",
        denied.join("\n")
    );
    out
}

impl aws_sdk_dynamodb::config::Intercept for DynamoDbCalls {
    fn name(&self) -> &'static str {
        "DynamoDbCalls"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<
            '_,
        >,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        // The type-erased input prints as `TypeErasedBox[..]:<Operation>Input { .. }`.
        let debug = format!("{:?}", context.input());
        let name = debug
            .split_once("]:")
            .map_or(debug.as_str(), |(_, rest)| rest)
            .split([' ', '{'])
            .next()
            .unwrap_or_default()
            .trim_end_matches("Input")
            .to_string();
        if let Ok(mut calls) = self.0.lock() {
            calls.names.push(name);
            if calls.in_flight == 0 {
                calls.round_trips += 1;
            }
            calls.in_flight += 1;
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::FinalizerInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if let Ok(mut calls) = self.0.lock() {
            calls.in_flight = calls.in_flight.saturating_sub(1);
        }
        Ok(())
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_vars(&[]).await
    }

    /// An app whose configuration differs from [`test_vars`] by `overrides`.
    pub async fn with_vars(overrides: &[(&str, &str)]) -> Self {
        let table = format!("test-{}", uuid::Uuid::now_v7().simple());
        let client = tables::local_client(dynamodb_endpoint()).await;
        let definitions =
            tables::from_template(&repo_root().join("template.yaml")).expect("read template.yaml");
        assert_eq!(definitions.len(), 1, "the harness expects one table");
        definitions[0]
            .create(&client, &table)
            .await
            .expect("create table");
        let mut vars = test_vars(&table);
        for (k, v) in overrides {
            vars.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_vars(&vars).expect("test configuration");
        let calls = DynamoDbCalls::default();
        let iam = IamCheck::for_table(&table);
        let app = with_test_outbox(App::new(
            config,
            Store::new(iam.attach(&calls.attach(&client)), table.clone()),
        ));
        Self {
            app,
            client,
            table,
            calls,
        }
    }

    /// Another app over this test's table, configured as [`test_vars`] plus `overrides` (for
    /// one request with other limits; its calls are not recorded, but checked against the
    /// functions' policies all the same).
    pub fn app_with(&self, overrides: &[(&str, &str)]) -> App {
        let mut vars = test_vars(&self.table);
        for (k, v) in overrides {
            vars.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_vars(&vars).expect("test configuration");
        let client = IamCheck::for_table(&self.table).attach(&self.client);
        with_test_outbox(App::new(config, Store::new(client, self.table.clone())))
    }

    /// A user that exists in the store, and a valid access token for it (of a live session).
    /// Writes the bare user item and a session's family item directly, for tests of features
    /// other than registration and login.
    pub async fn signed_in_user(&self) -> (UserId, String) {
        let user = UserId::generate();
        self.client
            .put_item()
            .table_name(&self.table)
            .item(taskline::store::PK, AttributeValue::S(user.to_string()))
            .item(
                taskline::store::SK,
                AttributeValue::S(taskline::store::USER_SK.into()),
            )
            .send()
            .await
            .expect("put user item");
        let session = FamilyId::generate();
        self.client
            .put_item()
            .table_name(&self.table)
            .item(taskline::store::PK, AttributeValue::S(user.to_string()))
            .item(
                taskline::store::SK,
                AttributeValue::S(format!("REFRESH#{session}")),
            )
            .send()
            .await
            .expect("put session family item");
        let token = self
            .app
            .tokens
            .issue(user, session, 0)
            .expect("issue token")
            .access_token;
        (user, token)
    }

    /// Every item of one partition, read directly from DynamoDB.
    pub async fn partition(&self, partition_key: &str) -> Vec<HashMap<String, AttributeValue>> {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", taskline::store::PK)
            .expression_attribute_values(":pk", AttributeValue::S(partition_key.into()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("query partition")
    }
}

/// `app` sending its mails over SMTP to the mail settings of its configuration.
fn with_test_outbox(app: App) -> App {
    match app.config.mail.clone() {
        Some(settings) => app.with_outbox(crate::maildev::TestOutbox::shared_for(&settings)),
        None => app,
    }
}

/// A request as API Gateway (HTTP API, payload 2.0) would deliver it.
#[derive(Debug, Clone)]
pub struct TestRequest {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    cookies: Vec<String>,
    body: Option<String>,
    source_ip: String,
}

impl TestRequest {
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (path_and_query.to_string(), None),
        };
        Self {
            method: method.to_string(),
            path,
            query,
            headers: Vec::new(),
            cookies: Vec::new(),
            body: None,
            source_ip: "127.0.0.1".to_string(),
        }
    }
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }
    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }
    pub fn put(path: &str) -> Self {
        Self::new("PUT", path)
    }
    pub fn patch(path: &str) -> Self {
        Self::new("PATCH", path)
    }
    pub fn delete(path: &str) -> Self {
        Self::new("DELETE", path)
    }
    pub fn options(path: &str) -> Self {
        Self::new("OPTIONS", path)
    }

    /// `POST /v1/auth/register` of `email` with `password` (name "Tester"), as the SPA sends it.
    pub fn registration(email: &str, password: &str) -> Self {
        Self::post("/v1/auth/register")
            .json(&json!({"email": email, "password": password, "name": "Tester"}))
    }
    /// `POST /v1/auth/login` of `email` with `password` (JSON).
    pub fn login(email: &str, password: &str) -> Self {
        Self::post("/v1/auth/login").json(&json!({"email": email, "password": password}))
    }
    /// `POST /v1/auth/refresh` presenting the refresh cookie `value`.
    pub fn refresh(value: &str) -> Self {
        Self::post("/v1/auth/refresh").refresh_cookie(value)
    }
    /// `POST /v1/auth/logout` presenting the refresh cookie `value`.
    pub fn logout(value: &str) -> Self {
        Self::post("/v1/auth/logout").refresh_cookie(value)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }
    /// A cookie as `name=value`.
    pub fn cookie(mut self, cookie: &str) -> Self {
        self.cookies.push(cookie.to_string());
        self
    }
    /// Every cookie `response` set (a browser returning with what its last answer stored).
    pub fn cookies_of(self, response: &TestResponse) -> Self {
        response.cookies().iter().fold(self, |req, (name, value)| {
            req.cookie(&format!("{name}={value}"))
        })
    }
    /// The device cookie with `value`.
    pub fn device_cookie(self, value: &str) -> Self {
        self.cookie(&format!("{}={value}", taskline::http::DEVICE_COOKIE))
    }
    /// The refresh cookie with `value`.
    pub fn refresh_cookie(self, value: &str) -> Self {
        self.cookie(&format!("{}={value}", taskline::http::REFRESH_COOKIE))
    }
    /// The client's address as API Gateway reports it (`requestContext.http.sourceIp`;
    /// default `127.0.0.1`).
    pub fn source_ip(mut self, ip: &str) -> Self {
        self.source_ip = ip.to_string();
        self
    }
    pub fn origin(self, origin: &str) -> Self {
        self.header("origin", origin)
    }
    pub fn json(self, body: &Value) -> Self {
        self.body("application/json", &body.to_string())
    }
    pub fn body(mut self, content_type: &str, body: &str) -> Self {
        self.headers
            .push(("content-type".into(), content_type.to_string()));
        self.body = Some(body.to_string());
        self
    }

    /// The API Gateway v2 event (what events/*.json hold).
    pub fn to_event(&self) -> Value {
        let mut headers = serde_json::Map::new();
        for (k, v) in &self.headers {
            headers.insert(k.clone(), Value::String(v.clone()));
        }
        let mut params: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(q) = &self.query {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
            for (k, v) in pairs {
                params.entry(k).or_default().push(v);
            }
        }
        let params: serde_json::Map<String, Value> = params
            .into_iter()
            .map(|(k, v)| (k, Value::String(v.join(","))))
            .collect();
        json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": self.path,
            "rawQueryString": self.query.clone().unwrap_or_default(),
            "cookies": self.cookies,
            "headers": headers,
            "queryStringParameters": params,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "local",
                "domainName": "localhost",
                "domainPrefix": "localhost",
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": self.source_ip,
                    "userAgent": "taskline-tests"
                },
                "requestId": uuid::Uuid::now_v7().to_string(),
                "routeKey": "$default",
                "stage": "$default",
                "time": "23/Nov/2026:08:00:00 +0000",
                "timeEpoch": 1_795_420_800_000_i64
            },
            "body": self.body,
            "isBase64Encoded": false
        })
    }

    fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    pub fn into_request(self) -> Request {
        parse_event(&self.to_event().to_string())
    }
}

/// The keys of a JSON object, sorted: asserts a response body has exactly the fields it should.
pub fn json_keys(body: &Value) -> Vec<&str> {
    body.as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Parses an API Gateway event the way the Lambda runtime does.
pub fn parse_event(event: &str) -> Request {
    lambda_http::request::from_str(event).expect("a valid API Gateway v2 event")
}

/// The password the per-endpoint helpers of the tests register accounts with.
pub const TEST_PASSWORD: &str = "correct horse battery";

/// One session of an account, as a client holds it: its access token and refresh cookie value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub access_token: String,
    pub refresh_cookie: String,
}

impl Session {
    /// The session (refresh family) id of the access token, as `app` verifies it.
    pub fn id(&self, app: &App) -> FamilyId {
        app.tokens
            .verify(&self.access_token)
            .expect("a valid access token")
            .session
    }
}

/// A response with helpers for assertions.
#[derive(Debug)]
pub struct TestResponse(pub Response);

impl TestResponse {
    pub fn status(&self) -> u16 {
        self.0.status().as_u16()
    }
    pub fn headers(&self) -> &HeaderMap {
        self.0.headers()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.0
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_string())
    }
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.0
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .collect()
    }
    /// The value of the one refresh cookie this response sets (asserts there is exactly one).
    pub fn refresh_cookie(&self) -> String {
        self.cookie(taskline::http::REFRESH_COOKIE)
            .expect("the refresh cookie")
    }
    /// The value of the one device cookie this response sets (a successful login's).
    pub fn device_cookie(&self) -> String {
        self.cookie(taskline::http::DEVICE_COOKIE)
            .expect("the device cookie")
    }
    /// The value of the cookie `name` this response sets, if it sets it (asserts at most once).
    pub fn cookie(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .cookies()
            .into_iter()
            .filter(|(n, _)| n == name)
            .map(|(_, value)| value)
            .collect();
        assert!(values.len() <= 1, "{name} set twice: {values:?}");
        values.into_iter().next()
    }
    /// Every cookie this response sets, as `(name, value)`: what a browser would store.
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.header_all("set-cookie")
            .iter()
            .filter_map(|set_cookie| {
                let pair = set_cookie.split(';').next()?;
                let (name, value) = pair.split_once('=')?;
                Some((name.trim().to_string(), value.trim().to_string()))
            })
            .collect()
    }
    /// The session a login or refresh started (asserts a 200 and its refresh cookie).
    pub fn session(&self) -> Session {
        assert_eq!(self.status(), 200, "{}", self.text());
        Session {
            access_token: self.json()["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
            refresh_cookie: self.refresh_cookie(),
        }
    }
    /// The `id` of what this response created (asserts a 201).
    pub fn created_id(&self) -> String {
        assert_eq!(self.status(), 201, "{}", self.text());
        self.json()["id"].as_str().expect("id").to_string()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.0.body().as_ref()).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(self.0.body().as_ref())
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.text()))
    }
    /// Asserts the response is problem+json with `status`, and returns its body.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status(), status, "body: {}", self.text());
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(
            body["title"].is_string() && body["type"].is_string() && body["detail"].is_string()
        );
        body
    }
}

/// The binary (crate) a function's `handle` belongs to: `login::handle` -> `login`.
fn binary_of<F>() -> &'static str {
    let name = std::any::type_name::<F>();
    match name.split_once("::") {
        Some((krate, "handle")) => krate,
        _ => panic!(
            "call() takes a function's own `handle` (e.g. `login::handle`), not {name}: the \
             harness runs it under that function's policy in template.yaml"
        ),
    }
}

/// Runs a function's `handle` (e.g. `login::handle`) over a test request, as that function:
/// its DynamoDB calls must be allowed by its policy in template.yaml (see [`as_function`]).
pub async fn call<'a, F, Fut>(handle: F, app: &'a App, req: TestRequest) -> TestResponse
where
    F: FnOnce(&'a App, Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let (method, path) = (req.method.clone(), req.path_and_query());
    let response = as_function(binary_of::<F>(), handle(app, req.into_request())).await;
    // Every integration test response is checked against the document (drift fails a test).
    crate::openapi::check_response(
        &method,
        &path,
        response.status().as_u16(),
        response.headers(),
        response.body().as_ref(),
    );
    TestResponse(response)
}
