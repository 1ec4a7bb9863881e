//! `attestlog-loadgen`: a load generator for the log, measured against the
//! single-process OpenPGP verification rate of the same machine.
//!
//! It starts the real `attestlog-server` (from the same target directory,
//! so build both with `cargo build --release --workspace --bins`) on
//! 127.0.0.1 in a temporary directory, pre-signs distinct Ed25519
//! attestations in process, and reports:
//! 1. the baseline: attestations one thread verifies per second with
//!    `attestlog_attest::Verifier` (the check the log runs), times the
//!    number of cores;
//! 2. sustained ingest: entries per second with `--clients` concurrent
//!    gRPC clients (sharing `--connections` HTTP/2 connections) submitting
//!    as fast as they are answered, and p50/p99 submit-to-proof latency;
//! 3. latency at half of that peak rate (paced submissions);
//! 4. inclusion proofs served per second by `--proof-clients` concurrent
//!    clients (over `--proof-connections`), on the resulting log or, with
//!    `--proof-log-size`, on the log grown to that many entries first.
//!
//! The load generator runs on the same cores as the server, so every
//! figure includes the clients' own gRPC work.
//!
//! With `--object-store` it measures publishing to object storage (issue
//! #14) instead of proof serving: it starts a 3-node Garage cluster
//! (`GarageCluster`, replication factor 3) in the same temporary directory
//! and, after the baseline, in this order:
//! - A. a log without `[object_store]`: peak ingest as 2. above, and
//!   latency at half of that peak, paced unlike 3. above: the submissions
//!   spread evenly in time (`Schedule::Rate`) over enough clients to keep
//!   up with answers 1 s late (at most 4,096, the server's default
//!   `max_waiting`);
//! - B. a fresh log publishing through Garage node 0 with `ack = "local"`
//!   (prefix `local/`): peak ingest, the publish lag during it (per entry,
//!   from the log's `/checkpoint` and the bucket's checkpoint read through
//!   node 1's website endpoint every 100 ms; and the server's own
//!   `attestlog_publish_lag_seconds` histogram, one observation per
//!   publishing round), and the time from the last answer until the
//!   bucket's checkpoint holds every entry;
//! - C. a fresh log with `ack = "replicated"` (prefix `replicated/`): peak
//!   ingest, then latency at half of A's peak, paced as A's;
//! - D. with `--restore-size N` or `--proof-log-size M`: B's log grown to
//!   the larger (publishing on); with `N > 0`, B's log then stopped and
//!   `attestlog-server restore` of its bucket into a new directory, timed,
//!   with the bytes it read and the directories' sizes;
//! - E. with `--replica` (before D's restore): inclusion proofs/s from B's
//!   log, then a read replica of its bucket (`serve --replica-of-bucket`,
//!   reading through node 2) started, its catch-up timed, and inclusion
//!   proofs/s from it, as in 4. above.
//!
//! `--ack local` or `--ack replicated` runs only B or only C (D and E need
//! B).
//! Every server has the batching flags of `start_bulk_log`. The paced runs
//! of this mode count refused submissions instead of stopping; each phase
//! also reports the CPU time of the server, Garage and the load generator,
//! the time the server's threads waited for a CPU, and the sequencer's
//! batches (from `/metrics`). `--keep` keeps the temporary directory (the
//! servers' and Garage's logs) for a look afterwards.
//!
//! Examples: `target/release/attestlog-loadgen --entries 60000 --proof-log-size 1000000`,
//! `target/release/attestlog-loadgen --entries 30000 --object-store --restore-size 1000000`,
//! `target/release/attestlog-loadgen --entries 30000 --object-store --ack local --replica --proof-log-size 1000000`

mod args;
mod measure;
mod object_store;

use std::time::{Duration, Instant, SystemTime};

use attestlog_attest::{AdmissionPolicy, AttestationInput, Verifier};
use attestlog_e2e::load::{start_bulk_log, OnError, Schedule};

use args::parse_args;
use measure::{grow, p50_p99, paced, peak, serve_proofs, sign_all, Concurrency};

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "attestlog-loadgen: {} entries, {} clients, {cores} cores",
        args.entries, args.clients
    );

    // 1. Baseline: the verification the log runs, on one thread.
    let sample = sign_all(4000, "baseline");
    let verifier = Verifier::new(AdmissionPolicy::Open);
    let now = SystemTime::now();
    let t = Instant::now();
    for r in &sample {
        let s =
            AttestationInput::detached(&r.payload, &r.signature).with_certificate(&r.certificate);
        verifier
            .verify(&s, now)
            .map_err(|e| anyhow::anyhow!("baseline verify: {e}"))?;
    }
    let per_thread = sample.len() as f64 / t.elapsed().as_secs_f64();
    let ceiling = per_thread * cores as f64;
    println!(
        "baseline: {per_thread:.0} verifications/s on one thread; x{cores} cores = {ceiling:.0}/s"
    );

    let dir = tempfile::tempdir()?;
    if args.keep {
        println!("keeping {}", dir.path().display());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.object_store {
        let measured = object_store::object_store(&args, &rt, dir.path(), per_thread);
        if args.keep {
            let _ = dir.keep();
        }
        return measured;
    }
    let origin = "load.test/log";
    // Eight keys sign everything: no per-key limit.
    let (server, _policy) = start_bulk_log(dir.path(), origin)?;

    // 2. Peak ingest.
    let p = peak(
        &rt,
        &server,
        Concurrency::of(&args),
        args.entries,
        "peak",
        &[],
    )?;
    let rate = p.rate;
    println!(
        "peak ingest: {rate:.0} entries/s ({:.2}x one thread's verify rate, {:.2}x all cores'); latency {}",
        rate / per_thread,
        rate / ceiling,
        p50_p99(&p.latencies)
    );
    let per_server_core = args.entries as f64 / p.server_secs;
    println!(
        "  CPU during peak ingest: server {:.1} core-s ({per_server_core:.0} entries per server core-second = {:.2}x one thread's verify rate), load generator {:.1} core-s",
        p.server_secs,
        per_server_core / per_thread,
        p.own_secs
    );

    // 3. Half of peak, paced.
    let half_n = (args.entries / 2).max(100);
    let every = Duration::from_secs_f64(args.clients as f64 / (rate / 2.0));
    let half = paced(
        &rt,
        &server,
        Concurrency::of(&args),
        half_n,
        Schedule::InStep(every),
        OnError::Fail,
        "half",
    )?;
    println!(
        "half load: {:.0} entries/s offered {:.0}; latency {}",
        half.rate,
        rate / 2.0,
        p50_p99(&half.latencies)
    );

    // 4. Inclusion proofs served, on a log grown to --proof-log-size.
    let mut size = (args.entries + half_n) as u64;
    if args.proof_log_size > size {
        grow(&rt, &server, &args, size, args.proof_log_size)?;
        size = args.proof_log_size;
    }
    println!(
        "{}",
        serve_proofs(&rt, &server, &args, size)?.report("proof serving")
    );
    server.stop()?;
    if args.keep {
        let _ = dir.keep();
    }
    Ok(())
}
