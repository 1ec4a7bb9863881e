//! The sequencer: one thread that batches admitted entries, appends them
//! to the tree, makes them durable, signs a checkpoint, and only then
//! answers the submitters.
//!
//! Order of a batch (the durability promise):
//! 1. collect up to `max_batch` entries, or whatever arrived within
//!    `max_wait` of the first, sealing early when a [`QUIET_GAP`] passed
//!    with no new entry;
//! 2. drop duplicates (already logged, or twice in this batch): they are
//!    answered with their first index;
//! 3. compute the new subtree hashes and root, sign the checkpoint;
//! 4. write entries, hashes, indexes and checkpoint in one RocksDB batch
//!    with `sync = true`;
//! 5. publish the checkpoint, then answer each submitter with its index
//!    and an inclusion proof against that checkpoint.
//!
//! A failed write is never retried into a different tree: the sequencer
//! answers the batch with an error, marks the log stopped and returns the
//! error, and the server exits so that its supervisor restarts it and the
//! start-up check reloads the state from disk.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::{Note, SignerKey};
use attestlog_core::proof::prove_inclusion;
use attestlog_core::tree::append_leaves;
use attestlog_core::{leaf_hash, Hash};
use attestlog_store::{AppendBatch, NewEntry, StoreError};
use tokio::sync::oneshot;

use crate::admission::Admitted;
use crate::state::{LogState, Published};

/// How long without a new entry seals a batch early.
pub const QUIET_GAP: Duration = Duration::from_millis(2);

/// Batching limits.
#[derive(Clone, Copy, Debug)]
pub struct SequencerConfig {
    /// Most entries per batch (and per checkpoint).
    pub max_batch: usize,
    /// Longest wait after the first entry of a batch.
    pub max_wait: Duration,
    /// Most admitted entries waiting; beyond it submissions are refused.
    pub queue_limit: usize,
}

impl Default for SequencerConfig {
    fn default() -> Self {
        SequencerConfig {
            max_batch: 1024,
            max_wait: Duration::from_millis(50),
            queue_limit: 4096,
        }
    }
}

/// An entry's place in the log, as answered to its submitter.
#[derive(Clone, Debug)]
pub struct Sequenced {
    /// The entry's index (its first index, for a duplicate).
    pub index: u64,
    /// The logged entry's leaf hash (for a duplicate, the first one's).
    pub leaf_hash: Hash,
    /// The logged entry bytes (for a duplicate, the first one's, whose
    /// verification time differs).
    pub entry: Vec<u8>,
    /// Whether it was logged before.
    pub duplicate: bool,
    /// A durable checkpoint that includes it.
    pub checkpoint: Arc<Published>,
    /// Inclusion proof of `index` in `checkpoint`.
    pub proof: Vec<Hash>,
}

/// Why an entry was not sequenced.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    /// The queue is full: retry later.
    #[error("the log's queue is full ({0} entries waiting); retry later")]
    QueueFull(usize),
    /// The sequencer has stopped (shutdown or storage failure).
    #[error("the log is not accepting entries: {0}")]
    Stopped(String),
}

struct Job {
    admitted: Admitted,
    leaf: Hash,
    reply: oneshot::Sender<Result<Sequenced, SequenceError>>,
    enqueued: Instant,
}

/// The submitting side of the sequencer; cloneable. When every handle is
/// dropped, the sequencer finishes the entries already queued and exits.
#[derive(Clone)]
pub struct SequencerHandle {
    tx: SyncSender<Job>,
    state: Arc<LogState>,
    limit: usize,
}

impl SequencerHandle {
    /// Queues an admitted entry; the receiver yields its result once the
    /// entry is durable. Fails at once if the queue is full.
    pub fn submit(
        &self,
        admitted: Admitted,
    ) -> Result<oneshot::Receiver<Result<Sequenced, SequenceError>>, SequenceError> {
        if self.state.stopped.load(Ordering::Relaxed) {
            return Err(SequenceError::Stopped("storage failure".into()));
        }
        let (reply, rx) = oneshot::channel();
        let job = Job {
            leaf: leaf_hash(&admitted.entry),
            admitted,
            reply,
            enqueued: Instant::now(),
        };
        match self.tx.try_send(job) {
            Ok(()) => {
                self.state.queued.fetch_add(1, Ordering::Relaxed);
                Ok(rx)
            }
            Err(TrySendError::Full(_)) => Err(SequenceError::QueueFull(self.limit)),
            Err(TrySendError::Disconnected(_)) => {
                Err(SequenceError::Stopped("shutting down".into()))
            }
        }
    }
}

