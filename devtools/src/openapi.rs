//! Every test response checked against openapi.yaml: its status must be documented for the
//! operation, its required headers present and well-formed, and its body valid against the JSON
//! Schema of that operation, status and content type. The harness ([`crate::harness::call`]) and
//! the end-to-end HTTP client ([`CheckedSend`]) run each response through [`check_response`], so a
//! behaviour and a document that drift apart fail a test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use lambda_http::http::HeaderMap;
use serde_json::Value;

use crate::repo_root;

/// openapi.yaml as JSON, read once per test process.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = repo_root().join("openapi.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
    })
}

/// A compiled validator per JSON pointer into the document (compiling is the expensive part).
fn validator(pointer: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(pointer) {
        return v.clone();
    }
    // The whole document is the root resource, so that `#/components/...` references resolve;
    // its own members are not JSON Schema keywords and are ignored.
    let mut root = document().clone();
    root["$ref"] = Value::String(format!("#{pointer}"));
    let compiled = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("openapi.yaml: the schema at {pointer} does not compile: {e}"));
    let compiled = Arc::new(compiled);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pointer.to_string(), compiled.clone());
    compiled
}

/// Escapes one JSON pointer token (RFC 6901).
fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Follows a local `$ref` (`#/components/...`) until a non-reference object; returns it and its
/// pointer.
fn resolve(mut value: &Value, mut pointer: String) -> (&Value, String) {
    for _ in 0..16 {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let target = reference
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("openapi.yaml: only local references: {reference}"));
                value = document()
                    .pointer(target)
                    .unwrap_or_else(|| panic!("openapi.yaml: dangling reference {reference}"));
                pointer = target.to_string();
            }
            None => return (value, pointer),
        }
    }
    panic!("openapi.yaml: reference loop at {pointer}")
}

/// The documented path template that `path` (without query) matches; literal segments win over
/// `{parameters}`.
fn path_template(path: &str) -> Option<&'static str> {
    let paths = document()["paths"].as_object()?;
    let segments: Vec<&str> = path.split('/').collect();
    let mut best: Option<(&'static str, usize)> = None;
    for template in paths.keys() {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let matches = parts.iter().zip(&segments).all(|(part, segment)| {
            if part.starts_with('{') && part.ends_with('}') {
                !segment.is_empty()
            } else {
                literal += 1;
                part == segment
            }
        });
        if matches && best.is_none_or(|(_, l)| literal > l) {
            best = Some((template.as_str(), literal));
        }
    }
    best.map(|(t, _)| t)
}

fn header_values(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

/// Validates `instance` against the schema at `pointer`; the error lists every violation.
fn validate(pointer: &str, instance: &Value) -> Result<(), String> {
    let validator = validator(pointer);
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// Checks one response against openapi.yaml; `Err` says what disagrees.
pub fn check(
    method: &str,
    path_and_query: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let path = path_and_query
        .split_once('?')
        .map_or(path_and_query, |(p, _)| p);
    let method = method.to_ascii_lowercase();
    let content_type = header_values(headers, "content-type")
        .first()
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_string());
    let problem = || -> Result<(), String> {
        if content_type.as_deref() != Some("application/problem+json") {
            return Err(format!(
                "expected application/problem+json, got {content_type:?}"
            ));
        }
        let body: Value =
            serde_json::from_slice(body).map_err(|e| format!("problem body is not JSON: {e}"))?;
        validate("/components/schemas/Problem", &body)
    };
    let Some(template) = path_template(path) else {
        // Not a documented path: the routers answer 404 problem+json (a CORS preflight to an
        // unknown path too: there is nothing to allow).
        return match status {
            404 => problem(),
            _ => Err(format!(
                "{path} is not in openapi.yaml, so only 404 is documented; got {status}"
            )),
        };
    };
    let path_item = &document()["paths"][template];
    let Some(operation) = path_item.get(method.as_str()) else {
        return match (method.as_str(), status) {
            // A CORS preflight: documented once, in info.description.
            ("options", 204) => Ok(()),
            (_, 405) => {
                if header_values(headers, "allow").is_empty() {
                    return Err("405 without Allow".into());
                }
                problem()
            }
            _ => Err(format!(
                "{method} {template} is not documented, so only 405 is; got {status}"
            )),
        };
    };
    let op_pointer = format!("/paths/{}/{method}", token(template));
    let (key, documented) = documented_response(operation, template, status, body)?;
    let (response, response_pointer) = resolve(
        documented,
        format!("{op_pointer}/responses/{}", token(&key)),
    );

    check_headers(status, response, &response_pointer, headers)?;
    check_body(status, response, &response_pointer, content_type, body)
}

/// The response an operation documents for `status`: its own, its range's (`4XX`) or the
/// default, with the key it is documented under.
fn documented_response<'a>(
    operation: &'a Value,
    template: &str,
    status: u16,
    body: &[u8],
) -> Result<(String, &'a Value), String> {
    let responses = &operation["responses"];
    [
        status.to_string(),
        format!("{}XX", status / 100),
        "default".into(),
    ]
    .into_iter()
    .find_map(|k| responses.get(&k).map(|r| (k, r)))
    .ok_or_else(|| {
        let id = operation["operationId"].as_str().unwrap_or(template);
        format!(
            "{id}: status {status} is not documented (body: {})",
            String::from_utf8_lossy(body)
        )
    })
}

