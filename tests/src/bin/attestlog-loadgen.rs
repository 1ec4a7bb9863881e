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
//! - D. with `--restore-size N`: B's log grown to N entries (publishing
//!   on), stopped, and `attestlog-server restore` of its bucket into a new
//!   directory, timed, with the bytes it read and the directories' sizes.
//!
//! `--ack local` or `--ack replicated` runs only B or only C (D needs B).
//! Every server has the batching flags of `start_bulk_log`. The paced runs
//! of this mode count refused submissions instead of stopping; each phase
//! also reports the CPU time of the server, Garage and the load generator,
//! the time the server's threads waited for a CPU, and the sequencer's
//! batches (from `/metrics`). `--keep` keeps the temporary directory (the
//! servers' and Garage's logs) for a look afterwards.
//!
//! Examples: `target/release/attestlog-loadgen --entries 60000 --proof-log-size 1000000`,
//! `target/release/attestlog-loadgen --entries 30000 --object-store --restore-size 1000000`

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use attestlog_attest::{AdmissionPolicy, AttestationInput, Verifier};
use attestlog_e2e::garage::{GarageCluster, Publishing};
use attestlog_e2e::load::{
    connect, percentile, signed_requests, start_bulk_log, start_bulk_log_with, submit_all,
    submit_with, OnError, Schedule,
};
use attestlog_e2e::publish_lag::{entry_lags, metric, BucketCheckpoint, Histogram, Sampler};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::{bin, http_get, LogServer};
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
    object_store: bool,
    ack: AckChoice,
    restore_size: u64,
    keep: bool,
}

/// Which publishing logs `--object-store` measures (`--ack`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum AckChoice {
    Local,
    Replicated,
    Both,
}

impl AckChoice {
    fn local(self) -> bool {
        self != AckChoice::Replicated
    }