/// Starts the sequencer thread. The thread ends when every handle is
/// dropped (returning `Ok`) or on a storage failure (returning the error).
pub fn start(
    state: Arc<LogState>,
    key: SignerKey,
    config: SequencerConfig,
) -> (
    SequencerHandle,
    std::thread::JoinHandle<Result<(), StoreError>>,
) {
    let (tx, rx) = mpsc::sync_channel(config.queue_limit.max(1));
    let handle = SequencerHandle {
        tx,
        state: state.clone(),
        limit: config.queue_limit,
    };
    let thread = std::thread::Builder::new()
        .name("sequencer".into())
        .spawn(move || run(rx, state, key, config))
        .unwrap_or_else(|e| panic!("cannot start the sequencer thread: {e}"));
    (handle, thread)
}

fn run(
    rx: Receiver<Job>,
    state: Arc<LogState>,
    key: SignerKey,
    config: SequencerConfig,
) -> Result<(), StoreError> {
    while let Ok(first) = rx.recv() {
        let deadline = Instant::now() + config.max_wait;
        let mut batch = vec![first];
        take_queued(&rx, &mut batch, config.max_batch);
        // Seal the batch when `max_wait` has passed, when it is full, or
        // when a QUIET_GAP brought no new entry: a burst of concurrent
        // submissions is sequenced at once instead of waiting out
        // `max_wait`, while a steady stream still fills batches. The
        // thread sleeps between looks instead of waiting on the channel,
        // so a submitter never has to wake it while a batch is open (a
        // wake-up per entry cost about 5 % of the server's CPU at peak).
        while batch.len() < config.max_batch {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(QUIET_GAP));
            if take_queued(&rx, &mut batch, config.max_batch) == 0 {
                break;
            }
        }
        state.queued.fetch_sub(batch.len(), Ordering::Relaxed);
        if let Err(e) = sequence_batch(&state, &key, batch) {
            state.stopped.store(true, Ordering::Relaxed);
            tracing::error!(error = %e, "storage failure; the sequencer stops, restart to reload from disk");
            // Refuse whatever is still queued.
            while let Ok(job) = rx.try_recv() {
                let _ = job
                    .reply
                    .send(Err(SequenceError::Stopped("storage failure".into())));
            }
            return Err(e);
        }
    }
    tracing::info!("sequencer finished its queue and stopped");
    Ok(())
}

/// Moves what is queued into `batch`, up to `max_batch` entries in all,
/// without blocking; returns how many it moved.
fn take_queued(rx: &Receiver<Job>, batch: &mut Vec<Job>, max_batch: usize) -> usize {
    let before = batch.len();
    batch.extend(rx.try_iter().take(max_batch.saturating_sub(before)));
    batch.len() - before
}

/// Signs the checkpoint for `size` and `root`.
pub fn sign_checkpoint(key: &SignerKey, origin: &str, size: u64, root: Hash) -> Vec<u8> {
    let text = Checkpoint::new(origin, size, root)
        .to_text()
        .unwrap_or_else(|e| panic!("origin was validated at start-up: {e}"));
    let mut note = Note::new(text).unwrap_or_else(|e| panic!("checkpoint text is valid: {e}"));
    let sig = key
        .sign(note.text())
        .unwrap_or_else(|e| panic!("log key is Ed25519, checked at start-up: {e}"));
    note.add_signature(sig)
        .unwrap_or_else(|e| panic!("key name was validated: {e}"));
    note.to_bytes()
}

/// Where each job of a batch ends up.
enum Place {
    /// Appended at this position of the batch's new entries.
    New(usize),
    /// Already in the log at this index.
    Logged(u64),
}

/// A certificate to store: (primary fingerprint, certificate bytes), as
/// [`AppendBatch::certificates`] takes it.
type FingerprintAndCertificate = (Vec<u8>, Vec<u8>);

/// The certificates to write with a batch: for each signer key of the new
/// entries, the union of the stored copy and every copy submitted in the
/// batch (`attestlog_attest::merge_stored`), only where that adds to what
/// is stored. A stripped copy therefore never replaces a fuller one, and a
/// revocation once stored stays. A copy that cannot be merged (it cannot
/// happen with what admission builds) is skipped with an error log; the
/// stored copy stays.
fn merged_certificates(
    store: &dyn attestlog_store::Store,
    fresh: &[&Job],
) -> Result<Vec<FingerprintAndCertificate>, StoreError> {
    /// One signer key's certificate: stored, and merged if that changed it.
    struct Key {
        fingerprint: Vec<u8>,
        stored: Option<Vec<u8>>,
        merged: Option<Vec<u8>>,
    }
    let mut out: Vec<Key> = Vec::new();
    for (fpr, submitted) in fresh.iter().filter_map(|j| j.admitted.certificate.as_ref()) {
        let pos = match out.iter().position(|k| &k.fingerprint == fpr) {
            Some(p) => p,
            None => {
                out.push(Key {
                    fingerprint: fpr.clone(),
                    stored: store.certificate(fpr)?,
                    merged: None,
                });
                out.len() - 1
            }
        };
        let Key { stored, merged, .. } = &mut out[pos];
        let Some(base) = merged.as_ref().or(stored.as_ref()) else {
            *merged = Some(submitted.clone());
            continue;
        };
        match attestlog_attest::merge_stored(base, submitted) {
            Ok(Some(m)) => *merged = Some(m),
            Ok(None) => {}
            Err(e) => tracing::error!(
                fingerprint = %hex::encode_upper(fpr),
                error = %e,
                "a submitted certificate could not be merged with the stored one; kept the stored one"
            ),
        }
    }
    Ok(out
        .into_iter()
        .filter_map(|k| k.merged.map(|m| (k.fingerprint, m)))
        .collect())
}

