//! The attestlog log server.
//!
//! In scope: the start-up integrity check ([`open_log`]), the sequencer
//! ([`sequencer`]), the gRPC API ([`grpc`]), the C2SP tlog-tiles HTTP read
//! API with health and metrics ([`http`]), configuration ([`config`], with
//! the flags that override it in [`cli`]), [`serve`], which runs them all
//! on listeners the caller bound (so tests can bind `127.0.0.1:0`),
//! publishing to a bucket ([`publish`]) and rebuilding a data directory
//! from one ([`restore`]). Out of scope: formats and proofs (the core
//! crate), OpenPGP rules (the attestation crate), storage layout (the store
//! crate).

pub mod admission;
pub mod cli;
pub mod config;
pub mod error;
pub mod grpc;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod publish;
pub mod rate_limit;
pub mod replica;
pub mod restore;
pub mod search;
pub mod sequencer;
pub mod state;
pub mod witnessing;

use std::future::Future;
use std::sync::Arc;

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::{KeyType, NoteVerifier as _, SignerKey, VerifierKey};
use attestlog_core::tree::tree_root;
use attestlog_core::Hash;
use attestlog_proto::v1::log_server::LogServer;
use attestlog_store::{AppendBatch, Store, StoreError};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt as _;

use crate::admission::Admission;
use crate::limits::{
    CALL_TIMEOUT, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, MAX_STREAMS_PER_CONNECTION,
};
use crate::sequencer::SequencerConfig;
use crate::state::{LogState, Published};

/// Why the log refused to start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log key does not fit the configuration.
    #[error("log key: {0}")]
    Key(String),
    /// Stored data contradicts itself; the log will not serve it.
    #[error("integrity check failed: {0}")]
    Integrity(String),
    /// The gRPC transport failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// A read replica could not catch up with its bucket.
    #[error("following the bucket: {0}")]
    Follow(#[from] replica::FollowError),
}

/// Opens the log in `store`: for a new store, signs and stores the
/// checkpoint of the empty tree; otherwise checks that the stored
/// checkpoint is signed by `key` for `origin`, that its size is the stored
/// size, and that the root recomputed from every stored entry is the
/// checkpoint's root. Refuses to start on any disagreement.
pub fn open_log(
    store: Arc<dyn Store>,
    origin: &str,
    key: &SignerKey,
) -> Result<Arc<LogState>, ServerError> {
    check_log_key(&key.verifier(), origin).map_err(ServerError::Key)?;
    let published = match store.state()? {
        None => {
            let note = sequencer::sign_checkpoint(key, origin, 0, Hash::EMPTY_ROOT);
            store.append(&AppendBatch {
                old_size: 0,
                checkpoint: note.clone(),
                ..AppendBatch::default()
            })?;
            tracing::info!(origin, "created a new, empty log");
            Published {
                size: 0,
                root: Hash::EMPTY_ROOT,
                note,
            }
        }
        Some(_) => check_stored(store.as_ref(), origin, &key.verifier())?,
    };
    Ok(Arc::new(LogState::new(origin.to_owned(), store, published)))
}

/// A log's checkpoint key is an Ed25519 note key named after its origin;
/// why not, if it is not. (The log, restore and replicas check the key
/// they are given with it.)
pub fn check_log_key(key: &VerifierKey, origin: &str) -> Result<(), String> {
    if key.key_type() != KeyType::Ed25519 {
        return Err("the log key must be an Ed25519 (0x01) note key".into());
    }
    if key.name() != origin {
        return Err(format!(
            "the key is named {:?} but the origin is {origin:?}; they must match",
            key.name()
        ));
    }
    Ok(())
}

