//! `attestlog monitor` reading entries from a hostile tiles mirror
//! (issue #13, item 12), through the real binaries:
//!
//! 1. a real log of 301 entries; entry 100 is signed by a watched key, the
//!    others by another maintainer;
//! 2. a mirror on 127.0.0.1 serves the log's tiles, except that in the
//!    first entry bundle it replaces entry 100 with a copy of entry 99 (it
//!    hides the watched key's entry); `monitor --once --tiles-url <mirror>`
//!    must fail, naming the mismatch with the signed checkpoint, and must
//!    not have saved any position: nothing read from the mirror was
//!    checked against a signed root;
//! 3. `monitor --once` pointed at the log's own tiles then starts from the
//!    beginning, alerts on entry 100 and catches up to 301.
//!
//! The mirror is a real HTTP server relaying the real log's tiles (a CDN or
//! mirror is exactly who serves tiles to monitors, SPEC §7.1), not a mock
//! of the log: checkpoints and proofs still come from the log itself.
//!
//! Shown to fail on a0c9f2b: step 2 saved the position `next_index: 256`,
//! with the frontier of the tampered bundle, before its root check failed;
//! step 3, resuming there, can then neither see entry 100 nor ever reach
//! the signed root (it folds the honest entries onto the tampered prefix).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::Cert;
use attestlog_client::state::log_id;
use attestlog_e2e::cli::{p, text};
use attestlog_e2e::load::{signed_request, signed_requests, start_bulk_log, submit_all};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::{http_get, LogServer};

const ORIGIN: &str = "monitor.mirror.test/log";

/// The entry the mirror hides, and the one it shows in its place.
const HIDDEN: usize = 100;

/// Replaces entry `HIDDEN` of a C2SP tlog-tiles entry bundle (big-endian
/// u16 length, then the entry, for each entry) with a copy of the entry
/// before it.
fn hide_entry(bundle: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut entries: Vec<&[u8]> = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        anyhow::ensure!(rest.len() >= 2, "truncated entry bundle");
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        anyhow::ensure!(rest.len() >= 2 + n, "truncated entry bundle");
        entries.push(&rest[2..2 + n]);
        rest = &rest[2 + n..];
    }
    anyhow::ensure!(
        entries.len() > HIDDEN,
        "bundle of {} entries",
        entries.len()
    );
    entries[HIDDEN] = entries[HIDDEN - 1];
    let mut out = Vec::with_capacity(bundle.len());
    for e in entries {
        out.extend_from_slice(&u16::try_from(e.len())?.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Serves one request: relays the GET to the log's HTTP address,
/// tampering with the first full entry bundle.
fn relay(mut conn: TcpStream, log: SocketAddr) -> anyhow::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf)?;
        anyhow::ensure!(n > 0, "connection closed mid-request");
        req.extend_from_slice(&buf[..n]);
        anyhow::ensure!(req.len() < 64 << 10, "request too large");
    }
    let head = String::from_utf8_lossy(&req).into_owned();
    let path = head
        .split(' ')
        .nth(1)
        .context("no request path")?
        .to_owned();
    let (status, mut body) = http_get(log, &path)?;
    if status == 200 && path == "/tile/entries/000" {
        body = hide_entry(&body)?;
    }
    write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    conn.write_all(&body)?;
    Ok(())
}

/// A tampering mirror of the log's tiles on 127.0.0.1; stops when the
/// returned flag is set.
fn start_mirror(log: SocketAddr) -> anyhow::Result<(SocketAddr, Arc<AtomicBool>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((conn, _)) => {
                    let _ = conn.set_nonblocking(false);
                    std::thread::spawn(move || {
                        if let Err(e) = relay(conn, log) {
                            eprintln!("mirror: {e:#}");
                        }
                    });
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    Ok((addr, stop))
}

fn monitor(server: &LogServer, policy: &Path, state: &Path, watch: &str, tiles: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attestlog"))
        .args(["monitor", "--policy", p(policy), "--state-dir", p(state)])
        .args(["--watch-key", watch, "--once", "--json"])
        .args(["--tiles-url", tiles, "--log", &server.endpoint()])
        .stdin(Stdio::null())
        .output()
        .expect("run attestlog monitor")
}

#[test]
fn monitor_saves_no_position_from_tiles_that_disagree_with_the_checkpoint() -> anyhow::Result<()> {
    // 1.
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let (server, policy) = start_bulk_log(dir, ORIGIN)?;
    let mut others = vec![Maintainer::new("Other <other@mirror.test>")];
    let mut watched = Maintainer::new("Watched <watched@mirror.test>");
    let watched_fp = Cert::from_bytes(&watched.cert)?.fingerprint().to_hex();
    let rt = tokio::runtime::Runtime::new()?;
    let endpoint = server.endpoint();
    // One client, so that indexes follow the order of submission.
    rt.block_on(submit_all(
        endpoint.clone(),
        signed_requests(&mut others, HIDDEN, "before"),
        1,
        1,
        None,
    ))?;
    let w = rt.block_on(submit_all(
        endpoint.clone(),
        vec![signed_request(&mut watched, "watched.tar.gz", 7)],
        1,
        1,
        None,
    ))?;
    assert_eq!(w.indexes, vec![HIDDEN as u64]);
    rt.block_on(submit_all(
        endpoint.clone(),
        signed_requests(&mut others, 200, "after"),
        1,
        1,
        None,
    ))?;
    let size = HIDDEN as u64 + 201;

    // 2.
    let (mirror, stop) = start_mirror(server.http)?;
    let state = dir.join("state");
    let position = state.join(log_id(ORIGIN)).join("monitor.json");
    let o = monitor(
        &server,
        &policy,
        &state,
        &watched_fp,
        &format!("http://{mirror}"),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("do not hash to"), "{out}");
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains(&format!("\"index\":{HIDDEN}")),
        "{out}"
    );
    assert!(
        !position.exists(),
        "a position was saved from unverified entries: {}",
        std::fs::read_to_string(&position).unwrap_or_default()
    );
    stop.store(true, Ordering::Relaxed);

    // 3.
    let o = monitor(
        &server,
        &policy,
        &state,
        &watched_fp,
        &format!("http://{}", server.http),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let alerts: Vec<serde_json::Value> = o
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(serde_json::from_slice)
        .collect::<Result<_, _>>()?;
    assert_eq!(alerts.len(), 1, "{out}");
    assert_eq!(alerts[0]["kind"], "key", "{out}");
    assert_eq!(alerts[0]["index"], HIDDEN as u64, "{out}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&position)?)?;
    assert_eq!(saved["next_index"], size, "{saved}");
    server.stop()?;
    Ok(())
}