fn sequence_batch(state: &LogState, key: &SignerKey, batch: Vec<Job>) -> Result<(), StoreError> {
    let started = Instant::now();
    let store = state.store.as_ref();
    let before = state.current();
    let mut places = Vec::with_capacity(batch.len());
    let mut fresh: Vec<&Job> = Vec::new();
    let mut in_batch: HashMap<Hash, usize> = HashMap::new();
    let keys: Vec<Hash> = batch.iter().map(|j| j.admitted.dedup_key).collect();
    let logged = match store.indexes_of_dedup_keys(&keys) {
        Ok(l) => l,
        Err(e) => return fail_batch(batch, e),
    };
    for (job, logged) in batch.iter().zip(logged) {
        let key = job.admitted.dedup_key;
        let place = match logged {
            Some(i) => Place::Logged(i),
            None => match in_batch.get(&key) {
                Some(&pos) => Place::New(pos),
                None => {
                    in_batch.insert(key, fresh.len());
                    fresh.push(job);
                    Place::New(fresh.len() - 1)
                }
            },
        };
        places.push(place);
    }

    let published = if fresh.is_empty() {
        before.clone()
    } else {
        let leaves: Vec<Hash> = fresh.iter().map(|j| j.leaf).collect();
        let appended = match append_leaves(store, before.size, &leaves) {
            Ok(a) => a,
            Err(e) => return fail_batch(batch, e),
        };
        let new_size = before.size + fresh.len() as u64;
        let note = sign_checkpoint(key, &state.origin, new_size, appended.root);
        let certificates = match merged_certificates(store, &fresh) {
            Ok(c) => c,
            Err(e) => return fail_batch(batch, e),
        };
        let write = AppendBatch {
            old_size: before.size,
            entries: fresh
                .iter()
                .map(|j| NewEntry {
                    bytes: j.admitted.entry.clone(),
                    dedup_key: j.admitted.dedup_key,
                    index_keys: j.admitted.index_keys.clone(),
                })
                .collect(),
            hashes: appended.hashes,
            certificates,
            checkpoint: note.clone(),
        };
        if let Err(e) = store.append(&write) {
            return fail_batch(batch, e);
        }
        let p = Published {
            size: new_size,
            root: appended.root,
            note,
        };
        state.publish(p);
        state.metrics.entries_appended.inc_by(fresh.len() as u64);
        state.metrics.batch_size.observe(fresh.len() as f64);
        state.current()
    };

    state
        .metrics
        .batch_seconds
        .observe(started.elapsed().as_secs_f64());
    let mut answered = vec![false; fresh.len()];
    for (job, place) in batch.into_iter().zip(places) {
        let (index, duplicate) = match place {
            // The first submitter of an entry gets `duplicate: false`, any
            // later one in the same batch `true`.
            Place::New(pos) => (
                before.size + pos as u64,
                std::mem::replace(&mut answered[pos], true),
            ),
            Place::Logged(i) => (i, true),
        };
        let result = answer(store, &job, index, duplicate, &published);
        state
            .metrics
            .submit_seconds
            .observe(job.enqueued.elapsed().as_secs_f64());
        // The submitter may have gone away; the entry is logged regardless.
        let _ = job.reply.send(result);
    }
    Ok(())
}

/// Builds one submitter's answer: the proof, and for a duplicate the
/// entry as first logged.
fn answer(
    store: &dyn attestlog_store::Store,
    job: &Job,
    index: u64,
    duplicate: bool,
    published: &Arc<Published>,
) -> Result<Sequenced, SequenceError> {
    let failed =
        |e: &dyn std::fmt::Display| SequenceError::Stopped(format!("reading the log: {e}"));
    let (entry, leaf) = if duplicate {
        let mut e = store.entries(index, index + 1).map_err(|e| failed(&e))?;
        let bytes = e.pop().ok_or_else(|| failed(&"entry missing"))?;
        let leaf = leaf_hash(&bytes);
        (bytes, leaf)
    } else {
        (job.admitted.entry.clone(), job.leaf)
    };
    let proof = prove_inclusion(store, index, published.size).map_err(|e| failed(&e))?;
    Ok(Sequenced {
        index,
        leaf_hash: leaf,
        entry,
        duplicate,
        checkpoint: published.clone(),
        proof,
    })
}

fn fail_batch(batch: Vec<Job>, e: StoreError) -> Result<(), StoreError> {
    for job in batch {
        let _ = job
            .reply
            .send(Err(SequenceError::Stopped(format!("storage failure: {e}"))));
    }
    Err(e)
}
