//! The step before sequencing: turning a submission into an entry, or
//! rejecting it with a reason.
//!
//! The sequencer only sees [`Admitted`] entries; how they are verified is
//! behind the [`Admission`] trait, implemented for OpenPGP attestations in
//! [`openpgp`]. Admission runs on the bounded [`AdmissionPool`], apart
//! from the gRPC workers, before an entry joins the sequencing queue.

pub mod openpgp;

use std::sync::Arc;
use std::time::{Duration, Instant};

use attestlog_store::IndexKey;
use tokio::sync::Semaphore;

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
    /// Checking it took longer than the per-submission time budget.
    #[error("{0}")]
    OverBudget(String),
}

impl Rejection {
    /// A short, stable label for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Invalid(_) => "invalid",
            Rejection::NotAdmitted(_) => "not_admitted",
            Rejection::TooLarge(_) => "too_large",
            Rejection::OverBudget(_) => "over_budget",
        }
    }
}

/// Verifies submissions. Implementations must be cheap to share between
/// threads; `admit` blocks (it does CPU work), so it runs on the
/// [`AdmissionPool`].
pub trait Admission: Send + Sync + 'static {
    /// Verifies `submission` and builds its entry, giving up with
    /// [`Rejection::OverBudget`] once `deadline` has passed.
    fn admit(&self, submission: &Submission, deadline: Instant) -> Result<Admitted, Rejection>;
}

/// Default number of submissions checked at once: one per core.
pub fn default_admission_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Default number of submissions waiting for a checking thread before
/// more are refused.
pub const DEFAULT_ADMISSION_QUEUE: usize = 1024;

/// Default time one submission may take to check.
pub const DEFAULT_ADMISSION_BUDGET: Duration = Duration::from_secs(2);

/// How many admission checks run at once, how many may wait, and how
/// long each may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdmissionLimits {
    /// Checks running at once (threads of the blocking pool).
    pub threads: usize,
    /// Submissions waiting for a thread; beyond: RESOURCE_EXHAUSTED.
    pub queue: usize,
    /// Time budget per submission, from when its check starts.
    pub budget: Duration,
}

impl Default for AdmissionLimits {
    fn default() -> Self {
        AdmissionLimits {
            threads: default_admission_threads(),
            queue: DEFAULT_ADMISSION_QUEUE,
            budget: DEFAULT_ADMISSION_BUDGET,
        }
    }
}

/// Runs admission off the gRPC runtime: on at most `threads` threads of
/// Tokio's blocking pool, with at most `queue` submissions waiting and a
/// time budget each, so that no submission, however crafted, can occupy
/// the threads that serve every other request (`docs/SPEC.md` §6.6).
pub struct AdmissionPool {
    admission: Arc<dyn Admission>,
    /// Permits to run a check.
    running: Arc<Semaphore>,
    /// Permits to run or wait; taken without waiting.
    admitted: Arc<Semaphore>,
    queue: usize,
    budget: Duration,
}

/// Why the pool did not check a submission.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The submission was checked and refused.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// Too many submissions are waiting to be checked.
    #[error(
        "the log is checking as many submissions as it can and {0} more are waiting; retry later"
    )]
    Busy(usize),
    /// The checking thread failed (a bug).
    #[error("admission failed: {0}")]
    Failed(String),
}

impl AdmissionPool {
    /// A pool running `admission` within `limits`.
    pub fn new(admission: Arc<dyn Admission>, limits: AdmissionLimits) -> AdmissionPool {
        let threads = limits.threads.max(1);
        AdmissionPool {
            admission,
            running: Arc::new(Semaphore::new(threads)),
            admitted: Arc::new(Semaphore::new(threads + limits.queue)),
            queue: limits.queue,
            budget: limits.budget,
        }
    }

    /// Checks `submission` on the pool.
    pub async fn admit(&self, submission: Submission) -> Result<Admitted, PoolError> {
        let _waiting = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| PoolError::Busy(self.queue))?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| PoolError::Failed(e.to_string()))?;
        let admission = self.admission.clone();
        let budget = self.budget;
        tokio::task::spawn_blocking(move || {
            let _running = running;
            admission.admit(&submission, Instant::now() + budget)
        })
        .await
        .map_err(|e| PoolError::Failed(e.to_string()))?
        .map_err(PoolError::Rejected)
    }
}
