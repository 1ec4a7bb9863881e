//! `attestlog`: submit attestations, verify artifacts against a quorum of
//! maintainers, build and check offline bundles, monitor a log.
//!
//! A thin layer over the `attestlog_client` library: argument parsing,
//! files, printing and exit codes.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::Cert;
use attestlog_attest::{Keyring, Leaf, Statement};
use attestlog_client::bundle::{parse_digest, Bundle, BUNDLE_MAGIC};
use attestlog_client::grpc::LogClient;
use attestlog_client::monitor::{Alert, Monitor, Watch};
use attestlog_client::online;
use attestlog_client::policy::Policy;
use attestlog_client::quorum::{display_name, evaluate, Maintainers};
use attestlog_client::state::StateDir;
use attestlog_client::tiles::HttpTiles;
use attestlog_client::tlog_proof::{TlogProof, TLOG_PROOF_MAGIC};
use attestlog_client::trust_file::TrustFile;
use attestlog_client::ClientError;
use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::evidence::{Contradiction, Evidence, EVIDENCE_MAGIC};
use attestlog_core::note::{Note, VerifierKey};
use clap::{Args, Parser, Subcommand};
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
    Submit(SubmitArgs),
    Verify(VerifyArgs),
    Bundle(BundleArgs),
    Monitor(MonitorArgs),
    Inspect(InspectArgs),
    VerifyEvidence(EvidenceArgs),
}

/// The log to talk to.
#[derive(Args, Clone)]
struct LogArgs {
    /// The log's gRPC endpoint.
    #[arg(long, env = "ATTESTLOG_LOG", default_value = "http://127.0.0.1:7300")]
    log: String,
}

/// Submit a signed attestation, or print a statement to sign.
///
/// Examples:
///   # 1. make the statement for an artifact, 2. sign it, 3. submit it
///   attestlog submit --artifact hello-1.0.tar.gz --name hello-1.0.tar.gz \
///       --source git+https://example.org/hello.git --revision v1.0 > st.json
///   gpg --detach-sign st.json
///   attestlog submit st.json --signature st.json.sig --certificate me.asc
///   # inline-signed (gpg --sign / --clearsign), JSON output for scripts
///   attestlog submit st.json.asc --json
///
/// The proof (c2sp.org/tlog-proof@v1) is written to --proof, by default
/// next to the statement as <STATEMENT>.tlog-proof.
#[derive(Args)]
#[command(verbatim_doc_comment)]
struct SubmitArgs {
    /// Statement file (with --signature), or an inline-signed message.
    statement: Option<PathBuf>,
    /// Detached signature (binary or armored).
    #[arg(long, short)]
    signature: Option<PathBuf>,
    /// The signer's certificate (binary or armored); optional when the log
    /// already holds it.
    #[arg(long)]
    certificate: Option<PathBuf>,
    /// Where to write the tlog-proof.
    #[arg(long)]
    proof: Option<PathBuf>,
    /// Answer only once a checkpoint including the entry is cosigned by
    /// the log's witness quorum (the proof is then against that checkpoint).
    #[arg(long)]
    wait_for_witnesses: bool,
    /// Print a statement for this artifact instead of submitting.
    #[arg(long, requires_all = ["name", "source", "revision"])]
    artifact: Option<PathBuf>,
    /// Subject name for --artifact.
    #[arg(long)]
    name: Option<String>,
    /// Source URI for --artifact (e.g. git+https://host/repo.git).
    #[arg(long)]
    source: Option<String>,
    /// Source revision for --artifact (commit or tag).
    #[arg(long)]
    revision: Option<String>,
    /// Builder id for --artifact.
    #[arg(long, default_value = "mailto:unknown@invalid")]
    builder: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    log: LogArgs,
}

