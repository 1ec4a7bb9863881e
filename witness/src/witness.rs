//! The witness itself: checks a submitted checkpoint against the latest one
//! it cosigned, cosigns, persists; compares checkpoints seen by gossip and
//! records split-view evidence.
//!
//! Everything here is synchronous (RocksDB writes are blocking); the HTTP
//! layer calls it from `spawn_blocking`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::cosignature::{self, MAX_TIMESTAMP};
use attestlog_core::evidence::Evidence;
use attestlog_core::note::{Note, NoteSignature, NoteVerifier, SignerKey};
use attestlog_core::proof::verify_consistency;
use attestlog_core::witness_protocol::AddCheckpointRequest;
use attestlog_core::Hash;
use attestlog_http::tiles::TileFetcher;
use tokio::runtime::Handle;

use crate::config::LogConfig;
use crate::error::WitnessError;
use crate::metrics::{label, Metrics};
use crate::state::{log_id, Kept, Latest, LogId, State};

/// Where the witness gets proofs between two sizes of a log's tree: the
/// log's tiles ([`LogTiles`]), or a fake in tests.
pub trait TreeSource {
    /// From the log's tree of `newer` leaves: the root hash of its first
    /// `older` leaves and the consistency proof from `older` to `newer`.
    fn prefix_proof(
        &self,
        log: &LogConfig,
        older: u64,
        newer: u64,
    ) -> Result<(Hash, Vec<Hash>), WitnessError>;
}

/// The followed logs' C2SP tlog-tiles, each at its configured `tiles_url`,
/// read with `attestlog_http`'s one tile reader (which reads a partial
/// tile the log no longer serves from its full tile). Must be used from a
/// blocking thread (`spawn_blocking`) of the runtime `handle` belongs to.
pub struct LogTiles {
    handle: Handle,
    timeout: Duration,
}

impl LogTiles {
    /// Tiles read on the runtime of `handle`, each request bounded by
    /// `timeout`.
    pub fn new(handle: Handle, timeout: Duration) -> Self {
        LogTiles { handle, timeout }
    }
}

impl TreeSource for LogTiles {
    fn prefix_proof(
        &self,
        log: &LogConfig,
        older: u64,
        newer: u64,
    ) -> Result<(Hash, Vec<Hash>), WitnessError> {
        let base = log
            .tiles_url
            .as_deref()
            .ok_or_else(|| WitnessError::Fetch {
                url: log.origin.clone(),
                reason: "no tiles_url configured for this log".into(),
            })?;
        TileFetcher::new(base, self.handle.clone(), self.timeout)
            .prefix_and_proof(older, newer)
            .map_err(|e| WitnessError::Fetch {
                url: base.to_owned(),
                reason: e.to_string(),
            })
    }
}

/// A cosignature just issued.
#[derive(Clone, Debug)]
pub struct Cosigned {
    /// The cosignature line to return.
    pub signature: NoteSignature,
    /// The checkpoint cosigned.
    pub checkpoint: Checkpoint,
    /// The cosignature's timestamp.
    pub timestamp: u64,
}

/// What the witness concluded about a checkpoint received by gossip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// The witness has cosigned nothing for this log yet; the checkpoint
    /// was kept (with the log's signature only, within `[gossip]
    /// max_kept`).
    NothingToCompare,
    /// Same size and root as the latest cosigned checkpoint.
    Same,
    /// A proof from the log's tiles shows both in one history.
    Consistent,
    /// No proof could be obtained or checked; the checkpoint was kept
    /// (with the log's signature only, within `[gossip] max_kept`).
    Unverified(String),
    /// The two checkpoints cannot be in one history: evidence recorded.
    SplitView,
}

impl Observation {
    /// A short name for metrics and responses.
    pub fn as_str(&self) -> &'static str {
        match self {
            Observation::NothingToCompare => "nothing-to-compare",
            Observation::Same => "same",
            Observation::Consistent => "consistent",
            Observation::Unverified(_) => "unverified",
            Observation::SplitView => "split-view",
        }
    }
}

struct LogSlot {
    config: LogConfig,
    id: LogId,
    /// Held around read → verify → write of this log's state.
    lock: Mutex<()>,
}

