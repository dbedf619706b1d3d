//! Every file of events/ (the sample API Gateway HTTP API v2 events that
//! `cargo lambda invoke --data-file` sends) is parsed by `lambda_http` exactly as in Lambda,
//! routed by its `routeKey` to the function template.yaml binds that route to, and answered by
//! that function's `handle` against DynamoDB Local, in the order a client would send them.
//!
//! Placeholders in the files: `{{access_token}}` (a Bearer token) and `{{refresh_token}}` (the
//! refresh cookie) are replaced by the ones the earlier events obtained; the sample task id is
//! replaced by the id of the task `tasks-create.json` created, the sample category id by the
//! id of the category `categories-create.json` created.

use std::collections::{BTreeMap, BTreeSet};

use devtools::harness::{ALLOWED_ORIGIN, TestApp, TestResponse, parse_event};
use devtools::repo_root;
use serde_json::Value;
use taskline::App;
use taskline::http::{Request, Response};

/// The task id written in events/task-*.json.
const SAMPLE_TASK_ID: &str = "01936f1e-8f3a-7c41-9d2b-5a7e0c4f8b21";
/// The category id written in events/category-*.json (but category-get-unknown.json).
const SAMPLE_CATEGORY_ID: &str = "01936f1e-8f3a-7c41-9d2b-5a7e0c4f8c30";

/// Every event file, in the order a client sends them, with the status it must get.
const CASES: &[(&str, u16)] = &[
    ("health.json", 200),
    ("openapi.json", 200),
    ("docs.json", 200),
    ("not-found.json", 404),
    ("tasks-preflight.json", 204),
    ("register.json", 201),
    ("register-malformed-body.json", 400),
    ("register-invalid-fields.json", 422),
    ("login.json", 200),
    ("login-form.json", 200),
    ("login-wrong-password.json", 401),
    ("refresh.json", 200),
    ("refresh-bad-cookie.json", 401),
    ("tasks-list-no-token.json", 401),
    ("tasks-list-bad-token.json", 401),
    ("tasks-create.json", 201),
    ("tasks-create-malformed-body.json", 400),
    ("tasks-list.json", 200),
    ("task-get.json", 200),
    ("task-put.json", 200),
    ("task-patch.json", 200),
    ("task-delete.json", 204),
    // Safe creates: a PUT under a client-generated id (create only), a POST with an
    // Idempotency-Key.
    ("task-put-create.json", 201),
    ("tasks-create-idempotent.json", 201),
    ("categories-create.json", 201),
    ("categories-list.json", 200),
    ("category-get.json", 200),
    ("category-patch.json", 200),
    ("category-get-unknown.json", 404),
    ("category-delete.json", 204),
    ("me.json", 200),
    // A new verification link (registration sent the first).
    ("me-verification-email.json", 202),
    ("me-patch.json", 200),
    ("me-password-wrong.json", 403),
    // Recovery by email: a reset link is mailed (202 whatever the email); links whose token
    // was never issued are refused.
    ("password-reset.json", 202),
    ("password-reset-confirm-invalid.json", 400),
    ("verify-email-invalid.json", 400),
    ("sessions-list.json", 200),
    ("session-delete-unknown.json", 404),
    // Ends the sessions of the other logins (login-form.json's), not the one of the token.
    ("sessions-end-others.json", 204),
    // Deletion asks for the password again: a wrong one deletes nothing.
    ("me-delete-wrong-password.json", 403),
    // Deletion before logout: logging out ends the session, and with it the access token
    // the deletion is sent with. Logging out of a deleted account still succeeds.
    ("me-delete.json", 204),
    ("logout.json", 204),
];

fn events_dir() -> std::path::PathBuf {
    repo_root().join("events")
}

fn read_event(file: &str) -> Value {
    let path = events_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"))
}