    fn replicated(self) -> bool {
        self != AckChoice::Local
    }
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
        object_store: false,
        ack: AckChoice::Both,
        restore_size: 0,
        keep: false,
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
            "--object-store" => a.object_store = true,
            "--ack" => {
                a.ack = match value()?.as_str() {
                    "local" => AckChoice::Local,
                    "replicated" => AckChoice::Replicated,
                    "both" => AckChoice::Both,
                    other => anyhow::bail!("--ack {other}: local, replicated or both"),
                }
            }
            "--restore-size" => a.restore_size = value()?.parse()?,
            "--keep" => a.keep = true,
            "--help" | "-h" => {
                println!(
                    "attestlog-loadgen [--entries N (20000)] [--clients C (1024)] [--connections K (16)]\n\
                     \x20                 [--proof-seconds S (5)] [--proof-log-size M (0)]\n\
                     \x20                 [--proof-clients P (256)] [--proof-connections Q (4)]\n\
                     \x20                 [--object-store [--ack local|replicated|both (both)] [--restore-size R (0)]]\n\
                     \x20                 [--keep]\n\
                     C concurrent clients share K HTTP/2 connections (K = C: one each) to submit;\n\
                     proofs are asked by P clients over Q connections (small calls: fewer calls in\n\
                     flight cost the co-located load generator less), after growing the log to M\n\
                     entries if M is larger than what ingest left.\n\
                     Starts target/<profile>/attestlog-server on 127.0.0.1 and measures ingest and proof serving.\n\
                     --object-store: starts a 3-node Garage cluster (scripts/install-deps.sh builds it) and\n\
                     measures, instead of proof serving, ingest without publishing, with publishing\n\
                     (ack local: publish lag and catch-up; ack replicated: latency at half of the peak\n\
                     without publishing) and, with R > 0, `attestlog-server restore` of a log of R entries.\n\
                     --keep: keep the temporary directory (servers' and Garage's logs) and print its path."
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
    anyhow::ensure!(
        a.object_store || (a.ack == AckChoice::Both && a.restore_size == 0),
        "--ack and --restore-size need --object-store"
    );
    anyhow::ensure!(
        a.restore_size == 0 || a.ack.local(),
        "--restore-size restores the ack = local log: not with --ack replicated"
    );
    Ok(a)
}

/// CPU time (user + system) processes have used together, from /proc.
struct CpuTime {
    pids: Vec<u32>,
    start: f64,
}

impl CpuTime {
    fn of(pid: u32) -> anyhow::Result<CpuTime> {
        CpuTime::of_all(&[pid])
    }

    fn of_all(pids: &[u32]) -> anyhow::Result<CpuTime> {
        Ok(CpuTime {
            pids: pids.to_vec(),
            start: cpu_seconds_all(pids)?,
        })
    }

    /// Core-seconds used since [`CpuTime::of`].
    fn elapsed(&self) -> anyhow::Result<f64> {
        Ok(cpu_seconds_all(&self.pids)? - self.start)
    }
}

fn cpu_seconds_all(pids: &[u32]) -> anyhow::Result<f64> {
    pids.iter().map(|&p| cpu_seconds(p)).sum()
}

/// Seconds the threads of `pid` have spent runnable but waiting for a
/// CPU (the run queue), summed over its threads that exist now (Linux:
/// `/proc/<pid>/task/*/schedstat`, second field, in ns).
fn run_queue_seconds(pid: u32) -> anyhow::Result<f64> {
    let mut ns = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        // A thread may exit between the listing and the read.
        let Ok(stat) = std::fs::read_to_string(path) else {
            continue;
        };
        ns += stat
            .split_whitespace()
            .nth(1)
            .context("short schedstat")?
            .parse::<u64>()?;
    }
    Ok(ns as f64 / 1e9)
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

/// What one unpaced run of submissions measured.
struct Peak {
    /// Entries per second.
    rate: f64,
    /// Submit-to-answer latencies, sorted.
    latencies: Vec<Duration>,
    /// Core-seconds of the server, the load generator and the others
    /// watched (Garage), during the run.
    server_secs: f64,
    own_secs: f64,
    others_secs: f64,
    /// Seconds the server's threads waited for a CPU during the run.
    server_waited: f64,
    /// When the last answer came.
    ended: Instant,
}

/// Clients and the HTTP/2 connections they share.
#[derive(Clone, Copy)]
struct Concurrency {
    clients: usize,
    connections: usize,
}

impl Concurrency {
    /// `--clients` over `--connections`.
    fn of(args: &Args) -> Concurrency {
        Concurrency {
            clients: args.clients,
            connections: args.connections,
        }
    }

    /// `clients` (at least `--clients`) over enough connections for at
    /// most 128 streams each (the server allows 256), at least
    /// `--connections`.
    fn at_least(args: &Args, clients: usize) -> Concurrency {
        let clients = clients.max(args.clients);
        Concurrency {
            clients,
            connections: clients.div_ceil(128).max(args.connections),
        }
    }
}

/// Submits `n` fresh entries to `server` as fast as they are answered;
/// `others` are processes whose CPU time is recorded too.
fn peak(
    rt: &tokio::runtime::Runtime,
    server: &LogServer,
    by: Concurrency,
    n: usize,
    tag: &str,
    others: &[u32],
) -> anyhow::Result<Peak> {
    let reqs = sign_all(n, tag);
    let server_cpu = CpuTime::of(server.child.id())?;
    let own_cpu = CpuTime::of(std::process::id())?;
    let others_cpu = CpuTime::of_all(others)?;
    let waited = run_queue_seconds(server.child.id())?;
    let load = rt.block_on(submit_all(
        server.endpoint(),
        reqs,
        by.clients,
        by.connections,
        None,
    ))?;
    let ended = Instant::now();
    Ok(Peak {
        rate: n as f64 / load.elapsed.as_secs_f64(),
        latencies: load.latencies,
        server_secs: server_cpu.elapsed()?,
        own_secs: own_cpu.elapsed()?,
        others_secs: others_cpu.elapsed()?,
        server_waited: run_queue_seconds(server.child.id())? - waited,
        ended,
    })
}

/// What one paced run of submissions measured.
struct Paced {
    /// Entries answered per second.
    rate: f64,
    /// Their latencies, sorted.
    latencies: Vec<Duration>,
    /// The status of each submission refused (under [`OnError::Count`]).
    failures: Vec<tonic::Code>,
}

impl Paced {
    /// `, <n> of <m> refused (<code>: <k>, ...)`, or nothing if none was.
    fn refusals(&self) -> String {
        if self.failures.is_empty() {
            return String::new();
        }
        let mut codes = std::collections::BTreeMap::new();
        for c in &self.failures {
            *codes.entry(format!("{c:?}")).or_insert(0) += 1;
        }
        let codes: Vec<String> = codes.iter().map(|(c, k)| format!("{c}: {k}")).collect();
        format!(
            "; {} of {} refused ({})",
            self.failures.len(),
            self.failures.len() + self.latencies.len(),
            codes.join(", ")
        )
    }
}

/// Submits `n` fresh entries to `server` on `schedule`.
fn paced(
    rt: &tokio::runtime::Runtime,
    server: &LogServer,
    by: Concurrency,
    n: usize,
    schedule: Schedule,
    on_error: OnError,
    tag: &str,
) -> anyhow::Result<Paced> {
    let reqs = sign_all(n, tag);
    let load = rt.block_on(submit_with(
        server.endpoint(),
        reqs,
        by.clients,
        by.connections,
        schedule,
        on_error,
    ))?;
    Ok(Paced {
        rate: load.latencies.len() as f64 / load.elapsed.as_secs_f64(),
        latencies: load.latencies,
        failures: load.failures,
    })
}

/// Grows the log of `server` from `size` to `target` entries, in calls of
/// [`submit_all`] of at most 50,000 entries; the time it took, signing
/// included, and the time spent submitting.
fn grow(
    rt: &tokio::runtime::Runtime,
    server: &LogServer,
    args: &Args,
    mut size: u64,
    target: u64,
) -> anyhow::Result<(Duration, Duration)> {
    let started = Instant::now();
    let mut submitting = Duration::ZERO;
    while size < target {
        let n = (target - size).min(50_000) as usize;
        let reqs = sign_all(n, &format!("fill{size}"));
        let load = rt.block_on(submit_all(
            server.endpoint(),
            reqs,
            args.clients,
            args.connections,
            None,
        ))?;
        submitting += load.elapsed;
        size += n as u64;
        eprint!("\rgrowing the log: {size}/{target} entries");
    }
    eprintln!(" ({:.0} s)", started.elapsed().as_secs_f64());
    Ok((started.elapsed(), submitting))
}

/// The sequencer's work so far, from the server's `/metrics`: batches,
/// their mean size and time (sequence, synced write, sign), and the mean
/// time from an admitted entry's queueing to its answer.
fn sequencer_line(server: &LogServer) -> anyhow::Result<String> {
    let (_, metrics) = http_get(server.http, "/metrics")?;
    let metrics = String::from_utf8(metrics)?;
    let h = |name: &str| {
        Histogram::parse(&metrics, name).with_context(|| format!("no {name} in /metrics"))
    };
    let (size, secs, submit) = (
        h("attestlog_batch_size")?,
        h("attestlog_batch_seconds")?,
        h("attestlog_submit_seconds")?,
    );
    let mean = |h: &Histogram| h.sum / h.count.max(1) as f64;
    Ok(format!(
        "sequencer: {} batches of {:.0} entries, {:.1} ms each; queued to answered {:.1} ms (means)",
        size.count,
        mean(&size),
        mean(&secs) * 1000.0,
        mean(&submit) * 1000.0
    ))
}

/// `p50 <d> p99 <d>` of sorted latencies.
fn p50_p99(sorted: &[Duration]) -> String {
    format!(
        "p50 {:?} p99 {:?}",
        percentile(sorted, 0.5),
        percentile(sorted, 0.99)
    )
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
    if args.keep {
        println!("keeping {}", dir.path().display());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.object_store {
        let measured = object_store(&args, &rt, dir.path(), per_thread);
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
    if args.keep {
        let _ = dir.keep();
    }
    Ok(())
}

/// The origin of every log `--object-store` starts.
const ORIGIN: &str = "load.test/log";
/// The server's default `[publish] max_waiting`: submissions waiting for
/// the bucket under `ack = "replicated"` at once.
const MAX_WAITING: usize = 4096;
/// How long the bucket may take to catch up with the log.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(600);

/// `--object-store`: steps A to D of the module doc.
fn object_store(
    args: &Args,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    per_thread: f64,
) -> anyhow::Result<()> {
    let garage = GarageCluster::start(&dir.join("garage"))?;
    let garage_pids = garage.pids();
    println!(
        "Garage: {} nodes, replication factor 3; logs write through node 0's S3 API, the bucket is read through node 1's website endpoint",
        garage_pids.len()
    );
    let n = args.entries;
    let half_n = (n / 2).max(100);

    // A. No publishing.
    let a_dir = dir.join("a");
    std::fs::create_dir_all(&a_dir)?;
    let (server, _) = start_bulk_log(&a_dir, ORIGIN)?;
    let a = peak(
        rt,
        &server,
        Concurrency::of(args),
        n,
        "a-peak",
        &garage_pids,
    )?;
    println!(
        "A. no publishing: peak ingest {:.0} entries/s ({:.2}x one thread's verify rate); latency {}",
        a.rate,
        a.rate / per_thread,
        p50_p99(&a.latencies)
    );
    println!(
        "  CPU during peak ingest: server {:.1} core-s (its threads waited {:.1} s for a CPU), Garage {:.1} core-s (idle), load generator {:.1} core-s",
        a.server_secs, a.server_waited, a.others_secs, a.own_secs
    );
    println!("  {}", sequencer_line(&server)?);
    // Half of A's peak, spread evenly over enough clients to sustain it
    // with answers up to 1 s late (ack = replicated answers later).
    let offered = a.rate / 2.0;
    let spread = Concurrency::at_least(args, (offered.ceil() as usize).min(MAX_WAITING));
    let a_half = paced(
        rt,
        &server,
        spread,
        half_n,
        Schedule::Rate(offered),
        OnError::Count,
        "a-half",
    )?;
    println!(
        "  half load: {:.0} entries/s offered {offered:.0} (evenly spread, {} clients over {} connections); latency {}{}",
        a_half.rate,
        spread.clients,
        spread.connections,
        p50_p99(&a_half.latencies),
        a_half.refusals()
    );
    server.stop()?;

    // B. Publishing, ack = local.
    let published = if args.ack.local() {
        Some(publishing_local(args, rt, dir, &garage, &a)?)
    } else {
        None
    };

    // C. Publishing, ack = replicated.
    if args.ack.replicated() {
        let c_dir = dir.join("c");
        std::fs::create_dir_all(&c_dir)?;
        let config = garage.write_log_config(&c_dir, &bench_publishing("replicated"))?;
        let (server, _) = start_bulk_log_with(&c_dir, ORIGIN, &["--config", path_str(&config)?])?;
        let c = peak(
            rt,
            &server,
            Concurrency::of(args),
            n,
            "c-peak",
            &garage_pids,
        )?;
        println!(
            "C. publishing, ack = replicated: peak ingest {:.0} entries/s = {:.2}x A's; latency {}",
            c.rate,
            c.rate / a.rate,
            p50_p99(&c.latencies)
        );
        println!(
            "  CPU during peak ingest: server {:.1} core-s (its threads waited {:.1} s for a CPU), Garage {:.1} core-s, load generator {:.1} core-s",
            c.server_secs, c.server_waited, c.others_secs, c.own_secs
        );
        println!("  {}", sequencer_line(&server)?);
        let c_half = paced(
            rt,
            &server,
            spread,
            half_n,
            Schedule::Rate(offered),
            OnError::Count,
            "c-half",
        )?;
        println!(
            "  half of A's peak: {:.0} entries/s offered {offered:.0} (as A's half load); latency {} (p99 {:.2}x A's half-load p99){}",
            c_half.rate,
            p50_p99(&c_half.latencies),
            percentile(&c_half.latencies, 0.99).as_secs_f64()
                / percentile(&a_half.latencies, 0.99).as_secs_f64(),
            c_half.refusals()
        );
        server.stop()?;
    }

    // D. Restore.
    if let Some(b) = published {
        if args.restore_size > 0 {
            restore(args, rt, dir, &garage, b)?;
        } else {
            b.server.stop()?;
        }
    }
    Ok(())
}

/// The `[object_store]` and `[publish]` of the benchmark's logs: through
/// node 0, under the prefix `ack`, with the server's default timeouts
/// (10 s).
fn bench_publishing(ack: &str) -> Publishing<'_> {
    Publishing {
        node: 0,
        ack,
        prefix: ack,
        timeout_ms: 10_000,
        ack_timeout_ms: 10_000,
    }
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str().context("temporary path is not UTF-8")
}

/// The log of step B, kept running for step D.
struct Published {
    server: LogServer,
    config: std::path::PathBuf,
    policy: std::path::PathBuf,
    bucket: BucketCheckpoint,
    size: u64,
}

/// Step B: peak ingest with publishing, the publish lag and the catch-up.
fn publishing_local(
    args: &Args,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    garage: &GarageCluster,
    a: &Peak,
) -> anyhow::Result<Published> {
    let b_dir = dir.join("b");
    std::fs::create_dir_all(&b_dir)?;
    let config = garage.write_log_config(&b_dir, &bench_publishing("local"))?;
    let (server, policy) = start_bulk_log_with(&b_dir, ORIGIN, &["--config", path_str(&config)?])?;
    let bucket = BucketCheckpoint {
        web: garage.web_addr(1),
        host: garage.web_host().to_owned(),
        path: "/local/checkpoint".to_owned(),
    };
    let n = args.entries as u64;
    let sampler = Sampler::start(server.http, bucket.clone(), Duration::from_millis(100));
    let b = peak(
        rt,
        &server,
        Concurrency::of(args),
        args.entries,
        "b-peak",
        &garage.pids(),
    )?;
    let caught_up = bucket.wait_for(n, CATCH_UP_TIMEOUT)?;
    let samples = sampler.finish();
    let (lags, unpublished) = entry_lags(&samples);
    println!(
        "B. publishing, ack = local: peak ingest {:.0} entries/s = {:.2}x A's; latency {}",
        b.rate,
        b.rate / a.rate,
        p50_p99(&b.latencies)
    );
    println!(
        "  CPU during peak ingest: server {:.1} core-s ({:.2}x A's; its threads waited {:.1} s for a CPU), Garage {:.1} core-s, load generator {:.1} core-s",
        b.server_secs,
        b.server_secs / a.server_secs,
        b.server_waited,
        b.others_secs,
        b.own_secs
    );
    println!(
        "  publish lag per entry (log's and bucket's checkpoints sampled every 100 ms, {} samples): {} max {:?}; {unpublished} entries not seen in the bucket",
        samples.len(),
        p50_p99(&lags),
        lags.last().copied().unwrap_or_default()
    );
    let (_, metrics) = http_get(server.http, "/metrics")?;
    let metrics = String::from_utf8(metrics)?;
    let h = Histogram::parse(&metrics, "attestlog_publish_lag_seconds")
        .context("no attestlog_publish_lag_seconds in /metrics")?;
    let q = |p| {
        h.quantile(p).map_or("-".to_owned(), |(le, est)| {
            format!("<= {le} s (~{est:.3} s)")
        })
    };
    println!(
        "  server's attestlog_publish_lag_seconds: {} rounds ({:.0} entries each), mean {:.3} s, p50 {}, p99 {}",
        h.count,
        n as f64 / h.count.max(1) as f64,
        h.sum / h.count.max(1) as f64,
        q(0.5),
        q(0.99)
    );
    println!(
        "  bucket caught up {:?} after the last answer; {} objects written, {} failed rounds",
        caught_up.saturating_duration_since(b.ended),
        metric(&metrics, "attestlog_bucket_objects_written_total").unwrap_or(f64::NAN),
        metric(&metrics, "attestlog_publish_failures_total").unwrap_or(f64::NAN)
    );
    println!("  {}", sequencer_line(&server)?);
    same_tree(&server, &bucket)?;
    Ok(Published {
        server,
        config,
        policy,
        bucket,
        size: n,
    })
}

/// Fails unless the bucket's checkpoint is for the log's tree (same
/// origin, size and root lines).
fn same_tree(server: &LogServer, bucket: &BucketCheckpoint) -> anyhow::Result<()> {
    let (_, log) = http_get(server.http, "/checkpoint")?;
    let in_bucket = bucket.note().context("the bucket has no checkpoint")?;
    let body = |note: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(note)
            .lines()
            .take(3)
            .map(str::to_owned)
            .collect()
    };
    anyhow::ensure!(
        body(&log) == body(&in_bucket),
        "the bucket's checkpoint is not the log's tree: {:?} vs {:?}",
        body(&in_bucket),
        body(&log)
    );
    Ok(())
}

/// Step D: grows B's log to `--restore-size`, stops it, and restores its
/// bucket into a new directory.
fn restore(
    args: &Args,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    garage: &GarageCluster,
    b: Published,
) -> anyhow::Result<()> {
    let target = args.restore_size.max(b.size);
    let (grown, submitting) = grow(rt, &b.server, args, b.size, target)?;
    let ended = Instant::now();
    let caught_up = b.bucket.wait_for(target, CATCH_UP_TIMEOUT)?;
    same_tree(&b.server, &b.bucket)?;
    println!(
        "D. the ack = local log grown to {target} entries in {:.0} s ({:.0} s of it submitting: {:.0} entries/s), publishing on; bucket caught up {:?} after the last answer",
        grown.as_secs_f64(),
        submitting.as_secs_f64(),
        (target - b.size) as f64 / submitting.as_secs_f64(),
        caught_up.saturating_duration_since(ended)
    );
    let log_dir = b.server.dir.clone();
    b.server.stop()?;
    let vkey = std::fs::read_to_string(&b.policy)?
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("log "))
        .context("no log line in the policy start_bulk_log wrote")?
        .to_owned();
    let restored = dir.join("restored");
    let garage_cpu = CpuTime::of_all(&garage.pids())?;
    let started = Instant::now();
    let mut child = Command::new(bin("attestlog-server"))
        .args(["restore", "--config"])
        .arg(&b.config)
        .arg("--data-dir")
        .arg(&restored)
        .args(["--log-key", &vkey, "--origin", ORIGIN])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("restore.log"))?)
        .spawn()
        .context("starting attestlog-server restore")?;
    // Its CPU time, read until it exits (the last reading is at most
    // 50 ms short of the total).
    let mut restore_secs = 0.0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        restore_secs = cpu_seconds(child.id()).unwrap_or(restore_secs);
        std::thread::sleep(Duration::from_millis(50));
    };
    let wall = started.elapsed();
    let garage_secs = garage_cpu.elapsed()?;
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        std::io::Read::read_to_string(&mut stdout, &mut out)?;
    }
    anyhow::ensure!(
        status.success(),
        "restore failed ({status}):\n{}",
        std::fs::read_to_string(dir.join("restore.log")).unwrap_or_default()
    );
    let summary = out.lines().last().unwrap_or_default();
    let mib_read = summary
        .rsplit_once(": ")
        .and_then(|(_, tail)| tail.split(" MiB read").next())
        .and_then(|m| m.parse::<f64>().ok())
        .context("no `MiB read` in restore's summary line")?;
    println!(
        "  restore of {target} entries: {:.1} s wall ({:.0} entries/s), {mib_read:.1} MiB read ({:.0} bytes per entry, {:.1} MiB/s); CPU: restore {restore_secs:.1} core-s, Garage {garage_secs:.1} core-s",
        wall.as_secs_f64(),
        target as f64 / wall.as_secs_f64(),
        mib_read * f64::from(1 << 20) / target as f64,
        mib_read / wall.as_secs_f64()
    );
    println!(
        "  data directory: restored {:.1} MiB, the log's own {:.1} MiB",
        dir_bytes(&restored)? as f64 / f64::from(1 << 20),
        dir_bytes(&log_dir.join("data"))? as f64 / f64::from(1 << 20)
    );
    println!("  restore: {summary}");
    Ok(())
}

/// The bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let meta = e.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&e.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
