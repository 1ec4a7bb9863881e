//! `attestlog-monitor-bench`: how fast `attestlog monitor` catches up on a
//! large log, and how soon a running monitor reports a watched key's new
//! entry, next to the OpenPGP verification rate measured in the same run.
//!
//! It starts the real `attestlog-server` and `attestlog` binaries (from the
//! same target directory: `cargo build --release --workspace --bins`) on
//! 127.0.0.1 in a temporary directory, and reports:
//! 1. the baseline: attestations one thread re-verifies per second with
//!    `attestlog_attest::verify_leaf` (what the monitor runs per entry);
//! 2. catch-up: entries per second `attestlog monitor --once` reads and
//!    re-verifies on a log of `--entries` entries, over the tiles API;
//! 3. alert latency: for `--trials` submissions by a watched key, the time
//!    from the log's answer to the running monitor's alert, with the
//!    monitor's default poll interval (1 s) unless `--interval-ms` is given.
//!
//! Example: `target/release/attestlog-monitor-bench --entries 100000`

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::Cert;
use attestlog_attest::{verify_leaf, AdmissionPolicy, AttestationInput, Verifier};
use attestlog_e2e::load::{
    percentile, signed_request, signed_requests, start_bulk_log, submit_all,
};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::{bin, timed_lines};

struct Args {
    entries: usize,
    trials: usize,
    interval_ms: u64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        entries: 100_000,
        trials: 20,
        interval_ms: 1000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().context("flag needs a value");
        match flag.as_str() {
            "--entries" => a.entries = value()?.parse()?,
            "--trials" => a.trials = value()?.parse()?,
            "--interval-ms" => a.interval_ms = value()?.parse()?,
            "--help" | "-h" => {
                println!(
                    "attestlog-monitor-bench [--entries N (100000)] [--trials T (20)] [--interval-ms I (1000)]\n\
                     Starts target/<profile>/attestlog-server and attestlog on 127.0.0.1 and measures\n\
                     monitor catch-up and alert latency."
                );
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown flag {other}; see --help"),
        }
    }
    anyhow::ensure!(
        a.entries >= 1000 && a.trials >= 1,
        "need --entries >= 1000 and --trials >= 1"
    );
    Ok(a)
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "attestlog-monitor-bench: {} entries, {} trials, poll every {} ms, {cores} cores",
        args.entries, args.trials, args.interval_ms
    );
    let mut others: Vec<Maintainer> = (0..8)
        .map(|i| Maintainer::new(&format!("m{i} <m{i}@bench.test>")))
        .collect();

    // 1. Baseline: re-verifying logged leaves, one thread.
    let verifier = Verifier::new(AdmissionPolicy::Open);
    let now = SystemTime::now();
    let mut leaves = Vec::new();
    for r in signed_requests(&mut others, 4000, "baseline") {
        let s =
            AttestationInput::detached(&r.payload, &r.signature).with_certificate(&r.certificate);
        let v = verifier
            .verify(&s, now)
            .map_err(|e| anyhow::anyhow!("baseline verify: {e}"))?;
        leaves.push((v.leaf_bytes().to_vec(), Cert::from_bytes(&r.certificate)?));
    }
    let t = Instant::now();
    for (leaf, cert) in &leaves {
        verify_leaf(leaf, cert).map_err(|e| anyhow::anyhow!("baseline re-verify: {e}"))?;
    }
    let per_thread = leaves.len() as f64 / t.elapsed().as_secs_f64();
    println!(
        "baseline: {per_thread:.0} leaf re-verifications/s on one thread; x{cores} cores = {:.0}/s",
        per_thread * cores as f64
    );

    let dir = tempfile::tempdir()?;
    let dir = dir.path();
    let (server, policy) = start_bulk_log(dir, "bench.test/log")?;
    let rt = tokio::runtime::Runtime::new()?;
    let reqs = signed_requests(&mut others, args.entries, "bulk");
    let load = rt.block_on(submit_all(server.endpoint(), reqs, 64, 8, None))?;
    println!(
        "log filled: {} entries in {:.1} s",
        args.entries,
        load.elapsed.as_secs_f64()
    );

    // 2. Catch-up.
    let mut watched = Maintainer::new("Watched <watched@bench.test>");
    let watched_fp = Cert::from_bytes(&watched.cert)?.fingerprint().to_hex();
    let state = dir.join("monitor-state");
    let monitor = |extra: &[&str]| {
        let mut c = Command::new(bin("attestlog"));
        c.arg("monitor")
            .arg("--policy")
            .arg(&policy)
            .arg("--state-dir")
            .arg(&state)
            .args(["--watch-key", &watched_fp, "--json"])
            .args(["--log", &server.endpoint()])
            .args(extra)
            .stdin(Stdio::null());
        c
    };
    let tiles = format!("http://{}", server.http);
    let t = Instant::now();
    let out = monitor(&["--once", "--tiles-url", &tiles]).output()?;
    anyhow::ensure!(
        out.status.success(),
        "monitor --once: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secs = t.elapsed().as_secs_f64();
    let rate = args.entries as f64 / secs;
    println!(
        "catch-up: {} entries in {secs:.1} s = {rate:.0} entries/s ({:.2}x one thread's re-verify rate)",
        args.entries,
        rate / per_thread
    );

    // 3. Alert latency of a running monitor.
    let interval = args.interval_ms.to_string();
    let mut running = monitor(&["--interval-ms", &interval])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = running.stdout.take().context("monitor stdout")?;
    let rx = timed_lines(stdout);
    std::thread::sleep(Duration::from_millis(args.interval_ms + 500));
    let mut latencies = Vec::new();
    for trial in 0..args.trials {
        let req = signed_request(&mut watched, &format!("trial-{trial}.tar.gz"), trial as u64);
        let answer = rt.block_on(submit_all(server.endpoint(), vec![req], 1, 1, None))?;
        let answered = Instant::now();
        let (at, line) = rx
            .recv_timeout(Duration::from_secs(30))
            .context("no alert within 30 s")?;
        let alert: serde_json::Value = serde_json::from_str(&line)?;
        anyhow::ensure!(
            alert["index"].as_u64() == Some(answer.indexes[0]),
            "unexpected alert {line}"
        );
        latencies.push(at.saturating_duration_since(answered));
        // Land the next submission at another point of the poll cycle.
        std::thread::sleep(Duration::from_millis(
            137 * (trial as u64 + 1) % args.interval_ms.max(1),
        ));
    }
    let _ = running.kill();
    let _ = running.wait();
    latencies.sort();
    println!(
        "alert latency over {} trials: p50 {:?}, max {:?} (poll interval {} ms)",
        args.trials,
        percentile(&latencies, 0.5),
        latencies.last().copied().unwrap_or_default(),
        args.interval_ms
    );
    server.stop()?;
    Ok(())
}
