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
//! Example: `target/release/attestlog-loadgen --entries 60000 --proof-log-size 1000000`

use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use attestlog_attest::{AdmissionPolicy, AttestationInput, Verifier};
use attestlog_e2e::load::{connect, percentile, signed_requests, start_bulk_log, submit_all};
use attestlog_e2e::signing::Maintainer;
use attestlog_proto::v1 as pb;
use attestlog_proto::v1::log_client::LogClient;

struct Args {
    entries: usize,
    clients: usize,
    connections: usize,
    proof_seconds: u64,
    proof_log_size: u64,
    proof_clients: usize,
    proof_connections: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        entries: 20_000,
        clients: 1024,
        connections: 16,
        proof_seconds: 5,
        proof_log_size: 0,
        proof_clients: 256,
        proof_connections: 4,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().context("flag needs a value");
        match flag.as_str() {
            "--entries" => a.entries = value()?.parse()?,
            "--clients" => a.clients = value()?.parse()?,
            "--connections" => a.connections = value()?.parse()?,
            "--proof-seconds" => a.proof_seconds = value()?.parse()?,
            "--proof-log-size" => a.proof_log_size = value()?.parse()?,
            "--proof-clients" => a.proof_clients = value()?.parse()?,
            "--proof-connections" => a.proof_connections = value()?.parse()?,
            "--help" | "-h" => {
                println!(
                    "attestlog-loadgen [--entries N (20000)] [--clients C (1024)] [--connections K (16)]\n\
                     \x20                 [--proof-seconds S (5)] [--proof-log-size M (0)]\n\
                     \x20                 [--proof-clients P (256)] [--proof-connections Q (4)]\n\
                     C concurrent clients share K HTTP/2 connections (K = C: one each) to submit;\n\
                     proofs are asked by P clients over Q connections (small calls: fewer calls in\n\
                     flight cost the co-located load generator less), after growing the log to M\n\
                     entries if M is larger than what ingest left.\n\
                     Starts target/<profile>/attestlog-server on 127.0.0.1 and measures ingest and proof serving."
                );
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown flag {other}; see --help"),
        }
    }
    anyhow::ensure!(
        a.entries >= 100 && a.clients >= 1 && a.proof_clients >= 1,
        "need --entries >= 100, --clients >= 1 and --proof-clients >= 1"
    );
    Ok(a)
}

/// CPU time (user + system) a process has used, from /proc.
struct CpuTime {
    pid: u32,
    start: f64,
}

impl CpuTime {
    fn of(pid: u32) -> anyhow::Result<CpuTime> {
        Ok(CpuTime {
            pid,
            start: cpu_seconds(pid)?,
        })
    }

    /// Core-seconds used since [`CpuTime::of`].
    fn elapsed(&self) -> anyhow::Result<f64> {
        Ok(cpu_seconds(self.pid)? - self.start)
    }
}

/// utime + stime of `pid` in seconds (Linux: `/proc/<pid>/stat`, fields 14
/// and 15, in clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; fields resume after ')'.
    let rest = stat.rsplit_once(')').context("malformed /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11)
        .zip(fields.get(12))
        .context("short /proc stat")
        .and_then(|(u, s)| Ok(u.parse::<u64>()? + s.parse::<u64>()?))?;
    Ok(ticks as f64 / 100.0)
}

