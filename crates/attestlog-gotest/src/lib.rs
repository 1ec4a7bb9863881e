//! The one recipe for building the Go programs that cross-check attestlog
//! against Go's `golang.org/x/mod/sumdb/{note,tlog}`: core's `gocheck`,
//! the end-to-end tests' `logcheck` and the witness's `tlogclient`.
//!
//! Everything builds offline, in GOPATH mode, against the x/mod sources
//! Debian installs in `/usr/share/gocode` (`golang-golang-x-mod-dev`), with
//! the standard library of the local toolchain (`golang-go`); the Go build
//! cache lives in `~/.cache/attestlog-go/build`. Without Go a build fails
//! with an error naming the packages to install: the cross-checks never
//! skip.
//!
//! Out of scope: anything that needs a dependency. This crate has none, so
//! that attestlog-core's tests can use it (they cannot use `attestlog-e2e`,
//! which depends on crates above the core); starting attestlog's own
//! binaries is `attestlog-e2e`'s job.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where the x/mod sources are (Debian's `golang-golang-x-mod-dev`).
pub const DEBIAN_GOCODE: &str = "/usr/share/gocode";

/// What to install when Go is missing or a build fails.
const INSTALL: &str = "golang-go and golang-golang-x-mod-dev";

/// Why a Go program could not be built.
#[derive(Debug)]
pub enum GoError {
    /// No `go` on `PATH`, in `/usr/bin` or in `/usr/lib/go/bin`.
    NotFound,
    /// A step around the build failed: making the cache directory, or
    /// starting the toolchain.
    Io {
        /// The step, e.g. `running /usr/bin/go build`.
        what: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// `go build` ran and failed.
    BuildFailed {
        /// The package directory being built.
        src: PathBuf,
        /// The compiler's messages.
        stderr: String,
    },
}

impl fmt::Display for GoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoError::NotFound => write!(
                f,
                "Go toolchain not found: install {INSTALL} (scripts/test.sh does)"
            ),
            GoError::Io { what, source } => write!(f, "{what}: {source}"),
            GoError::BuildFailed { src, stderr } => write!(
                f,
                "building {} failed; are {INSTALL} installed (scripts/test.sh does)?\n{stderr}",
                src.display()
            ),
        }
    }
}

impl std::error::Error for GoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GoError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The `go` executable: the first on `PATH`, else Debian's places.
pub fn find_go() -> Result<PathBuf, GoError> {
    std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("go"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain([
            PathBuf::from("/usr/bin/go"),
            PathBuf::from("/usr/lib/go/bin/go"),
        ])
        .find(|p| p.is_file())
        .ok_or(GoError::NotFound)
}

/// Builds the Go program in `src` (package main, standard library and
/// Debian's golang.org/x/mod only) offline, in GOPATH mode, into `out`.
pub fn go_build(src: &Path, out: &Path) -> Result<(), GoError> {
    let go = find_go()?;
    let root = cache_root();
    // GOPATH's first entry is where Go would put what it fetches; it
    // fetches nothing here (GOPROXY=off), so it stays an empty directory.
    let own_gopath = root.join("gopath");
    let cache = root.join("build");
    for dir in [&own_gopath, &cache] {
        std::fs::create_dir_all(dir).map_err(|source| GoError::Io {
            what: format!("creating {}", dir.display()),
            source,
        })?;
    }
    let gopath = std::env::join_paths([own_gopath, PathBuf::from(DEBIAN_GOCODE)]).map_err(|e| {
        GoError::Io {
            what: "joining GOPATH".into(),
            source: std::io::Error::other(e),
        }
    })?;
    let built = Command::new(&go)
        .args(["build", "-o"])
        .arg(out)
        .arg(".")
        .current_dir(src)
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .env("GOTOOLCHAIN", "local")
        .env("GOENV", "off")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0")
        .env("GOPATH", gopath)
        .env("GOCACHE", &cache)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| GoError::Io {
            what: format!("running {} build in {}", go.display(), src.display()),
            source,
        })?;
    if !built.status.success() {
        return Err(GoError::BuildFailed {
            src: src.to_owned(),
            stderr: String::from_utf8_lossy(&built.stderr).into_owned(),
        });
    }
    Ok(())
}

/// The directory of the package being tested: `CARGO_MANIFEST_DIR` as
/// cargo sets it when it runs a test, else `compiled_in` (pass
/// `env!("CARGO_MANIFEST_DIR")`). The runtime value comes first because a
/// target directory shared between two checkouts (CI clones into a new
/// directory and reuses `~/.cache/attestlog-target`) can reuse a test
/// binary built in the other checkout, whose compiled-in path names that
/// checkout's files.
pub fn manifest_dir(compiled_in: &str) -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(compiled_in))
}

/// `~/.cache/attestlog-go` (or under the temporary directory without a
/// `HOME`): the Go build cache and the empty first GOPATH entry.
fn cache_root() -> PathBuf {
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache"))
        .unwrap_or_else(std::env::temp_dir)
        .join("attestlog-go")
}
