//! The README's run command, exactly as a newcomer runs it:
//! `deploy/local/up.sh` brings up a log and three witnesses, submits a
//! gpg-signed sample and verifies it against a 2-of-3 witness policy;
//! running it again reuses everything; `deploy/local/down.sh` stops it.
//!
//! The test points the script at the binaries `cargo test` just built
//! (`ATTESTLOG_BIN_DIR`) instead of a release build, at a temporary state
//! folder, and at free loopback ports; `scripts/test.sh` has installed the
//! Debian packages already (`ATTESTLOG_SKIP_DEPS=1`).

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use attestlog_e2e::{bin_dir, run};

/// A base port whose log and witness ports are all free right now.
fn free_base() -> u16 {
    let seed = std::process::id() as u16;
    for attempt in 0..200u16 {
        let base = 20_000 + (seed.wrapping_add(attempt.wrapping_mul(97)) % 30_000);
        let ports = [base, base + 1, base + 81, base + 82, base + 83];
        if ports
            .iter()
            .all(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        {
            return base;
        }
    }
    panic!("no free port range on 127.0.0.1");
}

fn script(name: &str, state: &Path, base: u16) -> Command {
    let root = attestlog_e2e::manifest_dir(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut c = Command::new("bash");
    c.arg(root.join("deploy/local").join(name))
        .env("ATTESTLOG_HOME", state)
        .env("ATTESTLOG_BIN_DIR", bin_dir())
        .env("ATTESTLOG_PORT_BASE", base.to_string())
        .env("ATTESTLOG_SKIP_DEPS", "1");
    c
}

#[test]
fn up_verify_again_down() -> anyhow::Result<()> {
    let state = tempfile::tempdir()?;
    let base = free_base();
    let out = run(&mut script("up.sh", state.path(), base)).map_err(|e| {
        let log = std::fs::read_to_string(state.path().join("log.log")).unwrap_or_default();
        anyhow::anyhow!("{e}\nlog:\n{log}")
    })?;
    assert!(out.contains("PASS: 1 of the required 1"), "{out}");
    assert!(out.contains("==> verified"), "{out}");
    let policy = std::fs::read_to_string(state.path().join("policy"))?;
    assert!(policy.contains("quorum witnesses"));

    // Idempotent: a second run reuses keys and processes, logs a second sample.
    let key_before = std::fs::read(state.path().join("log.key"))?;
    let out = run(&mut script("up.sh", state.path(), base))?;
    assert!(out.contains("log already running"), "{out}");
    assert!(out.contains("==> verified"), "{out}");
    assert_eq!(std::fs::read(state.path().join("log.key"))?, key_before);

    let out = run(&mut script("down.sh", state.path(), base))?;
    assert!(out.contains("stopped"), "{out}");
    assert!(!state.path().join("log.pid").exists());
    // The ports are free again: everything stopped.
    assert!(TcpListener::bind(("127.0.0.1", base)).is_ok());
    Ok(())
}
