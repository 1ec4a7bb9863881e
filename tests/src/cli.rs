//! Running the `attestlog` CLI from end-to-end tests, and showing what it
//! did when an assertion fails.

use std::path::Path;

use anyhow::Context as _;
use std::process::{Command, Output, Stdio};

use crate::bin;

/// Runs the built `attestlog` binary with `args` and no standard input.
pub fn attestlog(args: &[&str]) -> Output {
    Command::new(bin("attestlog"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run attestlog")
}

/// A command's exit status, stdout and stderr, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A path as a command-line argument (temporary paths are UTF-8).
pub fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Submits `statement` with the detached signature `sig` and the signer's
/// certificate `cert` through `attestlog submit --json`, the answer
/// checked against the log key in `dir/log.vkey`; the files go to
/// `dir/<tag>.{json,sig,cert}`. Returns the entry's index, after checking
/// that the proof file written beside the statement is a tlog-proof.
pub fn submit_detached(
    dir: &Path,
    endpoint: &str,
    tag: &str,
    statement: &[u8],
    sig: &[u8],
    cert: &[u8],
) -> anyhow::Result<u64> {
    let (stf, sigf, certf) = (
        dir.join(format!("{tag}.json")),
        dir.join(format!("{tag}.sig")),
        dir.join(format!("{tag}.cert")),
    );
    std::fs::write(&stf, statement)?;
    std::fs::write(&sigf, sig)?;
    std::fs::write(&certf, cert)?;
    let o = attestlog(&[
        "submit",
        p(&stf),
        "--signature",
        p(&sigf),
        "--certificate",
        p(&certf),
        "--log-key",
        p(&dir.join("log.vkey")),
        "--log",
        endpoint,
        "--json",
    ]);
    anyhow::ensure!(o.status.success(), "submit {tag}: {}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    let proof = std::fs::read(dir.join(format!("{tag}.json.tlog-proof")))?;
    anyhow::ensure!(proof.starts_with(b"c2sp.org/tlog-proof@v1\nindex "));
    v["index"].as_u64().context("index")
}