/// A witness: its key, its logs, its state.
pub struct Witness {
    key: SignerKey,
    logs: HashMap<String, LogSlot>,
    by_id: HashMap<LogId, String>,
    state: State,
    /// The last cosignature timestamp issued.
    clock: Mutex<u64>,
    /// (older root, newer root) pairs already proven consistent, so that
    /// peers pushing the same checkpoints every round cost no tile fetches.
    proven: Mutex<HashSet<(Hash, Hash)>>,
    /// The most checkpoint notes kept per log (`[gossip] max_kept`).
    max_kept: usize,
    metrics: Metrics,
}

/// How many proven pairs [`Witness`] remembers before starting over.
const MAX_PROVEN_PAIRS: usize = 10_000;

/// The default of `[gossip] max_kept`: checkpoint notes kept per log
/// without being cosigned or proven consistent. A kept note holds the
/// checkpoint text and the log's signature line only (a few hundred
/// bytes), so the default costs well under a megabyte per log.
pub const DEFAULT_MAX_KEPT: usize = 1000;

/// The current time in seconds, never 0.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_secs().max(1))
}

/// `note` reduced to its text and `log_signature` (a verified signature
/// line by the log's key).
fn log_signed_only(note: &Note, log_signature: &NoteSignature) -> Result<Vec<u8>, WitnessError> {
    let mut own =
        Note::new(note.text()).map_err(|e| WitnessError::MalformedCheckpoint(e.into()))?;
    own.add_signature(log_signature.clone())
        .map_err(|e| WitnessError::MalformedCheckpoint(e.into()))?;
    Ok(own.to_bytes())
}

impl Witness {
    /// A witness over `state`, cosigning with `key` (type 0x04) for `logs`.
    pub fn new(
        key: SignerKey,
        logs: Vec<LogConfig>,
        state: State,
        metrics: Metrics,
    ) -> Result<Witness, WitnessError> {
        if key.key_type() != attestlog_core::note::KeyType::Cosignature {
            return Err(WitnessError::Config(
                "the witness key must be a cosignature/v1 (0x04) key".into(),
            ));
        }
        let last = state.max_timestamp()?;
        let mut slots = HashMap::new();
        let mut by_id = HashMap::new();
        for config in logs {
            let id = log_id(&config.origin);
            if let Some(l) = state.latest(&id)? {
                metrics
                    .cosigned_size
                    .get_or_create(&label("origin", &config.origin))
                    .set(l.checkpoint.size as i64);
            }
            if state.evidence(&id)?.is_some() {
                metrics
                    .split_view
                    .get_or_create(&label("origin", &config.origin))
                    .set(1);
            }
            metrics
                .kept
                .get_or_create(&label("origin", &config.origin))
                .set(state.kept_count(&id) as i64);
            by_id.insert(id, config.origin.clone());
            slots.insert(
                config.origin.clone(),
                LogSlot {
                    config,
                    id,
                    lock: Mutex::new(()),
                },
            );
        }
        Ok(Witness {
            key,
            logs: slots,
            by_id,
            state,
            clock: Mutex::new(last),
            proven: Mutex::new(HashSet::new()),
            max_kept: DEFAULT_MAX_KEPT,
            metrics,
        })
    }

    /// Keeps at most `max` checkpoint notes per log (default
    /// [`DEFAULT_MAX_KEPT`]; see [`State::keep`]).
    pub fn with_max_kept(mut self, max: usize) -> Witness {
        self.max_kept = max;
        self
    }

    /// The witness's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The witness's cosigning key.
    pub fn key(&self) -> &SignerKey {
        &self.key
    }

    /// The configured logs.
    pub fn logs(&self) -> impl Iterator<Item = &LogConfig> {
        self.logs.values().map(|s| &s.config)
    }

    /// The log whose id (SHA-256 of the origin) is `id`.
    pub fn log_by_id(&self, id: &LogId) -> Option<&LogConfig> {
        self.by_id
            .get(id)
            .and_then(|o| self.logs.get(o))
            .map(|s| &s.config)
    }

    /// The latest cosigned checkpoint of a log.
    pub fn latest(&self, id: &LogId) -> Result<Option<Latest>, WitnessError> {
        self.state.latest(id)
    }

    /// The split-view evidence recorded for a log.
    pub fn evidence(&self, id: &LogId) -> Result<Option<Vec<u8>>, WitnessError> {
        self.state.evidence(id)
    }

    /// The validly signed checkpoints kept for a log without cosigning.
    pub fn kept(&self, id: &LogId) -> Result<Vec<Vec<u8>>, WitnessError> {
        self.state.kept(id)
    }

