//! Publishing the log to an S3-compatible bucket (`[object_store]`).
//!
//! The publisher is one task that follows the sequencer. Each round it
//! takes the latest checkpoint and writes, for the entries added since the
//! bucket's checkpoint, in one parallel step: the entry bundles and
//! level-0 hash tiles, the certificates of their signers (as the log
//! stores them; each only when it differs from what this process last
//! wrote), and the upper hash tiles; then, **last**, the checkpoint (with
//! the witnesses' cosignatures once they are collected). The bucket is
//! therefore always a self-consistent static C2SP tlog-tiles log
//! (`attestlog_bucket::layout`).
//!
//! Rounds are spaced by `[publish] interval_ms` under `ack = "local"`, so
//! a busy log rewrites its partial tiles once per interval rather than
//! after every batch; under `ack = "replicated"` each round starts as soon as
//! the previous one ends, because submissions wait for it.
//!
//! Promises:
//! * the bucket's checkpoint never goes backwards: at start-up the
//!   publisher verifies the bucket's checkpoint with the log's key and
//!   checks that it is a prefix of the local tree (same root at its size),
//!   and in each round (while the tiles are written) it reads the current
//!   object again and refuses to replace a larger one — or, with `conditional_put`
//!   (stores that honour `If-Match`), writes it only if it is still the
//!   object the publisher last read or wrote (Garage 2.5 has no
//!   conditional PUT, so the tests run the first way);
//! * a full tile or bundle is written once (a crash between the tiles and
//!   the checkpoint rewrites the same bytes at the next start);
//! * a failing store only delays publishing: the round is retried with
//!   back-off from the bucket's last checkpoint, the failure is on
//!   `/healthz` and in the metrics, and under `ack = "replicated"`
//!   submissions are answered UNAVAILABLE instead of waiting.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attestlog_bucket::layout::{self, MAX_CHECKPOINT_BYTES};
use attestlog_bucket::{Bucket, BucketError};
use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::VerifierKey;
use attestlog_core::tile::{encode_entry_bundle, read_tile, Tile, TILE_WIDTH};
use attestlog_core::tree::tree_root;
use attestlog_store::{Store, StoreError};
use bytes::Bytes;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::state::LogState;

/// Objects written at once.
const CONCURRENCY: usize = 16;
/// Entry bundles (and their level-0 tiles) read from the store and
/// written per step: bounds the memory of a long catch-up.
const BUNDLES_PER_STEP: u64 = 64;
/// First and longest wait before retrying a failed round.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Signing times remembered for the lag histogram.
const MAX_SIGNED_TIMES: usize = 4096;
/// How long a final round may take at shutdown.
const FINAL_ROUND: Duration = Duration::from_secs(10);
/// Signers whose last written certificate is remembered; beyond it the
/// memory is cleared (a certificate is then written once more).
const MAX_REMEMBERED_CERTIFICATES: usize = 100_000;

/// When a submission is answered (`[publish] ack`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AckMode {
    /// After the synced local write (the bucket follows asynchronously).
    #[default]
    Local,
    /// Only once the bucket holds a checkpoint that includes the entry.
    Replicated,
}

/// Everything the log needs to publish: where, and when to acknowledge.
#[derive(Clone, Debug)]
pub struct PublishConfig {
    /// The bucket.
    pub bucket: Bucket,
    /// When submissions are answered.
    pub ack: AckMode,
    /// Under [`AckMode::Replicated`], the longest wait for the bucket.
    pub ack_timeout: Duration,
    /// Under [`AckMode::Replicated`], submissions waiting at once.
    pub max_waiting: usize,
    /// Under [`AckMode::Local`], the shortest time between the starts of
    /// two publishing rounds.
    pub interval: Duration,
}

impl PublishConfig {
    /// The shortest time between two rounds' starts: none under
    /// [`AckMode::Replicated`], where submissions wait for the rounds.
    pub fn round_interval(&self) -> Duration {
        match self.ack {
            AckMode::Local => self.interval,
            AckMode::Replicated => Duration::ZERO,
        }
    }
}

