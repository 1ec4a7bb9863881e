//! Harness for the end-to-end tests: finds the built binaries, starts
//! them on 127.0.0.1 with port 0 in a temporary directory, signs with the
//! real GnuPG, and reads HTTP with a minimal client. One launcher per kind
//! of process: [`LogServer`] for `attestlog-server`, [`witness::Witness`]
//! for `attestlog-witness` (also used by the witness crate's own tests:
//! this crate does not depend on the server crate), [`cli`] for the
//! `attestlog` CLI, [`garage::GarageCluster`] for a 3-node Garage (the
//! S3-compatible store the log publishes to); Go cross-check programs are
//! built by `attestlog-gotest`. [`load`] and [`publish_lag`] serve the
//! load generators.
//!
//! The binaries are found beside the test executables ([`bin_dir`]).
//! `cargo test --workspace` (what scripts/test.sh runs) builds them: cargo
//! builds a package's binaries before it runs that package's integration
//! tests (they may start them through `CARGO_BIN_EXE_*`), and
//! attestlog-server, attestlog-witness and attestlog-client all have
//! integration tests, built into the same target directory as these.

pub mod cli;
pub mod garage;
pub mod hostile;
pub mod load;
pub mod publish_lag;
pub mod signing;
pub mod sq;
pub mod tiles;
pub mod witness;

pub use attestlog_gotest::manifest_dir;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// The directory holding the workspace's binaries: `ATTESTLOG_BIN_DIR`, or
/// the directory of the running executable (`<target>/<profile>/`, or its
/// parent for tests, which live in `<target>/<profile>/deps/`).
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("ATTESTLOG_BIN_DIR") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().expect("executable path");
    let dir = exe.parent().expect("executable is in a directory");
    // Tests live in <target>/<profile>/deps, binaries in <target>/<profile>.
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().unwrap_or(dir).to_owned()
    } else {
        dir.to_owned()
    }
}

/// Path of a workspace binary; panics with the fix if it is not built.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is not built: `cargo test --workspace` builds it (scripts/test.sh runs that), \
         as does `cargo build --workspace --bins`",
        p.display()
    );
    p
}

