//! The one mapping from [`ApiError`] to a response: `application/problem+json` (RFC 9457) with
//! the headers some problems carry (`WWW-Authenticate`, `Allow`, `Retry-After`), and the one
//! log line of a server-side failure with its chain of causes.

use std::error::Error;

use lambda_http::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::Value;

use super::{Response, text_response};
use crate::error::{ApiError, Credential, OAuthError};

/// Base of every problem `type` URI.
pub const PROBLEM_BASE: &str = "https://taskline.dev/problems/";

impl ApiError {
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
            Self::PreconditionFailed | Self::ExistsAlready => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::StoreUnavailable(_) | Self::Unavailable { .. } | Self::DeletionUnfinished => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) | Self::Failed { .. } | Self::Unreadable(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
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
            Self::PreconditionFailed | Self::ExistsAlready => "precondition-failed",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType { .. } => "unsupported-media-type",
            Self::Validation(_) => "validation-error",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::StoreUnavailable(_) | Self::Unavailable { .. } => "store-unavailable",
            Self::DeletionUnfinished => "deletion-unfinished",
            Self::Internal(_) | Self::Failed { .. } => "internal-error",
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
            Self::ExistsAlready => "the resource exists already (If-None-Match: *)".into(),
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
            Self::StoreUnavailable(_) | Self::Unavailable { .. } => {
                "the data store is unavailable; retry later".into()
            }
            Self::DeletionUnfinished => {
                "the account is being deleted; repeat the request to finish".into()
            }
            Self::Internal(_) | Self::Failed { .. } => "an unexpected error occurred".into(),
            Self::Unreadable(detail) => detail.clone(),
        }
    }

    /// The single mapping from error to response. A server-side failure is logged here, once,
    /// with its causes (the client sees none of them).
    pub fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %chain(&self), "request failed");
        }
        // A `Value` displays as JSON without a way to fail: the problem itself always goes out.
        let mut response = text_response(
            status,
            "application/problem+json",
            self.problem(status).to_string(),
        );
        self.add_headers(response.headers_mut());
        response
    }

    fn problem(&self, status: StatusCode) -> Value {
        let mut body = serde_json::json!({
            "type": format!("{PROBLEM_BASE}{}", self.slug()),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": self.detail(),
        });
        let field_errors = match self {
            Self::Validation(errors) => Some(errors),
            Self::OAuth { error, .. } => match error.as_ref() {
                Self::Validation(errors) => Some(errors),
                _ => None,
            },
            _ => None,
        };
        if let Some(members) = body.as_object_mut() {
            if let Self::OAuth { code, .. } = self {
                members.insert("error".into(), code.code().into());
                members.insert(
                    "error_description".into(),
                    oauth_description(&self.detail()).into(),
                );
            }
            if let Some(errors) = field_errors {
                members.insert(
                    "errors".into(),
                    serde_json::to_value(errors).unwrap_or_default(),
                );
            }
        }
        body
    }

    fn add_headers(self, headers: &mut HeaderMap) {
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
            Self::StoreUnavailable(_) | Self::Unavailable { .. } | Self::DeletionUnfinished => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
    }
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
}
