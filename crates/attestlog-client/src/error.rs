//! The crate's one error type. Each variant names what failed, in words a
//! maintainer can act on.

use attestlog_core::evidence::Evidence;

/// Everything that can go wrong in the client library.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A tlog-policy file is invalid (`line` 0 means the file as a whole).
    #[error("policy line {line}: {reason}")]
    TlogPolicy {
        /// 1-based line number, or 0.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A maintainers file (keyring and threshold) is invalid.
    #[error("maintainers file {path}: {reason}")]
    TrustFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The web of trust could not be built from the keyring and roots.
    #[cfg(feature = "wot")]
    #[error(transparent)]
    WebOfTrust(#[from] crate::wot::WotError),
    /// A keyring of trusted maintainers could not be loaded.
    #[error("keyring {path}")]
    Keyring {
        /// The keyring file or directory.
        path: String,
        /// Why (its message follows in the error's source chain).
        #[source]
        source: attestlog_attest::AttestError,
    },
    /// A quorum check was asked for with a threshold of 0, which no set of
    /// attestations could mean.
    #[error("the threshold must be at least 1")]
    ZeroThreshold,
    /// The log could not be reached.
    #[error("cannot connect to the log at {endpoint}: {reason}")]
    Connect {
        /// The gRPC endpoint.
        endpoint: String,
        /// The transport's message.
        reason: String,
    },
    /// A gRPC call failed.
    #[error("log call {call} failed: {status}")]
    Grpc {
        /// The method.
        call: &'static str,
        /// The status the log returned.
        status: Box<tonic::Status>,
    },
    /// An HTTP request (tiles, witnesses) failed.
    #[error("HTTP: {0}")]
    Http(#[from] attestlog_http::HttpError),
    /// The log's answer is malformed or contradicts itself.
    #[error("the log's answer is invalid: {0}")]
    BadAnswer(String),
    /// A checkpoint is not signed by a trusted log, or is malformed.
    #[error("checkpoint not trusted: {0}")]
    CheckpointUntrusted(String),
    /// A checkpoint lacks the cosignatures the policy requires.
    #[error("checkpoint of size {size} does not satisfy the witness policy: {explanation}")]
    QuorumNotMet {
        /// The checkpoint's size.
        size: u64,
        /// The rule and which witnesses cosigned.
        explanation: String,
    },
    /// A proof does not verify.
    #[error("{what}: {source}")]
    Proof {
        /// Which proof.
        what: String,
        /// Why.
        #[source]
        source: attestlog_core::proof::ProofError,
    },
    /// An OpenPGP or leaf problem.
    #[error(transparent)]
    Attest(#[from] attestlog_attest::AttestError),
    /// The log holds more matching entries than the caller can take
    /// ([`crate::online::candidates`]), found before any is fetched.
    #[error("{found} entries match, more than the {max} this can take{hint}")]
    TooManyEntries {
        /// How many the log's search found.
        found: usize,
        /// The most the caller takes.
        max: usize,
        /// What to do about it, if anything (starts with "; ").
        hint: &'static str,
    },
    /// A bundle file is malformed.
    #[error("bundle: {0}")]
    Bundle(String),
    /// A bundle is for another artifact than the one being verified.
    #[error("the bundle is for sha256:{bundle}, not for sha256:{wanted}")]
    WrongBundle {
        /// The bundle's digest (hex).
        bundle: String,
        /// The digest being verified (hex).
        wanted: String,
    },
    /// A c2sp.org/tlog-proof text is malformed.
    #[error("tlog-proof: {0}")]
    TlogProof(String),
    /// The client state directory holds something unreadable.
    #[error("client state {path}: {reason}")]
    State {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Another process held the state directory's lock for longer than
    /// [`crate::state::STATE_LOCK_TIMEOUT`].
    #[error("client state {path} is locked by another process (waited {waited:?}); is an attestlog process stuck?")]
    StateLocked {
        /// The lock file.
        path: String,
        /// How long this process waited.
        waited: std::time::Duration,
    },
    /// The log's answer to a submission does not prove that the submitted
    /// attestation is in the log the submitter trusts
    /// ([`crate::submit::check_answer`]).
    #[error("the log's answer does not prove that your attestation was logged: {reason}")]
    UnprovenSubmission {
        /// Which check failed, in words.
        reason: String,
    },
    /// The log presented two checkpoints that cannot be one history, and
    /// `evidence` proves it to anyone holding the log's key.
    #[error("the log forked its history (split view): {message}")]
    Fork {
        /// What was seen, in words.
        message: String,
        /// Verified split-view evidence.
        evidence: Box<Evidence>,
    },
    /// The log presented a checkpoint inconsistent with (or smaller than)
    /// one it signed before, but the contradiction cannot yet be proven to
    /// third parties; both signed notes are kept.
    #[error("the log rolled back or forked its history: {message}")]
    Rollback {
        /// What was seen, in words.
        message: String,
        /// The checkpoint stored earlier, signed note bytes.
        stored: Vec<u8>,
        /// The checkpoint presented now, signed note bytes.
        presented: Vec<u8>,
    },
}

impl ClientError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> ClientError {
        ClientError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn grpc(call: &'static str, status: tonic::Status) -> ClientError {
        ClientError::Grpc {
            call,
            status: Box::new(status),
        }
    }
}

impl From<attestlog_core::tlog_policy::TlogPolicyError> for ClientError {
    fn from(e: attestlog_core::tlog_policy::TlogPolicyError) -> ClientError {
        match e {
            attestlog_core::tlog_policy::TlogPolicyError::Syntax { line, reason } => {
                ClientError::TlogPolicy { line, reason }
            }
            other => ClientError::TlogPolicy {
                line: 0,
                reason: other.to_string(),
            },
        }
    }
}

impl From<attestlog_http::tiles::TileFetchError> for ClientError {
    /// A failed request stays [`ClientError::Http`]; anything else the
    /// tiles server answered is [`ClientError::BadAnswer`].
    fn from(e: attestlog_http::tiles::TileFetchError) -> ClientError {
        match e {
            attestlog_http::tiles::TileFetchError::Http(e) => ClientError::Http(e),
            other => ClientError::BadAnswer(other.to_string()),
        }
    }
}