/// Runs a command to completion, failing with its stderr if it fails.
pub fn run(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// A running log server; killed when dropped.
pub struct LogServer {
    /// The `attestlog-server` process.
    pub child: Child,
    /// Where its gRPC API listens (read from its ready file).
    pub grpc: SocketAddr,
    /// Where its tlog-tiles HTTP API listens (read from its ready file).
    pub http: SocketAddr,
    /// Its working directory: `data/`, `log.key`, `server.log`.
    pub dir: PathBuf,
}

impl LogServer {
    /// Starts `attestlog-server serve` with the data under `dir` and the
    /// given extra flags; waits (at most 30 s) until it listens.
    pub fn start(dir: &Path, origin: &str, extra: &[&str]) -> anyhow::Result<LogServer> {
        LogServer::start_within(dir, origin, extra, READY_TIMEOUT)
    }

    /// [`LogServer::start`], waiting at most `timeout` until it listens
    /// (a read replica catches up with its bucket first).
    pub fn start_within(
        dir: &Path,
        origin: &str,
        extra: &[&str],
        timeout: Duration,
    ) -> anyhow::Result<LogServer> {
        let ready = dir.join("ready");
        let _ = std::fs::remove_file(&ready);
        let log = std::fs::File::create(dir.join("server.log"))?;
        let child = Command::new(bin("attestlog-server"))
            .args(["serve", "--origin", origin])
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--key-file")
            .arg(dir.join("log.key"))
            .args(
                ["--grpc-listen", "--http-listen"]
                    .into_iter()
                    .filter(|flag| !extra.contains(flag))
                    .flat_map(|flag| [flag, "127.0.0.1:0"]),
            )
            .arg("--ready-file")
            .arg(&ready)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting attestlog-server")?;
        let mut server = LogServer {
            child,
            grpc: "127.0.0.1:0".parse()?,
            http: "127.0.0.1:0".parse()?,
            dir: dir.to_owned(),
        };
        let log_file = dir.join("server.log");
        (server.grpc, server.http) = wait_ready(
            "attestlog-server",
            &mut server.child,
            &ready,
            &log_file,
            timeout,
            |text| {
                let (mut grpc, mut http) = (server.grpc, server.http);
                // The server writes the file whole (a rename).
                for line in text.lines() {
                    if let Some(a) = line.strip_prefix("grpc=") {
                        grpc = a.parse()?;
                    } else if let Some(a) = line.strip_prefix("http=") {
                        http = a.parse()?;
                    }
                }
                Ok(Some((grpc, http)))
            },
        )?;
        Ok(server)
    }

    /// The server's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// The gRPC endpoint URI.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// Sends SIGTERM and waits (at most 30 s) for a clean exit.
    pub fn stop(mut self) -> anyhow::Result<std::process::ExitStatus> {
        run(Command::new("kill").args(["-TERM", &self.child.id().to_string()]))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait()? {
                return Ok(s);
            }
            if Instant::now() > deadline {
                bail!("server did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server with SIGKILL, no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LogServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls `check` every `every` until it returns `Some`, for at most
/// `timeout`; an error from `check` ends the wait at once. On timeout the
/// error says how long it waited: add what was awaited with `context`.
pub fn poll_until<T>(
    timeout: Duration,
    every: Duration,
    mut check: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = check()? {
            return Ok(found);
        }
        if Instant::now() > deadline {
            bail!("still waiting after {timeout:?}");
        }
        std::thread::sleep(every);
    }
}

/// How long [`LogServer::start`] and the witness launcher wait for a
/// process to listen.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits (at most `timeout`) for a process started with `--ready-file ready`:
/// returns what `parse` reads from the file once `parse` finds it complete
/// (it answers `None` until then, an error if the file is wrong); fails
/// with the process's log (`log_file`) if it exits first or takes longer.
pub(crate) fn wait_ready<T>(
    name: &str,
    child: &mut Child,
    ready: &Path,
    log_file: &Path,
    timeout: Duration,
    mut parse: impl FnMut(&str) -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let log = || std::fs::read_to_string(log_file).unwrap_or_default();
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(text) = std::fs::read_to_string(ready) {
            if let Some(found) = parse(&text)? {
                return Ok(found);
            }
        }
        if let Some(status) = child.try_wait()? {
            bail!("{name} exited ({status}) before listening:\n{}", log());
        }
        if Instant::now() > deadline {
            bail!("{name} did not start within {timeout:?}:\n{}", log());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Generates a log key in `dir/log.key` named `origin`; returns the
/// verifier key string.
pub fn log_keygen(dir: &Path, origin: &str) -> anyhow::Result<String> {
    let out = run(Command::new(bin("attestlog-server"))
        .args(["keygen", "--name", origin, "--out"])
        .arg(dir.join("log.key")))?;
    Ok(out.trim().to_owned())
}

/// A port on 127.0.0.1 that was free a moment ago, for processes that
/// must know each other's addresses before they start (gossiping
/// witnesses, a log whose tiles a witness reads).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One HTTP/1.1 GET on loopback; returns status and body.
pub fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    http_get_host(addr, &addr.to_string(), path)
}

/// [`http_get`] with `host` as the `Host` header, for a server that picks
/// the site by it (Garage's website endpoint, [`garage`]).
pub fn http_get_host(addr: SocketAddr, host: &str, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let status: u16 = head.split(' ').nth(1).context("no status")?.parse()?;
    let body = buf[split + 4..].to_vec();
    // Content-Length bodies only (the server does not chunk full responses).
    Ok((status, body))
}

/// A throw-away GnuPG home with one key.
pub struct Gpg {
    /// The `GNUPGHOME` directory, removed when dropped.
    pub home: tempfile::TempDir,
    /// The key's e-mail address (its user ID is `Test <email>`).
    pub email: String,
}

impl Gpg {
    /// Creates a home and a key of `algo` (e.g. `ed25519`, `rsa3072`).
    pub fn new(algo: &str, email: &str) -> anyhow::Result<Gpg> {
        let home = tempfile::tempdir()?;
        let g = Gpg {
            home,
            email: email.to_owned(),
        };
        g.cmd(&[
            "--quick-gen-key",
            &format!("Test <{email}>"),
            algo,
            "sign",
            "never",
        ])?;
        Ok(g)
    }

    /// Runs gpg in batch mode with this home.
    pub fn cmd(&self, args: &[&str]) -> anyhow::Result<String> {
        run(Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args))
        .context("gpg (install the gnupg package; scripts/test.sh does)")
    }

    /// A detached binary signature over `data`.
    pub fn detach_sign(&self, data: &[u8]) -> anyhow::Result<Vec<u8>> {
        let input = self.home.path().join("input");
        let sig = self.home.path().join("input.sig");
        let _ = std::fs::remove_file(&sig);
        std::fs::write(&input, data)?;
        self.cmd(&[
            "--detach-sign",
            "-o",
            &sig.to_string_lossy(),
            &input.to_string_lossy(),
        ])?;
        Ok(std::fs::read(sig)?)
    }

    /// The exported certificate, binary.
    pub fn export(&self) -> anyhow::Result<Vec<u8>> {
        let out = self.home.path().join("cert.pgp");
        let _ = std::fs::remove_file(&out);
        self.cmd(&["-o", &out.to_string_lossy(), "--export", &self.email])?;
        Ok(std::fs::read(out)?)
    }
}

/// An in-toto Statement v1 for one subject.
pub fn statement(name: &str, sha256_hex: &str) -> Vec<u8> {
    format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"{name}","digest":{{"sha256":"{sha256_hex}"}}}}],"predicateType":"https://example.org/opaque/v1","predicate":{{}}}}"#
    )
    .into_bytes()
}

