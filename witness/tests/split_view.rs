//! Split views end to end, through two real witnesses gossiping on
//! 127.0.0.1.
//!
//! `gossip_between_witnesses_catches_a_fork`:
//!
//! 1. Two log instances share a 20-leaf prefix and one signing key, then
//!    diverge: A gets 5 more leaves, B 9 more. Each serves its own tiles.
//! 2. Log A gets witness 1's cosignature (old 0 → 25), log B witness 2's
//!    (old 0 → 29). Each witness's config points at "its" instance's tiles.
//! 3. Within 5 seconds of gossip, both witnesses serve evidence for the
//!    log, and it verifies offline with the log key alone.
//! 4. Both refuse to cosign either branch any further (422).
//!
//! `gossip_beyond_max_in_flight_is_told_to_retry`: with `[gossip]
//! max_in_flight = 1` and one gossip check waiting on a log's tiles, more
//! gossip and evidence get 429 while cosigning goes on.
//!
//! `client_gossip_of_a_same_size_fork`: a client hands a witness a
//! checkpoint of the size it cosigned with another root; the answer is
//! `split-view` and the evidence verifies.

mod common;

use std::time::Duration;

use attestlog_core::evidence::{Contradiction, Evidence};
use attestlog_e2e::free_port;
use common::*;

fn evidence_of(w: &Witness, log: &TestLog) -> Option<Evidence> {
    let r = try_http(w.addr, "GET", &format!("/evidence/{}", log.id()), b"").ok()?;
    (r.status == 200).then(|| Evidence::parse(&r.body).expect("evidence parses"))
}

#[test]
fn gossip_between_witnesses_catches_a_fork() {
    let tmp = tempfile::tempdir().expect("tmp");
    // 1.
    let mut a = TestLog::new("log.example/forked", 7);
    a.grow("shared", 20);
    let mut b = a.clone();
    a.grow("a", 5);
    b.grow("b", 9);
    let (tiles_a, tiles_b) = (
        TilesServer::start(a.tree.clone()),
        TilesServer::start(b.tree.clone()),
    );
    let (p1, p2) = (
        free_port().expect("free port"),
        free_port().expect("free port"),
    );
    let mut s1 = WitnessSetup::new("witness.example/g1", 11);
    s1.listen = format!("127.0.0.1:{p1}");
    s1.peers = vec![format!("http://127.0.0.1:{p2}")];
    s1.logs = vec![(a.clone(), Some(tiles_a.url()))];
    let mut s2 = WitnessSetup::new("witness.example/g2", 12);
    s2.listen = format!("127.0.0.1:{p2}");
    s2.peers = vec![format!("http://127.0.0.1:{p1}")];
    s2.logs = vec![(b.clone(), Some(tiles_b.url()))];
    let w1 = start_witness(&tmp.path().join("w1"), &s1);
    let w2 = start_witness(&tmp.path().join("w2"), &s2);

    // 2.
    let r = w1.add(&a.request(0, 25));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = w2.add(&b.request(0, 29));
    assert_eq!(r.status, 200, "{}", r.text());

    // 3.
    let found = wait_for(Duration::from_secs(5), || {
        Some((evidence_of(&w1, &a)?, evidence_of(&w2, &b)?))
    });
    let Some((e1, e2)) = found else {
        panic!(
            "no evidence within 5 s\n--- w1:\n{}\n--- w2:\n{}",
            w1.log(),
            w2.log()
        );
    };
    for ev in [&e1, &e2] {
        let proven = ev.verify(&a.verifier()).expect("evidence verifies offline");
        assert_eq!((proven.first.size, proven.second.size), (25, 29));
        assert!(matches!(
            ev.contradiction,
            Contradiction::Inconsistent { .. }
        ));
    }

    // 4.
    for (w, log, old, new) in [(&w1, &a, 25, 25), (&w2, &b, 29, 29), (&w1, &b, 25, 29)] {
        let req = if old == new {
            body(old, &[], &log.checkpoint(new))
        } else {
            // B's branch with B's own proof from 25: still refused.
            body(old, &log.proof(old, new), &log.checkpoint(new))
        };
        let r = w.add(&req);
        assert_eq!(r.status, 422, "cosigned after a split view: {}", r.text());
    }
    let m = http(w1.addr, "GET", "/metrics", b"").text();
    assert!(
        m.contains("attestlog_witness_split_view{origin=\"log.example/forked\"} 1"),
        "{m}"
    );
}

