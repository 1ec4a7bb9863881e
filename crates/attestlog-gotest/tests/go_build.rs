//! The build recipe every Go cross-check goes through (core's `gocheck`,
//! the end-to-end `logcheck`, the witness's `tlogclient`):
//!
//! - a program importing Debian's `golang.org/x/mod` builds offline, in
//!   GOPATH mode (module mode would need the network: GOPROXY is off), and
//!   runs;
//! - a program that does not compile fails with the compiler's message and
//!   the packages to install, never silently.

use std::process::Command;

use attestlog_gotest::{go_build, GoError};

fn write_main(dir: &std::path::Path, source: &str) -> std::path::PathBuf {
    let src = dir.join("prog");
    std::fs::create_dir_all(&src).expect("source directory");
    std::fs::write(src.join("main.go"), source).expect("main.go");
    src
}

#[test]
fn a_program_using_x_mod_builds_offline_and_runs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = write_main(
        tmp.path(),
        r#"package main

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	h := tlog.RecordHash([]byte("x"))
	fmt.Printf("ok %d\n", len(h))
}
"#,
    );
    let bin = tmp.path().join("prog-bin");
    go_build(&src, &bin).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(&bin).output().expect("run the built program");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok 32\n");
}

#[test]
fn a_failed_build_names_the_compiler_error_and_what_to_install() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = write_main(
        tmp.path(),
        "package main\n\nfunc main() { undefined_name() }\n",
    );
    let err = go_build(&src, &tmp.path().join("never")).expect_err("does not compile");
    assert!(matches!(err, GoError::BuildFailed { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("undefined_name"), "{message}");
    assert!(
        message.contains("golang-go and golang-golang-x-mod-dev"),
        "{message}"
    );
    assert!(!tmp.path().join("never").exists());
}
