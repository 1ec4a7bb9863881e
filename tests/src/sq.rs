//! Sequoia's `sq` command (Debian's `sq` 0.27) from tests: keys and
//! third-party certifications for web-of-trust graphs.

use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `sq args...` in `dir`; its stdout, or an error with its stderr.
pub fn sq(dir: &Path, args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let out = Command::new("sq")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| anyhow::anyhow!("sq (install the sq package; scripts/test.sh does): {e}"))?;
    anyhow::ensure!(
        out.status.success(),
        "sq {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out.stdout)
}

/// A key `dir/<name>.key` for `uid` that never expires (sq's default is
/// three years), made at `created` (`--creation-time`, e.g. `20200101`)
/// or now; its certificate, binary, in `dir/<name>.cert`.
pub fn key(dir: &Path, name: &str, uid: &str, created: Option<&str>) -> anyhow::Result<()> {
    let key = format!("{name}.key");
    let mut args = vec!["key", "generate", "--expires", "never", "--userid", uid];
    if let Some(t) = created {
        args.extend(["--creation-time", t]);
    }
    args.extend(["--export", &key]);
    sq(dir, &args)?;
    let cert = sq(dir, &["key", "extract-cert", "--binary", &key])?;
    std::fs::write(dir.join(format!("{name}.cert")), cert)?;
    Ok(())
}

/// `dir/<certifier>.key` certifies `uid` on the certificate file
/// `dir/<target>` (rewritten with the certification), with more `sq
/// certify` flags (`--depth`, `--amount`, `--regex`, `--time`); without
/// `--expires` in them the certification never expires (sq's default is
/// five years).
pub fn certify(
    dir: &Path,
    certifier: &str,
    target: &str,
    uid: &str,
    flags: &[&str],
) -> anyhow::Result<()> {
    let key = format!("{certifier}.key");
    let mut args = vec!["certify", "--binary"];
    if !flags.contains(&"--expires") {
        args.extend(["--expires", "never"]);
    }
    args.extend(flags);
    args.extend([key.as_str(), target, uid]);
    let certified = sq(dir, &args)?;
    std::fs::write(dir.join(target), certified)?;
    Ok(())
}
