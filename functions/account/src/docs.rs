//! `GET /v1/openapi.json` (openapi.yaml as JSON, converted by build.rs) and `GET /docs`, an API
//! reference rendering it with Swagger UI (whose "Authorize" dialog drives the OAuth2 password
//! form of login, and whose "Try it out" sends real requests).
//!
//! Swagger UI comes from a CDN, pinned to one version and checked by Subresource Integrity (as
//! FastAPI's `/docs` does): no bundle of ours to build or serve. The Content-Security-Policy
//! allows exactly those two files, the one inline script (by hash), and requests to this origin.

use std::sync::LazyLock;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::{HeaderValue, StatusCode, header};
use taskline::error::ApiError;
use taskline::http::{Response, text_response};

/// The OpenAPI document, as JSON, embedded at build time.
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// Swagger UI's version; the same as the `swagger-ui-dist` devDependency of web/, whose files
/// the browser tests serve in place of the CDN's (a test keeps the two in step).
pub const SWAGGER_UI_VERSION: &str = "5.35.0";
pub const SWAGGER_UI_JS: &str =
    "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/swagger-ui-bundle.js";
pub const SWAGGER_UI_CSS: &str =
    "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/swagger-ui.css";
/// SHA-384 of those files as published in swagger-ui-dist@5.35.0.
pub const SWAGGER_UI_JS_INTEGRITY: &str =
    "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9";
pub const SWAGGER_UI_CSS_INTEGRITY: &str =
    "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I";

const TEMPLATE: &str = include_str!("docs.html");
const INIT_SCRIPT: &str = include_str!("docs-init.js");

struct DocsPage {
    html: String,
    csp: HeaderValue,
}

/// Built once per cold start: the page and the CSP naming its inline script's hash.
static PAGE: LazyLock<Option<DocsPage>> = LazyLock::new(|| {
    let init = INIT_SCRIPT.trim_end();
    let html = TEMPLATE
        .replace("{{css_url}}", SWAGGER_UI_CSS)
        .replace("{{css_integrity}}", SWAGGER_UI_CSS_INTEGRITY)
        .replace("{{js_url}}", SWAGGER_UI_JS)
        .replace("{{js_integrity}}", SWAGGER_UI_JS_INTEGRITY)
        .replace("{{init}}", init);
    let init_hash = STANDARD.encode(digest::digest(&digest::SHA256, init.as_bytes()));
    let csp = format!(
        "default-src 'none'; script-src {SWAGGER_UI_JS} 'sha256-{init_hash}'; \
         style-src {SWAGGER_UI_CSS}; img-src 'self' data:; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    Some(DocsPage {
        html,
        csp: HeaderValue::from_str(&csp).ok()?,
    })
});

pub fn openapi() -> Response {
    text_response(StatusCode::OK, "application/json", OPENAPI_JSON)
}

pub fn page() -> Result<Response, ApiError> {
    let page = PAGE
        .as_ref()
        .ok_or_else(|| ApiError::Internal("docs page CSP is not a valid header".into()))?;
    let mut response = text_response(
        StatusCode::OK,
        "text/html; charset=utf-8",
        page.html.clone(),
    );
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, page.csp.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}