/// The documented headers of a response: required ones present, every value of its schema.
fn check_headers(
    status: u16,
    response: &Value,
    response_pointer: &str,
    headers: &HeaderMap,
) -> Result<(), String> {
    if let Some(documented_headers) = response.get("headers").and_then(Value::as_object) {
        for (name, header) in documented_headers {
            let (header, header_pointer) = resolve(
                header,
                format!("{response_pointer}/headers/{}", token(name)),
            );
            let values = header_values(headers, name);
            if values.is_empty() {
                if header.get("required").and_then(Value::as_bool) == Some(true) {
                    return Err(format!("{status}: required header {name} is missing"));
                }
                continue;
            }
            if header.get("schema").is_some() {
                let schema = format!("{header_pointer}/schema");
                let integer = resolve(&header["schema"], schema.clone()).0["type"] == "integer";
                for value in values {
                    let instance = match (integer, value.parse::<i64>()) {
                        (true, Ok(n)) => Value::from(n),
                        _ => Value::String(value.clone()),
                    };
                    validate(&schema, &instance)
                        .map_err(|e| format!("{status}: header {name}: {value:?}: {e}"))?;
                }
            }
        }
    }

    Ok(())
}

/// The body of a response: none where none is documented, else a documented media type and,
/// for JSON, its schema.
fn check_body(
    status: u16,
    response: &Value,
    response_pointer: &str,
    content_type: Option<String>,
    body: &[u8],
) -> Result<(), String> {
    match response.get("content").and_then(Value::as_object) {
        None if body.is_empty() => Ok(()),
        None => Err(format!(
            "{status}: documented without a body, got {}",
            String::from_utf8_lossy(body)
        )),
        Some(contents) => {
            let media = content_type
                .ok_or_else(|| format!("{status}: a body is documented, got no Content-Type"))?;
            let content = contents.get(&media).ok_or_else(|| {
                format!(
                    "{status}: content type {media} is not documented (documented: {:?})",
                    contents.keys().collect::<Vec<_>>()
                )
            })?;
            if content.get("schema").is_none() {
                return Ok(());
            }
            // Only JSON bodies have a JSON Schema to check; any other documented media type
            // (the docs page's text/html) is checked by its content type alone.
            if !(media == "application/json" || media.ends_with("+json")) {
                return Ok(());
            }
            let instance: Value = serde_json::from_slice(body).map_err(|e| {
                format!(
                    "{status}: body is not JSON ({e}): {}",
                    String::from_utf8_lossy(body)
                )
            })?;
            let schema = format!("{response_pointer}/content/{}/schema", token(&media));
            validate(&schema, &instance).map_err(|e| format!("{status}: {e}; body: {instance}"))
        }
    }
}

/// [`check`], failing the test on a disagreement.
pub fn check_response(
    method: &str,
    path_and_query: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) {
    if let Err(e) = check(method, path_and_query, status, headers, body) {
        panic!("{method} {path_and_query}: the response disagrees with openapi.yaml: {e}");
    }
}

/// A response of the end-to-end HTTP client, already checked against openapi.yaml; reads like
/// `reqwest::Response`.
#[derive(Debug)]
pub struct CheckedResponse {
    status: reqwest::StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl CheckedResponse {
    pub fn status(&self) -> reqwest::StatusCode {
        self.status
    }
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.body)
    }
    pub async fn text(self) -> Result<String, std::string::FromUtf8Error> {
        String::from_utf8(self.body)
    }
}

/// `send_checked()`: `send()` whose response is checked against openapi.yaml.
pub trait CheckedSend {
    fn send_checked(
        self,
    ) -> impl std::future::Future<Output = reqwest::Result<CheckedResponse>> + Send;
}

impl CheckedSend for reqwest::RequestBuilder {
    async fn send_checked(self) -> reqwest::Result<CheckedResponse> {
        let (client, request) = self.build_split();
        let request = request?;
        let method = request.method().to_string();
        let url = request.url();
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let response = client.execute(request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        check_response(&method, &path, status.as_u16(), &headers, &body);
        Ok(CheckedResponse {
            status,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    fn json_headers(media: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static(media));
        headers
    }

    #[test]
    fn a_documented_response_passes() {
        let body = br#"{"status":"ok"}"#;
        check(
            "GET",
            "/v1/health",
            200,
            &json_headers("application/json"),
            body,
        )
        .unwrap();
    }

    #[test]
    fn an_undocumented_status_fails() {
        let e = check(
            "GET",
            "/v1/health",
            418,
            &json_headers("application/json"),
            b"{}",
        )
        .unwrap_err();
        assert!(e.contains("418 is not documented"), "{e}");
    }

    #[test]
    fn a_body_off_its_schema_fails() {
        let e = check(
            "GET",
            "/v1/health",
            200,
            &json_headers("application/json"),
            br#"{"status":"fine"}"#,
        )
        .unwrap_err();
        assert!(e.contains("fine"), "{e}");
    }

    #[test]
    fn a_missing_required_header_fails() {
        let problem = br#"{"type":"https://taskline.dev/problems/too-many-requests","title":"Too Many Requests","status":429,"detail":"x"}"#;
        let e = check(
            "POST",
            "/v1/auth/login",
            429,
            &json_headers("application/problem+json"),
            problem,
        )
        .unwrap_err();
        assert!(e.contains("Retry-After"), "{e}");
    }

    #[test]
    fn path_parameters_and_unknown_paths() {
        assert_eq!(
            path_template("/v1/tasks/0190a1b2-0000-7000-8000-000000000000"),
            Some("/v1/tasks/{id}")
        );
        assert_eq!(path_template("/v1/tasks/"), None);
        assert_eq!(path_template("/v2/tasks"), None);
    }
}
