//! Interop: a C2SP tlog-witness client that is not ours — written in Go
//! from the specification with `golang.org/x/mod/sumdb/{note,tlog}`
//! (`tests/interop/tlogclient`) — submits checkpoints to the real witness
//! and verifies its cosignatures with `crypto/ed25519`.
//!
//! Built offline in GOPATH mode against Debian's golang-golang-x-mod-dev
//! sources. Without Go this test FAILS, naming what to install.

mod common;

use std::process::Command;

use common::*;

#[test]
fn go_client_gets_cosignatures_it_can_verify() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src =
        attestlog_gotest::manifest_dir(env!("CARGO_MANIFEST_DIR")).join("tests/interop/tlogclient");
    let bin = tmp.path().join("tlogclient");
    // Fails (never skips) when Go is missing, naming what to install.
    attestlog_gotest::go_build(&src, &bin).unwrap_or_else(|e| panic!("{e}"));

    let log = TestLog::new("go.example/log", 21);
    let mut setup = WitnessSetup::new("witness.example/go", 22);
    setup.logs = vec![(log.clone(), None)];
    let w = start_witness(&tmp.path().join("w"), &setup);
    let out = Command::new(&bin)
        .arg(w.url())
        .arg(log.key.to_key_string())
        .arg(setup.key().verifier().to_key_string())
        .output()
        .expect("run tlogclient");
    assert!(
        out.status.success(),
        "Go client failed:\n{}\n--- witness log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        w.log()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("ok origin=go.example/log sha256={}", log.id())),
        "{stdout}"
    );
    // The witness agrees on what it cosigned.
    let r = http(w.addr, "GET", &format!("/{}/checkpoint", log.id()), b"");
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("go.example/log\n7\n"), "{}", r.text());
}