/// Runs `tests/interop/logcheck` (Go's x/mod sumdb note and tlog) on a
/// vectors JSON file. Fails with the fix if Go is not installed; returns
/// Go's stdout on success and an error with its stderr on failure.
pub fn go_logcheck(vectors: &Path) -> anyhow::Result<String> {
    run_go_program("logcheck", &[vectors.as_os_str()])
}

/// Reads a static tlog-tiles log at `base` (sending `Host: host` if it is
/// not empty) with Go's x/mod `note` and `tlog` (`interop/bucketcheck`):
/// opens the checkpoint with `verifier_key`, checks every tile through
/// `tlog.TileHashReader` and every entry bundle against the leaf hashes;
/// returns its `size <N> root <base64>` line.
pub fn go_bucketcheck(base: &str, host: &str, verifier_key: &str) -> anyhow::Result<String> {
    run_go_program(
        "bucketcheck",
        &[base.as_ref(), host.as_ref(), verifier_key.as_ref()],
    )
}

/// Builds the Go program `interop/<name>` and runs it with `args`; its
/// stdout on success, its stderr as the error otherwise.
fn run_go_program(name: &str, args: &[&std::ffi::OsStr]) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let bin = dir.path().join(name);
    attestlog_gotest::go_build(
        &manifest_dir(env!("CARGO_MANIFEST_DIR"))
            .join("interop")
            .join(name),
        &bin,
    )?;
    let out = Command::new(&bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {name}"))?;
    if !out.status.success() {
        bail!("{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// The lines a child writes to `stdout`, each with the time it was read,
/// through a channel (read on a thread of its own until end of file).
pub fn timed_lines(
    stdout: std::process::ChildStdout,
) -> std::sync::mpsc::Receiver<(Instant, String)> {
    use std::io::BufRead as _;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    rx
}
