//! `attestlog verify` and `attestlog bundle`: the reproducible-build quorum
//! check, online or from an offline bundle, and writing such bundles.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use attestlog_attest::openpgp::Fingerprint;
use attestlog_client::artifact::{
    fetch_bundle, verify_offline, verify_online, ArtifactCheck, OnlineSources,
};
use attestlog_client::bundle::Bundle;
use attestlog_client::quorum::{load_keyring, Maintainers};
use clap::Args;

use super::{digest_of, entries_bar, load_policy, read, report_fork, LogArgs, EXIT_FAIL};

/// Verify that enough trusted maintainers attested an artifact.
///
/// Finds every entry for the artifact's SHA-256 by a maintainer of your keyring
/// (the log filters; entries by anyone else are never fetched), verifies each signature
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
///   # maintainers are whoever your web of trust authenticates from your
///   # own key (certifications and trust signatures in certs.pgp):
///   attestlog verify hello-1.0.tar.gz --policy log.policy \
///       --certs certs.pgp --trust-root 8F17777118A33DDA9BA48E62AACB3243630052D9 -m 2
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub(super) struct VerifyArgs {
    /// Artifact file, or sha256:<hex>.
    artifact: String,
    /// C2SP tlog-policy file: trusted logs, witnesses and the quorum.
    #[arg(long)]
    policy: PathBuf,
    /// Trusted maintainers' certificates: a file or a directory of
    /// *.asc/*.pgp/*.gpg files.
    #[arg(long, required_unless_present_any = ["maintainers", "certs"])]
    keyring: Option<PathBuf>,
    /// Certificates for the web of trust (a file or a directory, as
    /// --keyring): maintainers, introducers and the certifications they
    /// carry. A signer counts only if --trust-root authenticates it.
    #[arg(long, requires = "trust_root", conflicts_with_all = ["keyring", "maintainers"])]
    certs: Option<PathBuf>,
    /// A fingerprint you fully trust (usually your own key): the web of
    /// trust starts there. Repeatable.
    #[arg(long, requires = "certs")]
    trust_root: Vec<String>,
    /// Trust a signer needs from the roots: 120 fully (default), 60
    /// partially, 240 doubly.
    #[arg(long, requires = "certs", default_value_t = 120)]
    trust_amount: usize,
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
    /// there and every newer one must be consistent with it. Any number of
    /// `attestlog` processes may share one (they take turns on its lock
    /// file; the stored checkpoint never moves back).
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
///   # only the entries a verifier trusting maintainers/ needs:
///   attestlog bundle hello-1.0.tar.gz -o hello.bundle --policy log.policy \
///       --keyring maintainers/
///   attestlog bundle hello-1.0.tar.gz -o hello.bundle --policy log.policy \
///       --checkpoint cosigned.checkpoint
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub(super) struct BundleArgs {
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
    /// Only entries by these maintainers (a keyring file or directory, as
    /// `verify --keyring` takes it): what a verifier with that keyring
    /// needs, however many others attested the same digest.
    #[arg(long)]
    keyring: Option<PathBuf>,
    #[command(flatten)]
    log: LogArgs,
}

pub(super) async fn run(a: VerifyArgs) -> anyhow::Result<u8> {
    let digest = digest_of(&a.artifact)?;
    let policy = load_policy(&a.policy)?;
    let maintainers = match (&a.maintainers, &a.keyring) {
        (Some(file), _) => Maintainers::from_trust_file(file)?,
        (None, None) if a.certs.is_some() => {
            let threshold = a.threshold.unwrap_or(1);
            if threshold == 0 {
                bail!("--threshold must be at least 1");
            }
            if a.trust_amount == 0 {
                bail!("--trust-amount must be at least 1");
            }
            let roots = a
                .trust_root
                .iter()
                .map(|r| {
                    r.parse::<Fingerprint>()
                        .ok()
                        .filter(|f| !matches!(f, Fingerprint::Unknown { .. }))
                        .with_context(|| format!("--trust-root {r}: not an OpenPGP fingerprint"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let certs = a.certs.as_deref().context("--certs")?;
            Maintainers::with_trust_roots(certs, &roots, a.trust_amount, threshold)?
        }
        (None, Some(keyring)) => {
            let threshold = a.threshold.unwrap_or(1);
            if threshold == 0 {
                bail!("--threshold must be at least 1");
            }
            Maintainers::load(keyring, threshold)?
        }
        (None, None) => {
            bail!("give --keyring (and --threshold), --maintainers, or --certs with --trust-root")
        }
    };
    let check = ArtifactCheck {
        digest,
        policy: &policy,
        maintainers: &maintainers,
    };
    let report = if let Some(path) = &a.bundle {
        // Offline: the bundle and local files only.
        let bundle = Bundle::parse(&read(path)?).with_context(|| format!("{}", path.display()))?;
        verify_offline(&check, &bundle)?
    } else {
        let mut client = a.log.connect().await?;
        let checkpoints = read_all(&a.checkpoint)?;
        let sources = OnlineSources {
            checkpoints: &checkpoints,
            state_dir: a.state_dir.as_deref(),
            tiles_url: a.tiles_url.as_deref(),
        };
        let bar = entries_bar("fetching entries and proofs");
        let checked = verify_online(&mut client, &check, &sources, progress(&bar)).await;
        bar.finish_and_clear();
        match checked {
            Ok(report) => report,
            Err(e) => {
                if let Some(code) = report_fork(&e, a.evidence_out.as_deref()) {
                    return Ok(code);
                }
                return Err(e.into());
            }
        }
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(if report.passed { 0 } else { EXIT_FAIL })
}

pub(super) async fn run_bundle(a: BundleArgs) -> anyhow::Result<u8> {
    let digest = digest_of(&a.artifact)?;
    let policy = load_policy(&a.policy)?;
    let mut client = a.log.connect().await?;
    let checkpoints = read_all(&a.checkpoint)?;
    let keyring = a.keyring.as_deref().map(load_keyring).transpose()?;
    let sources = OnlineSources {
        checkpoints: &checkpoints,
        state_dir: a.state_dir.as_deref(),
        tiles_url: None,
    };
    let bar = entries_bar("fetching entries and proofs");
    let fetched = fetch_bundle(
        &mut client,
        &digest,
        &policy,
        &sources,
        keyring.as_ref(),
        progress(&bar),
    )
    .await;
    bar.finish_and_clear();
    // A fork or rollback is reported by `main`.
    let (b, cp) = fetched?;
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

/// Shows the library's progress over entries on `bar`, cleared once the
/// last entry is fetched.
fn progress(bar: &indicatif::ProgressBar) -> impl FnMut(u64, u64) + '_ {
    |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if done == total {
            bar.finish_and_clear();
        }
    }
}

/// The cosigned checkpoint notes given with `--checkpoint`.
fn read_all(files: &[PathBuf]) -> anyhow::Result<Vec<Vec<u8>>> {
    files.iter().map(|p| read(p)).collect()
}
