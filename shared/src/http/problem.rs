//! The one mapping from [`ApiError`] to a response: `application/problem+json` (RFC 9457) with
//! the headers some problems carry (`WWW-Authenticate`, `Allow`, `Retry-After`), and the one
//! log line of a server-side failure with its chain of causes.

use std::error::Error;

use lambda_http::http::header::{self, HeaderName};
use lambda_http::http::{HeaderValue, Method, StatusCode};
use serde_json::Value;

use super::{Response, text_response};
use crate::error::{ApiError, Credential, FieldError, OAuthError};

/// Base of every problem `type` URI.
pub const PROBLEM_BASE: &str = "https://taskline.dev/problems/";

// The fixed details, named to keep the table of `ApiError::spec` one line per variant.
const CHANGED: &str = "the resource has changed since the version given in If-Match";
const EXISTS: &str = "the resource exists already (If-None-Match: *)";
const INVALID_FIELDS: &str = "the request body or query has invalid fields";
const STORE_DOWN: &str = "the data store is unavailable; retry later";
const DELETING: &str = "the account is being deleted; repeat the request to finish";
const MAIL_DOWN: &str = "the mail could not be sent; retry later";
const BAD_LINK: &str = "the link is invalid or has expired; ask for a new one";
const UNEXPECTED: &str = "an unexpected error occurred";

/// The challenge of a 401 on a Bearer route.
const BEARER_CHALLENGE: HeaderValue = HeaderValue::from_static("Bearer realm=\"taskline\"");

/// Everything the response of one error says, decided by [`ApiError::spec`] (one arm per
/// variant); the body and headers are built from it in [`ApiError::into_response`] alone.
struct ProblemSpec<'a> {
    status: StatusCode,
    /// Problem `type` slug; the full URI is `PROBLEM_BASE` + slug (documented in openapi.yaml).
    slug: &'static str,
    /// Human-readable detail. Server-side failures never echo internals to the client.
    detail: String,
    /// The header the problem carries besides its content type.
    header: Option<(HeaderName, HeaderValue)>,
    /// The invalid fields, as the `errors` member.
    errors: Option<&'a [FieldError]>,
    /// The RFC 6749 code of the OAuth2 password form (`error` and `error_description`).
    oauth: Option<OAuthError>,
    /// The title, when the status' reason phrase does not name the problem well enough.
    title: Option<&'static str>,
}