/// Route key (`ANY /v1/tasks/{id}`, `$default`) -> the binary template.yaml binds it to.
fn template_routes() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).expect("template.yaml");
    let template: serde_yaml::Value = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    let mut routes = BTreeMap::new();
    for (_, resource) in template["Resources"].as_mapping().expect("Resources") {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("every function names its Binary")
            .to_string();
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let properties = &event["Properties"];
            assert_eq!(
                properties["PayloadFormatVersion"].as_str(),
                Some("2.0"),
                "{binary}: every route uses payload format 2.0"
            );
            let path = properties["Path"].as_str().expect("Path");
            let method = properties["Method"].as_str().expect("Method");
            let key = if path == "$default" {
                path.to_string()
            } else {
                format!("{} {path}", method.to_ascii_uppercase())
            };
            assert!(
                routes.insert(key.clone(), binary.clone()).is_none(),
                "route {key} bound twice"
            );
        }
    }
    routes
}

/// Whether `path` matches a route path with `{param}` segments.
fn path_matches(route_path: &str, path: &str) -> bool {
    let (route, actual): (Vec<_>, Vec<_>) =
        (route_path.split('/').collect(), path.split('/').collect());
    route.len() == actual.len()
        && route
            .iter()
            .zip(&actual)
            .all(|(r, a)| (r.starts_with('{') && r.ends_with('}') && !a.is_empty()) || r == a)
}

/// Runs the function named in template.yaml, under its policy there; its response is checked
/// against openapi.yaml.
async fn handle(function: &str, app: &App, req: Request) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let response = devtools::harness::as_function(function, dispatch(function, app, req)).await;
    devtools::openapi::check_response(
        &method,
        &path,
        response.status().as_u16(),
        response.headers(),
        response.body().as_ref(),
    );
    response
}

async fn dispatch(function: &str, app: &App, req: Request) -> Response {
    match function {
        "register" => register::handle(app, req).await,
        "login" => login::handle(app, req).await,
        "refresh" => refresh::handle(app, req).await,
        "tasks" => tasks::handle(app, req).await,
        "account" => account::handle(app, req).await,
        "recovery" => recovery::handle(app, req).await,
        other => panic!("template.yaml names a function this test does not know: {other}"),
    }
}

/// The value of the refresh cookie a response sets, if any.
fn refresh_cookie(response: &TestResponse) -> Option<String> {
    response
        .header_all("set-cookie")
        .iter()
        .find_map(|c| {
            c.strip_prefix(taskline::http::REFRESH_COOKIE)?
                .strip_prefix('=')
        })
        .map(|rest| rest.split(';').next().unwrap_or_default().to_string())
        .filter(|value| !value.is_empty())
}

#[test]
fn every_route_has_an_event_and_every_event_a_route_and_a_case() {
    let routes = template_routes();
    let files: BTreeSet<String> = std::fs::read_dir(events_dir())
        .expect("events/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    let cases: BTreeSet<String> = CASES.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(
        files, cases,
        "every events/*.json file has exactly one case here"
    );

    let mut covered = BTreeSet::new();
    for file in &files {
        let event = read_event(file);
        let route_key = event["routeKey"].as_str().expect("routeKey");
        assert_eq!(event["version"], "2.0", "{file}: HTTP API payload 2.0");
        assert_eq!(event["requestContext"]["routeKey"], route_key, "{file}");
        assert_eq!(event["requestContext"]["stage"], "$default", "{file}");
        assert!(
            routes.contains_key(route_key),
            "{file}: route {route_key} is not in template.yaml"
        );
        let path = event["rawPath"].as_str().expect("rawPath");
        assert_eq!(event["requestContext"]["http"]["path"], path, "{file}");
        if let Some((_, route_path)) = route_key.split_once(' ') {
            assert!(
                path_matches(route_path, path),
                "{file}: {path} is not a path of {route_key}"
            );
        }
        covered.insert(route_key.to_string());
    }
    let missing: Vec<_> = routes.keys().filter(|r| !covered.contains(*r)).collect();
    assert!(
        missing.is_empty(),
        "routes without an event file: {missing:?}"
    );
}

