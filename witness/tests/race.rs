//! 1,000 racing add-checkpoint requests through the real binary: 20
//! threads each send 50 requests, every one from the size it last heard
//! (old = N) to N + K for a random K, so requests built on stale sizes race
//! those built on fresh ones (old = N vs old = N + K). A poller reads the
//! stored checkpoint all along.
//!
//! Afterwards: the stored size never decreased, every 409 named a size
//! at least as large as the request's old size, one root was cosigned per
//! size, and the final stored size is the largest size ever cosigned.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::Note;
use attestlog_core::witness_protocol::{parse_conflict_size, CONTENT_TYPE_TLOG_SIZE};
use common::*;

const THREADS: usize = 20;
const PER_THREAD: usize = 50;
const MAX_STEP: u64 = 4;

#[test]
fn racing_requests_never_roll_back() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut log = TestLog::new("log.example/race", 4);
    log.grow("r", (THREADS * PER_THREAD) as u64 * MAX_STEP + 1);
    let log = Arc::new(log);
    let mut setup = WitnessSetup::new("witness.example/race", 5);
    setup.logs = vec![((*log).clone(), None)];
    let w = start_witness(tmp.path(), &setup);
    let addr = w.addr;

    let done = Arc::new(AtomicBool::new(false));
    let poller = {
        let (done, log) = (done.clone(), log.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let r = http(addr, "GET", &format!("/{}/checkpoint", log.id()), b"");
                if r.status == 200 {
                    let note = Note::parse(&r.body).expect("note");
                    seen.push(Checkpoint::parse(note.text()).expect("checkpoint").size);
                }
            }
            seen
        })
    };

    // (size → roots cosigned at that size), and the count per status.
    let cosigned: Arc<Mutex<BTreeMap<u64, Vec<String>>>> = Arc::default();
    let statuses: Arc<Mutex<BTreeMap<u16, usize>>> = Arc::default();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (log, cosigned, statuses) = (log.clone(), cosigned.clone(), statuses.clone());
            std::thread::spawn(move || {
                let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ (t as u64 + 1);
                let mut old = 0u64;
                for _ in 0..PER_THREAD {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let new = (old + 1 + rng % MAX_STEP).min(log.tree.size());
                    let r = http(addr, "POST", "/add-checkpoint", &log.request(old, new));
                    *statuses.lock().expect("lock").entry(r.status).or_default() += 1;
                    match r.status {
                        200 => {
                            cosigned
                                .lock()
                                .expect("lock")
                                .entry(new)
                                .or_default()
                                .push(log.root(new).to_hex());
                            old = new;
                        }
                        409 => {
                            let stored = parse_conflict_size(&r.body).expect("409 body is a size");
                            assert!(stored >= old, "409 named {stored}, below old {old}");
                            assert_eq!(r.content_type, CONTENT_TYPE_TLOG_SIZE);
                            old = stored;
                        }
                        other => panic!("unexpected {other}: {}", r.text()),
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    done.store(true, Ordering::Relaxed);
    let seen = poller.join().expect("poller");

    let statuses = statuses.lock().expect("lock").clone();
    let total: usize = statuses.values().sum();
    assert_eq!(total, THREADS * PER_THREAD);
    eprintln!(
        "statuses: {statuses:?}; poller read {} checkpoints",
        seen.len()
    );
    assert!(
        seen.windows(2).all(|p| p[0] <= p[1]),
        "stored size decreased: {seen:?}"
    );
    let cosigned = cosigned.lock().expect("lock").clone();
    for (size, roots) in &cosigned {
        assert!(
            roots.iter().all(|r| r == &roots[0]),
            "two trees of size {size}"
        );
    }
    let max = *cosigned.keys().last().expect("something was cosigned");
    let r = http(addr, "GET", &format!("/{}/checkpoint", log.id()), b"");
    let note = Note::parse(&r.body).expect("note");
    let final_size = Checkpoint::parse(note.text()).expect("checkpoint").size;
    assert_eq!(
        final_size, max,
        "the stored size is not the largest cosigned"
    );
    assert!(
        statuses.get(&200).copied().unwrap_or(0) >= 50,
        "{statuses:?}"
    );
}
