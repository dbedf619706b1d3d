//! The one error type of the API. Everything returns `Result<_, ApiError>` and uses `?`; the
//! HTTP edge turns it into a response once (`application/problem+json`, RFC 9457: see
//! `http::problem`). Server-side failures keep their cause as a [`std::error::Error::source`],
//! so that the one log line of a failed request carries the whole chain.

use lambda_http::http::Method;
use serde::Serialize;

/// The cause of a server-side failure, kept for the log (never shown to the client).
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

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
    /// `If-None-Match: *` and the resource exists already (412).
    #[error("exists already")]
    ExistsAlready,
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
    /// A dependency other than the store (the external provider's JWKS) did not answer (503).
    #[error("{context}")]
    Unavailable {
        context: &'static str,
        #[source]
        source: Source,
    },
    /// A mail could not be handed to the mail server (refused, timed out): 503, retry later.
    #[error("mail not sent")]
    MailUnavailable {
        #[source]
        source: Source,
    },
    /// A link's token that is unknown, used or expired (400 `invalid-token`).
    #[error("invalid token")]
    InvalidToken,
    /// An account deletion ran out of its time budget; repeating the request goes on.
    #[error("account deletion unfinished")]
    DeletionUnfinished,
    /// A broken invariant of our own code or data (500): nothing underneath failed.
    #[error("internal error: {0}")]
    Internal(String),
    /// An operation that failed underneath (500): `context` says what we were doing, `source`
    /// is why it failed.
    #[error("{context}")]
    Failed {
        context: &'static str,
        #[source]
        source: Source,
    },
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
    /// A 500 caused by `source` while doing `context`.
    pub fn failed(context: &'static str, source: impl Into<Source>) -> Self {
        Self::Failed {
            context,
            source: source.into(),
        }
    }

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
}

// The store's own error type becomes an `ApiError` at the HTTP edge
// (`impl From<StoreError> for ApiError` in `http::problem`), next to the other status decisions.