/// The start-up check of a store that holds a log: its checkpoint is
/// signed for `origin` by `verifier`, is for the stored size, and its root
/// is the root recomputed from every stored entry and from the stored
/// hashes. Returns that checkpoint; refuses on any disagreement. (Used by
/// [`open_log`] and by read replicas, which have only the verifier key.)
pub fn check_stored(
    store: &dyn Store,
    origin: &str,
    verifier: &VerifierKey,
) -> Result<Published, ServerError> {
    let st = store
        .state()?
        .ok_or_else(|| ServerError::Integrity("the store holds no checkpoint".into()))?;
    let (cp, _) = Checkpoint::open(&st.checkpoint, origin, verifier).map_err(|e| {
        ServerError::Integrity(format!(
            "the stored checkpoint does not verify with key {:08x}: {e}",
            verifier.key_id()
        ))
    })?;
    if cp.size != st.size {
        return Err(ServerError::Integrity(format!(
            "stored checkpoint is for size {} but the store holds {} entries",
            cp.size, st.size
        )));
    }
    let started = std::time::Instant::now();
    let mut last_report = started;
    let recomputed = store.recompute_root(st.size, &mut |done, total| {
        if last_report.elapsed().as_secs() >= 2 {
            last_report = std::time::Instant::now();
            tracing::info!(done, total, "recomputing the root from stored entries");
        }
    })?;
    if recomputed != cp.root {
        return Err(ServerError::Integrity(format!(
            "root recomputed from {} stored entries is {recomputed}, \
             but the stored checkpoint says {}",
            st.size, cp.root
        )));
    }
    let from_hashes = tree_root(store, st.size)?;
    if from_hashes != cp.root {
        return Err(ServerError::Integrity(format!(
            "root from stored subtree hashes is {from_hashes}, \
             but the checkpoint says {}",
            cp.root
        )));
    }
    tracing::info!(
        size = st.size,
        root = %cp.root,
        seconds = started.elapsed().as_secs_f64(),
        "log opened; stored entries match the checkpoint"
    );
    Ok(Published {
        size: st.size,
        root: cp.root,
        note: st.checkpoint,
    })
}

/// Everything [`serve`] runs: the opened log and how to run it.
pub struct Log {
    /// The state from [`open_log`].
    pub state: Arc<LogState>,
    /// The log's checkpoint key.
    pub key: SignerKey,
    /// How submissions are verified.
    pub admission: Arc<dyn Admission>,
    /// Batching limits.
    pub sequencer: SequencerConfig,
    /// Witnesses to ask for cosignatures, if any.
    pub witnessing: Option<witnessing::WitnessingConfig>,
    /// Per-key submission rate limit, if any.
    pub rate_limit: Option<rate_limit::RateLimit>,
    /// Limits of the HTTP read API's connections (`[http]`).
    pub http_limits: attestlog_http::server::ServerLimits,
    /// How many submissions are checked at once, wait, and for how long.
    pub admission_limits: admission::AdmissionLimits,
    /// Serve gRPC over TLS with this certificate and key, if set.
    pub grpc_tls: Option<tonic::transport::Identity>,
    /// Publish to an object-store bucket, if set.
    pub publish: Option<publish::PublishConfig>,
}

/// Runs the log until `shutdown` completes or the sequencer stops after a
/// storage failure: gRPC on `grpc`, HTTP on `http`.
///
/// On shutdown it stops accepting requests, lets in-flight submissions
/// finish (the sequencer completes the batch in flight and everything
/// queued), and returns. Returns an error if the sequencer failed.
pub async fn serve(
    log: Log,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let Log {
        state,
        key,
        admission,
        sequencer: sequencer_config,
        witnessing,
        rate_limit,
        admission_limits,
        http_limits,
        grpc_tls,
        publish,
    } = log;
    let verifier = key.verifier();
    let (handle, thread) = sequencer::start(state.clone(), key, sequencer_config);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);

    // Stop on the caller's signal, or when the sequencer has stopped.
    let watch_state = state.clone();
    let stop_tx2 = stop_tx.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx2.send(true);
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
        loop {
            tick.tick().await;
            if watch_state
                .stopped
                .load(std::sync::atomic::Ordering::Relaxed)
            {
                let _ = stop_tx.send(true);
                break;
            }
        }
    });
    let service = grpc::LogService::new(
        state.clone(),
        admission::AdmissionPool::new(admission, admission_limits),
        handle,
        witnessing.is_some(),
        rate_limit,
        publish
            .as_ref()
            .filter(|p| p.ack == publish::AckMode::Replicated)
            .map(|p| publish::ReplicatedAck::new(p.ack_timeout, p.max_waiting)),
    );
    // The publisher stops after the sequencer, so its last round
    // publishes the last batch.
    let (publish_stop, publish_stop_rx) = tokio::sync::watch::channel(false);
    let publish_task = publish.map(|p| {
        let interval = p.round_interval();
        tokio::spawn(publish::run(
            state.clone(),
            p.bucket,
            interval,
            verifier,
            publish_stop_rx,
        ))
    });
    let witness_task =
        witnessing.map(|w| tokio::spawn(witnessing::run(state.clone(), w, stop_rx.clone())));
    let grpc_result = serve_api(state, service, grpc, http, http_limits, grpc_tls, stop_rx).await;
    if let Some(t) = witness_task {
        let _ = t.await;
    }
    // The service (and with it the last sequencer handle) is dropped now;
    // the sequencer drains its queue and exits.
    let seq_result = tokio::task::spawn_blocking(move || thread.join())
        .await
        .ok()
        .and_then(|r| r.ok());
    let _ = publish_stop.send(true);
    if let Some(t) = publish_task {
        let _ = t.await;
    }
    grpc_result?;
    match seq_result {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err(ServerError::Store(e)),
        None => Err(ServerError::Integrity(
            "the sequencer thread panicked".into(),
        )),
    }
}

