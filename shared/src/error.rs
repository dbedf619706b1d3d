//! The one error type of the API, and the one place where it becomes an HTTP response
//! (`application/problem+json`, RFC 9457). Everything else returns `Result<_, ApiError>` and uses `?`.

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use serde::Serialize;

use crate::http::Response;

/// One invalid field of a request body or query, as reported in `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Which credential a 401 is about: Bearer routes add `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Bearer,
    RefreshCookie,
    Password,
}

/// RFC 6749 §5.2 error codes, carried (as `error` and `error_description`) by the problems of
/// the OAuth2 password form of login, so that OAuth2 client libraries recognise the failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    /// Missing, invalid or repeated fields (400).
    InvalidRequest,
    /// Wrong credentials (401, as the JSON path answers them).
    InvalidGrant,
    /// A `grant_type` other than `password` (400).
    UnsupportedGrantType,
}

impl OAuthError {
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidGrant => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("unauthorized: {detail}")]
    Unauthorized {
        credential: Credential,
        detail: &'static str,
    },
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<Method> },
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType { expected: &'static str },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many attempts")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("store unavailable: {0}")]
    StoreUnavailable(String),
    /// An account deletion ran out of its time budget; repeating the request goes on.
    #[error("account deletion unfinished")]
    DeletionUnfinished,
    #[error("internal error: {0}")]
    Internal(String),
    /// A stored item that no longer parses (500). Unlike [`Self::Internal`], the detail is
    /// shown: it names the item and what is wrong with it (never a secret), so its owner
    /// knows what to replace or delete.
    #[error("unreadable stored item: {0}")]
    Unreadable(String),
    /// An error of the OAuth2 password form: the problem `error` describes, plus the RFC 6749
    /// members. Built by [`ApiError::into_oauth`].
    #[error("oauth2 {}: {error}", code.code())]
    OAuth {
        code: OAuthError,
        error: Box<ApiError>,
    },
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn unauthorized_bearer(detail: &'static str) -> Self {
        Self::Unauthorized {
            credential: Credential::Bearer,
            detail,
        }
    }

    /// This error as the OAuth2 token endpoint reports it (RFC 6749 §5.2). Errors the RFC has
    /// no code for (413, 415, 429, 5xx) stay as they are.
    pub fn into_oauth(self) -> Self {
        let code = match &self {
            Self::BadRequest(_) | Self::Validation(_) => OAuthError::InvalidRequest,
            Self::Unauthorized { .. } => OAuthError::InvalidGrant,
            _ => return self,
        };
        Self::OAuth {
            code,
            error: Box::new(self),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::OAuth {
                code: OAuthError::InvalidGrant,
                ..
            } => StatusCode::UNAUTHORIZED,
            Self::OAuth { .. } => StatusCode::BAD_REQUEST,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::StoreUnavailable(_) | Self::DeletionUnfinished => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) | Self::Unreadable(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Problem `type` slug; the full URI is `PROBLEM_BASE` + slug (documented in openapi.yaml).
    fn slug(&self) -> &'static str {
        match self {
            Self::OAuth {
                code: OAuthError::InvalidGrant,
                ..
            } => "unauthorized",
            Self::OAuth { .. } => "bad-request",
            Self::BadRequest(_) => "bad-request",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::Conflict(_) => "conflict",
            Self::PreconditionFailed => "precondition-failed",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType { .. } => "unsupported-media-type",
            Self::Validation(_) => "validation-error",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::StoreUnavailable(_) => "store-unavailable",
            Self::DeletionUnfinished => "deletion-unfinished",
            Self::Internal(_) => "internal-error",
            Self::Unreadable(_) => "unreadable-item",
        }
    }

    /// Human-readable detail. Server-side failures never echo internals to the client.
    fn detail(&self) -> String {
        match self {
            Self::OAuth {
                code: OAuthError::UnsupportedGrantType,
                ..
            } => "grant_type must be password".into(),
            Self::OAuth { error, .. } => match error.as_ref() {
                Self::Validation(errors) => format!(
                    "invalid fields: {}",
                    errors
                        .iter()
                        .map(|e| format!("{} {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                other => other.detail(),
            },
            Self::BadRequest(d) => d.clone(),
            Self::Unauthorized { detail, .. } => (*detail).to_string(),
            Self::Forbidden(d) | Self::NotFound(d) | Self::Conflict(d) => (*d).to_string(),
            Self::MethodNotAllowed { allow } => format!(
                "this route allows {}",
                allow
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::PreconditionFailed => {
                "the resource has changed since the version given in If-Match".into()
            }
            Self::PayloadTooLarge { limit } => {
                format!("request body is larger than {} KiB", limit / 1024)
            }
            Self::UnsupportedMediaType { expected } => {
                format!("request body must be sent as {expected}")
            }
            Self::Validation(_) => "the request body or query has invalid fields".into(),
            Self::TooManyRequests { retry_after_secs } => {
                format!("too many attempts; retry in {retry_after_secs} seconds")
            }
            Self::StoreUnavailable(_) => "the data store is unavailable; retry later".into(),
            Self::DeletionUnfinished => {
                "the account is being deleted; repeat the request to finish".into()
            }
            Self::Internal(_) => "an unexpected error occurred".into(),
            Self::Unreadable(detail) => detail.clone(),
        }
    }

    /// The single mapping from error to response.
    pub fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = serde_json::json!({
            "type": format!("{PROBLEM_BASE}{}", self.slug()),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": self.detail(),
        });
        if let Some(members) = body.as_object_mut() {
            match &self {
                Self::Validation(errors) => {
                    members.insert(
                        "errors".into(),
                        serde_json::to_value(errors).unwrap_or_default(),
                    );
                }
                Self::OAuth { code, error } => {
                    members.insert("error".into(), code.code().into());
                    members.insert(
                        "error_description".into(),
                        oauth_description(&self.detail()).into(),
                    );
                    if let Self::Validation(errors) = error.as_ref() {
                        members.insert(
                            "errors".into(),
                            serde_json::to_value(errors).unwrap_or_default(),
                        );
                    }
                }
                _ => {}
            }
        }
        let mut response = crate::http::json_response(status, &body);
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            Self::Unauthorized {
                credential: Credential::Bearer,
                ..
            } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"taskline\""),
                );
            }
            Self::MethodNotAllowed { allow } => {
                let allow = allow
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                if let Ok(value) = HeaderValue::from_str(&allow) {
                    headers.insert(header::ALLOW, value);
                }
            }
            Self::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            Self::StoreUnavailable(_) | Self::DeletionUnfinished => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

/// The one mapping of store failures: transient ones (throttling, timeouts, unreachable) are
/// 503, anything else 500. The whole source chain goes into the logged message; the client
/// sees neither.
impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        if err.is_transient() {
            Self::StoreUnavailable(chain)
        } else {
            Self::Internal(chain)
        }
    }
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

/// Base of every problem `type` URI.
pub const PROBLEM_BASE: &str = "https://taskline.dev/problems/";

#[cfg(test)]
mod tests {
    use super::*;

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
}
