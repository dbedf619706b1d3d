//! The HTTP edge every function shares: routing (404/405), CORS, `Cache-Control`, the one log
//! line per request, and response builders. Functions supply a route table and a handler.

mod body;
mod client_address;
mod device_cookie;
mod idempotency;
mod precondition;
mod problem;
mod refresh_cookie;
mod router;

pub use body::{Field, Fields, MAX_BODY_BYTES, form_or_json_object, json_object, string};
pub use client_address::{
    ClientAddress, ORIGIN_VERIFY_HEADER, VIEWER_ADDRESS_HEADER, client_address,
};
pub use device_cookie::{DEVICE_COOKIE, device_cookie, device_cookie_of};
pub use idempotency::idempotency_key;
pub use problem::PROBLEM_BASE;
pub use refresh_cookie::{
    REFRESH_COOKIE, cleared_refresh_cookie, refresh_cookie, refresh_token_of, refresh_unauthorized,
    require_allowed_origin,
};
pub use router::{Auth, Matched, Route, match_route, served};

use std::time::Instant;

use lambda_http::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, RequestExt};
use serde::Serialize;

use crate::config::Config;
use crate::error::ApiError;

pub type Request = lambda_http::Request;
pub type Response = lambda_http::Response<Body>;

/// Headers an SPA may send cross-origin, and response headers it may read.
const ALLOWED_REQUEST_HEADERS: &str =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key";
const EXPOSED_RESPONSE_HEADERS: &str = "ETag, Location, Retry-After";
/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE_SECS: &str = "600";

/// One request as the edge sees it from start to end: when it began, what the log line and
/// the CORS headers need of it. Begun before routing, finished with the response.
#[derive(Debug)]
pub struct Exchange {
    started: Instant,
    method: Method,
    request_id: String,
    origin: Option<String>,
    route: &'static str,
}

/// Where routing sends a request: to an endpoint (with its route's authentication), or
/// straight to a response (a preflight, a 404, a 405).
#[derive(Debug)]
pub enum Routed<E: 'static> {
    To(Auth, E, Matched<E>),
    Answered(Response),
}

impl Exchange {
    /// Routes `req` among `routes`: unknown paths are 404, known paths with other methods 405
    /// (with `Allow`), `OPTIONS` a preflight.
    pub fn begin<E: Copy>(routes: &'static [Route<E>], req: &Request) -> (Self, Routed<E>) {
        let path = request_path(req);
        let matched = match_route(routes, &path);
        let exchange = Self {
            started: Instant::now(),
            method: req.method().clone(),
            request_id: request_id(req),
            origin: header_str(req.headers(), header::ORIGIN).map(str::to_owned),
            route: matched.as_ref().map_or("(unknown)", |m| m.route.template),
        };
        let routed = if exchange.method == Method::OPTIONS {
            Routed::Answered(preflight(matched.as_ref().map(|m| m.route.methods())))
        } else {
            match matched {
                None => Routed::Answered(ApiError::NotFound("no such route").into_response()),
                Some(m) => match m.endpoint(&exchange.method) {
                    None => Routed::Answered(
                        ApiError::MethodNotAllowed {
                            allow: allow_list(m.route.methods()),
                        }
                        .into_response(),
                    ),
                    Some((auth, &endpoint)) => Routed::To(auth, endpoint, m),
                },
            }
        };
        (exchange, routed)
    }

    /// The response as sent: errors were mapped to problem+json already; CORS and
    /// `Cache-Control` are added here, and the one log line of the request is written.
    pub fn finish(self, config: &Config, mut response: Response) -> Response {
        let headers = response.headers_mut();
        apply_cors(headers, config, self.origin.as_deref());
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
        // The one line per request. Never headers or bodies: they carry tokens and passwords.
        tracing::info!(
            request_id = %self.request_id,
            method = %self.method,
            route = self.route,
            status = response.status().as_u16(),
            latency_ms = self.started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
        response
    }
}

fn allow_list(mut methods: Vec<Method>) -> Vec<Method> {
    methods.push(Method::OPTIONS);
    methods
}

/// `OPTIONS` on any path answers 204; CORS headers are added only for an allowed origin.
fn preflight(methods: Option<Vec<Method>>) -> Response {
    let all = || {
        vec![
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ]
    };
    let allow = allow_list(methods.unwrap_or_else(all))
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = empty(StatusCode::NO_CONTENT);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        headers.insert(header::ALLOW, value.clone());
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, value);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOWED_REQUEST_HEADERS),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(PREFLIGHT_MAX_AGE_SECS),
    );
    response
}