/// The certificates this process has written to the bucket, by signer
/// fingerprint: the SHA-256 of the bytes written. A certificate is
/// written again only when the log's stored copy differs.
#[derive(Debug, Default)]
pub struct WrittenCertificates {
    sha256: HashMap<Vec<u8>, [u8; 32]>,
}

impl WrittenCertificates {
    /// Whether `cert` must be written for `fingerprint`.
    fn needs(&self, fingerprint: &[u8], cert: &[u8]) -> bool {
        self.sha256.get(fingerprint) != Some(&Sha256::digest(cert).into())
    }

    /// Remembers that `cert` was written for `fingerprint`.
    fn wrote(&mut self, fingerprint: Vec<u8>, cert: &[u8]) {
        if self.sha256.len() >= MAX_REMEMBERED_CERTIFICATES {
            self.sha256.clear();
        }
        self.sha256.insert(fingerprint, Sha256::digest(cert).into());
    }
}

/// `Submit`'s side of [`AckMode::Replicated`]: the wait for the bucket,
/// bounded in time and in the number of waiters.
#[derive(Debug)]
pub struct ReplicatedAck {
    timeout: Duration,
    waiting: tokio::sync::Semaphore,
    max_waiting: usize,
}

impl ReplicatedAck {
    /// At most `max_waiting` submissions wait, each at most `timeout`.
    pub fn new(timeout: Duration, max_waiting: usize) -> ReplicatedAck {
        ReplicatedAck {
            timeout,
            waiting: tokio::sync::Semaphore::new(max_waiting),
            max_waiting,
        }
    }

