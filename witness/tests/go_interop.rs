//! Interop: a C2SP tlog-witness client that is not ours — written in Go
//! from the specification with `golang.org/x/mod/sumdb/{note,tlog}`
//! (`tests/interop/tlogclient`) — submits checkpoints to the real witness
//! and verifies its cosignatures with `crypto/ed25519`.
//!
//! Built offline in GOPATH mode against Debian's golang-golang-x-mod-dev
//! sources. Without Go this test FAILS, naming what to install.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const GO_MISSING: &str = "Go toolchain not found: install golang-go and \
     golang-golang-x-mod-dev (scripts/test.sh does this); this test never skips";

fn find_go() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("go"))
        .chain([PathBuf::from("/usr/bin/go")])
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{GO_MISSING}"))
}

#[test]
fn go_client_gets_cosignatures_it_can_verify() {
    let go = find_go();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/tlogclient");
    let bin = tmp.path().join("tlogclient");
    let gopath = std::env::join_paths([
        tmp.path().join("gopath"),
        PathBuf::from("/usr/share/gocode"),
    ])
    .expect("GOPATH");
    let built = Command::new(&go)
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(&src)
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .env("GOTOOLCHAIN", "local")
        .env("GOENV", "off")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0")
        .env("GOPATH", gopath)
        .env(
            "GOCACHE",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-build-cache"),
        )
        .output()
        .unwrap_or_else(|e| panic!("{GO_MISSING} (running {}: {e})", go.display()));
    assert!(
        built.status.success(),
        "building {} failed; are golang-go and golang-golang-x-mod-dev installed?\n{}",
        src.display(),
        String::from_utf8_lossy(&built.stderr)
    );

    let log = TestLog::new("go.example/log", 21);
    let mut setup = WitnessSetup::new("witness.example/go", 22);
    setup.logs = vec![(log.clone(), None)];
    let w = WitnessProc::start(&tmp.path().join("w"), &setup);
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