fn sign_all(n: usize, tag: &str) -> Vec<pb::SubmitRequest> {
    let mut keys: Vec<Maintainer> = (0..8)
        .map(|i| Maintainer::new(&format!("m{i} <m{i}@load.test>")))
        .collect();
    signed_requests(&mut keys, n, tag)
}

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
    let origin = "load.test/log";
    // Eight keys sign everything: no per-key limit.
    let (server, _policy) = start_bulk_log(dir.path(), origin)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    // 2. Peak ingest.
    let reqs = sign_all(args.entries, "peak");
    let server_cpu = CpuTime::of(server.child.id())?;
    let own_cpu = CpuTime::of(std::process::id())?;
    let load = rt.block_on(submit_all(
        server.endpoint(),
        reqs,
        args.clients,
        args.connections,
        None,
    ))?;
    let (elapsed, lat) = (load.elapsed, load.latencies);
    let rate = args.entries as f64 / elapsed.as_secs_f64();
    println!(
        "peak ingest: {rate:.0} entries/s ({:.2}x one thread's verify rate, {:.2}x all cores'); latency p50 {:?} p99 {:?}",
        rate / per_thread,
        rate / ceiling,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    let server_secs = server_cpu.elapsed()?;
    let own_secs = own_cpu.elapsed()?;
    let per_server_core = args.entries as f64 / server_secs;
    println!(
        "  CPU during peak ingest: server {server_secs:.1} core-s ({per_server_core:.0} entries per server core-second = {:.2}x one thread's verify rate), load generator {own_secs:.1} core-s",
        per_server_core / per_thread
    );

    // 3. Half of peak, paced.
    let half_n = (args.entries / 2).max(100);
    let per_client = Duration::from_secs_f64(args.clients as f64 / (rate / 2.0));
    let reqs = sign_all(half_n, "half");
    let load = rt.block_on(submit_all(
        server.endpoint(),
        reqs,
        args.clients,
        args.connections,
        Some(per_client),
    ))?;
    let (elapsed, lat) = (load.elapsed, load.latencies);
    println!(
        "half load: {:.0} entries/s offered {:.0}; latency p50 {:?} p99 {:?}",
        half_n as f64 / elapsed.as_secs_f64(),
        rate / 2.0,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );

    // 4. Inclusion proofs served, on a log grown to --proof-log-size.
    let mut size = (args.entries + half_n) as u64;
    if args.proof_log_size > size {
        let started = Instant::now();
        while size < args.proof_log_size {
            let n = (args.proof_log_size - size).min(50_000) as usize;
            let reqs = sign_all(n, &format!("fill{size}"));
            rt.block_on(submit_all(
                server.endpoint(),
                reqs,
                args.clients,
                args.connections,
                None,
            ))?;
            size += n as u64;
            eprint!("\rgrowing the log: {size}/{} entries", args.proof_log_size);
        }
        eprintln!(" ({:.0} s)", started.elapsed().as_secs_f64());
    }
    let server_cpu = CpuTime::of(server.child.id())?;
    let own_cpu = CpuTime::of(std::process::id())?;
    let served = rt.block_on(async {
        let channels = connect(
            &server.endpoint(),
            args.proof_connections.clamp(1, args.proof_clients),
        )
        .await?;
        let deadline = Instant::now() + Duration::from_secs(args.proof_seconds);
        let mut tasks = Vec::new();
        for c in 0..args.proof_clients {
            let channel = channels[c % channels.len()].clone();
            tasks.push(tokio::spawn(async move {
                let mut client = LogClient::new(channel);
                let mut n = 0u64;
                let mut i = (c as u64 * 7919) % size;
                while Instant::now() < deadline {
                    client
                        .get_inclusion_proof(pb::GetInclusionProofRequest {
                            leaf: Some(pb::get_inclusion_proof_request::Leaf::Index(i)),
                            tree_size: Some(size),
                        })
                        .await?;
                    n += 1;
                    i = (i + 104_729) % size;
                }
                anyhow::Ok(n)
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await??;
        }
        anyhow::Ok(total)
    })?;
    let (server_secs, own_secs) = (server_cpu.elapsed()?, own_cpu.elapsed()?);
    println!(
        "proof serving: {:.0} inclusion proofs/s on a log of {size} entries, {} clients over {} connections",
        served as f64 / args.proof_seconds as f64,
        args.proof_clients,
        args.proof_connections.clamp(1, args.proof_clients),
    );
    println!(
        "  CPU while serving proofs: server {server_secs:.1} core-s ({:.0} proofs per server core-second), load generator {own_secs:.1} core-s",
        served as f64 / server_secs,
    );
    server.stop()?;
    Ok(())
}
