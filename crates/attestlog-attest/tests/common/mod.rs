//! Shared helpers for the integration tests: driving real GnuPG and `sq`,
//! and building statements.
//!
//! Missing tools make tests FAIL with the package to install; they never
//! skip silently (CI installs the Debian packages `gnupg` and `sq`).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// Finds `tool` on PATH or panics naming the Debian package.
pub fn require_tool(tool: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(tool);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{tool}` is not installed: these tests sign with the real tool and never skip. \
         Install the Debian package `{package}` (apt-get install {package})."
    );
}

/// Runs a command, panicking with its stderr on failure; returns stdout.
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Vec<u8> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait for child");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A throw-away GnuPG home; the agent is stopped on drop.
pub struct Gpg {
    home: tempfile::TempDir,
    gpg: PathBuf,
}

impl Gpg {
    pub fn new() -> Gpg {
        let gpg = require_tool("gpg", "gnupg");
        // gpg-agent's socket path must stay short: use /tmp directly.
        let home = tempfile::Builder::new()
            .prefix("attestlog-gpg")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let mut perms = std::fs::metadata(home.path()).expect("stat").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o700);
        std::fs::set_permissions(home.path(), perms).expect("chmod");
        Gpg { home, gpg }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.gpg);
        c.env("GNUPGHOME", self.home.path()).args([
            "--batch",
            "--no-tty",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ]);
        c
    }

    /// Runs gpg with `args`.
    pub fn run(&self, args: &[&str]) -> Vec<u8> {
        run(self.cmd().args(args), None)
    }

    /// Generates a signing-only primary key; returns its fingerprint.
    pub fn gen_key(&self, uid: &str, algo: &str) -> String {
        self.run(&["--quick-gen-key", uid, algo, "sign", "never"]);
        self.fingerprints(uid)[0].clone()
    }

    /// Adds a signing subkey; returns its fingerprint.
    pub fn add_signing_subkey(&self, primary: &str, algo: &str) -> String {
        self.run(&["--quick-add-key", primary, algo, "sign", "never"]);
        self.fingerprints(primary).last().cloned().expect("subkey")
    }

    /// Primary fingerprint first, then subkeys.
    pub fn fingerprints(&self, who: &str) -> Vec<String> {
        let out = self.run(&["--with-colons", "--list-keys", who]);
        String::from_utf8_lossy(&out)
            .lines()
            .filter(|l| l.starts_with("fpr:"))
            .filter_map(|l| l.split(':').nth(9).map(str::to_owned))
            .collect()
    }

    /// The binary certificate.
    pub fn export(&self, fpr: &str) -> Vec<u8> {
        self.run(&["--export", fpr])
    }

    /// Signs `data` as `signer` with gpg's `mode` flags (e.g.
    /// `["--detach-sign"]`, `["--armor", "--detach-sign"]`, `["--sign"]`,
    /// `["--clearsign"]`); returns gpg's output file.
    pub fn sign(&self, signer: &str, mode: &[&str], data: &[u8]) -> Vec<u8> {
        let input = self.home.path().join("in.dat");
        let output = self.home.path().join("out.dat");
        std::fs::write(&input, data).expect("write input");
        let _ = std::fs::remove_file(&output);
        let signer = format!("{signer}!");
        let mut args = vec!["--yes", "--local-user", signer.as_str(), "--output"];
        let output_str = output.to_str().expect("utf-8 path");
        args.push(output_str);
        args.extend_from_slice(mode);
        args.push(input.to_str().expect("utf-8 path"));
        self.run(&args);
        std::fs::read(&output).expect("read gpg output")
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A deterministic sha256 hex for a subject name.
pub fn digest_of(name: &str) -> String {
    hex::encode(Sha256::digest(name.as_bytes()))
}

/// An in-toto Statement v1 with attestlog's reproducible-build predicate.
pub fn in_toto(subject: &str) -> Vec<u8> {
    format!(
        r#"{{
  "_type": "https://in-toto.io/Statement/v1",
  "subject": [
    {{"name": "{subject}", "digest": {{"sha256": "{}"}}}}
  ],
  "predicateType": "{}",
  "predicate": {{
    "source": {{"uri": "git+https://example.org/pkg.git", "revision": "0123456789abcdef"}},
    "builder": {{"id": "mailto:builder@example.org"}},
    "buildTime": "2026-01-31T12:00:00Z"
  }}
}}
"#,
        digest_of(subject),
        attestlog_attest::REPRODUCIBLE_BUILD_V1
    )
    .into_bytes()
}

/// An atomic container signature payload as skopeo writes it.
pub fn atomic_container_signature(reference: &str) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{reference}"}},"image":{{"docker-manifest-digest":"sha256:{}"}},"type":"atomic container signature"}},"optional":{{"creator":"attestlog tests","timestamp":1767225600}}}}"#,
        digest_of(reference)
    )
    .into_bytes()
}
