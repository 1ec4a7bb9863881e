//! Cosignatures per second of one witness, in process, with its real
//! RocksDB state (every cosignature is a synced write before it returns):
//!
//! * sequential: one log, each request old = N → N + 1 with its proof;
//! * concurrent: 32 logs, one thread each, doing the same at once (the
//!   per-log locks let them proceed in parallel; RocksDB groups their
//!   synced writes).
//!
//! Run: `cargo bench -p attestlog-witness --bench cosign` (set
//! `COSIGN_BENCH_N` to change the number of cosignatures per log). The
//! state lives in a temporary directory, so the figures depend on the
//! disk's fsync latency: say which disk when you quote them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::leaf_hash;
use attestlog_core::note::{KeyType, Note, SignerKey};
use attestlog_core::proof::prove_consistency;
use attestlog_core::tree::{tree_root, InMemoryTree};
use attestlog_core::witness_protocol::AddCheckpointRequest;
use attestlog_witness::config::LogConfig;
use attestlog_witness::metrics::Metrics;
use attestlog_witness::state::State;
use attestlog_witness::Witness;

/// The requests of one log: 0 → 1, 1 → 2, … (built before timing).
fn requests(origin: &str, seed: u8, n: u64) -> (LogConfig, Vec<AddCheckpointRequest>) {
    let key = SignerKey::from_seed(origin, KeyType::Ed25519, [seed; 32]).expect("key");
    let mut tree = InMemoryTree::new();
    for i in 0..n {
        tree.push(leaf_hash(format!("{origin} {i}").as_bytes()));
    }
    let reqs = (1..=n)
        .map(|size| {
            let cp = Checkpoint::new(origin, size, tree_root(&tree, size).expect("root"));
            let mut note = Note::new(cp.to_text().expect("text")).expect("note");
            note.add_signature(key.sign(note.text()).expect("sign"))
                .expect("add");
            AddCheckpointRequest {
                old_size: size - 1,
                proof: prove_consistency(&tree, size - 1, size).expect("proof"),
                checkpoint: note.to_bytes(),
            }
        })
        .collect();
    let config = LogConfig {
        origin: origin.to_owned(),
        key: key.verifier(),
        tiles_url: None,
    };
    (config, reqs)
}

fn witness(dir: &std::path::Path, logs: Vec<LogConfig>) -> Arc<Witness> {
    let key = SignerKey::from_seed("bench.example/w", KeyType::Cosignature, [1; 32]).expect("key");
    let state = State::open(dir).expect("state");
    Arc::new(Witness::new(key, logs, state, Metrics::new()).expect("witness"))
}

fn report(what: &str, count: u64, took: Duration) {
    println!(
        "{what:<34} {count:>6} cosignatures in {:>7.3} s = {:>8.0} cosignatures/s",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not and
    // only wants to know that this runs.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: u64 = std::env::var("COSIGN_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 20 } else { 2000 });

    let dir = tempfile::tempdir().expect("tmp");
    let (config, reqs) = requests("bench.example/log", 2, n);
    let w = witness(dir.path(), vec![config]);
    let start = Instant::now();
    for r in &reqs {
        w.add_checkpoint(r).expect("cosign");
    }
    report("sequential, 1 log", n, start.elapsed());

    let per_log = (n / 4).max(1);
    let dir = tempfile::tempdir().expect("tmp");
    let logs: Vec<_> = (0..32u8)
        .map(|i| requests(&format!("bench.example/log{i}"), i + 3, per_log))
        .collect();
    let w = witness(dir.path(), logs.iter().map(|(c, _)| c.clone()).collect());
    let start = Instant::now();
    let threads: Vec<_> = logs
        .into_iter()
        .map(|(_, reqs)| {
            let w = w.clone();
            std::thread::spawn(move || {
                for r in &reqs {
                    w.add_checkpoint(r).expect("cosign");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    report(
        "concurrent, 32 logs x 1 thread",
        32 * per_log,
        start.elapsed(),
    );
}
