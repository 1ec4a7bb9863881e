//! One measured run: CPU time from /proc, peak and paced submissions,
//! growing a log, the sequencer's metrics, inclusion proofs served.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use attestlog_e2e::load::{
    connect, percentile, signed_requests, submit_all, submit_with, OnError, Schedule,
};
use attestlog_e2e::publish_lag::Histogram;
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::{http_get, LogServer};
use attestlog_proto::v1 as pb;
use attestlog_proto::v1::log_client::LogClient;

use crate::args::Args;

/// CPU time (user + system) processes have used together, from /proc.
pub struct CpuTime {
    pids: Vec<u32>,
    start: f64,
}

impl CpuTime {
    pub fn of(pid: u32) -> anyhow::Result<CpuTime> {
        CpuTime::of_all(&[pid])
    }

    pub fn of_all(pids: &[u32]) -> anyhow::Result<CpuTime> {
        Ok(CpuTime {
            pids: pids.to_vec(),
            start: cpu_seconds_all(pids)?,
        })
    }

    /// Core-seconds used since [`CpuTime::of`].
    pub fn elapsed(&self) -> anyhow::Result<f64> {
        Ok(cpu_seconds_all(&self.pids)? - self.start)
    }
}

fn cpu_seconds_all(pids: &[u32]) -> anyhow::Result<f64> {
    pids.iter().map(|&p| cpu_seconds(p)).sum()
}

/// Seconds the threads of `pid` have spent runnable but waiting for a
/// CPU (the run queue), summed over its threads that exist now (Linux:
/// `/proc/<pid>/task/*/schedstat`, second field, in ns).
pub fn run_queue_seconds(pid: u32) -> anyhow::Result<f64> {
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
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
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

pub fn sign_all(n: usize, tag: &str) -> Vec<pb::SubmitRequest> {
    let mut keys: Vec<Maintainer> = (0..8)
        .map(|i| Maintainer::new(&format!("m{i} <m{i}@load.test>")))
        .collect();
    signed_requests(&mut keys, n, tag)
}

/// What one unpaced run of submissions measured.
pub struct Peak {
    /// Entries per second.
    pub rate: f64,
    /// Submit-to-answer latencies, sorted.
    pub latencies: Vec<Duration>,
    /// Core-seconds of the server, the load generator and the others
    /// watched (Garage), during the run.
    pub server_secs: f64,
    pub own_secs: f64,
    pub others_secs: f64,
    /// Seconds the server's threads waited for a CPU during the run.
    pub server_waited: f64,
    /// When the last answer came.
    pub ended: Instant,
}

impl Peak {
    /// `  CPU during peak ingest: ...`: the server's CPU (and its ratio to
    /// `baseline`'s, if given), its wait for a CPU, Garage's and the load
    /// generator's.
    pub fn cpu_line(&self, baseline: Option<&Peak>) -> String {
        let ratio = baseline.map_or(String::new(), |b| {
            format!("{:.2}x A's; ", self.server_secs / b.server_secs)
        });
        format!(
            "  CPU during peak ingest: server {:.1} core-s ({ratio}its threads waited {:.1} s for a CPU), Garage {:.1} core-s, load generator {:.1} core-s",
            self.server_secs, self.server_waited, self.others_secs, self.own_secs
        )
    }
}

/// Clients and the HTTP/2 connections they share.
#[derive(Clone, Copy)]
pub struct Concurrency {
    pub clients: usize,
    pub connections: usize,
}

impl Concurrency {
    /// `--clients` over `--connections`.
    pub fn of(args: &Args) -> Concurrency {
        Concurrency {
            clients: args.clients,
            connections: args.connections,
        }
    }

    /// `clients` (at least `--clients`) over enough connections for at
    /// most 128 streams each (the server allows 256), at least
    /// `--connections`.
    pub fn at_least(args: &Args, clients: usize) -> Concurrency {
        let clients = clients.max(args.clients);
        Concurrency {
            clients,
            connections: clients.div_ceil(128).max(args.connections),
        }
    }
}

/// Submits `n` fresh entries to `server` as fast as they are answered;
/// `others` are processes whose CPU time is recorded too.
pub fn peak(
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
pub struct Paced {
    /// Entries answered per second.
    pub rate: f64,
    /// Their latencies, sorted.
    pub latencies: Vec<Duration>,
    /// The status of each submission refused (under [`OnError::Count`]).
    pub failures: Vec<tonic::Code>,
}

impl Paced {
    /// `, <n> of <m> refused (<code>: <k>, ...)`, or nothing if none was.
    pub fn refusals(&self) -> String {
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
pub fn paced(
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
pub fn grow(
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
pub fn sequencer_line(server: &LogServer) -> anyhow::Result<String> {
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
pub fn p50_p99(sorted: &[Duration]) -> String {
    format!(
        "p50 {:?} p99 {:?}",
        percentile(sorted, 0.5),
        percentile(sorted, 0.99)
    )
}

/// What one run of inclusion-proof requests measured.
pub struct Proofs {
    /// The tree size the proofs were for.
    pub size: u64,
    /// Proofs answered.
    pub served: u64,
    /// For how long they were asked (`--proof-seconds`, from the first
    /// request).
    pub seconds: f64,
    /// Core-seconds of the server during the run.
    pub server_secs: f64,
    /// Core-seconds of the load generator during the run.
    pub own_secs: f64,
    clients: usize,
    connections: usize,
}

impl Proofs {
    /// Proofs answered per second.
    pub fn rate(&self) -> f64 {
        self.served as f64 / self.seconds
    }

    /// Two lines: the rate, and the CPU it took.
    pub fn report(&self, what: &str) -> String {
        format!(
            "{what}: {:.0} inclusion proofs/s on a log of {} entries, {} clients over {} connections\n  \
             CPU while serving proofs: server {:.1} core-s ({:.0} proofs per server core-second), load generator {:.1} core-s",
            self.rate(),
            self.size,
            self.clients,
            self.connections,
            self.server_secs,
            self.served as f64 / self.server_secs,
            self.own_secs,
        )
    }
}

/// Asks `server` for inclusion proofs in its tree of `size` entries, for
/// `--proof-seconds`, from `--proof-clients` clients sharing
/// `--proof-connections` connections; the leaves stride through the tree.
pub fn serve_proofs(
    rt: &tokio::runtime::Runtime,
    server: &LogServer,
    args: &Args,
    size: u64,
) -> anyhow::Result<Proofs> {
    let connections = args.proof_connections.clamp(1, args.proof_clients);
    let server_cpu = CpuTime::of(server.child.id())?;
    let own_cpu = CpuTime::of(std::process::id())?;
    let served = rt.block_on(async {
        let channels = connect(&server.endpoint(), connections).await?;
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
    Ok(Proofs {
        size,
        served,
        seconds: args.proof_seconds as f64,
        server_secs: server_cpu.elapsed()?,
        own_secs: own_cpu.elapsed()?,
        clients: args.proof_clients,
        connections,
    })
}
