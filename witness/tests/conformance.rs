//! C2SP tlog-witness conformance through the real binary on 127.0.0.1.
//!
//! `every_status_code_and_restart` is one stateful scenario:
//!
//! 1. 404 for an unknown origin; 403 for a checkpoint signed by another
//!    key, and for one whose trusted-key signature does not verify.
//! 2. 400 for a malformed body, for 64 proof lines, for old > size; 413
//!    for a body over 1 MiB + 64 KiB.
//! 3. 200 for old 0 → 5; the cosignature verifies and its timestamp is
//!    not 0. 409 with `5\n` as `text/x.tlog.size` for old 0 again.
//! 4. 422 for a proof that does not verify (and the signed note is kept);
//!    422 for a non-empty proof from 0 and for a size-0 checkpoint whose
//!    root is not SHA-256("") (second log).
//! 5. 200 for 5 → 9; 200 again for 9 → 9 (fresh, monotonic timestamp).
//! 6. The monitoring read returns the cosigned checkpoint.
//! 7. Restart: the state survived (409 says 9, the read returns 9).
//! 8. 422 for size 9 with another root: split-view evidence is served
//!    and verifies offline; every later request for that log gets 422,
//!    and the metric says so.

mod common;

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::cosignature;
use attestlog_core::evidence::Evidence;
use attestlog_core::note::{KeyType, Note, NoteVerifier, SignerKey};
use attestlog_core::witness_protocol::parse_cosignature_lines;
use attestlog_core::{leaf_hash, Hash};
use common::*;

fn cosig_timestamp(setup: &WitnessSetup, text: &str, reply: &Reply) -> u64 {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let line = reply.text();
    assert!(
        line.starts_with("\u{2014} ") && line.ends_with('\n'),
        "{line:?}"
    );
    let sigs = parse_cosignature_lines(&reply.body).expect("cosignature lines");
    assert_eq!(sigs.len(), 1, "one cosignature: {line:?}");
    let w = setup.key().verifier();
    cosignature::verify(&w, text, &sigs[0]).expect("cosignature verifies")
}