impl ProblemSpec<'_> {
    fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            slug,
            detail: detail.into(),
            header: None,
            errors: None,
            oauth: None,
            title: None,
        }
    }

    /// Adds the header `name` if it has a value.
    fn header(mut self, name: HeaderName, value: impl Into<Option<HeaderValue>>) -> Self {
        self.header = value.into().map(|value| (name, value));
        self
    }

    /// A title of its own instead of the status' reason phrase.
    fn titled(self, title: &'static str) -> Self {
        Self {
            title: Some(title),
            ..self
        }
    }

    /// A transient failure: the client may retry after a second.
    fn retry_soon(self) -> Self {
        self.header(header::RETRY_AFTER, HeaderValue::from_static("1"))
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        self.spec().status
    }

    /// The one table from error to problem: status, type, detail and header of each variant.
    fn spec(&self) -> ProblemSpec<'_> {
        use ProblemSpec as P;
        use StatusCode as S;
        match self {
            Self::BadRequest(d) => P::new(S::BAD_REQUEST, "bad-request", d),
            Self::Unauthorized { credential, detail } => {
                P::new(S::UNAUTHORIZED, "unauthorized", *detail).header(
                    header::WWW_AUTHENTICATE,
                    (*credential == Credential::Bearer).then_some(BEARER_CHALLENGE),
                )
            }
            Self::Forbidden(d) => P::new(S::FORBIDDEN, "forbidden", *d),
            Self::NotFound(d) => P::new(S::NOT_FOUND, "not-found", *d),
            Self::MethodNotAllowed { allow } => {
                let allow = listed(allow);
                let detail = format!("this route allows {allow}");
                P::new(S::METHOD_NOT_ALLOWED, "method-not-allowed", detail)
                    .header(header::ALLOW, HeaderValue::from_str(&allow).ok())
            }
            Self::Conflict(d) => P::new(S::CONFLICT, "conflict", *d),
            Self::PreconditionFailed => {
                P::new(S::PRECONDITION_FAILED, "precondition-failed", CHANGED)
            }
            Self::ExistsAlready => P::new(S::PRECONDITION_FAILED, "precondition-failed", EXISTS),
            Self::PayloadTooLarge { limit } => {
                let detail = format!("request body is larger than {} KiB", limit / 1024);
                P::new(S::PAYLOAD_TOO_LARGE, "payload-too-large", detail)
            }
            Self::UnsupportedMediaType { expected } => {
                let detail = format!("request body must be sent as {expected}");
                P::new(S::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", detail)
            }
            Self::Validation(errors) => ProblemSpec {
                errors: Some(errors),
                ..P::new(S::UNPROCESSABLE_ENTITY, "validation-error", INVALID_FIELDS)
            },
            Self::TooManyRequests { retry_after_secs } => {
                let detail = format!("too many attempts; retry in {retry_after_secs} seconds");
                P::new(S::TOO_MANY_REQUESTS, "too-many-requests", detail)
                    .header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs))
            }
            Self::StoreUnavailable(_) | Self::Unavailable { .. } => {
                P::new(S::SERVICE_UNAVAILABLE, "store-unavailable", STORE_DOWN).retry_soon()
            }
            Self::MailUnavailable { .. } => {
                P::new(S::SERVICE_UNAVAILABLE, "mail-unavailable", MAIL_DOWN).retry_soon()
            }
            Self::InvalidToken => {
                P::new(S::BAD_REQUEST, "invalid-token", BAD_LINK).titled("Invalid token")
            }
            Self::DeletionUnfinished => {
                P::new(S::SERVICE_UNAVAILABLE, "deletion-unfinished", DELETING).retry_soon()
            }
            Self::Internal(_) | Self::Failed { .. } => {
                P::new(S::INTERNAL_SERVER_ERROR, "internal-error", UNEXPECTED)
            }
            Self::Unreadable(d) => P::new(S::INTERNAL_SERVER_ERROR, "unreadable-item", d),
            Self::OAuth { code, error } => oauth_spec(*code, error),
        }
    }

    /// The single mapping from error to response. A server-side failure is logged here, once,
    /// with its causes (the client sees none of them).
    pub fn into_response(self) -> Response {
        let spec = self.spec();
        if spec.status.is_server_error() {
            tracing::error!(error = %chain(&self), "request failed");
        }
        // A `Value` displays as JSON without a way to fail: the problem itself always goes out.
        let mut response = text_response(
            spec.status,
            "application/problem+json",
            problem(&spec).to_string(),
        );
        if let Some((name, value)) = spec.header {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// The problem of the OAuth2 password form: the wrapped error's, with the RFC 6749 code, a
/// status the RFC allows for it, and no header.
fn oauth_spec(code: OAuthError, error: &ApiError) -> ProblemSpec<'_> {
    let inner = error.spec();
    let (status, slug) = match code {
        OAuthError::InvalidGrant => (StatusCode::UNAUTHORIZED, "unauthorized"),
        OAuthError::InvalidRequest | OAuthError::UnsupportedGrantType => {
            (StatusCode::BAD_REQUEST, "bad-request")
        }
    };
    let detail = match (code, inner.errors) {
        (OAuthError::UnsupportedGrantType, _) => "grant_type must be password".into(),
        (_, Some(errors)) => format!(
            "invalid fields: {}",
            errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        (_, None) => inner.detail,
    };
    ProblemSpec {
        errors: inner.errors,
        oauth: Some(code),
        ..ProblemSpec::new(status, slug, detail)
    }
}

/// The methods of an `Allow` header: `GET, POST`.
fn listed(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The problem+json body of `spec`; its title is the status' reason phrase unless it has its
/// own.
fn problem(spec: &ProblemSpec<'_>) -> Value {
    let mut body = serde_json::json!({
        "type": format!("{PROBLEM_BASE}{}", spec.slug),
        "title": spec.title.or(spec.status.canonical_reason()).unwrap_or("Error"),
        "status": spec.status.as_u16(),
        "detail": spec.detail,
    });
    if let Some(members) = body.as_object_mut() {
        if let Some(code) = spec.oauth {
            members.insert("error".into(), code.code().into());
            members.insert(
                "error_description".into(),
                oauth_description(&spec.detail).into(),
            );
        }
        if let Some(errors) = spec.errors {
            members.insert(
                "errors".into(),
                serde_json::to_value(errors).unwrap_or_default(),
            );
        }
    }
    body
}

/// An error and its causes, outermost first: `context: cause: cause of the cause`.
fn chain(error: &ApiError) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

/// RFC 6749 §5.2 allows only printable ASCII without `"` and `\` in `error_description`.
fn oauth_description(detail: &str) -> String {
    detail
        .chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}
/// The one mapping of store failures: transient ones (throttling, timeouts, unreachable) are
/// 503, anything else 500; the source chain is kept for the request's log line, and the
/// client sees neither.
impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        if err.is_transient() {
            let mut chain = err.to_string();
            let mut source = Error::source(&err);
            while let Some(cause) = source {
                chain.push_str(": ");
                chain.push_str(&cause.to_string());
                source = cause.source();
            }
            Self::StoreUnavailable(chain)
        } else {
            Self::failed("a data store operation failed", err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Credential;

    fn body(response: &Response) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn validation_errors_are_problem_json_with_field_errors() {
        let response = ApiError::validation("title", "must not be empty").into_response();
        assert_eq!(response.status(), 422);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = body(&response);
        assert_eq!(body["status"], 422);
        assert_eq!(body["errors"][0]["field"], "title");
        assert_eq!(
            body["type"],
            "https://taskline.dev/problems/validation-error"
        );
    }

    #[test]
    fn bearer_401_carries_www_authenticate_and_others_do_not() {
        let bearer = ApiError::unauthorized_bearer("token expired").into_response();
        assert!(
            bearer.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        let cookie = ApiError::Unauthorized {
            credential: Credential::RefreshCookie,
            detail: "no session",
        }
        .into_response();
        assert!(cookie.headers().get(header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn oauth_errors_carry_rfc_6749_members_and_keep_field_errors() {
        let response = ApiError::validation("username", "must be an \"email\"")
            .into_oauth()
            .into_response();
        assert_eq!(response.status(), 400);
        let problem = body(&response);
        assert_eq!(problem["error"], "invalid_request");
        assert_eq!(
            problem["error_description"],
            "invalid fields: username must be an 'email'"
        );
        assert_eq!(problem["errors"][0]["field"], "username");

        let response = ApiError::Unauthorized {
            credential: Credential::Password,
            detail: "wrong",
        }
        .into_oauth()
        .into_response();
        assert_eq!(response.status(), 401);
        assert_eq!(body(&response)["error"], "invalid_grant");
        // Errors RFC 6749 has no code for stay as they are.
        let throttled = ApiError::TooManyRequests {
            retry_after_secs: 3,
        }
        .into_oauth();
        assert!(matches!(throttled, ApiError::TooManyRequests { .. }));
    }

    #[test]
    fn server_errors_hide_internals() {
        let response = ApiError::Internal("secret table name".into()).into_response();
        assert_eq!(response.status(), 500);
        assert!(!body(&response).to_string().contains("secret"));
        assert!(body(&response).get("errors").is_none());
    }

    #[test]
    fn the_log_line_carries_the_whole_chain_of_causes() {
        let cause = std::io::Error::other("disk on fire");
        let error = ApiError::failed(
            "hashing a password",
            ApiError::failed("reading the salt", cause),
        );
        assert_eq!(
            chain(&error),
            "hashing a password: reading the salt: disk on fire"
        );
        let response = error.into_response();
        assert_eq!(response.status(), 500);
        assert!(!body(&response).to_string().contains("fire"));
    }

    #[test]
    fn method_not_allowed_lists_allow_and_429_has_retry_after() {
        let response = ApiError::MethodNotAllowed {
            allow: vec![Method::GET, Method::POST],
        }
        .into_response();
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
        let response = ApiError::TooManyRequests {
            retry_after_secs: 42,
        }
        .into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
    }

    /// One line for the whole response to `error`: `status slug: detail`, then any other
    /// members of the body and the headers besides the content type.
    fn answer(error: ApiError) -> String {
        let response = error.into_response();
        let mut problem = body(&response);
        let members = problem.as_object_mut().unwrap();
        let status = response.status();
        assert_eq!(members.remove("status").unwrap(), status.as_u16());
        let title = members.remove("title").unwrap();
        if title != "Invalid token" {
            assert_eq!(title, status.canonical_reason().unwrap());
        }
        let slug = members.remove("type").unwrap();
        let slug = slug.as_str().unwrap().strip_prefix(PROBLEM_BASE).unwrap();
        let detail = members.remove("detail").unwrap();
        let mut line = format!("{} {slug}: {}", status.as_u16(), detail.as_str().unwrap());
        if !members.is_empty() {
            line.push_str(&format!(" {problem}"));
        }
        for (name, value) in response.headers() {
            if name != header::CONTENT_TYPE {
                line.push_str(&format!(" [{name}: {}]", value.to_str().unwrap()));
            }
        }
        line
    }

    /// The whole table: the response to one error of each variant.
    #[test]
    fn every_variant_answers_its_own_problem() {
        let oauth = |code, error| ApiError::OAuth {
            code,
            error: Box::new(error),
        };
        let cases = [
            (
                ApiError::BadRequest("bad json".into()),
                "400 bad-request: bad json",
            ),
            (
                ApiError::unauthorized_bearer("expired"),
                "401 unauthorized: expired [www-authenticate: Bearer realm=\"taskline\"]",
            ),
            (
                ApiError::Unauthorized {
                    credential: Credential::Password,
                    detail: "wrong",
                },
                "401 unauthorized: wrong",
            ),
            (ApiError::Forbidden("not yours"), "403 forbidden: not yours"),
            (ApiError::NotFound("no task"), "404 not-found: no task"),
            (
                ApiError::MethodNotAllowed {
                    allow: vec![Method::GET, Method::PUT],
                },
                "405 method-not-allowed: this route allows GET, PUT [allow: GET, PUT]",
            ),
            (ApiError::Conflict("taken"), "409 conflict: taken"),
            (
                ApiError::PreconditionFailed,
                "412 precondition-failed: the resource has changed since the version given in \
                 If-Match",
            ),
            (
                ApiError::ExistsAlready,
                "412 precondition-failed: the resource exists already (If-None-Match: *)",
            ),
            (
                ApiError::PayloadTooLarge { limit: 65536 },
                "413 payload-too-large: request body is larger than 64 KiB",
            ),
            (
                ApiError::UnsupportedMediaType {
                    expected: "application/json",
                },
                "415 unsupported-media-type: request body must be sent as application/json",
            ),
            (
                ApiError::validation("title", "too long"),
                "422 validation-error: the request body or query has invalid fields \
                 {\"errors\":[{\"field\":\"title\",\"message\":\"too long\"}]}",
            ),
            (
                ApiError::TooManyRequests {
                    retry_after_secs: 7,
                },
                "429 too-many-requests: too many attempts; retry in 7 seconds [retry-after: 7]",
            ),
            (
                ApiError::StoreUnavailable("throttled".into()),
                "503 store-unavailable: the data store is unavailable; retry later \
                 [retry-after: 1]",
            ),
            (
                ApiError::Unavailable {
                    context: "fetching the JWKS",
                    source: "timeout".into(),
                },
                "503 store-unavailable: the data store is unavailable; retry later \
                 [retry-after: 1]",
            ),
            (
                ApiError::MailUnavailable {
                    source: "connection refused".into(),
                },
                "503 mail-unavailable: the mail could not be sent; retry later [retry-after: 1]",
            ),
            (
                ApiError::InvalidToken,
                "400 invalid-token: the link is invalid or has expired; ask for a new one",
            ),
            (
                ApiError::DeletionUnfinished,
                "503 deletion-unfinished: the account is being deleted; repeat the request to \
                 finish [retry-after: 1]",
            ),
            (
                ApiError::Internal("secret".into()),
                "500 internal-error: an unexpected error occurred",
            ),
            (
                ApiError::failed("hashing", "secret"),
                "500 internal-error: an unexpected error occurred",
            ),
            (
                ApiError::Unreadable("task t1: bad date".into()),
                "500 unreadable-item: task t1: bad date",
            ),
            (
                oauth(
                    OAuthError::InvalidGrant,
                    ApiError::unauthorized_bearer("wrong"),
                ),
                "401 unauthorized: wrong {\"error\":\"invalid_grant\",\
                 \"error_description\":\"wrong\"}",
            ),
            (
                oauth(
                    OAuthError::InvalidRequest,
                    ApiError::BadRequest("no \"é\"".into()),
                ),
                "400 bad-request: no \"é\" {\"error\":\"invalid_request\",\
                 \"error_description\":\"no '?'\"}",
            ),
            (
                oauth(
                    OAuthError::UnsupportedGrantType,
                    ApiError::BadRequest("x".into()),
                ),
                "400 bad-request: grant_type must be password \
                 {\"error\":\"unsupported_grant_type\",\
                 \"error_description\":\"grant_type must be password\"}",
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(answer(error), expected);
        }
    }
}
