//! `attestlog`: submit attestations, verify artifacts against a quorum of
//! maintainers, build and check offline bundles, monitor a log.
//!
//! A thin layer over the `attestlog_client` library: argument parsing,
//! files, printing and exit codes. One module per subcommand; this file
//! holds the command line, `main` and what the subcommands share.

// The doc comments on the argument types are clap's `--help` text, printed
// as written: `<hex>`, `[:PORT]` and bare URLs there are for the terminal,
// so rustdoc's Markdown lints do not apply to them.
#![allow(
    rustdoc::invalid_html_tags,
    rustdoc::bare_urls,
    rustdoc::broken_intra_doc_links
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use attestlog_client::bundle::parse_digest;
use attestlog_client::tlog_policy::TlogPolicy;
use attestlog_client::ClientError;
use clap::{Args, Parser, Subcommand};

mod inspect;
mod monitor;
mod submit;
mod verify;
use sha2::{Digest as _, Sha256};

/// Exit code when the check ran and did not pass.
const EXIT_FAIL: u8 = 1;

/// Exit code for usage, I/O and network errors.
const EXIT_ERROR: u8 = 2;

/// Exit code when the log was caught rolling back or forking.
const EXIT_FORK: u8 = 3;

/// attestlog: a transparency log client for OpenPGP-signed build attestations.
///
/// Maintainers sign statements about artifacts with their own OpenPGP keys
/// and submit them to a log; users check that enough trusted maintainers
/// attested the exact artifact they are about to install, with proofs that
/// the attestations are in a log whose checkpoint enough witnesses cosigned.
///
/// Exit codes: 0 success, 1 verification failed, 2 error, 3 the log was
/// caught rolling back or forking (evidence printed).
#[derive(Parser)]
#[command(version, about, long_about, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Submit(submit::SubmitArgs),
    Verify(verify::VerifyArgs),
    Bundle(verify::BundleArgs),
    Monitor(monitor::MonitorArgs),
    Inspect(inspect::InspectArgs),
    VerifyEvidence(inspect::EvidenceArgs),
}

/// The log to talk to.
#[derive(Args, Clone)]
struct LogArgs {
    /// The log's gRPC endpoint: http://HOST:PORT, or https://HOST[:PORT]
    /// for TLS (the system's CA certificates are trusted; see --log-ca).
    #[arg(long, env = "ATTESTLOG_LOG", default_value = "http://127.0.0.1:7300")]
    log: String,
    /// PEM file of CA certificates to trust for an https:// log besides
    /// the system's (e.g. a log with a private CA).
    #[arg(long, env = "ATTESTLOG_LOG_CA")]
    log_ca: Option<PathBuf>,
}

impl LogArgs {
    /// Connects to the log, with TLS for an https:// endpoint.
    async fn connect(&self) -> anyhow::Result<attestlog_client::grpc::LogClient> {
        let ca = self.log_ca.as_deref().map(read).transpose()?;
        Ok(attestlog_client::grpc::LogClient::connect_trusting(&self.log, ca.as_deref()).await?)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Submit(a) => submit::run(a).await,
            Command::Verify(a) => verify::run(a).await,
            Command::Bundle(a) => verify::run_bundle(a).await,
            Command::Monitor(a) => monitor::run(a).await,
            Command::Inspect(a) => inspect::run(a),
            Command::VerifyEvidence(a) => inspect::run_verify_evidence(a),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if let Some(ce) = e.downcast_ref::<ClientError>() {
                if let Some(code) = report_fork(ce, None) {
                    return ExitCode::from(code);
                }
            }
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Prints rollback/fork errors with both signed checkpoints (and the
/// evidence file, when the fork is provable); returns the exit code.
fn report_fork(e: &ClientError, evidence_out: Option<&Path>) -> Option<u8> {
    match e {
        ClientError::Fork { message, evidence } => {
            eprintln!("error: the log forked its history: {message}");
            eprintln!("this is proof of misbehaviour; the split-view evidence follows on stdout");
            let bytes = evidence.to_bytes();
            let _ = std::io::stdout().write_all(&bytes);
            if let Some(p) = evidence_out {
                match std::fs::write(p, &bytes) {
                    Ok(()) => eprintln!("evidence written to {}", p.display()),
                    Err(err) => eprintln!("error: writing {}: {err}", p.display()),
                }
            }
            Some(EXIT_FORK)
        }
        ClientError::Rollback {
            message,
            stored,
            presented,
        } => {
            eprintln!("error: the log rolled back or forked its history: {message}");
            eprintln!("not yet provable to others; both signed checkpoints follow on stdout");
            println!("checkpoint stored earlier:");
            let _ = std::io::stdout().write_all(stored);
            println!("checkpoint presented now:");
            let _ = std::io::stdout().write_all(presented);
            Some(EXIT_FORK)
        }
        _ => None,
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn digest_of(artifact: &str) -> anyhow::Result<[u8; 32]> {
    if let Some(d) = parse_digest(artifact) {
        return Ok(d);
    }
    if artifact.starts_with("sha256:") {
        bail!("{artifact:?} is not sha256: followed by 64 lowercase hex digits");
    }
    let mut f = std::fs::File::open(artifact).with_context(|| format!("opening {artifact}"))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("reading {artifact}"))?;
    Ok(h.finalize().into())
}

fn load_policy(path: &Path) -> anyhow::Result<TlogPolicy> {
    TlogPolicy::parse(&read(path)?).with_context(|| format!("policy {}", path.display()))
}

/// A progress bar on stderr for work over entries (hidden when stderr is
/// not a terminal, so scripts and logs see none of it).
fn entries_bar(message: impl Into<std::borrow::Cow<'static, str>>) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0).with_message(message);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} entries ({eta} left)")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