    /// The next cosignature timestamp: the clock, but never below one
    /// already issued (so timestamps are monotonic even if the clock steps
    /// back, also across restarts) and never 0.
    fn next_timestamp(&self) -> u64 {
        let mut last = self.clock.lock().unwrap_or_else(|p| p.into_inner());
        let t = now().max(*last).clamp(1, MAX_TIMESTAMP);
        *last = t;
        t
    }

    /// Parses a signed checkpoint and checks origin and log signature.
    /// Returns also the note reduced to its text and the log's signature
    /// line: the only form in which it is ever kept, so that the junk
    /// signature lines a note may carry (up to 99, of any length) cost no
    /// disk.
    fn open(
        &self,
        note_bytes: &[u8],
    ) -> Result<(&LogSlot, Checkpoint, Note, Vec<u8>), WitnessError> {
        let note =
            Note::parse(note_bytes).map_err(|e| WitnessError::MalformedCheckpoint(e.into()))?;
        let cp = Checkpoint::parse(note.text())?;
        // C2SP tlog-witness: "If the checkpoint origin is unknown, the
        // witness MUST respond with a "404 Not Found" HTTP status code."
        let slot = self
            .logs
            .get(&cp.origin)
            .ok_or_else(|| WitnessError::UnknownOrigin(cp.origin.clone()))?;
        // C2SP tlog-witness: "The witness MUST verify the checkpoint
        // signature against the public key(s) it trusts for the checkpoint
        // origin, and it MUST ignore signatures from unknown keys." A
        // trusted key's signature that fails makes the note invalid: 403.
        let verified = note
            .verify(&[&slot.config.key as &dyn NoteVerifier])
            .map_err(WitnessError::NoValidLogSignature)?;
        let own = log_signed_only(&note, verified[0].1)?;
        Ok((slot, cp, note, own))
    }

    /// Keeps a checkpoint not cosigned and not proven consistent (see
    /// [`State::keep`]); `own` is the note with the log's signature only.
    fn keep(&self, slot: &LogSlot, cp: &Checkpoint, own: &[u8]) -> Result<(), WitnessError> {
        let kept = self.state.keep(&slot.id, cp, own, self.max_kept)?;
        let origin = label("origin", &slot.config.origin);
        match kept {
            Kept::New => {
                self.metrics
                    .kept
                    .get_or_create(&origin)
                    .set(self.state.kept_count(&slot.id) as i64);
            }
            Kept::Already => {}
            Kept::Full => tracing::debug!(
                origin = %slot.config.origin,
                size = cp.size,
                max_kept = self.max_kept,
                "kept checkpoints full for this log: not kept"
            ),
        }
        Ok(())
    }

