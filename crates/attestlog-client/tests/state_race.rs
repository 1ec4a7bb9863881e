//! Many `attestlog verify` processes sharing one `--state-dir` while the log
//! grows (issue #13, item 8), through the real binaries:
//!
//! 1. start a log, log one attestation of digest D by maintainer B, trust
//!    B; a growing thread keeps submitting other entries for the whole test;
//! 2. start [`RUNS`] `attestlog verify sha256:D --state-dir S` at once, all
//!    against the growing log, and read `S/<log id>/checkpoint` in a tight
//!    loop while they run;
//! 3. every read of the stored checkpoint is a whole note signed by the
//!    log, its size never decreases from one read to the next, every
//!    verify passes, and the checkpoint stored at the end is at least as
//!    large as any read during the run.
//!
//! Shown to fail on a0c9f2b, in each of six runs: the processes loaded,
//! checked and stored the checkpoint with no lock, through one fixed
//! temporary name (`checkpoint.tmp`), so 25 to 49 of the 50 verifies
//! failed ("checkpoint: No such file or directory": another process had
//! already renamed the shared temporary file), the reader found the
//! stored checkpoint empty (truncated through the shared temporary file)
//! from hundreds to 17,525 times, and in one run the stored size went back
//! from 209 to 201.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use attestlog_client::state::log_id;
use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::VerifierKey;
use attestlog_e2e::load::{signed_request, signed_requests, submit_all};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::{log_keygen, LogServer};

const ORIGIN: &str = "state.race.test/log";

/// Concurrent `attestlog verify` processes.
const RUNS: usize = 50;

/// Bound on the whole run of the processes (a hang fails, it does not block CI).
const DEADLINE: Duration = Duration::from_secs(300);

fn p(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

#[test]
fn concurrent_verifies_never_move_the_stored_checkpoint_back() -> anyhow::Result<()> {
    // 1.
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let vkey_text = log_keygen(dir, ORIGIN)?;
    let vkey = VerifierKey::parse(&vkey_text)?;
    let server = LogServer::start(
        dir,
        ORIGIN,
        &[
            "--batch-max-wait-ms",
            "2",
            "--per-key-per-minute",
            "0",
            "--queue-limit",
            "100000",
        ],
    )?;
    let policy = dir.join("log.policy");
    std::fs::write(&policy, format!("log {vkey_text}\nquorum none\n"))?;
    let mut b = Maintainer::new("Bob <bob@race.test>");
    let keyring = dir.join("bob.pgp");
    std::fs::write(&keyring, &b.cert)?;
    let digest = format!("{:064x}", 0xd1u64);
    let rt = tokio::runtime::Runtime::new()?;
    let first = signed_request(&mut b, "race.tar.gz", 0xd1);
    rt.block_on(submit_all(server.endpoint(), vec![first], 1, 1, None))?;

    let stop = Arc::new(AtomicBool::new(false));
    let grower = {
        let stop = stop.clone();
        let endpoint = server.endpoint();
        std::thread::spawn(move || -> anyhow::Result<u64> {
            let rt = tokio::runtime::Runtime::new()?;
            let mut keys = vec![Maintainer::new("Grower <grower@race.test>")];
            let mut round = 0u64;
            let mut added = 0u64;
            // Bounded: the main thread sets `stop`; the deadline is a backstop.
            let until = Instant::now() + DEADLINE;
            while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                let reqs = signed_requests(&mut keys, 8, &format!("grow{round}"));
                added += reqs.len() as u64;
                rt.block_on(submit_all(endpoint.clone(), reqs, 8, 2, None))?;
                round += 1;
            }
            Ok(added)
        })
    };

    // 2.
    let state = dir.join("state");
    let stored = state.join(log_id(ORIGIN)).join("checkpoint");
    let problems: Arc<Mutex<Vec<String>>> = Arc::default();
    let reader = {
        let (stop, stored, problems) = (stop.clone(), stored.clone(), problems.clone());
        let vkey = vkey.clone();
        std::thread::spawn(move || -> (u64, u64) {
            let (mut reads, mut last) = (0u64, 0u64);
            let until = Instant::now() + DEADLINE;
            while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                let bytes = match std::fs::read(&stored) {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound && last == 0 => continue,
                    Err(e) => {
                        problems.lock().unwrap().push(format!("read: {e}"));
                        continue;
                    }
                };
                reads += 1;
                match Checkpoint::open(&bytes, ORIGIN, &vkey) {
                    Ok((cp, _)) => {
                        if cp.size < last {
                            problems.lock().unwrap().push(format!(
                                "the stored checkpoint went back from size {last} to {}",
                                cp.size
                            ));
                        }
                        last = last.max(cp.size);
                    }
                    Err(e) => problems.lock().unwrap().push(format!(
                        "the stored checkpoint does not parse ({e}): {:?}",
                        String::from_utf8_lossy(&bytes)
                    )),
                }
            }
            (reads, last)
        })
    };
    // Let the log grow a little before the verifies start.
    std::thread::sleep(Duration::from_millis(300));
    let verify = || -> anyhow::Result<Child> {
        Command::new(env!("CARGO_BIN_EXE_attestlog"))
            .args([
                "verify",
                &format!("sha256:{digest}"),
                "--policy",
                p(&policy),
            ])
            .args(["--keyring", p(&keyring), "--threshold", "1"])
            .args(["--state-dir", p(&state), "--log", &server.endpoint()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting attestlog verify")
    };
    let children: Vec<Child> = (0..RUNS).map(|_| verify()).collect::<Result<_, _>>()?;
    let until = Instant::now() + DEADLINE;
    let mut failed = Vec::new();
    for mut child in children {
        while child.try_wait()?.is_none() {
            if Instant::now() > until {
                let _ = child.kill();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            failed.push(format!(
                "{}: {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (reads, max_read) = reader.join().expect("reader thread");
    let grown = grower.join().expect("grower thread")?;

    // 3.
    let (final_cp, _) = Checkpoint::open(&std::fs::read(&stored)?, ORIGIN, &vkey)
        .context("the checkpoint stored at the end")?;
    eprintln!(
        "{RUNS} verifies; the log grew by {grown} entries; {reads} reads of the stored \
         checkpoint, the largest of size {max_read}; stored at the end: size {}",
        final_cp.size
    );
    let problems = problems.lock().unwrap().clone();
    eprintln!(
        "{} of {RUNS} verifies failed; {} bad reads of the stored checkpoint",
        failed.len(),
        problems.len()
    );
    let back: Vec<&String> = problems
        .iter()
        .filter(|p| p.contains("went back"))
        .collect();
    eprintln!("{} of the bad reads saw the size go back", back.len());
    for p in back
        .iter()
        .take(3)
        .chain(problems.iter().take(3).collect::<Vec<_>>().iter())
    {
        eprintln!("  {p}");
    }
    assert!(
        failed.is_empty(),
        "{} of {RUNS} verifies failed, e.g.:\n{}",
        failed.len(),
        failed
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        problems.is_empty(),
        "{} bad reads of the stored checkpoint, e.g.:\n{}",
        problems.len(),
        problems
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        final_cp.size >= max_read,
        "stored at the end: size {}, but size {max_read} was stored during the run",
        final_cp.size
    );
    assert!(reads > 0, "the stored checkpoint was never read");
    // No temporary files are left behind in the log's state directory.
    let leftovers: Vec<String> = std::fs::read_dir(stored.parent().context("log dir")?)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "checkpoint")
        .collect();
    assert!(leftovers.is_empty(), "left in the state dir: {leftovers:?}");
    server.stop()?;
    Ok(())
}
