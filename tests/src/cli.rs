//! Running the `attestlog` CLI from end-to-end tests, and showing what it
//! did when an assertion fails.

use std::path::Path;
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