/// CORS as docs/API.md: echo an allowed origin with credentials; a foreign origin gets
/// no CORS headers at all (and so no preflight approval either).
fn apply_cors(headers: &mut HeaderMap, config: &Config, origin: Option<&str>) {
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    let allowed = origin
        .filter(|o| config.is_allowed_origin(o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    match allowed {
        Some(origin) => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_RESPONSE_HEADERS),
            );
        }
        None => {
            for name in [
                header::ACCESS_CONTROL_ALLOW_METHODS,
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                header::ACCESS_CONTROL_MAX_AGE,
            ] {
                headers.remove(name);
            }
        }
    }
}

/// Path as the client sent it (API Gateway's raw path, without any stage prefix).
fn request_path(req: &Request) -> String {
    let raw = req.raw_http_path();
    if raw.is_empty() {
        req.uri().path().to_string()
    } else {
        raw.to_string()
    }
}

fn request_id(req: &Request) -> String {
    if let Some(context) = req.lambda_context_ref() {
        return context.request_id.clone();
    }
    match req.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => {
            ctx.request_id.clone().unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// A header as a string, if present and visible ASCII.
pub fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A JSON response. A body that cannot be serialized is a bug answered as a 500 problem, never
/// as a partial body with the status meant for the real one.
pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_string(body) {
        Ok(json) => text_response(status, "application/json", json),
        Err(e) => ApiError::failed("serializing a response body", e).into_response(),
    }
}

/// A text response of the given media type (e.g. an embedded document or page).
pub fn text_response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<String>,
) -> Response {
    let mut response = Response::new(Body::Text(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A response without a body (204, preflight).
pub fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = status;
    response
}

/// Adds a header whose value was built at run time; values come from our own data, so an
/// invalid one is a bug reported as 500, not a panic.
pub fn with_header(
    mut response: Response,
    name: header::HeaderName,
    value: impl AsRef<str>,
) -> Result<Response, ApiError> {
    let value = HeaderValue::from_str(value.as_ref())
        .map_err(|e| ApiError::failed("building a response header", e))?;
    response.headers_mut().append(name, value);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        crate::config::test_config(&[])
    }

    #[test]
    fn allowed_origin_is_echoed_with_credentials() {
        let mut headers = HeaderMap::new();
        apply_cors(&mut headers, &config(), Some("http://localhost:5173"));
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://localhost:5173"
        );
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(headers[header::VARY], "Origin");
    }

    #[test]
    fn a_body_that_cannot_be_serialized_is_a_500_problem() {
        // JSON object keys must be strings: this map cannot be serialized.
        let body: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let response = json_response(StatusCode::CREATED, &body);
        assert_eq!(response.status(), 500);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }

    #[test]
    fn preflight_allows_the_precondition_and_idempotency_headers() {
        let mut headers = preflight(None).headers().clone();
        apply_cors(&mut headers, &config(), Some("http://localhost:5173"));
        let allowed = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap();
        for name in [
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
        ] {
            assert!(allowed.split(", ").any(|h| h == name), "{name}: {allowed}");
        }
    }

    #[test]
    fn foreign_origin_gets_no_cors_headers() {
        let mut headers = preflight(None).headers().clone();
        apply_cors(&mut headers, &config(), Some("http://evil.example"));
        assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert!(headers.get(header::ACCESS_CONTROL_ALLOW_METHODS).is_none());
        assert!(headers.get(header::ACCESS_CONTROL_ALLOW_HEADERS).is_none());
        assert!(
            headers
                .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
                .is_none()
        );
    }
}
