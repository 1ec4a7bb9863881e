//! The witness's one error type. Each variant names one failure; HTTP
//! statuses are assigned in exactly one place, [`WitnessError::status`].

use attestlog_core::checkpoint::CheckpointError;
use attestlog_core::evidence::EvidenceError;
use attestlog_core::note::NoteError;
use attestlog_core::proof::ProofError;
use attestlog_core::witness_protocol::WitnessProtocolError;

/// Everything that can go wrong in the witness.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The request body does not follow the wire grammar.
    #[error("malformed request: {0}")]
    MalformedRequest(String),
    /// The request body is larger than the limit.
    #[error("request body of {0} bytes is over the limit")]
    RequestTooLarge(usize),
    /// The checkpoint note or its text is malformed.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(#[from] CheckpointError),
    /// The checkpoint's origin is not a log this witness witnesses.
    #[error("unknown origin {0:?}")]
    UnknownOrigin(String),
    /// No valid signature from the log's key, or a bad one.
    #[error("no valid log signature: {0}")]
    NoValidLogSignature(NoteError),
    /// The old size is above the checkpoint's size.
    #[error("old size {old} is larger than the checkpoint size {size}")]
    OldSizeLarger {
        /// The old size sent.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The old size is not the size of the latest cosigned checkpoint.
    #[error("old size {old} is not the size of the latest cosigned checkpoint, {stored}")]
    SizeConflict {
        /// The old size sent.
        old: u64,
        /// The size the witness holds.
        stored: u64,
    },
    /// A size-0 checkpoint whose root is not SHA-256("").
    #[error("a checkpoint of size 0 must have the empty tree's root hash")]
    EmptyTreeRoot,
    /// The old size is 0 but the proof is not empty.
    #[error("the consistency proof from size 0 must be empty, got {0} lines")]
    ProofFromZero(usize),
    /// The consistency proof does not verify.
    #[error("consistency proof from the latest cosigned checkpoint does not verify: {0}")]
    BadProof(ProofError),
    /// Same size as the latest cosigned checkpoint, different root hash.
    #[error("checkpoint of size {0} has a root hash other than the one already cosigned")]
    RootMismatch(u64),
    /// The witness holds split-view evidence for this log and no longer
    /// cosigns it.
    #[error("split view of {0:?} detected; this witness no longer cosigns it (see /evidence)")]
    SplitView(String),
    /// An evidence file did not prove anything.
    #[error("evidence: {0}")]
    Evidence(#[from] EvidenceError),
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// RocksDB failed; the witness must not acknowledge anything.
    #[error("storage: {0}")]
    Storage(#[from] rocksdb::Error),
    /// Stored data does not decode: the state is damaged.
    #[error("stored state is corrupt: {0}")]
    Corrupt(String),
    /// Making the cosignature failed.
    #[error("cosigning: {0}")]
    Cosign(String),
    /// A peer or a log could not be reached or answered nonsense.
    #[error("fetching {url}: {reason}")]
    Fetch {
        /// What was fetched.
        url: String,
        /// Why it failed.
        reason: String,
    },
}

impl From<WitnessProtocolError> for WitnessError {
    /// A request that does not follow the tlog-witness grammar: 413 when
    /// too large, 400 otherwise (with the grammar's reason as the body).
    fn from(e: WitnessProtocolError) -> WitnessError {
        match e {
            WitnessProtocolError::RequestTooLarge(size) => WitnessError::RequestTooLarge(size),
            WitnessProtocolError::MalformedRequest(why) => {
                WitnessError::MalformedRequest(why.to_owned())
            }
            other => WitnessError::MalformedRequest(other.to_string()),
        }
    }
}

impl WitnessError {
    /// The HTTP status for this error: the one place where domain errors
    /// become statuses (C2SP tlog-witness for `add-checkpoint`).
    pub fn status(&self) -> u16 {
        match self {
            WitnessError::MalformedRequest(_)
            | WitnessError::MalformedCheckpoint(_)
            | WitnessError::OldSizeLarger { .. } => 400,
            WitnessError::RequestTooLarge(_) => 413,
            WitnessError::NoValidLogSignature(_) => 403,
            WitnessError::UnknownOrigin(_) => 404,
            WitnessError::SizeConflict { .. } => 409,
            WitnessError::EmptyTreeRoot
            | WitnessError::ProofFromZero(_)
            | WitnessError::BadProof(_)
            | WitnessError::RootMismatch(_)
            | WitnessError::SplitView(_)
            | WitnessError::Evidence(_) => 422,
            WitnessError::Fetch { .. } => 502,
            WitnessError::Config(_)
            | WitnessError::Storage(_)
            | WitnessError::Corrupt(_)
            | WitnessError::Cosign(_) => 500,
        }
    }

    /// Whether this error means the stored state can no longer be trusted
    /// (storage failure or corruption), as opposed to a bad request.
    pub fn is_fatal(&self) -> bool {
        matches!(self, WitnessError::Storage(_) | WitnessError::Corrupt(_))
    }
}
