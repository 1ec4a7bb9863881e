//! Read replicas: a process with its own data directory that follows a
//! log's bucket (`attestlog-server serve --replica-of-bucket`) and serves
//! the read half of the API — `GetCheckpoint`, proofs, `GetEntries`,
//! `Search`, `GetCertificate` and the HTTP tiles — from it, refusing
//! `Submit` with a message naming the primary. N replicas behind a load
//! balancer scale reads past one machine; none of them can sign.
//!
//! A replica trusts nothing in the bucket but what the log's key signed.
//! It takes the bucket's checkpoint only after verifying the log's
//! signature, and entries only as restore does
//! ([`crate::restore`], steps 4.1–4.5: every chunk of entries checked
//! against the checkpoint's root by a consistency proof from the bucket's
//! hash tiles, level-0 tiles against the entries, certificates against
//! their fingerprints), and serves a checkpoint only once every entry it
//! covers is in its own store. A tampered object, a bucket whose
//! checkpoint goes backwards, or one that forks from what the replica
//! holds is refused: the replica keeps serving what it verified, logs the
//! error, counts it (`attestlog_publish_failures`) and reports it on
//! `/healthz` (503 after 30 s), and tries again at the next round.
//!
//! At start a replica first catches up with the bucket (an empty data
//! directory: the whole log, as a restore would), then runs the start-up
//! check of [`crate::check_stored`], and only then listens.

use std::sync::Arc;
use std::time::Duration;

use attestlog_bucket::Bucket;
use attestlog_core::note::VerifierKey;
use attestlog_core::tree::tree_root;
use attestlog_store::{AppendBatch, Store};
use tokio::sync::watch;

use crate::restore::{append_from_bucket, read_checkpoint, Reader, RestoreError, RestoreOptions};
use crate::state::{LogState, Published};

/// How a replica follows its bucket.
#[derive(Clone, Debug)]
pub struct ReplicaConfig {
    /// The primary log's bucket.
    pub bucket: Bucket,
    /// Where publishers should submit (named when `Submit` is refused).
    pub primary: String,
    /// Time between looks at the bucket's checkpoint.
    pub interval: Duration,
}

/// Why following the bucket failed this round.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// Reading or checking the bucket failed (a tampered object, a
    /// checkpoint not signed by the log, a store that is down...).
    #[error(transparent)]
    Bucket(#[from] RestoreError),
    /// The local store failed.
    #[error("the replica's store: {0}")]
    Store(#[from] attestlog_store::StoreError),
    /// The bucket's checkpoint is smaller than what the replica holds.
    #[error(
        "the bucket's checkpoint is for size {bucket} but this replica holds {local} entries \
         verified under an earlier checkpoint: the bucket went backwards; refusing it"
    )]
    RolledBack {
        /// The bucket's size.
        bucket: u64,
        /// The replica's.
        local: u64,
    },
    /// The bucket's checkpoint is for the size the replica holds, with
    /// another root: a fork.
    #[error(
        "the bucket's checkpoint for size {size} has root {bucket}, but this replica verified \
         root {local} for that size: a fork; refusing it"
    )]
    Fork {
        /// The size.
        size: u64,
        /// The bucket's root.
        bucket: attestlog_core::Hash,
        /// The replica's.
        local: attestlog_core::Hash,
    },
}

/// Brings `store` up to the bucket's current checkpoint, verifying
/// everything it takes; returns the checkpoint the store now holds (its
/// size equals the store's), or `None` if the bucket holds nothing newer
/// than `served` (the checkpoint being served, if any).
pub async fn catch_up(
    store: &Arc<dyn Store>,
    bucket: &Bucket,
    origin: &str,
    verifier: &VerifierKey,
    served: Option<&Published>,
    progress: &mut (impl FnMut(u64, u64) + Send),
) -> Result<Option<Published>, FollowError> {
    let mut reader = Reader {
        bucket,
        bytes_read: 0,
    };
    let (cp, note) = read_checkpoint(&mut reader, origin, verifier).await?;
    // What the store holds may run ahead of what is served: chunks of an
    // earlier round that failed before its last chunk (each was checked
    // against a signed checkpoint before it was written).
    let held = store.state()?.map_or(0, |s| s.size);
    let floor = served.map_or(0, |p| p.size).max(held);
    if cp.size < floor {
        return Err(FollowError::RolledBack {
            bucket: cp.size,
            local: floor,
        });
    }
    if let Some(p) = served {
        if cp.size == p.size && note == p.note {
            return Ok(None);
        }
    }
    if cp.size == held {
        let local = tree_root(store.as_ref(), held)?;
        if local != cp.root {
            return Err(FollowError::Fork {
                size: held,
                bucket: cp.root,
                local,
            });
        }
        // Same tree, another note (new cosignatures): store it.
        store.append(&AppendBatch {
            old_size: held,
            checkpoint: note.clone(),
            ..AppendBatch::default()
        })?;
    } else {
        append_from_bucket(
            &mut reader,
            store,
            held,
            &cp,
            &note,
            &RestoreOptions::default(),
            progress,
        )
        .await?;
    }
    Ok(Some(Published {
        size: cp.size,
        root: cp.root,
        note,
    }))
}

/// Opens a replica's data directory: catches `store` up with the bucket
/// (all of it, for an empty store), then runs the start-up check
/// ([`crate::check_stored`]) with the log's verifier key. Refuses a bucket
/// that does not verify, went backwards, or forks from the store.
pub async fn open(
    store: Arc<dyn Store>,
    bucket: &Bucket,
    origin: &str,
    verifier: &VerifierKey,
) -> Result<Arc<LogState>, crate::ServerError> {
    crate::check_log_key(verifier, origin).map_err(crate::ServerError::Key)?;
    let mut progress = |done, total| {
        tracing::info!(done, total, "catching up with the bucket before serving");
    };
    catch_up(&store, bucket, origin, verifier, None, &mut progress).await?;
    let published = crate::check_stored(store.as_ref(), origin, verifier)?;
    Ok(Arc::new(LogState::new(origin.to_owned(), store, published)))
}

/// Follows the bucket every `config.interval` until `stop` turns true,
/// publishing each newly verified checkpoint to `state`.
pub async fn follow(
    state: Arc<LogState>,
    config: ReplicaConfig,
    verifier: VerifierKey,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        bucket = config.bucket.describe(),
        "following the log's bucket"
    );
    state.bucket.activate();
    state.bucket.advanced(state.current().size);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(config.interval) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        let served = state.current();
        let mut progress = |done, total| tracing::info!(done, total, "catching up with the bucket");
        let round = catch_up(
            &state.store,
            &config.bucket,
            &state.origin,
            &verifier,
            Some(&served),
            &mut progress,
        );
        match round.await {
            Ok(Some(p)) => {
                tracing::debug!(size = p.size, "took the bucket's checkpoint");
                state.metrics.bucket_tree_size.set(p.size as i64);
                let size = p.size;
                state.publish(p);
                state.bucket.advanced(size);
                state.bucket.set_failure(None);
            }
            Ok(None) => state.bucket.set_failure(None),
            Err(e) => {
                state.metrics.publish_failures.inc();
                tracing::error!(error = %e, "following the bucket failed; still serving the last verified checkpoint");
                state.bucket.set_failure(Some(e.to_string()));
            }
        }
    }
    tracing::info!("stopped following the bucket");
}
