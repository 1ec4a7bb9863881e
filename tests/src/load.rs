//! Many distinct signed submissions, and many concurrent gRPC clients to
//! send them: shared by the load generator, the monitor benchmark and the
//! scale tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use attestlog_proto::v1 as pb;
use attestlog_proto::v1::log_client::LogClient;
use tonic::transport::Channel;

use crate::signing::Maintainer;
use crate::{log_keygen, statement, LogServer};

/// `n` submissions of distinct statements (`<tag>-<i>.tar.gz`, each with
/// its own digest), signed round-robin by `keys`.
pub fn signed_requests(keys: &mut [Maintainer], n: usize, tag: &str) -> Vec<pb::SubmitRequest> {
    let k = keys.len();
    (0..n)
        .map(|i| {
            let m = &mut keys[i % k];
            signed_request(m, &format!("{tag}-{i}.tar.gz"), (i as u64) << 8 | 0x5a)
        })
        .collect()
}

/// One submission of `name` with a digest made from `seed`, signed by `m`.
pub fn signed_request(m: &mut Maintainer, name: &str, seed: u64) -> pb::SubmitRequest {
    let st = statement(name, &format!("{seed:064x}"));
    pb::SubmitRequest {
        signature: m.sign(&st),
        payload: st,
        certificate: m.cert.clone(),
        ..Default::default()
    }
}

/// Starts a log in `dir` for bulk loads (no per-key rate limit, a queue of
/// 100,000) and writes `dir/log.policy`, a C2SP tlog-policy trusting it
/// with no witnesses. Returns the server and the policy's path.
pub fn start_bulk_log(dir: &Path, origin: &str) -> anyhow::Result<(LogServer, PathBuf)> {
    start_bulk_log_with(dir, origin, &[])
}

/// [`start_bulk_log`] with more flags for `attestlog-server serve`, e.g.
/// `--config` with an `[object_store]` to publish to.
pub fn start_bulk_log_with(
    dir: &Path,
    origin: &str,
    extra: &[&str],
) -> anyhow::Result<(LogServer, PathBuf)> {
    let vkey = log_keygen(dir, origin)?;
    let mut flags = vec!["--queue-limit", "100000", "--per-key-per-minute", "0"];
    flags.extend_from_slice(extra);
    let server = LogServer::start(dir, origin, &flags)?;
    let policy = dir.join("log.policy");
    std::fs::write(&policy, format!("log {vkey}\nquorum none\n"))?;
    Ok((server, policy))
}

/// `n` HTTP/2 connections to `endpoint`, for clients to share.
pub async fn connect(endpoint: &str, n: usize) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::new();
    for _ in 0..n.max(1) {
        channels.push(
            tonic::transport::Endpoint::from_shared(endpoint.to_owned())?
                .tcp_nodelay(true)
                .connect()
                .await?,
        );
    }
    Ok(channels)
}

/// What [`submit_all`] and [`submit_with`] measured.
pub struct LoadResult {
    /// Wall time from the first submission to the last answer.
    pub elapsed: Duration,
    /// Submit-to-proof latencies, sorted.
    pub latencies: Vec<Duration>,
    /// The index the log answered for each request, in request order
    /// (`u64::MAX` for a failed one).
    pub indexes: Vec<u64>,
    /// The status of each failed submission (only under
    /// [`OnError::Count`]); failures have no latency.
    pub failures: Vec<tonic::Code>,
}

/// Submits `reqs` from `clients` concurrent gRPC clients to `endpoint`,
/// over `connections` HTTP/2 connections (clients share them round-robin,
/// each with its own stream per request; `connections == clients` gives
/// every client its own connection); `pace` spaces each client's
/// submissions, all clients in step ([`Schedule::InStep`]). Fails on the
/// first error.
pub async fn submit_all(
    endpoint: String,
    reqs: Vec<pb::SubmitRequest>,
    clients: usize,
    connections: usize,
    pace: Option<Duration>,
) -> anyhow::Result<LoadResult> {
    let schedule = pace.map_or(Schedule::Unpaced, Schedule::InStep);
    submit_with(
        endpoint,
        reqs,
        clients,
        connections,
        schedule,
        OnError::Fail,
    )
    .await
}

/// What [`submit_with`] does when a submission fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// Stop and fail.
    Fail,
    /// Record its status ([`LoadResult::failures`]) and go on.
    Count,
}

/// When [`submit_with`]'s clients send their submissions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// Each as soon as the client's previous one is answered.
    Unpaced,
    /// Each client once per period, all clients starting together: bursts
    /// of `clients` submissions.
    InStep(Duration),
    /// This many submissions per second in all, spread evenly: each client
    /// once per `clients / rate` seconds, client `c` first at `c / rate`.
    /// A client whose answer comes later than its next turn sends at once.
    Rate(f64),
}

/// [`submit_all`] with any [`Schedule`], failing or counting failures.
pub async fn submit_with(
    endpoint: String,
    reqs: Vec<pb::SubmitRequest>,
    clients: usize,
    connections: usize,
    schedule: Schedule,
    on_error: OnError,
) -> anyhow::Result<LoadResult> {
    let n = reqs.len();
    let clients = clients.max(1);
    let channels = connect(&endpoint, connections.clamp(1, clients)).await?;
    let reqs = Arc::new(reqs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let reqs = reqs.clone();
        let channel = channels[c % channels.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut client = LogClient::new(channel);
            let mut answers = Vec::new();
            // The client's first turn and the time between its turns.
            let (mut next, every) = match schedule {
                Schedule::Unpaced => (Instant::now(), None),
                Schedule::InStep(p) => (Instant::now(), Some(p)),
                Schedule::Rate(r) => (
                    start + Duration::from_secs_f64(c as f64 / r),
                    Some(Duration::from_secs_f64(clients as f64 / r)),
                ),
            };
            for (i, r) in reqs.iter().enumerate().skip(c).step_by(clients) {
                if let Some(p) = every {
                    tokio::time::sleep_until(next.into()).await;
                    next += p;
                }
                let t = Instant::now();
                match client.submit(r.clone()).await {
                    Ok(answer) => answers.push((i, Ok((answer.into_inner().index, t.elapsed())))),
                    Err(status) if on_error == OnError::Count => {
                        answers.push((i, Err(status.code())));
                    }
                    Err(status) => return Err(status.into()),
                }
            }
            anyhow::Ok(answers)
        }));
    }
    let mut indexes = vec![u64::MAX; n];
    let mut latencies = Vec::with_capacity(n);
    let mut failures = Vec::new();
    for t in tasks {
        for (i, answer) in t.await?? {
            match answer {
                Ok((index, latency)) => {
                    indexes[i] = index;
                    latencies.push(latency);
                }
                Err(code) => failures.push(code),
            }
        }
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Ok(LoadResult {
        elapsed,
        latencies,
        indexes,
        failures,
    })
}

/// The `p` quantile (0.0..=1.0) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
