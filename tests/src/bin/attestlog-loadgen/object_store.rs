//! `--object-store`: publishing to a 3-node Garage cluster (steps A to E
//! of the crate doc).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use attestlog_e2e::garage::{GarageCluster, Publishing};
use attestlog_e2e::load::{percentile, start_bulk_log, start_bulk_log_with, OnError, Schedule};
use attestlog_e2e::publish_lag::{entry_lags, metric, BucketCheckpoint, Histogram, Sampler};
use attestlog_e2e::{bin, http_get, LogServer};

use crate::args::Args;
use crate::measure::{
    cpu_seconds, grow, p50_p99, paced, peak, sequencer_line, serve_proofs, Concurrency, CpuTime,
    Peak,
};

/// The origin of every log `--object-store` starts.
const ORIGIN: &str = "load.test/log";
/// The server's default `[publish] max_waiting`: submissions waiting for
/// the bucket under `ack = "replicated"` at once.
const MAX_WAITING: usize = 4096;
/// How long the bucket may take to catch up with the log.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(600);

/// `--object-store`: steps A to E of the crate doc.
pub fn object_store(
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
    println!("{}", a.cpu_line(None));
    println!("  {}", sequencer_line(&server)?);
    // Half of A's peak, spread evenly over enough clients to sustain it
    // with answers up to 1 s late (ack = replicated answers later).
    let offered = a.rate / 2.0;
    let spread = Concurrency::at_least(args, (offered.ceil() as usize).min(MAX_WAITING));
    let half_of_a = |server: &LogServer, tag: &str| {
        paced(
            rt,
            server,
            spread,
            half_n,
            Schedule::Rate(offered),
            OnError::Count,
            tag,
        )
    };
    let a_half = half_of_a(&server, "a-half")?;
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
        let config = garage.write_log_config(&c_dir, &bench_publishing("replicated", None))?;
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
        println!("{}", c.cpu_line(Some(&a)));
        println!("  {}", sequencer_line(&server)?);
        let c_half = half_of_a(&server, "c-half")?;
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

    if let Some(b) = published {
        // D. Grown, then E. proofs from a replica.
        let target = args.restore_size.max(args.proof_log_size).max(b.size);
        if target > b.size {
            grow_published(args, rt, &b, target)?;
        }
        if args.replica {
            replica(args, rt, dir, &garage, &b, target)?;
        }
        // D. Restore.
        if args.restore_size > 0 {
            restore(dir, &garage, b, target)?;
        } else {
            b.server.stop()?;
        }
    }
    Ok(())
}

/// The `[object_store]` and `[publish]` of the benchmark's logs: through
/// node 0, under the prefix `ack`, with the server's default timeouts
/// (10 s) and `interval_ms` (`--publish-interval-ms`; `None`: the
/// server's default).
fn bench_publishing(ack: &str, interval_ms: Option<u64>) -> Publishing<'_> {
    Publishing {
        node: 0,
        ack,
        prefix: ack,
        timeout_ms: 10_000,
        ack_timeout_ms: 10_000,
        interval_ms,
    }
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str().context("temporary path is not UTF-8")
}

/// The log of step B, kept running for steps D and E.
struct Published {
    server: LogServer,
    config: std::path::PathBuf,
    policy: std::path::PathBuf,
    bucket: BucketCheckpoint,
    size: u64,
}

impl Published {
    /// The log's verifier key, from the policy `start_bulk_log` wrote.
    fn verifier_key(&self) -> anyhow::Result<String> {
        Ok(std::fs::read_to_string(&self.policy)?
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("log "))
            .context("no log line in the policy start_bulk_log wrote")?
            .to_owned())
    }
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
    let config =
        garage.write_log_config(&b_dir, &bench_publishing("local", args.publish_interval_ms))?;
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
    println!("{}", b.cpu_line(Some(a)));
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

/// Step D: grows B's log to `target` entries (publishing on) and waits
/// for the bucket to hold them all.
fn grow_published(
    args: &Args,
    rt: &tokio::runtime::Runtime,
    b: &Published,
    target: u64,
) -> anyhow::Result<()> {
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
    Ok(())
}

/// Step E: inclusion proofs from B's log, then from a read replica of its
/// bucket (reading through node 2) once it has caught up; B keeps
/// running, idle.
fn replica(
    args: &Args,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    garage: &GarageCluster,
    b: &Published,
    size: u64,
) -> anyhow::Result<()> {
    let primary = serve_proofs(rt, &b.server, args, size)?;
    println!("{}", primary.report("E. proofs from the primary"));
    let r_dir = dir.join("replica");
    std::fs::create_dir_all(&r_dir)?;
    let config = garage.write_log_config(
        &r_dir,
        &Publishing {
            node: 2,
            ..bench_publishing("local", args.publish_interval_ms)
        },
    )?;
    let vkey = b.verifier_key()?;
    let primary_endpoint = b.server.endpoint();
    let garage_cpu = CpuTime::of_all(&garage.pids())?;
    let started = Instant::now();
    let replica = LogServer::start_within(
        &r_dir,
        ORIGIN,
        &[
            "--config",
            path_str(&config)?,
            "--replica-of-bucket",
            "--primary",
            &primary_endpoint,
            "--log-key",
            &vkey,
        ],
        CATCH_UP_TIMEOUT,
    )?;
    let caught_up = started.elapsed();
    let garage_secs = garage_cpu.elapsed()?;
    same_tree(&replica, &b.bucket)?;
    println!(
        "  a replica (reading through node 2) caught up with {size} entries before listening: {:.1} s ({:.0} entries/s), CPU: replica {:.1} core-s, Garage {garage_secs:.1} core-s",
        caught_up.as_secs_f64(),
        size as f64 / caught_up.as_secs_f64(),
        cpu_seconds(replica.child.id())?,
    );
    let from_replica = serve_proofs(rt, &replica, args, size)?;
    println!(
        "{}",
        from_replica.report(&format!(
            "  proofs from the replica ({:.2}x the primary's rate)",
            from_replica.rate() / primary.rate()
        ))
    );
    replica.stop()?;
    Ok(())
}

/// Step D: stops B's log (grown to `target`) and restores its bucket into
/// a new directory.
fn restore(dir: &Path, garage: &GarageCluster, b: Published, target: u64) -> anyhow::Result<()> {
    let log_dir = b.server.dir.clone();
    let vkey = b.verifier_key()?;
    b.server.stop()?;
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