/// Verify that enough trusted maintainers attested an artifact.
///
/// Finds every entry for the artifact's SHA-256, verifies each signature
/// again against your keyring, each inclusion proof, and the checkpoint's
/// log signature and witness cosignatures against your tlog-policy; passes
/// only if at least --threshold distinct trusted maintainers attested this
/// exact digest.
///
/// Examples:
///   attestlog verify hello-1.0.tar.gz --policy log.policy \
///       --keyring maintainers/ --threshold 2 --state-dir ~/.local/state/attestlog
///   attestlog verify sha256:9f86d0…0a08 --policy log.policy --keyring team.gpg
///   # keyring and threshold from one file (keyring = "…", threshold = 2):
///   attestlog verify hello-1.0.tar.gz --policy log.policy --maintainers trust.toml
///   # fully offline, no network at all:
///   attestlog verify hello-1.0.tar.gz --bundle hello.bundle \
///       --policy log.policy --keyring maintainers/ --threshold 2
#[derive(Args)]
#[command(verbatim_doc_comment)]
struct VerifyArgs {
    /// Artifact file, or sha256:<hex>.
    artifact: String,
    /// C2SP tlog-policy file: trusted logs, witnesses and the quorum.
    #[arg(long)]
    policy: PathBuf,
    /// Trusted maintainers' certificates: a file or a directory of
    /// *.asc/*.pgp/*.gpg files.
    #[arg(long, required_unless_present = "maintainers")]
    keyring: Option<PathBuf>,
    /// How many distinct maintainers must attest (default 1).
    #[arg(long, short = 'm')]
    threshold: Option<usize>,
    /// A maintainers file giving both the keyring and the threshold, e.g.
    /// `keyring = "maintainers/"` and `threshold = 2` (TOML; the keyring
    /// path is relative to the file).
    #[arg(long, conflicts_with_all = ["keyring", "threshold"])]
    maintainers: Option<PathBuf>,
    /// Verify this offline bundle; no network is used.
    #[arg(long, conflicts_with_all = ["state_dir", "checkpoint"])]
    bundle: Option<PathBuf>,
    /// Client state directory: the latest checkpoint of each log is kept
    /// there and every newer one must be consistent with it.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// A cosigned checkpoint note to use (e.g. from a witness); repeatable.
    #[arg(long)]
    checkpoint: Vec<PathBuf>,
    /// The log's tiles URL, used to prove a fork (default: the policy's log URL).
    #[arg(long)]
    tiles_url: Option<String>,
    /// Write split-view evidence here if the log is caught forking.
    #[arg(long)]
    evidence_out: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    log: LogArgs,
}

/// Write an offline bundle for an artifact digest.
///
/// The bundle holds every entry for the digest, its signer certificate and
/// a c2sp.org/tlog-proof@v1 under a checkpoint that passes the policy
/// (docs/SPEC.md, section 9). `attestlog verify --bundle` checks it with no network.
///
/// Examples:
///   attestlog bundle sha256:9f86d0…0a08 -o hello.bundle --policy log.policy
///   attestlog bundle hello-1.0.tar.gz -o hello.bundle --policy log.policy \
///       --checkpoint cosigned.checkpoint
#[derive(Args)]
#[command(verbatim_doc_comment)]
struct BundleArgs {
    /// Artifact file, or sha256:<hex>.
    artifact: String,
    /// Output file.
    #[arg(long, short)]
    output: PathBuf,
    /// C2SP tlog-policy file.
    #[arg(long)]
    policy: PathBuf,
    /// A cosigned checkpoint note to use; repeatable.
    #[arg(long)]
    checkpoint: Vec<PathBuf>,
    /// Client state directory (see `verify`).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    #[command(flatten)]
    log: LogArgs,
}

/// Follow a log and alert on watched keys and names.
///
/// Reads every entry from the stored position on (resumable), verifies
/// each new checkpoint's consistency, re-verifies every entry's signature
/// and that all entries hash to the signed root, and alerts when a watched
/// key signs anything or a watched subject name gets a new digest.
///
/// Examples:
///   attestlog monitor --policy log.policy --state-dir ~/.local/state/attestlog \
///       --watch-key 27BFE56D404C2D2080D4EEE934B128209619B0DE
///   attestlog monitor --policy log.policy --state-dir st --watch-name hello-1.0.tar.gz \
///       --tiles-url http://log.example.org --json --exec ./page-me.sh
///   attestlog monitor --policy log.policy --state-dir st --once   # catch up and exit
#[derive(Args)]
#[command(verbatim_doc_comment)]
struct MonitorArgs {
    /// C2SP tlog-policy file (a monitor may require more cosignatures
    /// than verifiers do).
    #[arg(long)]
    policy: PathBuf,
    /// State directory (position, frontier, latest checkpoint).
    #[arg(long)]
    state_dir: PathBuf,
    /// The log's origin (default: the policy's only log).
    #[arg(long)]
    origin: Option<String>,
    /// Alert when this key (primary or subkey fingerprint) signs; repeatable.
    #[arg(long)]
    watch_key: Vec<String>,
    /// Alert when this subject name gets a new digest; repeatable.
    #[arg(long)]
    watch_name: Vec<String>,
    /// Read entries from the log's tiles here instead of gRPC.
    #[arg(long)]
    tiles_url: Option<String>,
    /// Catch up once and exit.
    #[arg(long)]
    once: bool,
    /// Poll interval in milliseconds.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// Run this command on each alert (alert JSON on stdin, ATTESTLOG_ALERT_*
    /// in the environment).
    #[arg(long)]
    exec: Option<PathBuf>,
    /// Print alerts as JSON lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    log: LogArgs,
}