    /// C2SP tlog-witness `add-checkpoint`: verifies the request against
    /// the latest cosigned checkpoint and, if it passes, cosigns and
    /// persists the checkpoint (synced) before returning the cosignature.
    pub fn add_checkpoint(&self, req: &AddCheckpointRequest) -> Result<Cosigned, WitnessError> {
        let (slot, cp, mut note, own) = self.open(&req.checkpoint)?;
        // C2SP tlog-witness: "The old size MUST be equal to or lower than
        // the checkpoint size. Otherwise, the witness MUST respond with a
        // "400 Bad Request" HTTP status code."
        if req.old_size > cp.size {
            return Err(WitnessError::OldSizeLarger {
                old: req.old_size,
                size: cp.size,
            });
        }
        // One request per log at a time from here to the durable write, so
        // the stored size never moves backwards and one size gets one tree.
        let _guard = slot.lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.state.evidence(&slot.id)?.is_some() {
            return Err(WitnessError::SplitView(cp.origin));
        }
        let latest = self.state.latest(&slot.id)?;
        let (stored_size, stored_root) = latest.as_ref().map_or((0, Hash::EMPTY_ROOT), |l| {
            (l.checkpoint.size, l.checkpoint.root)
        });
        // C2SP tlog-witness: "The witness MUST check that the old size
        // matches the size of the latest checkpoint it cosigned for the
        // checkpoint's origin (or zero if it never cosigned a checkpoint for
        // that origin). If it doesn't match, the witness MUST respond with a
        // "409 Conflict" HTTP status code."
        if req.old_size != stored_size {
            return Err(WitnessError::SizeConflict {
                old: req.old_size,
                stored: stored_size,
            });
        }
        // C2SP tlog-witness: "A checkpoint of size zero MUST have the root
        // hash of the empty tree [...] Otherwise, the witness MUST respond
        // with a "422 Unprocessable Entity" HTTP status code."
        if cp.size == 0 && cp.root != Hash::EMPTY_ROOT {
            self.keep(slot, &cp, &own)?;
            return Err(WitnessError::EmptyTreeRoot);
        }
        // C2SP tlog-witness: "If the old size is zero, the consistency proof
        // MUST be empty".
        if req.old_size == 0 && !req.proof.is_empty() {
            return Err(WitnessError::ProofFromZero(req.proof.len()));
        }
        // C2SP tlog-witness: "If the old size matches the checkpoint size,
        // the witness MUST check that the root hashes are also identical.
        // If they don't match, the witness MUST respond with a "422
        // Unprocessable Entity" HTTP status code." (409 before C2SP#280.)
        if let Some(l) = latest.as_ref().filter(|l| l.checkpoint.size == cp.size) {
            if l.checkpoint.root != cp.root {
                self.keep(slot, &cp, &own)?;
                let ev = Evidence::same_size(&cp.origin, &slot.config.key, &l.note, &own);
                self.record_split(slot, ev)?;
                return Err(WitnessError::RootMismatch(cp.size));
            }
        }
        // C2SP tlog-witness: "If the Merkle Consistency Proof doesn't verify,
        // the witness MUST respond with a "422 Unprocessable Entity" HTTP
        // status code." It "MAY log the request even if the consistency
        // proof doesn't verify (but MUST NOT cosign the checkpoint)": we
        // keep the signed note.
        if let Err(e) = verify_consistency(stored_size, cp.size, &stored_root, &cp.root, &req.proof)
        {
            self.keep(slot, &cp, &own)?;
            return Err(WitnessError::BadProof(e));
        }
        // C2SP tlog-witness: "The cosignature MUST NOT omit the timestamp,
        // i.e. the timestamp MUST NOT be zero."
        let timestamp = self.next_timestamp();
        let signature = cosignature::cosign(&self.key, note.text(), timestamp)
            .map_err(|e| WitnessError::Cosign(e.to_string()))?;
        let (name, id) = (self.key.name().to_owned(), self.key.key_id());
        note.remove_signatures(|s| s.name == name && s.key_id == id);
        note.add_signature(signature.clone())
            .map_err(|e| WitnessError::Cosign(e.to_string()))?;
        // C2SP tlog-witness: "The witness MUST persist the new checkpoint
        // before responding."
        self.state
            .put_latest(&slot.id, timestamp, &note.to_bytes())?;
        let origin = label("origin", &cp.origin);
        self.metrics.cosignatures.get_or_create(&origin).inc();
        self.metrics
            .cosigned_size
            .get_or_create(&origin)
            .set(cp.size as i64);
        Ok(Cosigned {
            signature,
            checkpoint: cp,
            timestamp,
        })
    }

    /// Compares a log-signed checkpoint received by gossip (from a peer or a
    /// client) with the latest cosigned one; if they differ, asks `source`
    /// for a proof between them. Records split-view evidence when they
    /// cannot be one history. Never cosigns.
    ///
    /// Only checkpoints that may prove something are kept (with the log's
    /// signature line only, within `[gossip] max_kept`): those with
    /// nothing to compare, those no proof could be obtained for, and those
    /// of a split view. A checkpoint that is the same as ours or proven
    /// consistent with it is not stored: every checkpoint the log ever
    /// signed is public, so anyone could send them all.
    pub fn observe(
        &self,
        note_bytes: &[u8],
        source: &dyn TreeSource,
    ) -> Result<Observation, WitnessError> {
        let (slot, cp, _, own) = self.open(note_bytes)?;
        let verdict = self.observe_opened(slot, &cp, &own, source)?;
        self.metrics
            .gossip_received
            .get_or_create(&label("verdict", verdict.as_str()))
            .inc();
        Ok(verdict)
    }

