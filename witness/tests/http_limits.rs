//! The witness's HTTP server under hostile peers (issue #13, item 7; SPEC
//! §8.1 and §8.2), through the real `attestlog-witness`.
//!
//! `slowloris_connections_are_closed`, with `[http] header_read_timeout_ms
//! = 4000`, `idle_timeout_ms = 6000` and `max_connections = 1200`:
//!
//! 1. 2,000 connections each send half a request line and header, then
//!    nothing; 20 more send a whole request head announcing a 100-byte
//!    body, 10 bytes of it, then nothing.
//! 2. From the first connection until half a second after the last, the
//!    witness never holds more than `max_connections` file descriptors
//!    (plus its own few): connections over the cap wait in the listen
//!    backlog. (The header timeout is 4 s so that the cap is reached
//!    before the first connections time out; the cap is 1,200 so that the
//!    820 over it fit in the backlog of 1,024: with more waiting, the
//!    kernel drops SYNs and the test's connects wait seconds for
//!    retransmissions.)
//! 3. A normal add-checkpoint on a new connection is cosigned.
//! 4. Within 60 s the witness has closed every one of the 2,020 (the
//!    header timeout for the first, the idle timeout for the others).
//!
//! Shown to fail on a0c9f2b (run without the `[http]` table, which it does
//! not know): the witness accepted all 2,020 connections and held 2,041
//! descriptors at step 2.
//!
//! `add_checkpoint_beyond_the_bound_is_told_to_retry`, with `[http]
//! max_add_checkpoint_in_flight = 1`: 16 keep-alive connections resubmit
//! the cosigned checkpoint (each a synced write) at once, until one answer
//! is 503 with `Retry-After: 1`; every answer is 200 or that 503. Shown to
//! fail on a0c9f2b (without the `[http]` table): 2,000 concurrent
//! requests, no 503.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use attestlog_e2e::hostile::{open_fds, slowloris, still_open, wait_closed, FdWatch};
use common::*;

const SLOW: usize = 2_000;
const SLOW_BODIES: usize = 20;
const MAX_CONNECTIONS: usize = 1_200;
/// Descriptors the witness holds besides connections: RocksDB's files,
/// the listener, the runtime's, stdio, with room to spare.
const OWN_FDS: usize = 64;

#[test]
fn slowloris_connections_are_closed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut log = TestLog::new("log.example/slowloris", 41);
    log.grow("s", 10);
    let mut setup = WitnessSetup::new("witness.example/slowloris", 42);
    setup.logs = vec![(log.clone(), None)];
    setup.extra_config = format!(
        "\n[http]\nheader_read_timeout_ms = 4000\nidle_timeout_ms = 6000\n\
         max_connections = {MAX_CONNECTIONS}\n"
    );
    let w = start_witness(tmp.path(), &setup);
    let base = open_fds(w.pid()).expect("fds");
    assert!(base < OWN_FDS, "the idle witness holds {base} descriptors");

    // 1.
    let watch = FdWatch::start(w.pid());
    let start = std::time::Instant::now();
    let mut conns = slowloris(
        w.addr,
        SLOW,
        b"POST /add-checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le",
    )
    .expect("slow connections");
    conns.extend(
        slowloris(
            w.addr,
            SLOW_BODIES,
            b"POST /add-checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nold 0\nabcd",
        )
        .expect("slow bodies"),
    );
    eprintln!(
        "{} connections open {:?} after the start",
        conns.len(),
        start.elapsed()
    );
    // 2.
    std::thread::sleep(Duration::from_millis(500));
    let most = watch.most();
    assert!(
        most <= MAX_CONNECTIONS + OWN_FDS,
        "with {} slow connections the witness held {most} descriptors",
        SLOW + SLOW_BODIES
    );
    eprintln!("at most {most} descriptors held ({base} before the attack)");
    // 3.
    let r = w.add(&log.request(0, 10));
    eprintln!(
        "add-checkpoint answered {:?} after the start",
        start.elapsed()
    );
    assert_eq!(
        r.status,
        200,
        "add-checkpoint during the attack: {}",
        r.text()
    );
    // 4.
    let open = wait_closed(&mut conns, Duration::from_secs(60));
    eprintln!(
        "all slow connections closed {:?} after the start",
        start.elapsed()
    );
    assert_eq!(
        open,
        0,
        "{open} of {} slow connections still open after 60 s",
        SLOW + SLOW_BODIES
    );
    assert_eq!(still_open(&mut conns), 0);
}

#[test]
fn add_checkpoint_beyond_the_bound_is_told_to_retry() {
    const THREADS: usize = 16;
    const MOST: usize = 2_000;
    let tmp = tempfile::tempdir().expect("tmp");
    let mut log = TestLog::new("log.example/busy", 43);
    log.grow("b", 5);
    let mut setup = WitnessSetup::new("witness.example/busy", 44);
    setup.logs = vec![(log.clone(), None)];
    setup.extra_config = "\n[http]\nmax_add_checkpoint_in_flight = 1\n".into();
    let w = start_witness(tmp.path(), &setup);
    let r = w.add(&log.request(0, 5));
    assert_eq!(r.status, 200, "{}", r.text());
    // Resubmitting the stored checkpoint: old = size, empty proof.
    let again = Arc::new(body(5, &[], &log.checkpoint(5)));
    let (busy, sent) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (again, busy, sent, addr) = (again.clone(), busy.clone(), sent.clone(), w.addr);
            std::thread::spawn(move || {
                let mut conn = KeepAlive::connect(addr).expect("connect");
                while !busy.load(Ordering::Relaxed) && sent.fetch_add(1, Ordering::Relaxed) < MOST {
                    let r = conn
                        .request("POST", "/add-checkpoint", &again)
                        .expect("add-checkpoint");
                    match r.status {
                        200 => {}
                        503 => {
                            assert_eq!(r.retry_after.as_deref(), Some("1"), "{}", r.text());
                            busy.store(true, Ordering::Relaxed);
                        }
                        s => panic!("status {s}: {}", r.text()),
                    }
                }
            })
        })
        .collect();
    for t in workers {
        t.join().expect("worker");
    }
    assert!(
        busy.load(Ordering::Relaxed),
        "{MOST} concurrent add-checkpoints with max_add_checkpoint_in_flight = 1, none 503"
    );
    // The witness is not stuck: one request alone is cosigned.
    let r = w.add(&again);
    assert_eq!(r.status, 200, "{}", r.text());
}