#[test]
fn client_gossip_of_a_same_size_fork() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut a = TestLog::new("log.example/same", 8);
    a.grow("shared", 3);
    let mut b = a.clone();
    a.grow("a", 4);
    b.grow("b", 4);
    let mut s = WitnessSetup::new("witness.example/g3", 13);
    s.logs = vec![(a.clone(), None)];
    let w = start_witness(tmp.path(), &s);
    let r = w.add(&a.request(0, 7));
    assert_eq!(r.status, 200, "{}", r.text());
    // The same checkpoint is fine; one of another key is refused.
    let r = http(w.addr, "POST", "/gossip", &a.checkpoint(7));
    assert_eq!((r.status, r.text().as_str()), (200, "same\n"));
    let stranger = TestLog::new("log.example/same", 9);
    let r = http(w.addr, "POST", "/gossip", &stranger.checkpoint(0));
    assert_eq!(r.status, 403, "{}", r.text());
    // Without tiles, another size cannot be checked: kept, unverified.
    let r = http(w.addr, "POST", "/gossip", &a.checkpoint(5));
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("unverified"), "{}", r.text());
    let r = http(w.addr, "POST", "/gossip", &b.checkpoint(7));
    assert_eq!((r.status, r.text().as_str()), (200, "split-view\n"));
    let ev = evidence_of(&w, &a).expect("evidence");
    ev.verify(&a.verifier()).expect("verifies");
    assert_eq!(ev.contradiction, Contradiction::SameSize);
    // Tampered evidence is refused by peers.
    let mut bad = ev.to_bytes();
    let at = bad.len() - 10;
    bad[at] ^= 1;
    let r = http(w.addr, "POST", "/gossip/evidence", &bad);
    assert_ne!(r.status, 200, "{}", r.text());
    let r = http(w.addr, "POST", "/gossip/evidence", &ev.to_bytes());
    assert_eq!((r.status, r.text().as_str()), (200, "already-recorded\n"));
}

#[test]
fn gossip_beyond_max_in_flight_is_told_to_retry() {
    // A "log" whose tiles server accepts connections and never answers:
    // checking a checkpoint of another size holds a gossip permit until
    // the witness's 1 s timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let tiles_url = format!("http://{}", silent.local_addr().expect("addr"));
    let (accepted_tx, accepted) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().flatten() {
            held.push(stream);
            let _ = accepted_tx.send(());
        }
    });
    let tmp = tempfile::tempdir().expect("tmp");
    let mut a = TestLog::new("log.example/busy", 21);
    a.grow("x", 7);
    let mut s = WitnessSetup::new("witness.example/busy", 22);
    s.logs = vec![(a.clone(), Some(tiles_url))];
    s.gossip_max_in_flight = 1;
    let w = start_witness(tmp.path(), &s);
    assert_eq!(w.add(&a.request(0, 7)).status, 200);

    let (addr, older) = (w.addr, a.checkpoint(5));
    let first = std::thread::spawn(move || http(addr, "POST", "/gossip", &older));
    accepted
        .recv_timeout(Duration::from_secs(10))
        .expect("the witness asks the log's tiles");
    // The one permit is held: gossip and evidence are told to retry.
    let r = http(w.addr, "POST", "/gossip", &a.checkpoint(6));
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.text().starts_with("busy"), "{}", r.text());
    let r = http(w.addr, "POST", "/gossip/evidence", b"not evidence");
    assert_eq!(r.status, 429, "{}", r.text());
    // Cosigning is not gossip: it goes on.
    a.grow("y", 1);
    assert_eq!(w.add(&a.request(7, 8)).status, 200);
    // Once the first check gives up, the permit is free again.
    let r = first.join().expect("first gossip");
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("unverified"), "{}", r.text());
    let r = http(w.addr, "POST", "/gossip", &a.checkpoint(8));
    assert_eq!((r.status, r.text().as_str()), (200, "same\n"));
}