    /// [`Witness::observe`] of a checked note; `own` is the note with the
    /// log's signature line only.
    fn observe_opened(
        &self,
        slot: &LogSlot,
        cp: &Checkpoint,
        own: &[u8],
        source: &dyn TreeSource,
    ) -> Result<Observation, WitnessError> {
        let latest = {
            let _guard = slot.lock.lock().unwrap_or_else(|p| p.into_inner());
            if self.state.evidence(&slot.id)?.is_some() {
                return Ok(Observation::SplitView);
            }
            let Some(latest) = self.state.latest(&slot.id)? else {
                self.keep(slot, cp, own)?;
                return Ok(Observation::NothingToCompare);
            };
            let ours = &latest.checkpoint;
            if ours.size == cp.size && ours.root == cp.root {
                return Ok(Observation::Same);
            }
            if ours.size == cp.size {
                self.keep(slot, cp, own)?;
                let ev = Evidence::same_size(&cp.origin, &slot.config.key, &latest.note, own);
                self.record_split(slot, ev)?;
                return Ok(Observation::SplitView);
            }
            latest
        };
        // Fetch without holding the log's lock: cosigning goes on meanwhile,
        // and evidence depends only on the two signed notes.
        let ours = &latest.checkpoint;
        let ((older, older_note), (newer, newer_note)) = if ours.size < cp.size {
            ((ours, latest.note.as_slice()), (cp, own))
        } else {
            ((cp, own), (ours, latest.note.as_slice()))
        };
        let pair = (older.root, newer.root);
        if self
            .proven
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&pair)
        {
            return Ok(Observation::Consistent);
        }
        let (prefix_root, proof) = match source.prefix_proof(&slot.config, older.size, newer.size) {
            Ok(p) => p,
            Err(e) => {
                self.keep(slot, cp, own)?;
                return Ok(Observation::Unverified(e.to_string()));
            }
        };
        if let Err(e) =
            verify_consistency(older.size, newer.size, &prefix_root, &newer.root, &proof)
        {
            self.keep(slot, cp, own)?;
            return Ok(Observation::Unverified(format!(
                "the log's tiles do not match its checkpoint of size {}: {e}",
                newer.size
            )));
        }
        if prefix_root == older.root {
            let mut proven = self.proven.lock().unwrap_or_else(|p| p.into_inner());
            if proven.len() >= MAX_PROVEN_PAIRS {
                proven.clear();
            }
            proven.insert(pair);
            return Ok(Observation::Consistent);
        }
        self.keep(slot, cp, own)?;
        let ev = Evidence::inconsistent(
            &cp.origin,
            &slot.config.key,
            older_note,
            newer_note,
            prefix_root,
            proof,
        );
        self.record_split(slot, ev)?;
        Ok(Observation::SplitView)
    }

    /// Accepts split-view evidence from a peer: if it verifies with the
    /// log's key, it is recorded and the witness stops cosigning the log.
    /// Returns whether it was new.
    pub fn accept_evidence(&self, bytes: &[u8]) -> Result<bool, WitnessError> {
        let ev = Evidence::parse(bytes)?;
        let slot = self
            .logs
            .get(&ev.origin)
            .ok_or_else(|| WitnessError::UnknownOrigin(ev.origin.clone()))?;
        self.record_split(slot, ev)
    }

    /// Verifies and records evidence; stops cosigning the log. Returns
    /// whether it was new.
    fn record_split(&self, slot: &LogSlot, ev: Evidence) -> Result<bool, WitnessError> {
        let proven = ev.verify(&slot.config.key)?;
        let new = self.state.put_evidence(&slot.id, &ev.to_bytes())?;
        self.metrics
            .split_view
            .get_or_create(&label("origin", &slot.config.origin))
            .set(1);
        if new {
            tracing::error!(
                origin = %slot.config.origin,
                first_size = proven.first.size,
                second_size = proven.second.size,
                evidence = %format!("/evidence/{}", hex::encode(slot.id)),
                "split view: the log signed two checkpoints that cannot be one history; \
                 no longer cosigning it"
            );
        }
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use attestlog_core::leaf_hash;
    use attestlog_core::note::KeyType;
    use attestlog_core::proof::prove_consistency;
    use attestlog_core::tree::{tree_root, InMemoryTree};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const ORIGIN: &str = "log.example/unit";

    /// Proofs from an in-memory tree, counting the calls.
    struct Fake(InMemoryTree, AtomicUsize);

    impl TreeSource for Fake {
        fn prefix_proof(
            &self,
            _: &LogConfig,
            m: u64,
            n: u64,
        ) -> Result<(Hash, Vec<Hash>), WitnessError> {
            self.1.fetch_add(1, Ordering::Relaxed);
            let fail = |e: String| WitnessError::Fetch {
                url: "fake".into(),
                reason: e,
            };
            Ok((
                tree_root(&self.0, m).map_err(|e| fail(e.to_string()))?,
                prove_consistency(&self.0, m, n).map_err(|e| fail(e.to_string()))?,
            ))
        }
    }

    fn tree(tag: &str, shared: u64, n: u64) -> InMemoryTree {
        let mut t = InMemoryTree::new();
        for i in 0..n {
            let name = if i < shared {
                format!("s{i}")
            } else {
                format!("{tag}{i}")
            };
            t.push(leaf_hash(name.as_bytes()));
        }
        t
    }

    fn signed(key: &SignerKey, t: &InMemoryTree, size: u64) -> Vec<u8> {
        let cp = Checkpoint::new(ORIGIN, size, tree_root(t, size).unwrap());
        let mut note = Note::new(cp.to_text().unwrap()).unwrap();
        note.add_signature(key.sign(note.text()).unwrap()).unwrap();
        note.to_bytes()
    }

    #[test]
    fn observe_judges_other_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let log = SignerKey::from_seed(ORIGIN, KeyType::Ed25519, [1; 32]).unwrap();
        let wkey = SignerKey::from_seed("w", KeyType::Cosignature, [2; 32]).unwrap();
        let config = LogConfig {
            origin: ORIGIN.into(),
            key: log.verifier(),
            tiles_url: None,
        };
        let w = Witness::new(
            wkey,
            vec![config],
            State::open(dir.path()).unwrap(),
            Metrics::new(),
        )
        .unwrap();
        let a = tree("a", 10, 30);
        let fake = Fake(a.clone(), AtomicUsize::new(0));
        assert_eq!(
            w.observe(&signed(&log, &a, 12), &fake).unwrap(),
            Observation::NothingToCompare
        );
        let req = AddCheckpointRequest {
            old_size: 0,
            proof: vec![],
            checkpoint: signed(&log, &a, 20),
        };
        w.add_checkpoint(&req).unwrap();
        assert_eq!(
            w.observe(&signed(&log, &a, 20), &fake).unwrap(),
            Observation::Same
        );
        // Older and newer checkpoints of the same tree; the second time
        // from memory.
        for _ in 0..2 {
            assert_eq!(
                w.observe(&signed(&log, &a, 12), &fake).unwrap(),
                Observation::Consistent
            );
            assert_eq!(
                w.observe(&signed(&log, &a, 30), &fake).unwrap(),
                Observation::Consistent
            );
        }
        assert_eq!(fake.1.load(Ordering::Relaxed), 2);
        // Tiles that are not the signed tree prove nothing; the note is
        // kept without the junk signature lines it came with.
        let b = tree("b", 10, 30);
        let wrong = Fake(a.clone(), AtomicUsize::new(0));
        let mut padded = signed(&log, &b, 25);
        padded.extend_from_slice("\u{2014} junk AAAAAAAA\n".repeat(50).as_bytes());
        assert!(matches!(
            w.observe(&padded, &wrong).unwrap(),
            Observation::Unverified(_)
        ));
        assert!(w.evidence(&log_id(ORIGIN)).unwrap().is_none());
        // The fork's own tiles prove it.
        let forked = Fake(b.clone(), AtomicUsize::new(0));
        assert_eq!(
            w.observe(&signed(&log, &b, 25), &forked).unwrap(),
            Observation::SplitView
        );
        let ev = Evidence::parse(&w.evidence(&log_id(ORIGIN)).unwrap().unwrap()).unwrap();
        ev.verify(&log.verifier()).unwrap();
        assert!(matches!(
            w.add_checkpoint(&AddCheckpointRequest {
                old_size: 20,
                proof: vec![],
                checkpoint: signed(&log, &a, 20)
            }),
            Err(WitnessError::SplitView(_))
        ));
        // Kept: size 12 (nothing to compare then) and the fork's 25, with
        // the log's signature only; not the ones proven consistent.
        let kept = w.kept(&log_id(ORIGIN)).unwrap();
        assert_eq!(kept.len(), 2);
        for k in kept {
            assert_eq!(Note::parse(&k).unwrap().signatures().len(), 1);
        }
    }
}
