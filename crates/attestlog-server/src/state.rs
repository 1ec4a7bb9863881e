//! What the log has published: the latest signed checkpoint, shared by the
//! sequencer (which replaces it) and every reader.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use attestlog_core::Hash;
use attestlog_store::Store;

use crate::metrics::Metrics;
use crate::publish::BucketProgress;

/// A signed checkpoint the log has made durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed note bytes.
    pub note: Vec<u8>,
}

/// A checkpoint with the witness cosignatures collected for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectedCosignatures {
    /// The checkpoint; its note carries the log signature and every
    /// cosignature collected.
    pub checkpoint: Published,
    /// Policy names of the witnesses that cosigned.
    pub cosigners: std::collections::HashSet<String>,
    /// Whether the cosigners satisfy the policy's quorum.
    pub quorum_met: bool,
}

/// State shared by the sequencer, the gRPC service and the HTTP service.
pub struct LogState {
    /// The log's origin (checkpoint first line and key name).
    pub origin: String,
    /// The durable store.
    pub store: Arc<dyn Store>,
    /// Metrics registry and instruments.
    pub metrics: Metrics,
    current: RwLock<Arc<Published>>,
    /// Entries admitted and waiting for the sequencer.
    pub queued: AtomicUsize,
    /// Unix seconds of the last checkpoint signed.
    pub last_signed: AtomicU64,
    /// Set when the sequencer has stopped after a storage failure.
    pub stopped: AtomicBool,
    /// How far the object-store bucket has caught up, if the log
    /// publishes to one.
    pub bucket: BucketProgress,
    signed: tokio::sync::watch::Sender<u64>,
    witnessed: tokio::sync::watch::Sender<Option<Arc<CollectedCosignatures>>>,
}

impl LogState {
    /// State for a store whose latest checkpoint is `published`.
    pub fn new(origin: String, store: Arc<dyn Store>, published: Published) -> LogState {
        let metrics = Metrics::new();
        let size = published.size;
        metrics.tree_size.set(published.size as i64);
        LogState {
            origin,
            store,
            metrics,
            current: RwLock::new(Arc::new(published)),
            queued: AtomicUsize::new(0),
            last_signed: AtomicU64::new(unix_now()),
            stopped: AtomicBool::new(false),
            bucket: BucketProgress::default(),
            signed: tokio::sync::watch::channel(size).0,
            witnessed: tokio::sync::watch::channel(None).0,
        }
    }

    /// The latest published checkpoint.
    pub fn current(&self) -> Arc<Published> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the published checkpoint. Only the sequencer calls this,
    /// after the checkpoint is durable; sizes never decrease.
    pub(crate) fn publish(&self, p: Published) {
        let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
        debug_assert!(p.size >= cur.size);
        if p.size >= cur.size {
            self.metrics.tree_size.set(p.size as i64);
            let size = p.size;
            *cur = Arc::new(p);
            drop(cur);
            self.bucket.signed(size);
            self.signed.send_replace(size);
        }
        self.last_signed.store(unix_now(), Ordering::Relaxed);
    }

    /// Waits for newly signed checkpoints (their sizes).
    pub fn subscribe_signed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.signed.subscribe()
    }

    /// Publishes a newly cosigned checkpoint (witnessing only).
    pub(crate) fn publish_witnessed(&self, w: CollectedCosignatures) {
        self.witnessed.send_replace(Some(Arc::new(w)));
    }

    /// The latest witnessed checkpoint, if witnessing runs.
    pub fn witnessed(&self) -> Option<Arc<CollectedCosignatures>> {
        self.witnessed.borrow().clone()
    }

    /// Waits for witnessed checkpoints.
    pub fn subscribe_witnessed(
        &self,
    ) -> tokio::sync::watch::Receiver<Option<Arc<CollectedCosignatures>>> {
        self.witnessed.subscribe()
    }

    /// What `GetCheckpoint` and `/checkpoint` serve: the latest witnessed
    /// checkpoint (with its cosignatures) if there is one, else the latest
    /// log-signed checkpoint.
    pub fn served(&self) -> Arc<Published> {
        match self.witnessed() {
            Some(w) => Arc::new(w.checkpoint.clone()),
            None => self.current(),
        }
    }

    /// Whether the log is healthy: not stopped, if entries are waiting a
    /// checkpoint was signed within `max_age_secs`, and publishing to the
    /// object store (if any) has not been failing for longer than that.
    pub fn healthy(&self, max_age_secs: u64) -> Result<(), String> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err("sequencer stopped after a storage failure".into());
        }
        if let Some((since, why)) = self.bucket.failure() {
            if since.elapsed().as_secs() > max_age_secs {
                return Err(format!(
                    "publishing to the object store has been failing for {} s: {why}",
                    since.elapsed().as_secs()
                ));
            }
        }
        let waiting = self.queued.load(Ordering::Relaxed);
        let age = unix_now().saturating_sub(self.last_signed.load(Ordering::Relaxed));
        if waiting > 0 && age > max_age_secs {
            return Err(format!(
                "{waiting} entries waiting and no checkpoint signed for {age} s"
            ));
        }
        Ok(())
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
