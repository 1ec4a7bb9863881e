//! The witness reads a log's tiles when a partial tile is gone (C2SP
//! tlog-tiles lets a log delete a partial tile once the full tile exists),
//! through the real binary on 127.0.0.1:
//!
//! 1. a log of 600 leaves serves its tiles without its superseded partial
//!    tiles; the witness cosigns its checkpoint of 300 leaves;
//! 2. a checkpoint of 200 leaves of the same tree, gossiped, is
//!    `consistent`: the tiles of the tree of 300 (`tile/0/001.p/44` read
//!    from `tile/0/001`) prove it;
//! 3. a checkpoint of 200 leaves of another tree, signed by the same key,
//!    is a `split-view`, proven from the same tiles.
//!
//! Pins the witness's fallback now that its tile reader is
//! `attestlog_http::tiles`, shared with the client.

mod common;

use std::sync::atomic::Ordering;

use common::*;

#[test]
fn gossip_is_checked_when_a_partial_tile_is_gone() {
    let tmp = tempfile::tempdir().expect("tmp");
    // 1.
    let mut log = TestLog::new("log.example/partial", 21);
    log.grow("honest", 600);
    let tiles = TilesServer::start_without_superseded_partials(log.tree.clone());
    let mut s = WitnessSetup::new("witness.example/partial", 22);
    s.logs = vec![(log.clone(), Some(tiles.url()))];
    let w = start_witness(tmp.path(), &s);
    let r = w.add(&log.request(0, 300));
    assert_eq!(r.status, 200, "{}", r.text());

    // 2.
    let r = http(w.addr, "POST", "/gossip", &log.checkpoint(200));
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "consistent\n"),
        "{}",
        w.log()
    );
    assert!(tiles.partials_refused.load(Ordering::Relaxed) > 0);

    // 3.
    let mut fork = TestLog::new("log.example/partial", 21);
    fork.grow("forked", 200);
    let r = http(w.addr, "POST", "/gossip", &fork.checkpoint(200));
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "split-view\n"),
        "{}",
        w.log()
    );
}
