//! The client reads a log's tiles when a partial tile is gone (C2SP
//! tlog-tiles lets a log delete a partial tile once the full tile
//! exists), through the client library's `StateDir::advance`:
//!
//! 1. a log key signs a checkpoint of 300 leaves of one tree (stored in
//!    the client's state) and one of 200 leaves of another (presented):
//!    the log showed two histories;
//! 2. the log's gRPC API (a stand-in on 127.0.0.1) has no consistency
//!    proof to give (`OUT_OF_RANGE`, as a log that rolled back answers);
//! 3. its tiles server on 127.0.0.1 serves the real tiles of the first
//!    tree, grown to 600 leaves, and answers 404 for every partial tile
//!    whose full tile exists (here `tile/0/001.p/44`), as a log that
//!    deleted them does;
//! 4. `advance` must read the full tile's prefix instead, and so prove
//!    the fork with split-view evidence that verifies offline.
//!
//! Fails on 1072fab (before `attestlog_http::tiles`): the client's own
//! tile reader stopped at the 404, could not build the evidence and
//! returned `ClientError::Rollback` instead of `ClientError::Fork`.

use std::sync::atomic::Ordering;

use attestlog_client::grpc::LogClient;
use attestlog_client::state::StateDir;
use attestlog_client::ClientError;
use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::leaf_hash;
use attestlog_core::note::{KeyType, Note, SignerKey};
use attestlog_core::tree::{tree_root, InMemoryTree};
use attestlog_e2e::tiles::TilesServer;
use attestlog_http::tiles::{TileFetcher, DEFAULT_TIMEOUT};
use attestlog_proto::v1 as pb;
use tonic::{Request, Response, Status};

const ORIGIN: &str = "partial.tiles.test/log";

fn tree(tag: &str, n: u64) -> InMemoryTree {
    let mut t = InMemoryTree::new();
    for i in 0..n {
        t.push(leaf_hash(format!("{tag}{i}").as_bytes()));
    }
    t
}

fn checkpoint(key: &SignerKey, tree: &InMemoryTree, size: u64) -> Vec<u8> {
    let root = tree_root(tree, size).expect("size within the tree");
    let text = Checkpoint::new(ORIGIN, size, root)
        .to_text()
        .expect("checkpoint text");
    let mut note = Note::new(text).expect("note");
    note.add_signature(key.sign(note.text()).expect("sign"))
        .expect("add signature");
    note.to_bytes()
}

/// A log's gRPC API that has no consistency proof to give.
struct NoProofs;

#[tonic::async_trait]
impl pb::log_server::Log for NoProofs {
    async fn submit(
        &self,
        _: Request<pb::SubmitRequest>,
    ) -> Result<Response<pb::SubmitResponse>, Status> {
        Err(Status::unimplemented("stand-in"))
    }

    async fn get_checkpoint(
        &self,
        _: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::SignedCheckpoint>, Status> {
        Err(Status::unimplemented("stand-in"))
    }

    async fn get_inclusion_proof(
        &self,
        _: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::InclusionProof>, Status> {
        Err(Status::unimplemented("stand-in"))
    }

    async fn get_consistency_proof(
        &self,
        _: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::ConsistencyProof>, Status> {
        Err(Status::out_of_range("the tree is smaller than that"))
    }

    type GetEntriesStream = tonic::codegen::BoxStream<pb::Entry>;

    async fn get_entries(
        &self,
        _: Request<pb::GetEntriesRequest>,
    ) -> Result<Response<Self::GetEntriesStream>, Status> {
        Err(Status::unimplemented("stand-in"))
    }

    async fn search(
        &self,
        _: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        Err(Status::unimplemented("stand-in"))
    }

    async fn get_certificate(
        &self,
        _: Request<pb::GetCertificateRequest>,
    ) -> Result<Response<pb::Certificate>, Status> {
        Err(Status::unimplemented("stand-in"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_reads_the_full_tile_when_a_partial_tile_is_gone() -> anyhow::Result<()> {
    // 1.
    let key = SignerKey::from_seed(ORIGIN, KeyType::Ed25519, [3; 32])?;
    let honest = tree("honest", 600);
    let forked = tree("forked", 200);
    let stored = checkpoint(&key, &honest, 300);
    let presented = checkpoint(&key, &forked, 200);
    let tmp = tempfile::tempdir()?;
    let state = StateDir::open(tmp.path())?;
    state.store(ORIGIN, &stored)?;

    // 2.
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", grpc.local_addr()?);
    let log = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(pb::log_server::LogServer::new(NoProofs))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(grpc)),
    );
    let mut client = LogClient::connect(&endpoint).await?;

    // 3.
    let server = TilesServer::start_without_superseded_partials(honest);
    let tiles = TileFetcher::new(
        &server.url(),
        tokio::runtime::Handle::current(),
        DEFAULT_TIMEOUT,
    );

    // 4.
    let r = state
        .advance(&key.verifier(), &presented, &mut client, Some(&tiles))
        .await;
    log.abort();
    assert!(
        server.partials_refused.load(Ordering::Relaxed) > 0,
        "no partial tile was asked for"
    );
    match r {
        Err(ClientError::Fork { evidence, .. }) => {
            let proven = evidence.verify(&key.verifier())?;
            assert_eq!((proven.first.size, proven.second.size), (200, 300));
        }
        other => panic!("expected a proven fork, got {other:?}"),
    }
    Ok(())
}
