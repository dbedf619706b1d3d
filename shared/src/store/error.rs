//! What can go wrong in the store, with the cause kept as `#[source]`. The store decides no
//! HTTP status: [`StoreError::is_transient`] says whether retrying later may help, and the
//! HTTP edge maps that (see `impl From<StoreError> for ApiError` in `crate::error`).

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

type Source = Box<dyn std::error::Error + Send + Sync>;

/// DynamoDB error codes that mean "try again later" rather than "we sent something wrong".
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB is unreachable, overloaded or kept colliding: retrying later may succeed.
    #[error("dynamodb unavailable: {summary}")]
    Unavailable {
        summary: String,
        #[source]
        source: Option<Source>,
    },
    /// DynamoDB refused a request we built (a bug of ours).
    #[error("dynamodb: {summary}")]
    Request {
        summary: String,
        #[source]
        source: Source,
    },
    /// The SDK's builder refused an input struct (a bug of ours).
    #[error("building a request")]
    Build(#[from] aws_sdk_dynamodb::error::BuildError),
    /// An item did not (de)serialize with its item struct.
    #[error("item (de)serialization")]
    Item(#[from] serde_dynamo::Error),
    /// A stored item holds what no version of this code writes.
    #[error("corrupt item: {0}")]
    Corrupt(&'static str),
    /// A transaction was cancelled for a reason other than its conditions or a collision.
    #[error("transaction cancelled: {0}")]
    Cancelled(String),
    /// A background batch task died.
    #[error("batch task failed")]
    Task(#[from] tokio::task::JoinError),
}

impl StoreError {
    pub(super) fn unavailable(summary: impl Into<String>) -> Self {
        Self::Unavailable {
            summary: summary.into(),
            source: None,
        }
    }

    /// Whether the failure is the store's state (unreachable, throttled, busy) rather than a
    /// request or item of ours: 503 then, 500 otherwise.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn from(err: SdkError<E, R>) -> Self {
        let summary = match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                format!(
                    "{}: {}",
                    e.code().unwrap_or("unknown"),
                    e.message().unwrap_or("")
                )
            }
            other => format!("{other:?}"),
        };
        let transient = match &err {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => service
                .err()
                .code()
                .is_some_and(|code| TRANSIENT_CODES.contains(&code)),
            _ => false,
        };
        let source: Source = Box::new(err);
        if transient {
            Self::Unavailable {
                summary,
                source: Some(source),
            }
        } else {
            Self::Request { summary, source }
        }
    }
}