#[test]
fn every_status_code_and_restart() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut log = TestLog::new("log.example/conformance", 1);
    log.grow("a", 20);
    let empty = TestLog::new("log.example/empty", 2);
    let mut setup = WitnessSetup::new("witness.example/w1", 9);
    setup.logs = vec![(log.clone(), None), (empty.clone(), None)];
    let w = start_witness(tmp.path(), &setup);

    // 1. Unknown origin, bad signatures.
    let stranger = TestLog {
        origin: "log.example/unknown".into(),
        ..log.clone()
    };
    let r = w.add(&body(0, &[], &stranger.checkpoint(5)));
    assert_eq!(r.status, 404, "{}", r.text());
    let impostor = SignerKey::from_seed("someone.else", KeyType::Ed25519, [3; 32]).expect("key");
    let cp5 = Checkpoint::new(&log.origin, 5, log.root(5));
    let r = w.add(&body(0, &[], &sign_with(&impostor, &cp5)));
    assert_eq!(r.status, 403, "{}", r.text());
    let mut forged = Note::parse(&log.checkpoint(5)).expect("note");
    let mut sig = forged.signatures()[0].clone();
    sig.signature[0] ^= 1;
    forged.remove_signatures(|_| true);
    forged.add_signature(sig).expect("add");
    let r = w.add(&body(0, &[], &forged.to_bytes()));
    assert_eq!(r.status, 403, "{}", r.text());

    // 2. Malformed bodies, old > size, too large.
    for bad in [
        b"".to_vec(),
        b"old 1\n".to_vec(),
        b"old x\n\n".to_vec(),
        format!("old 0\n\n{}", "not a note\n").into_bytes(),
    ] {
        let r = w.add(&bad);
        assert_eq!(
            r.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(&bad),
            r.text()
        );
    }
    let r = w.add(&body(1, &[leaf_hash(b"x"); 64], &log.checkpoint(5)));
    assert_eq!(r.status, 400, "{}", r.text());
    let r = w.add(&body(6, &log.proof(5, 6), &log.checkpoint(5)));
    assert_eq!(r.status, 400, "{}", r.text());
    // SPEC 8.2: over 1 MiB + 64 KiB is 413.
    let r = w.add(&vec![b'a'; 1024 * 1024 + 64 * 1024 + 1]);
    assert_eq!(r.status, 413, "{}", r.text());

    // 3. First cosignature, then a conflict.
    let text5 = cp5.to_text().expect("text");
    let r = w.add(&log.request(0, 5));
    let t1 = cosig_timestamp(&setup, &text5, &r);
    assert!(t1 > 0);
    let r = w.add(&log.request(0, 5));
    assert_eq!((r.status, r.text().as_str()), (409, "5\n"));
    assert_eq!(r.content_type, "text/x.tlog.size");

    // 4. Proofs that do not verify; size-0 and proof-from-0 rules.
    let mut bad = log.proof(5, 9);
    bad[0].0[0] ^= 1;
    let r = w.add(&body(5, &bad, &log.checkpoint(9)));
    assert_eq!(r.status, 422, "{}", r.text());
    let r = w.add(&body(5, &log.proof(5, 8), &log.checkpoint(9)));
    assert_eq!(r.status, 422, "{}", r.text());
    let r = w.add(&body(0, &[leaf_hash(b"x")], &empty.checkpoint(0)));
    assert_eq!(r.status, 422, "{}", r.text());
    let r = w.add(&body(
        0,
        &[],
        &empty.sign(&Checkpoint::new(&empty.origin, 0, leaf_hash(b"x"))),
    ));
    assert_eq!(r.status, 422, "{}", r.text());
    let r = w.add(&body(0, &[], &empty.checkpoint(0)));
    assert_eq!(r.status, 200, "size 0 with the empty root: {}", r.text());

    // 5. Growth, then a fresh cosignature of the same checkpoint.
    let text9 = Checkpoint::new(&log.origin, 9, log.root(9))
        .to_text()
        .expect("text");
    let t2 = cosig_timestamp(&setup, &text9, &w.add(&log.request(5, 9)));
    let t3 = cosig_timestamp(&setup, &text9, &w.add(&body(9, &[], &log.checkpoint(9))));
    assert!(t1 <= t2 && t2 <= t3, "{t1} {t2} {t3}");
    let r = w.add(&body(9, &[leaf_hash(b"x")], &log.checkpoint(9)));
    assert_eq!(
        r.status,
        422,
        "same size needs an empty proof: {}",
        r.text()
    );

    // 6. The monitoring read.
    let check_latest = |w: &Witness| {
        let r = http(w.addr, "GET", &format!("/{}/checkpoint", log.id()), b"");
        assert_eq!(r.status, 200, "{}", r.text());
        let (cp, note) =
            Checkpoint::open(&r.body, &log.origin, &log.verifier()).expect("log signature");
        assert_eq!(cp.size, 9);
        let wv = setup.key().verifier();
        assert_eq!(
            note.verify(&[&wv as &dyn NoteVerifier])
                .expect("cosigned")
                .len(),
            1
        );
    };
    check_latest(&w);
    let r = http(
        w.addr,
        "GET",
        &format!("/{}/checkpoint", hex::encode([0u8; 32])),
        b"",
    );
    assert_eq!(r.status, 404);
    assert_eq!(http(w.addr, "GET", "/healthz", b"").status, 200);

    // 7. Restart.
    let w = w.restart().expect("restart the witness");
    check_latest(&w);
    let r = w.add(&log.request(5, 9));
    assert_eq!((r.status, r.text().as_str()), (409, "9\n"));
    let t4 = cosig_timestamp(&setup, &text9, &w.add(&body(9, &[], &log.checkpoint(9))));
    assert!(
        t4 >= t3,
        "timestamps went backwards across a restart: {t3} then {t4}"
    );

    // 8. Same size, other root: a split view.
    let other = log.sign(&Checkpoint::new(&log.origin, 9, leaf_hash(b"another tree")));
    let r = w.add(&body(9, &[], &other));
    assert_eq!(r.status, 422, "{}", r.text());
    let r = http(w.addr, "GET", &format!("/evidence/{}", log.id()), b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let ev = Evidence::parse(&r.body).expect("evidence parses");
    let proven = ev
        .verify(&log.verifier())
        .expect("evidence verifies offline");
    assert_eq!((proven.first.size, proven.second.size), (9, 9));
    let r = w.add(&body(9, &[], &log.checkpoint(9)));
    assert_eq!(r.status, 422, "cosigned after a split view: {}", r.text());
    assert!(r.text().contains("split view"), "{}", r.text());
    let r = w.add(&log.request(9, 12));
    assert_eq!(r.status, 422, "{}", r.text());
    let metrics = http(w.addr, "GET", "/metrics", b"").text();
    assert!(
        metrics.contains(&format!(
            "attestlog_witness_split_view{{origin=\"{}\"}} 1",
            log.origin
        )),
        "{metrics}"
    );
    // The other log is unaffected.
    let r = w.add(&body(0, &[], &empty.checkpoint(0)));
    assert_eq!(r.status, 200, "{}", r.text());
    let _ = Hash::EMPTY_ROOT;
}

#[test]
fn keygen_writes_a_private_file_and_never_overwrites() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("key");
    let run = || {
        std::process::Command::new(BIN)
            .args(["keygen", "--name", "witness.example/kg", "--out"])
            .arg(&out)
            .output()
            .expect("run keygen")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let vkey = String::from_utf8(first.stdout).expect("utf-8");
    let v = attestlog_core::note::VerifierKey::parse(vkey.trim_end()).expect("verifier key");
    assert_eq!(v.key_type(), KeyType::Cosignature);
    let secret = std::fs::read_to_string(&out).expect("key file");
    let k = SignerKey::parse(secret.trim_end()).expect("signer key");
    assert_eq!(k.verifier(), v);
    let mode = std::fs::metadata(&out).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let second = run();
    assert!(!second.status.success());
    assert_eq!(std::fs::read_to_string(&out).expect("key file"), secret);
    let help = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .expect("help");
    assert!(String::from_utf8_lossy(&help.stdout).contains("keygen"));
}