/// Show an entry, checkpoint, tlog-proof, bundle or evidence file.
///
/// Examples:
///   attestlog inspect hello.bundle
///   attestlog inspect st.json.tlog-proof
///   attestlog inspect checkpoint.txt
#[derive(Args)]
#[command(verbatim_doc_comment)]
struct InspectArgs {
    /// The file.
    file: PathBuf,
}

/// Check split-view evidence; exit 0 exactly when it proves misbehaviour.
///
/// Examples:
///   attestlog verify-evidence fork.evidence --policy log.policy
///   attestlog verify-evidence fork.evidence --log-key 'example.org/log+1a2b3c4d+AQ…'
#[derive(Args)]
#[command(verbatim_doc_comment)]
struct EvidenceArgs {
    /// The evidence file.
    file: PathBuf,
    /// The log's verifier key.
    #[arg(long, conflicts_with = "policy")]
    log_key: Option<String>,
    /// A tlog-policy naming the log.
    #[arg(long)]
    policy: Option<PathBuf>,
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
            Command::Submit(a) => submit(a).await,
            Command::Verify(a) => verify(a).await,
            Command::Bundle(a) => bundle(a).await,
            Command::Monitor(a) => monitor(a).await,
            Command::Inspect(a) => inspect(a),
            Command::VerifyEvidence(a) => verify_evidence(a),
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

fn load_policy(path: &Path) -> anyhow::Result<Policy> {
    Policy::parse(&read(path)?).with_context(|| format!("policy {}", path.display()))
}

fn tiles_url(explicit: &Option<String>, policy: &Policy) -> Option<String> {
    explicit.clone().or_else(|| {
        policy.logs.iter().find_map(|l| {
            l.url_str()
                .filter(|u| u.starts_with("http://"))
                .map(str::to_owned)
        })
    })
}

async fn submit(a: SubmitArgs) -> anyhow::Result<u8> {
    if let Some(artifact) = &a.artifact {
        let digest = digest_of(&artifact.to_string_lossy())?;
        let statement = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": a.name, "digest": {"sha256": hex::encode(digest)}}],
            "predicateType": attestlog_attest::REPRODUCIBLE_BUILD_V1,
            "predicate": {
                "source": {"uri": a.source, "revision": a.revision},
                "builder": {"id": a.builder},
                "buildTime": rfc3339_now(),
            }
        });
        println!("{}", serde_json::to_string_pretty(&statement)?);
        return Ok(0);
    }
    let Some(statement) = &a.statement else {
        bail!("give a statement file (and --signature), or --artifact to make one");
    };
    let payload = read(statement)?;
    let signature = a
        .signature
        .as_deref()
        .map(read)
        .transpose()?
        .unwrap_or_default();
    let certificate = a
        .certificate
        .as_deref()
        .map(read)
        .transpose()?
        .unwrap_or_default();
    let mut client = LogClient::connect(&a.log.log).await?;
    let r = client
        .submit(payload, signature, certificate, a.wait_for_witnesses)
        .await?;
    let proof = TlogProof {
        extra: None,
        index: r.index,
        audit_path: r.audit_path.clone(),
        checkpoint: r.checkpoint.clone(),
    };
    let proof_path = a.proof.clone().unwrap_or_else(|| {
        let mut p = statement.clone().into_os_string();
        p.push(".tlog-proof");
        PathBuf::from(p)
    });
    std::fs::write(&proof_path, proof.to_bytes())
        .with_context(|| format!("writing {}", proof_path.display()))?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "index": r.index,
                "duplicate": r.duplicate,
                "leaf_hash": attestlog_core::leaf_hash(&r.entry).to_hex(),
                "proof": proof_path.display().to_string(),
            })
        );
    } else {
        println!(
            "{} at index {}; proof written to {}",
            if r.duplicate {
                "already logged"
            } else {
                "logged"
            },
            r.index,
            proof_path.display()
        );
    }
    Ok(0)
}

fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

async fn verify(a: VerifyArgs) -> anyhow::Result<u8> {
    let digest = digest_of(&a.artifact)?;
    let policy = load_policy(&a.policy)?;
    let (keyring_path, threshold) = match (&a.maintainers, &a.keyring) {
        (Some(file), _) => {
            let t = TrustFile::load(file)?;
            (t.keyring, t.threshold)
        }
        (None, Some(k)) => (k.clone(), a.threshold.unwrap_or(1)),
        (None, None) => bail!("give --keyring (and --threshold) or --maintainers"),
    };
    if threshold == 0 {
        bail!("--threshold must be at least 1");
    }
    let keyring = Keyring::load(&keyring_path)
        .with_context(|| format!("keyring {}", keyring_path.display()))?;
    let maintainers = Maintainers {
        keyring: &keyring,
        threshold,
    };
    let report = if let Some(path) = &a.bundle {
        // Offline: the bundle and local files only.
        let bundle = Bundle::parse(&read(path)?).with_context(|| format!("{}", path.display()))?;
        if bundle.digest != digest {
            bail!(
                "the bundle is for sha256:{}, not for sha256:{}",
                hex::encode(bundle.digest),
                hex::encode(digest)
            );
        }
        let candidates = online::from_bundle(&bundle)?;
        evaluate(&digest, &candidates, &policy, &maintainers, Vec::new())
    } else {
        let mut client = LogClient::connect(&a.log.log).await?;
        let extra = a
            .checkpoint
            .iter()
            .map(|p| read(p))
            .collect::<Result<Vec<_>, _>>()?;
        let cp = online::witnessed_checkpoint(&mut client, &policy, &extra).await?;
        if let Some(dir) = &a.state_dir {
            let state = StateDir::open(dir)?;
            let tiles = tiles_url(&a.tiles_url, &policy)
                .map(|u| HttpTiles::new(&u, tokio::runtime::Handle::current()));
            if let Err(e) = state
                .advance(
                    &policy.logs[cp.log].key,
                    &cp.note,
                    &mut client,
                    tiles.as_ref(),
                )
                .await
            {
                if let Some(code) = report_fork(&e, a.evidence_out.as_deref()) {
                    return Ok(code);
                }
                return Err(e.into());
            }
        }
        let bar = entries_bar("fetching entries and proofs");
        let candidates = online::candidates(&mut client, &digest, &cp, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
        bar.finish_and_clear();
        let conflicts = online::conflicts(
            &mut client,
            &digest,
            &candidates,
            &keyring,
            cp.checkpoint.size,
        )
        .await?;
        evaluate(&digest, &candidates, &policy, &maintainers, conflicts)
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(if report.passed { 0 } else { EXIT_FAIL })
}

async fn bundle(a: BundleArgs) -> anyhow::Result<u8> {
    let digest = digest_of(&a.artifact)?;
    let policy = load_policy(&a.policy)?;
    let mut client = LogClient::connect(&a.log.log).await?;
    let extra = a
        .checkpoint
        .iter()
        .map(|p| read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let cp = online::witnessed_checkpoint(&mut client, &policy, &extra).await?;
    if let Some(dir) = &a.state_dir {
        let state = StateDir::open(dir)?;
        if let Err(e) = state
            .advance(&policy.logs[cp.log].key, &cp.note, &mut client, None)
            .await
        {
            if let Some(code) = report_fork(&e, None) {
                return Ok(code);
            }
            return Err(e.into());
        }
    }
    let bar = entries_bar("collecting entries and proofs");
    let candidates = online::candidates(&mut client, &digest, &cp, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish_and_clear();
    let b = online::to_bundle(&digest, &candidates);
    std::fs::write(&a.output, b.to_bytes())
        .with_context(|| format!("writing {}", a.output.display()))?;
    eprintln!(
        "wrote {} entries under checkpoint {} at size {} to {}",
        b.entries.len(),
        cp.checkpoint.origin,
        cp.checkpoint.size,
        a.output.display()
    );
    Ok(0)
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

async fn monitor(a: MonitorArgs) -> anyhow::Result<u8> {
    let policy = load_policy(&a.policy)?;
    let origin = match &a.origin {
        Some(o) => o.clone(),
        None => match policy.logs.as_slice() {
            [one] => one.key_name().to_owned(),
            _ => bail!(
                "the policy lists {} logs: choose one with --origin",
                policy.logs.len()
            ),
        },
    };
    let watch = Watch {
        fingerprints: a.watch_key.iter().map(|f| Watch::normalize(f)).collect(),
        names: a.watch_name.clone(),
    };
    let tiles = a
        .tiles_url
        .as_deref()
        .map(|u| HttpTiles::new(u, tokio::runtime::Handle::current()));
    let mut m = Monitor::open(policy, &origin, StateDir::open(&a.state_dir)?, watch, tiles)?;
    let mut client = LogClient::connect(&a.log.log).await?;
    // Shown only for a catch-up of more than one page.
    let mut bar: Option<indicatif::ProgressBar> = None;
    loop {
        let start = m.position();
        let mut alerts = Vec::new();
        let res = m
            .step(
                &mut client,
                |alert| alerts.push(alert),
                |done, total| {
                    if total > 1024 && bar.is_none() {
                        bar = Some(entries_bar(format!("catching up from entry {start}")));
                    }
                    if let Some(bar) = &bar {
                        bar.set_length(total);
                        bar.set_position(done);
                    }
                },
            )
            .await;
        for alert in &alerts {
            emit(alert, a.json, a.exec.as_deref())?;
        }
        if let Err(e) = res {
            if let Some(code) = report_fork(&e, None) {
                return Ok(code);
            }
            return Err(e.into());
        }
        if let Some(bar) = bar.take() {
            bar.finish_and_clear();
        }
        if a.once {
            eprintln!("caught up to entry {}", m.position());
            return Ok(0);
        }
        tokio::time::sleep(std::time::Duration::from_millis(a.interval_ms)).await;
    }
}

fn emit(alert: &Alert, json: bool, exec: Option<&Path>) -> anyhow::Result<()> {
    let line = serde_json::to_string(alert)?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{line}")?;
    } else {
        writeln!(out, "ALERT {}: {}", alert.kind, alert.message)?;
    }
    out.flush()?;
    if let Some(hook) = exec {
        let mut child = std::process::Command::new(hook)
            .env("ATTESTLOG_ALERT_KIND", alert.kind)
            .env("ATTESTLOG_ALERT_INDEX", alert.index.to_string())
            .env("ATTESTLOG_ALERT_KEY", &alert.primary)
            .env("ATTESTLOG_ALERT_MESSAGE", &alert.message)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .with_context(|| format!("running {}", hook.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = writeln!(stdin, "{line}");
        }
        let status = child.wait()?;
        if !status.success() {
            eprintln!(
                "warning: alert hook {} exited with {status}",
                hook.display()
            );
        }
    }
    Ok(())
}

fn inspect(a: InspectArgs) -> anyhow::Result<u8> {
    let bytes = read(&a.file)?;
    if bytes.starts_with(BUNDLE_MAGIC.as_bytes()) {
        let b = Bundle::parse(&bytes)?;
        println!("attestlog bundle for sha256:{}", hex::encode(b.digest));
        println!("{} entries", b.entries.len());
        for e in &b.entries {
            println!();
            match e.tlog_proof() {
                Ok(p) => {
                    println!(
                        "entry {} ({} audit path hashes)",
                        p.index,
                        p.audit_path.len()
                    );
                    show_checkpoint(&p.checkpoint, "  ");
                }
                Err(err) => println!("entry with an unreadable proof: {err}"),
            }
            show_leaf(&e.leaf, "  ");
            if let Ok(c) = Cert::from_bytes(&e.certificate) {
                println!(
                    "  certificate: {} ({})",
                    display_name(&c),
                    c.fingerprint().to_hex()
                );
            }
        }
    } else if bytes.starts_with(TLOG_PROOF_MAGIC.as_bytes()) {
        let p = TlogProof::parse(&bytes)?;
        println!("c2sp.org/tlog-proof@v1 for entry {}", p.index);
        for h in &p.audit_path {
            println!("  audit path {}", h.to_hex());
        }
        show_checkpoint(&p.checkpoint, "");
    } else if bytes.starts_with(EVIDENCE_MAGIC.as_bytes()) {
        let e = Evidence::parse(&bytes)?;
        println!("split-view evidence for {}", e.origin);
        println!("log key {}", e.log_key);
        match &e.contradiction {
            Contradiction::SameSize => println!("kind: two roots for one size"),
            Contradiction::Inconsistent { prefix_root, proof } => println!(
                "kind: inconsistent (prefix root {}, proof of {} hashes)",
                prefix_root.to_hex(),
                proof.len()
            ),
        }
        show_checkpoint(&e.first, "first:  ");
        show_checkpoint(&e.second, "second: ");
    } else if Note::parse(&bytes).is_ok() {
        show_checkpoint(&bytes, "");
    } else if Leaf::decode(&bytes).is_ok() {
        show_leaf(&bytes, "");
    } else {
        bail!(
            "{} is not a bundle, tlog-proof, evidence file, checkpoint note or entry",
            a.file.display()
        );
    }
    Ok(0)
}

fn show_checkpoint(note: &[u8], indent: &str) {
    match Note::parse(note) {
        Ok(n) => match Checkpoint::parse(n.text()) {
            Ok(cp) => {
                println!(
                    "{indent}checkpoint of {}: size {}, root {}",
                    cp.origin,
                    cp.size,
                    cp.root.to_hex()
                );
                for s in n.signatures() {
                    let kind = if s.signature.len() == 72 {
                        let t = u64::from_be_bytes(s.signature[..8].try_into().unwrap_or([0; 8]));
                        format!("cosignature at {t}")
                    } else {
                        "signature".to_owned()
                    };
                    println!(
                        "{indent}  signed by {} (key id {:08x}, {kind})",
                        s.name, s.key_id
                    );
                }
            }
            Err(e) => println!("{indent}note whose text is not a checkpoint: {e}"),
        },
        Err(e) => println!("{indent}malformed note: {e}"),
    }
}

fn show_leaf(bytes: &[u8], indent: &str) {
    match Leaf::decode(bytes) {
        Ok(l) => {
            println!("{indent}entry, leaf hash {}", l.leaf_hash().to_hex());
            println!(
                "{indent}  signer (primary key) {}",
                l.primary_fingerprint().to_hex()
            );
            println!(
                "{indent}  signing key          {}",
                l.signing_fingerprint().to_hex()
            );
            println!(
                "{indent}  verified by the log at {} (Unix seconds)",
                l.verified_at()
            );
            match Statement::parse(l.statement()) {
                Ok(st) => {
                    for s in st.subjects() {
                        println!(
                            "{indent}  subject {} sha256:{}",
                            s.name,
                            hex::encode(s.sha256)
                        );
                    }
                }
                Err(e) => println!("{indent}  statement does not parse: {e}"),
            }
        }
        Err(e) => println!("{indent}malformed entry: {e}"),
    }
}

fn verify_evidence(a: EvidenceArgs) -> anyhow::Result<u8> {
    let e = Evidence::parse(&read(&a.file)?)?;
    let key = match (&a.log_key, &a.policy) {
        (Some(k), _) => VerifierKey::parse(k).context("--log-key")?,
        (None, Some(p)) => load_policy(p)?
            .log(&e.origin)
            .map(|l| l.key.clone())
            .with_context(|| format!("the policy trusts no log with origin {:?}", e.origin))?,
        (None, None) => bail!("give the log's key with --log-key or --policy"),
    };
    match e.verify(&key) {
        Ok(p) => {
            println!(
                "PROVEN: log {} signed two incompatible checkpoints (size {} root {} and size {} root {})",
                e.origin,
                p.first.size,
                p.first.root.to_hex(),
                p.second.size,
                p.second.root.to_hex()
            );
            Ok(0)
        }
        Err(err) => {
            println!("NOT PROVEN: {err}");
            Ok(EXIT_FAIL)
        }
    }
}
