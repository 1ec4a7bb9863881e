//! The step before sequencing: turning a submission into an entry, or
//! rejecting it with a reason.
//!
//! The sequencer only sees [`Admitted`] entries; how they are verified is
//! behind the [`Admission`] trait, implemented for OpenPGP attestations in
//! [`crate::attest_admission`]. Admission runs on the runtime's worker
//! threads, in parallel on every core, before an entry joins the
//! sequencing queue.

use attestlog_store::IndexKey;

/// What a publisher submitted.
#[derive(Clone, Debug, Default)]
pub struct Submission {
    /// The statement (with a detached signature) or an inline-signed
    /// message.
    pub payload: Vec<u8>,
    /// A detached signature, binary or armored.
    pub signature: Option<Vec<u8>>,
    /// The signer's certificate, if sent.
    pub certificate: Option<Vec<u8>>,
}

/// A verified entry, ready to be sequenced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// The canonical entry bytes (the leaf data).
    pub entry: Vec<u8>,
    /// Two submissions with the same key are the same entry: the second is
    /// answered with the first's index.
    pub dedup_key: attestlog_core::Hash,
    /// What the entry can be searched by.
    pub index_keys: Vec<IndexKey>,
    /// The signer's certificate to store: (primary fingerprint, bytes).
    pub certificate: Option<(Vec<u8>, Vec<u8>)>,
    /// Who is charged for the entry by the per-key rate limit: the
    /// signer's primary key fingerprint.
    pub signer: Vec<u8>,
}

/// Why a submission was not admitted. Each maps to one gRPC code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Malformed input or a signature that does not verify.
    #[error("{0}")]
    Invalid(String),
    /// A valid signature from a signer the log's policy does not admit.
    #[error("{0}")]
    NotAdmitted(String),
    /// Over a size or count limit.
    #[error("{0}")]
    TooLarge(String),
}

impl Rejection {
    /// A short, stable label for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Invalid(_) => "invalid",
            Rejection::NotAdmitted(_) => "not_admitted",
            Rejection::TooLarge(_) => "too_large",
        }
    }
}

/// Verifies submissions. Implementations must be cheap to share between
/// threads; `admit` may block (it does CPU work).
pub trait Admission: Send + Sync + 'static {
    /// Verifies `submission` and builds its entry.
    fn admit(&self, submission: &Submission) -> Result<Admitted, Rejection>;
}
