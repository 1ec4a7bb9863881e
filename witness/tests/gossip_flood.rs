//! Gossip cannot fill a witness's disk (issue #13, item 6; SPEC §8.3.2).
//!
//! Anyone may `POST /gossip` a log-signed checkpoint, and every checkpoint
//! a log ever signed is public, so an attacker holds thousands of them; a
//! signed note may also carry up to 99 more signature lines of any size
//! (signatures from unknown keys are ignored, not rejected). Both tests
//! run the real `attestlog-witness`, cosign a tree of 10,001 leaves, then
//! gossip it the 10,000 historical checkpoints of sizes 1..=10,000, each
//! padded with 99 junk signature lines of ~150 bytes of random base64
//! (~15 KB a note, ~150 MB in all), over 4 keep-alive connections. The
//! state directory must grow by less than [`BOUND`] (checked all along,
//! so that the unfixed witness is stopped early), and the witness must
//! still cosign a fresh checkpoint afterwards.
//!
//! * `proven_history_is_not_stored`: the witness knows the log's tiles,
//!   so every historical checkpoint is proven `consistent`: nothing may
//!   be stored. Shown to fail on a0c9f2b: every note was kept, padding and
//!   all, before the proof was checked; the state directory grew by
//!   2,273,718 bytes after 141 requests (~16 KB each). Fixed: 10,876
//!   bytes after all 10,000.
//! * `unproven_gossip_is_stripped_and_capped`: no `tiles_url`, so every
//!   checkpoint is `unverified` and may be kept, but only with the log's
//!   own signature line and at most `[gossip] max_kept` (default 1,000)
//!   per log. Shown to fail on a0c9f2b: the padded notes were kept
//!   without limit; the state directory grew by 2,516,236 bytes after 156
//!   requests. Fixed: 307,837 bytes after all 10,000 (1,000 notes kept).

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use attestlog_e2e::hostile::dir_size;
use common::*;

/// Historical checkpoints gossiped.
const COUNT: u64 = 10_000;
/// Keep-alive connections they are sent over (below the default
/// `[gossip] max_in_flight` of 8, so none is answered 429).
const CONNECTIONS: u64 = 4;
/// Junk signature lines per note (a note holds at most 100 lines).
const JUNK_LINES: usize = 99;
/// Base64 characters per junk signature.
const JUNK_CHARS: usize = 148;
/// The most the state directory may grow: the fixed witness writes at
/// most 1,000 notes of ~300 bytes (about 0.4 MB with RocksDB's write-ahead
/// log); the unfixed one wrote ~15 KB per request.
const BOUND: u64 = 2 << 20;
/// No test waits longer than this for the flood to finish.
const FLOOD_LIMIT: Duration = Duration::from_secs(300);

/// `note` with `JUNK_LINES` signature lines of random base64 appended
/// (names no verifier knows, so they are ignored, not rejected).
fn padded(note: &[u8], rng: &mut u64) -> Vec<u8> {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = note.to_vec();
    for j in 0..JUNK_LINES {
        out.extend_from_slice(format!("\u{2014} junk{j} ").as_bytes());
        for _ in 0..JUNK_CHARS {
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            out.push(B64[(*rng % 64) as usize]);
        }
        out.push(b'\n');
    }
    out
}

/// Gossips the padded checkpoints of sizes 1..=COUNT of `log` to `w`,
/// checking every answer with `verdict_ok`, and stops early if the state
/// directory grows past `BOUND`. Returns the growth.
fn flood(w: &Witness, log: &Arc<TestLog>, verdict_ok: fn(&str) -> bool) -> u64 {
    let state = w.dir.join("state");
    let before = dir_size(&state);
    let over = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let (log, over, sent, addr) = (log.clone(), over.clone(), sent.clone(), w.addr);
            std::thread::spawn(move || {
                let mut conn = KeepAlive::connect(addr).expect("connect");
                let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ (c + 1);
                let mut size = c + 1;
                while size <= COUNT && !over.load(Ordering::Relaxed) {
                    let note = padded(&log.checkpoint(size), &mut rng);
                    let r = conn.request("POST", "/gossip", &note).expect("gossip");
                    assert_eq!(r.status, 200, "gossip of size {size}: {}", r.text());
                    assert!(verdict_ok(&r.text()), "size {size}: {}", r.text());
                    sent.fetch_add(1, Ordering::Relaxed);
                    size += CONNECTIONS;
                }
            })
        })
        .collect();
    let start = Instant::now();
    let mut growth = 0;
    while !workers.iter().all(|t| t.is_finished()) {
        growth = dir_size(&state).saturating_sub(before);
        if growth >= BOUND {
            over.store(true, Ordering::Relaxed);
        }
        assert!(start.elapsed() < FLOOD_LIMIT, "the flood did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
    for t in workers {
        t.join().expect("worker");
    }
    growth = growth.max(dir_size(&state).saturating_sub(before));
    assert!(
        growth < BOUND,
        "the state directory grew by {growth} bytes (bound {BOUND}) after {} padded \
         historical checkpoints",
        sent.load(Ordering::Relaxed)
    );
    assert_eq!(sent.load(Ordering::Relaxed), COUNT);
    growth
}

/// A witness that cosigned `log` at its full size, with or without its
/// tiles.
fn start(tmp: &std::path::Path, log: &TestLog, tiles: Option<String>, name: &str) -> Witness {
    let mut setup = WitnessSetup::new(name, 31);
    setup.logs = vec![(log.clone(), tiles)];
    let w = start_witness(tmp, &setup);
    let size = log.tree.size();
    let r = w.add(&log.request(0, size));
    assert_eq!(r.status, 200, "{}", r.text());
    w
}

/// A fresh checkpoint (one more leaf) is still cosigned.
fn still_cosigns(w: &Witness, log: &mut TestLog) {
    let old = log.tree.size();
    log.grow("fresh", 1);
    let r = w.add(&log.request(old, old + 1));
    assert_eq!(r.status, 200, "fresh add-checkpoint: {}", r.text());
}

#[test]
fn proven_history_is_not_stored() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut log = TestLog::new("log.example/flood-proven", 21);
    log.grow("h", COUNT + 1);
    let tiles = TilesServer::start(log.tree.clone());
    let w = start(
        tmp.path(),
        &log,
        Some(tiles.url()),
        "witness.example/flood1",
    );
    let growth = flood(&w, &Arc::new(log.clone()), |v| v == "consistent\n");
    eprintln!("state grew by {growth} bytes");
    still_cosigns(&w, &mut log);
}

#[test]
fn unproven_gossip_is_stripped_and_capped() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut log = TestLog::new("log.example/flood-unproven", 22);
    log.grow("h", COUNT + 1);
    let w = start(tmp.path(), &log, None, "witness.example/flood2");
    let growth = flood(&w, &Arc::new(log.clone()), |v| v.starts_with("unverified "));
    eprintln!("state grew by {growth} bytes");
    still_cosigns(&w, &mut log);
}
