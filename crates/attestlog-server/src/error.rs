//! Every failure a client can see, and its gRPC status code, in one place.

use tonic::{Code, Status};

use crate::admission::Rejection;
use crate::sequencer::SequenceError;

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The submission was rejected by admission.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The sequencer could not take or finish the entry.
    #[error(transparent)]
    Sequence(#[from] SequenceError),
    /// A malformed request.
    #[error("{0}")]
    InvalidArgument(String),
    /// A request beyond the current tree.
    #[error("{0}")]
    OutOfRange(String),
    /// Something asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request needs something this log is not configured for.
    #[error("{0}")]
    FailedPrecondition(String),
    /// The signer's key is over its submission rate limit.
    #[error("{0}")]
    RateLimited(String),
    /// Too many submissions are waiting to be checked.
    #[error("{0}")]
    AdmissionBusy(String),
    /// The log cannot acknowledge the entry now (the object store is
    /// failing or slow under `ack = "replicated"`); retry later.
    #[error("{0}")]
    Unavailable(String),
    /// Waiting for witnesses took too long.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// The store failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Status {
        let code = match &e {
            ApiError::Rejected(Rejection::Invalid(_)) => Code::InvalidArgument,
            ApiError::Rejected(Rejection::NotAdmitted(_)) => Code::PermissionDenied,
            ApiError::Rejected(Rejection::TooLarge(_)) => Code::ResourceExhausted,
            ApiError::Rejected(Rejection::OverBudget(_)) => Code::ResourceExhausted,
            ApiError::AdmissionBusy(_) => Code::ResourceExhausted,
            ApiError::RateLimited(_) => Code::ResourceExhausted,
            ApiError::Sequence(SequenceError::QueueFull(_)) => Code::ResourceExhausted,
            ApiError::Sequence(SequenceError::Stopped(_)) => Code::Unavailable,
            ApiError::InvalidArgument(_) => Code::InvalidArgument,
            ApiError::OutOfRange(_) => Code::OutOfRange,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::FailedPrecondition(_) => Code::FailedPrecondition,
            ApiError::DeadlineExceeded(_) => Code::DeadlineExceeded,
            ApiError::Unavailable(_) => Code::Unavailable,
            ApiError::Internal(_) => Code::Internal,
        };
        Status::new(code, e.to_string())
    }
}

impl From<crate::admission::PoolError> for ApiError {
    fn from(e: crate::admission::PoolError) -> ApiError {
        use crate::admission::PoolError;
        match e {
            PoolError::Rejected(r) => ApiError::Rejected(r),
            busy @ PoolError::Busy(_) => ApiError::AdmissionBusy(busy.to_string()),
            failed @ PoolError::Failed(_) => ApiError::Internal(failed.to_string()),
        }
    }
}

impl From<attestlog_store::StoreError> for ApiError {
    fn from(e: attestlog_store::StoreError) -> ApiError {
        match e {
            attestlog_store::StoreError::NotFound(m) => ApiError::NotFound(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
