//! `attestlog monitor` at scale, through the real binaries:
//!
//! 1. a log of 100,000 entries from 8 maintainers, 4 of them signed by a
//!    watched key at scattered positions;
//! 2. `monitor --once` catches up over the tiles API, re-verifying every
//!    signature and the signed root, and alerts exactly the watched key's
//!    4 entries;
//! 3. a running monitor (`--interval-ms 500`) then reports the watched
//!    key's next entry after the log integrates it. The time it took is
//!    printed, not asserted: `attestlog-monitor-bench` measures it (see
//!    BENCHMARKS.md); the test bounds it at 60 s only so it cannot hang.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::Cert;
use attestlog_e2e::load::{signed_request, signed_requests, start_bulk_log, submit_all};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::{bin, timed_lines};

const ENTRIES: usize = 100_000;
const WATCHED_EVERY: usize = 25_000;

fn p(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

#[test]
fn monitor_catches_up_on_100k_entries_and_follows() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let dir = dir.path();
    // 12,500 entries per key: over the default per-key burst.
    let (server, policy) = start_bulk_log(dir, "monitor.test/log")?;

    // 1.
    let mut others: Vec<Maintainer> = (0..8)
        .map(|i| Maintainer::new(&format!("m{i} <m{i}@monitor.test>")))
        .collect();
    let mut watched = Maintainer::new("Watched <watched@monitor.test>");
    let watched_fp = Cert::from_bytes(&watched.cert)?.fingerprint().to_hex();
    let mut reqs = signed_requests(&mut others, ENTRIES, "bulk");
    let mut watched_positions = Vec::new();
    for pos in (WATCHED_EVERY / 2..ENTRIES).step_by(WATCHED_EVERY) {
        reqs[pos] = signed_request(&mut watched, &format!("watched-{pos}.tar.gz"), pos as u64);
        watched_positions.push(pos);
    }
    let rt = tokio::runtime::Runtime::new()?;
    let started = Instant::now();
    let load = rt.block_on(submit_all(server.endpoint(), reqs, 32, 8, None))?;
    eprintln!(
        "ingested {ENTRIES} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut expected: Vec<u64> = watched_positions
        .iter()
        .map(|&pos| load.indexes[pos])
        .collect();
    expected.sort();

    // 2.
    let state = dir.join("monitor-state");
    let tiles = format!("http://{}", server.http);
    let started = Instant::now();
    let out = Command::new(bin("attestlog"))
        .args(["monitor", "--policy", p(&policy), "--state-dir", p(&state)])
        .args(["--watch-key", &watched_fp, "--tiles-url", &tiles])
        .args(["--once", "--json", "--log", &server.endpoint()])
        .stdin(Stdio::null())
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    anyhow::ensure!(out.status.success(), "monitor --once failed: {stderr}");
    eprintln!(
        "caught up on {ENTRIES} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        stderr.contains(&format!("caught up to entry {ENTRIES}")),
        "{stderr}"
    );
    let mut alerted = Vec::new();
    for line in out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let alert: serde_json::Value = serde_json::from_slice(line)?;
        assert_eq!(alert["kind"], "key", "{alert}");
        assert_eq!(alert["primary"], watched_fp.as_str(), "{alert}");
        alerted.push(alert["index"].as_u64().context("alert index")?);
    }
    assert_eq!(alerted, expected, "{stderr}");

    // 3.
    let mut running = Command::new(bin("attestlog"))
        .args(["monitor", "--policy", p(&policy), "--state-dir", p(&state)])
        .args(["--watch-key", &watched_fp, "--interval-ms", "500", "--json"])
        .args(["--log", &server.endpoint()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = running.stdout.take().context("monitor stdout")?;
    let rx = timed_lines(stdout);
    // Let it take its first round at the tip, then sign something new.
    std::thread::sleep(Duration::from_secs(1));
    let req = signed_request(&mut watched, "surprise.tar.gz", 0xdead);
    let answer = rt.block_on(submit_all(server.endpoint(), vec![req], 1, 1, None))?;
    let integrated = Instant::now();
    let index = answer.indexes[0];
    let result = rx.recv_timeout(Duration::from_secs(60));
    let _ = running.kill();
    let _ = running.wait();
    let (at, line) = result.context("the running monitor reported nothing within 60 s")?;
    let alert: serde_json::Value = serde_json::from_str(&line)?;
    assert_eq!(alert["kind"], "key", "{line}");
    assert_eq!(alert["index"].as_u64(), Some(index), "{line}");
    assert_eq!(alert["primary"], watched_fp.as_str(), "{line}");
    eprintln!(
        "the running monitor reported entry {index} {} ms after the log answered",
        at.saturating_duration_since(integrated).as_millis()
    );
    server.stop()?;
    Ok(())
}
