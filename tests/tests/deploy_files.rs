//! The deployment files are checked, not just shipped:
//! - the systemd units pass `systemd-analyze verify` with no warning (with
//!   `ExecStart` pointed at the binaries `cargo test` built, since the
//!   units name /usr/local/bin);
//! - the example configurations load in the real binaries (`serve` parses
//!   them before failing on the missing key, with a message naming it).

use std::path::{Path, PathBuf};
use std::process::Command;

use attestlog_e2e::bin;

fn repo() -> PathBuf {
    attestlog_e2e::manifest_dir(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn systemd_units_verify_cleanly() -> anyhow::Result<()> {
    let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect(
            "systemd-analyze not found: install the systemd package (scripts/install-deps.sh does)",
        );
    let dir = tempfile::tempdir()?;
    for unit in ["attestlog-server", "attestlog-witness"] {
        let text = std::fs::read_to_string(repo().join(format!("deploy/{unit}.service")))?;
        let binary = bin(unit);
        let rewritten = text.replace(&format!("/usr/local/bin/{unit}"), &binary.to_string_lossy());
        assert_ne!(
            rewritten, text,
            "{unit}.service starts /usr/local/bin/{unit}"
        );
        std::fs::write(dir.path().join(format!("{unit}.service")), rewritten)?;
    }
    let out = Command::new(analyze)
        .arg("verify")
        .arg(dir.path().join("attestlog-server.service"))
        .arg(dir.path().join("attestlog-witness.service"))
        .env("SYSTEMD_LOG_LEVEL", "warning")
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify:\n{stderr}"
    );
    // And it would notice a mistake.
    let broken = dir.path().join("broken.service");
    std::fs::write(
        &broken,
        "[Service]\nExecStart=/bin/true\nRestart=sometimes\n",
    )?;
    let out = Command::new(analyze).arg("verify").arg(&broken).output()?;
    assert!(
        !String::from_utf8_lossy(&out.stderr).trim().is_empty(),
        "a broken unit passed"
    );
    Ok(())
}

#[test]
fn example_configs_parse() -> anyhow::Result<()> {
    // The log's example: parsing succeeds, then the missing key is named.
    let out = Command::new(bin("attestlog-server"))
        .args(["serve", "--config"])
        .arg(repo().join("deploy/log.toml"))
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("log key") || err.contains("log.key"), "{err}");
    assert!(
        !err.contains("parsing"),
        "deploy/log.toml does not parse:\n{err}"
    );
    Ok(())
}