    /// A place among the waiters, taken before the entry is admitted, or
    /// why there is none: the store is failing, or too many wait already.
    pub fn enter(
        &self,
        progress: &BucketProgress,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, String> {
        if let Some(why) = progress.refuse_reason() {
            return Err(why);
        }
        self.waiting.try_acquire().map_err(|_| {
            format!(
                "{} submissions are already waiting for the log's object store; retry later",
                self.max_waiting
            )
        })
    }

    /// Waits until the bucket holds entry `index`; the message for
    /// UNAVAILABLE if it does not within the timeout.
    pub async fn wait(&self, progress: &BucketProgress, index: u64) -> Result<(), String> {
        if progress.wait_for(index, self.timeout).await {
            return Ok(());
        }
        Err(format!(
            "entry {index} is logged on the log's disk but its object store did not confirm it \
             within {} ms; it will be published when the store recovers (resubmitting finds it)",
            self.timeout.as_millis()
        ))
    }
}

/// Why a publishing round failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The bucket failed or timed out.
    #[error(transparent)]
    Bucket(#[from] BucketError),
    /// The local store failed.
    #[error("reading the local store: {0}")]
    Store(#[from] StoreError),
    /// A tile could not be read from the local store.
    #[error("reading a tile from the local store: {0}")]
    Tile(#[from] attestlog_core::tile::TileReadError<StoreError>),
    /// The bucket holds something this log did not publish, or a tree the
    /// local one does not extend: publishing stops until an operator looks.
    #[error("{0}")]
    Conflict(String),
    /// The last round at shutdown did not finish in time.
    #[error("the last publishing round did not finish within {} s of shutdown", .0.as_secs())]
    ShutdownTimeout(Duration),
}

/// The bucket's side of the log, shared by the publisher (which advances
/// it), `Submit` (which waits on it under `ack = "replicated"`) and
/// `/healthz` and `/metrics`.
#[derive(Debug)]
pub struct BucketProgress {
    active: AtomicBool,
    size: watch::Sender<Option<u64>>,
    signed: Mutex<VecDeque<(u64, Instant)>>,
    failure: Mutex<Option<(Instant, String)>>,
}

impl Default for BucketProgress {
    fn default() -> Self {
        BucketProgress {
            active: AtomicBool::new(false),
            size: watch::channel(None).0,
            signed: Mutex::new(VecDeque::new()),
            failure: Mutex::new(None),
        }
    }
}

impl BucketProgress {
    /// Whether the log publishes to a bucket.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// The size of the bucket's checkpoint, once known.
    pub fn size(&self) -> Option<u64> {
        *self.size.borrow()
    }

    /// Notes that the checkpoint for `size` was signed now (the sequencer,
    /// through [`LogState::publish`]).
    pub(crate) fn signed(&self, size: u64) {
        if !self.is_active() {
            return;
        }
        let mut q = self.signed.lock().unwrap_or_else(|p| p.into_inner());
        // When full, keep the oldest times: they are the lag.
        if q.len() < MAX_SIGNED_TIMES {
            q.push_back((size, Instant::now()));
        }
    }

    /// The current failure, if the last round failed: (since, why).
    pub fn failure(&self) -> Option<(Instant, String)> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Why a submission under `ack = "replicated"` cannot be accepted now,
    /// if it cannot: the store is failing.
    pub fn refuse_reason(&self) -> Option<String> {
        self.failure().map(|(since, why)| {
            format!(
                "the log's object store has been failing for {:.1} s ({why}); \
                 this log acknowledges only entries the store holds, retry later",
                since.elapsed().as_secs_f64()
            )
        })
    }

    /// Waits until the bucket holds a checkpoint of more than `index`
    /// entries; false after `timeout`.
    pub async fn wait_for(&self, index: u64, timeout: Duration) -> bool {
        let mut rx = self.size.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|s| s.is_some_and(|s| s > index)))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// A line for `/healthz`: how far the bucket is behind `current`.
    pub fn health_line(&self, current: u64) -> Option<String> {
        if !self.is_active() {
            return None;
        }
        let behind = self.size().map_or(current, |s| current.saturating_sub(s));
        let lag = self
            .oldest_unpublished()
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        Some(match self.failure() {
            Some((since, why)) => format!(
                "bucket: {behind} entries behind ({lag:.1} s); failing for {:.1} s: {why}",
                since.elapsed().as_secs_f64()
            ),
            None => format!("bucket: {behind} entries behind ({lag:.1} s)"),
        })
    }

    fn oldest_unpublished(&self) -> Option<Instant> {
        let published = self.size().unwrap_or(0);
        let q = self.signed.lock().unwrap_or_else(|p| p.into_inner());
        q.iter().find(|(s, _)| *s > published).map(|(_, t)| *t)
    }

    /// Marks the bucket as in use (publisher or read replica), so that
    /// `/healthz` reports on it.
    pub(crate) fn activate(&self) {
        self.active.store(true, Ordering::Relaxed);
    }

    /// Records that the bucket holds `size`; returns the longest time a
    /// checkpoint now published waited since it was signed.
    pub(crate) fn advanced(&self, size: u64) -> Option<Duration> {
        let mut oldest = None;
        {
            let mut q = self.signed.lock().unwrap_or_else(|p| p.into_inner());
            while q.front().is_some_and(|(s, _)| *s <= size) {
                if let Some((_, t)) = q.pop_front() {
                    oldest.get_or_insert(t);
                }
            }
        }
        self.size.send_replace(Some(size));
        oldest.map(|t| t.elapsed())
    }

    pub(crate) fn set_failure(&self, why: Option<String>) {
        let mut f = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        match why {
            None => *f = None,
            Some(w) => {
                let since = f.as_ref().map_or_else(Instant::now, |(s, _)| *s);
                *f = Some((since, w));
            }
        }
    }
}

/// What the bucket holds, as far as the publisher knows.
#[derive(Clone, Debug, PartialEq, Eq)]
struct InBucket {
    size: u64,
    note: Vec<u8>,
    /// The checkpoint object's entity tag, for conditional writes.
    e_tag: Option<String>,
}

impl InBucket {
    /// Whether the bucket holds what `wanted` describes.
    fn holds(&self, wanted: &InBucket) -> bool {
        self.size == wanted.size && self.note == wanted.note
    }
}

/// Runs the publisher until `stop` turns true, then makes one last round
/// (bounded to 10 s) so a clean shutdown leaves the bucket
/// current.
pub async fn run(
    state: Arc<LogState>,
    bucket: Bucket,
    interval: Duration,
    verifier: VerifierKey,
    mut stop: watch::Receiver<bool>,
) {
    state.bucket.activate();
    let mut certs = WrittenCertificates::default();
    let mut last_start: Option<Instant> = None;
    let mut signed = state.subscribe_signed();
    let mut witnessed = state.subscribe_witnessed();
    let mut in_bucket: Option<InBucket> = None;
    let mut backoff = MIN_BACKOFF;
    tracing::info!(
        bucket = bucket.describe(),
        "publishing the log to the object store"
    );
    loop {
        if let Some(wait) = last_start.and_then(|t| interval.checked_sub(t.elapsed())) {
            if !*stop.borrow() && in_bucket.is_some() {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        let stopping = *stop.borrow();
        last_start = Some(Instant::now());
        let work = async {
            match &in_bucket {
                None => start(&state, &bucket, &verifier).await.map(Some),
                Some(at) => round(&state, &bucket, &verifier, at, &mut certs).await,
            }
        };
        let outcome = if stopping {
            tokio::time::timeout(FINAL_ROUND, work)
                .await
                .unwrap_or(Err(PublishError::ShutdownTimeout(FINAL_ROUND)))
        } else {
            work.await
        };
        match outcome {
            Ok(Some(now)) => {
                in_bucket = Some(now);
                backoff = MIN_BACKOFF;
                state.bucket.set_failure(None);
            }
            Ok(None) => {
                backoff = MIN_BACKOFF;
                state.bucket.set_failure(None);
            }
            Err(e) => {
                // The next attempt starts by reading the bucket's
                // checkpoint again.
                in_bucket = None;
                state.metrics.publish_failures.inc();
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "publishing to the object store failed");
                state.bucket.set_failure(Some(e.to_string()));
                if stopping {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        }
        if stopping {
            break;
        }
        let caught_up = in_bucket.as_ref().is_some_and(|b| b.holds(&wanted(&state)));
        if caught_up {
            tokio::select! {
                _ = signed.changed() => {}
                _ = witnessed.changed() => {}
                _ = stop.changed() => {
                    // One last round, bounded, then stop.
                    let last = async {
                        if let Some(at) = &in_bucket {
                            round(&state, &bucket, &verifier, at, &mut certs).await
                        } else {
                            Ok(None)
                        }
                    };
                    match tokio::time::timeout(FINAL_ROUND, last).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::warn!(error = %e, "the last publishing round at shutdown failed"),
                        Err(_) => tracing::warn!("the last publishing round at shutdown timed out"),
                    }
                    break;
                }
            }
        }
    }
    tracing::info!("publisher stopped");
}

/// What the bucket should hold now: the latest checkpoint, with the
/// witnesses' cosignatures when they are for that same tree.
fn wanted(state: &LogState) -> InBucket {
    let current = state.current();
    let served = state.served();
    let note = if served.size == current.size {
        served.note.clone()
    } else {
        current.note.clone()
    };
    InBucket {
        size: current.size,
        note,
        e_tag: None,
    }
}

/// Reads and checks the bucket's checkpoint: signed by this log, and a
/// prefix of the local tree.
async fn start(
    state: &LogState,
    bucket: &Bucket,
    verifier: &VerifierKey,
) -> Result<InBucket, PublishError> {
    let at = match read_checkpoint(state, bucket, verifier).await? {
        None => {
            tracing::info!("the bucket holds no checkpoint yet; publishing from size 0");
            InBucket {
                size: 0,
                note: Vec::new(),
                e_tag: None,
            }
        }
        Some((cp, note, e_tag)) => {
            let local = state.current().size;
            if cp.size > local {
                return Err(PublishError::Conflict(format!(
                    "the bucket's checkpoint is for size {} but the local tree has {local} entries; \
                     the data directory is older than the bucket (restore it from the bucket with \
                     `attestlog-server restore`)",
                    cp.size
                )));
            }
            let root = tree_root(state.store.as_ref(), cp.size)?;
            if root != cp.root {
                return Err(PublishError::Conflict(format!(
                    "the bucket's checkpoint (size {}, root {}) is not a prefix of the local tree \
                     (root {root} at that size); refusing to publish over it",
                    cp.size, cp.root
                )));
            }
            tracing::info!(
                size = cp.size,
                "the bucket's checkpoint is a prefix of the local tree"
            );
            InBucket {
                size: cp.size,
                note,
                e_tag,
            }
        }
    };
    state.metrics.bucket_tree_size.set(at.size as i64);
    state.bucket.advanced(at.size);
    Ok(at)
}

/// Reads the bucket's checkpoint, verified with the log's key: the
/// checkpoint, its note and the object's entity tag.
async fn read_checkpoint(
    state: &LogState,
    bucket: &Bucket,
    verifier: &VerifierKey,
) -> Result<Option<(Checkpoint, Vec<u8>, Option<String>)>, PublishError> {
    let Some(obj) = bucket.get(layout::CHECKPOINT, MAX_CHECKPOINT_BYTES).await? else {
        return Ok(None);
    };
    let (cp, _) = Checkpoint::open(&obj.bytes, &state.origin, verifier).map_err(|e| {
        PublishError::Conflict(format!(
            "the bucket's checkpoint does not verify as this log's ({e}); refusing to publish over it"
        ))
    })?;
    Ok(Some((cp, obj.bytes.to_vec(), obj.e_tag)))
}

/// One round: publishes what the bucket lacks; `None` if it lacked
/// nothing.
async fn round(
    state: &LogState,
    bucket: &Bucket,
    verifier: &VerifierKey,
    at: &InBucket,
    certs: &mut WrittenCertificates,
) -> Result<Option<InBucket>, PublishError> {
    let target = wanted(state);
    if at.holds(&target) {
        return Ok(None);
    }
    let note = target.note;
    let started = Instant::now();
    let objects = async {
        if target.size > at.size {
            write_range(
                state.store.as_ref(),
                bucket,
                at.size,
                target.size,
                &state.metrics,
                certs,
            )
            .await
        } else {
            Ok(())
        }
    };
    // The checkpoint goes last, and never over a larger tree: a
    // conditional write where the store has them, else a look at the
    // current object, taken while the tiles are written.
    let e_tag = if bucket.conditional_put() {
        objects.await?;
        bucket
            .put_if(
                layout::CHECKPOINT,
                Bytes::from(note.clone()),
                at.e_tag.as_deref(),
            )
            .await
            .map_err(|e| match e {
                BucketError::Changed { .. } => PublishError::Conflict(
                    "the bucket's checkpoint changed since this log last wrote it \
                     (another writer?); reading it again"
                        .into(),
                ),
                other => other.into(),
            })?
    } else {
        let ((), current) = tokio::try_join!(objects, read_checkpoint(state, bucket, verifier))?;
        if let Some((cp, _, _)) = current {
            if cp.size > target.size {
                return Err(PublishError::Conflict(format!(
                    "the bucket's checkpoint is for size {} but this log is at {}: another writer? \
                     refusing to move it backwards",
                    cp.size, target.size
                )));
            }
            if cp.size != at.size {
                tracing::warn!(
                    expected = at.size,
                    found = cp.size,
                    "the bucket's checkpoint changed behind the publisher's back"
                );
            }
        }
        bucket
            .put(layout::CHECKPOINT, Bytes::from(note.clone()))
            .await?;
        None
    };
    state.metrics.objects_written.inc();
    state.metrics.bucket_tree_size.set(target.size as i64);
    if let Some(lag) = state.bucket.advanced(target.size) {
        state.metrics.publish_lag_seconds.observe(lag.as_secs_f64());
    }
    tracing::debug!(
        from = at.size,
        to = target.size,
        seconds = started.elapsed().as_secs_f64(),
        "published"
    );
    Ok(Some(InBucket {
        size: target.size,
        note,
        e_tag,
    }))
}

/// Writes the tiles, entry bundles and certificates that change when the
/// tree grows from `old` to `new` entries, checkpoint excluded: in one
/// parallel step, or in steps of 64 bundles (`BUNDLES_PER_STEP`) when the
/// range is long (the upper tiles go with the last step). A certificate
/// is skipped when `certs` says this process already wrote those bytes.
pub async fn write_range(
    store: &dyn Store,
    bucket: &Bucket,
    old: u64,
    new: u64,
    metrics: &crate::metrics::Metrics,
    certs: &mut WrittenCertificates,
) -> Result<(), PublishError> {
    let tiles = Tile::changed_between(old, new);
    let (level0, upper): (Vec<Tile>, Vec<Tile>) = tiles.into_iter().partition(|t| t.level == 0);
    let steps: Vec<&[Tile]> = level0.chunks(BUNDLES_PER_STEP as usize).collect();
    let long = steps.len() > 1;
    let mut last_report = Instant::now();
    for (step, chunk) in steps.iter().enumerate() {
        let mut objects = Vec::with_capacity(chunk.len() * 2);
        let mut signers = BTreeSet::new();
        for t in chunk.iter() {
            let start = t.index * u64::from(TILE_WIDTH);
            let entries = store.entries(start, start + u64::from(t.width))?;
            for e in &entries {
                // Entries the log wrote always decode; one that does not
                // has no certificate to publish.
                if let Ok(leaf) = attestlog_attest::Leaf::decode(e) {
                    signers.insert(leaf.primary_fingerprint().as_bytes().to_vec());
                }
            }
            let bundle = encode_entry_bundle(&entries)
                .map_err(|e| PublishError::Conflict(format!("entry bundle {}: {e}", t.index)))?;
            objects.push((layout::entry_bundle(t), Bytes::from(bundle)));
            objects.push((layout::hash_tile(t), Bytes::from(read_tile(store, t)?)));
        }
        let mut written = Vec::new();
        for fpr in signers {
            if let Some(cert) = store.certificate(&fpr)? {
                if certs.needs(&fpr, &cert) {
                    objects.push((layout::certificate(&fpr), Bytes::from(cert.clone())));
                    written.push((fpr, cert));
                }
            }
        }
        if step + 1 == steps.len() {
            for t in &upper {
                objects.push((layout::hash_tile(t), Bytes::from(read_tile(store, t)?)));
            }
        }
        put_all(bucket, objects, metrics).await?;
        for (fpr, cert) in written {
            certs.wrote(fpr, &cert);
        }
        if long && last_report.elapsed() >= Duration::from_secs(2) {
            last_report = Instant::now();
            tracing::info!(
                done = (step + 1) * BUNDLES_PER_STEP as usize,
                total = level0.len(),
                "publishing entry bundles to the object store"
            );
        }
    }
    Ok(())
}

/// Writes `objects`, [`CONCURRENCY`] at a time; fails on the first
/// failure.
async fn put_all(
    bucket: &Bucket,
    objects: Vec<(String, Bytes)>,
    metrics: &crate::metrics::Metrics,
) -> Result<(), PublishError> {
    let mut pending = objects.into_iter();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < CONCURRENCY {
            let Some((name, bytes)) = pending.next() else {
                break;
            };
            let bucket = bucket.clone();
            running.spawn(async move { bucket.put(&name, bytes).await });
        }
        match running.join_next().await {
            None => return Ok(()),
            Some(Ok(Ok(()))) => {
                metrics.objects_written.inc();
            }
            Some(Ok(Err(e))) => return Err(e.into()),
            Some(Err(e)) => {
                return Err(PublishError::Conflict(format!(
                    "an object write task failed: {e}"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn progress_waits_and_lags() {
        let p = BucketProgress::default();
        p.active.store(true, Ordering::Relaxed);
        p.signed(3);
        assert_eq!(
            p.health_line(3)
                .as_deref()
                .map(|l| l.starts_with("bucket: 3 entries behind")),
            Some(true)
        );
        assert!(!p.wait_for(2, Duration::from_millis(20)).await);
        let lag = p.advanced(3);
        assert!(lag.is_some());
        assert!(p.wait_for(2, Duration::from_millis(20)).await);
        assert!(!p.wait_for(3, Duration::from_millis(20)).await);
        p.set_failure(Some("down".into()));
        let first = p.failure().unwrap().0;
        p.set_failure(Some("still down".into()));
        assert_eq!(p.failure().unwrap().0, first, "the failure keeps its start");
        assert!(p.refuse_reason().unwrap().contains("still down"));
        p.set_failure(None);
        assert!(p.refuse_reason().is_none());
    }
}