/// Serves the gRPC API (`service`, with health and reflection) and the
/// HTTP API over `state` until `stop` turns true; returns when both have
/// stopped, with the gRPC server's result.
async fn serve_api(
    state: Arc<LogState>,
    service: grpc::LogService,
    grpc: TcpListener,
    http: TcpListener,
    http_limits: attestlog_http::server::ServerLimits,
    grpc_tls: Option<tonic::transport::Identity>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), ServerError> {
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<LogServer<grpc::LogService>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(attestlog_proto::v1::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServerError::Key(format!("reflection descriptor: {e}")))?;
    let log = LogServer::new(service)
        .max_decoding_message_size(MAX_REQUEST_BYTES)
        .max_encoding_message_size(MAX_RESPONSE_BYTES);
    let http_task = tokio::spawn(http::serve(http, state, http_limits, stopped(stop.clone())));
    let mut grpc_server = tonic::transport::Server::builder();
    if let Some(identity) = grpc_tls {
        grpc_server = grpc_server
            .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
            .map_err(|e| ServerError::Key(format!("TLS certificate or key: {e}")))?;
    }
    let grpc_result = grpc_server
        // Bounds per connection: streams in flight (a client wanting more
        // opens another connection) and time per call (Submit waits at
        // most 30 s for witnesses).
        .max_concurrent_streams(Some(MAX_STREAMS_PER_CONNECTION))
        .timeout(CALL_TIMEOUT)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(log)
        .serve_with_incoming_shutdown(
            // Small gRPC messages must not wait for Nagle's algorithm and
            // the peer's delayed ACK (40 ms per request otherwise).
            TcpListenerStream::new(grpc).map(|conn| {
                conn.and_then(|s| {
                    s.set_nodelay(true)?;
                    Ok(s)
                })
            }),
            stopped(stop),
        )
        .await;
    let _ = http_task.await;
    Ok(grpc_result?)
}

/// Everything [`serve_replica`] runs.
pub struct Replica {
    /// The state from [`replica::open`].
    pub state: Arc<LogState>,
    /// The log's verifier key.
    pub verifier: VerifierKey,
    /// The bucket to follow and the primary to name.
    pub config: replica::ReplicaConfig,
    /// Limits of the HTTP read API's connections (`[http]`).
    pub http_limits: attestlog_http::server::ServerLimits,
    /// Serve gRPC over TLS with this certificate and key, if set.
    pub grpc_tls: Option<tonic::transport::Identity>,
}

/// Runs a read replica until `shutdown` completes: the read API on
/// `grpc` and `http`, `Submit` refused with the primary's name, and the
/// bucket followed in the background (see [`replica`]).
pub async fn serve_replica(
    replica: Replica,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let Replica {
        state,
        verifier,
        config,
        http_limits,
        grpc_tls,
    } = replica;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let service = grpc::LogService::replica(state.clone(), config.primary.clone());
    let follow = tokio::spawn(replica::follow(
        state.clone(),
        config,
        verifier,
        stop_rx.clone(),
    ));
    let result = serve_api(state, service, grpc, http, http_limits, grpc_tls, stop_rx).await;
    let _ = follow.await;
    result
}