#[test]
fn template_binds_every_route_of_the_api_to_its_function() {
    let routes = template_routes();
    let expected = [
        ("ANY /v1/auth/register", "register"),
        ("ANY /v1/auth/login", "login"),
        ("ANY /v1/auth/refresh", "refresh"),
        ("ANY /v1/auth/logout", "refresh"),
        ("ANY /v1/tasks", "tasks"),
        ("ANY /v1/tasks/{id}", "tasks"),
        ("ANY /v1/categories", "tasks"),
        ("ANY /v1/categories/{id}", "tasks"),
        ("ANY /v1/me", "account"),
        ("ANY /v1/me/password", "account"),
        ("ANY /v1/me/verification-email", "account"),
        ("ANY /v1/auth/password-reset", "recovery"),
        ("ANY /v1/auth/password-reset/confirm", "recovery"),
        ("ANY /v1/auth/verify-email", "recovery"),
        ("ANY /v1/sessions", "account"),
        ("ANY /v1/sessions/{id}", "account"),
        ("ANY /v1/health", "account"),
        ("ANY /v1/openapi.json", "account"),
        ("ANY /docs", "account"),
        ("$default", "account"),
    ];
    let expected: BTreeMap<String, String> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(routes, expected);
}

#[tokio::test]
async fn every_event_gets_its_expected_answer_from_its_function() {
    let t = TestApp::new().await;
    let routes = template_routes();
    // Bearer and cookie events get the tokens that login.json and refresh.json obtained.
    let mut access_token = String::from("no-access-token-obtained-yet");
    let mut refresh_token = String::from("no-refresh-token-obtained-yet");
    let mut task_id = SAMPLE_TASK_ID.to_string();
    let mut category_id = SAMPLE_CATEGORY_ID.to_string();

    for (file, expected) in CASES {
        let text = std::fs::read_to_string(events_dir().join(file))
            .expect("event file")
            .replace("{{access_token}}", &access_token)
            .replace("{{refresh_token}}", &refresh_token)
            .replace(SAMPLE_TASK_ID, &task_id)
            .replace(SAMPLE_CATEGORY_ID, &category_id);
        let event: Value = serde_json::from_str(&text).expect("JSON");
        let function = &routes[event["routeKey"].as_str().expect("routeKey")];
        let request = parse_event(&text);
        let response = TestResponse(handle(function, &t.app, request).await);

        assert_eq!(
            response.status(),
            *expected,
            "{file} -> {function}: {}",
            response.text()
        );
        if *expected >= 400 {
            response.problem(*expected);
        }
        // The events carry the SPA's Origin: every answer is CORS-approved for it.
        assert_eq!(
            response.header("access-control-allow-origin").as_deref(),
            Some(ALLOWED_ORIGIN),
            "{file}"
        );

        match *file {
            "tasks-preflight.json" => {
                let methods = response
                    .header("access-control-allow-methods")
                    .unwrap_or_default();
                assert!(methods.contains("POST"), "{file}: {methods}");
            }
            "tasks-list-no-token.json" | "tasks-list-bad-token.json" => {
                let challenge = response.header("www-authenticate").unwrap_or_default();
                assert!(challenge.starts_with("Bearer"), "{file}: {challenge}");
            }
            "login.json" | "refresh.json" => {
                access_token = response.json()["access_token"]
                    .as_str()
                    .expect("access_token")
                    .to_string();
                refresh_token = refresh_cookie(&response).expect("a refresh cookie");
            }
            "tasks-create.json" => {
                task_id = response.json()["id"].as_str().expect("id").to_string();
                assert_eq!(
                    response.header("location"),
                    Some(format!("/v1/tasks/{task_id}"))
                );
            }
            "categories-create.json" => {
                category_id = response.json()["id"].as_str().expect("id").to_string();
                assert_eq!(response.json()["color"], "#0EA5E9");
            }
            "category-patch.json" => assert_eq!(response.json()["name"], "Work stuff"),
            "me.json" => assert_eq!(response.json()["email"], "ada@example.com"),
            "openapi.json" => assert_eq!(response.json()["openapi"], "3.1.0"),
            "docs.json" => assert!(response.header("content-security-policy").is_some()),
            _ => {}
        }
    }
}
