//! `attestlog verify` and `attestlog bundle`: the reproducible-build quorum
//! check, online or from an offline bundle, and writing such bundles.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use attestlog_attest::Keyring;
use attestlog_client::bundle::Bundle;
use attestlog_client::grpc::LogClient;
use attestlog_client::online;
use attestlog_client::policy::Policy;
use attestlog_client::quorum::{evaluate, Candidate, Maintainers};
use attestlog_client::state::StateDir;
use attestlog_client::trust_file::TrustFile;
use attestlog_client::witnessed::WitnessedCheckpoint;
use attestlog_http::tiles::{TileFetcher, DEFAULT_TIMEOUT};
use clap::Args;

use super::{
    digest_of, entries_bar, load_policy, read, report_fork, tiles_url, LogArgs, EXIT_FAIL,
};

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
        let mut client = a.log.connect().await?;
        let cp = witnessed(&mut client, &policy, &a.checkpoint).await?;
        if let Some(dir) = &a.state_dir {
            let state = StateDir::open(dir)?;
            let tiles = tiles_url(&a.tiles_url, &policy)
                .map(|u| TileFetcher::new(&u, tokio::runtime::Handle::current(), DEFAULT_TIMEOUT));
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
        let trusted = online::trusted_signers(&keyring);
        let candidates = candidates(
            &mut client,
            &digest,
            &cp,
            &trusted,
            attestlog_client::grpc::MAX_SEARCH_RESULTS,
        )
        .await?;
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

pub(super) async fn run_bundle(a: BundleArgs) -> anyhow::Result<u8> {
    let digest = digest_of(&a.artifact)?;
    let policy = load_policy(&a.policy)?;
    let mut client = a.log.connect().await?;
    let cp = witnessed(&mut client, &policy, &a.checkpoint).await?;
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
    let trusted = match &a.keyring {
        Some(path) => online::trusted_signers(
            &Keyring::load(path).with_context(|| format!("keyring {}", path.display()))?,
        ),
        None => Vec::new(),
    };
    let candidates = candidates(
        &mut client,
        &digest,
        &cp,
        &trusted,
        attestlog_client::bundle::MAX_BUNDLE_ENTRIES,
    )
    .await?;
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

/// Every entry for `digest` under `cp` signed by one of `signers` (all if
/// empty), with its proof, showing progress.
async fn candidates(
    client: &mut LogClient,
    digest: &[u8; 32],
    cp: &WitnessedCheckpoint,
    signers: &[Vec<u8>],
    max: usize,
) -> anyhow::Result<Vec<Candidate>> {
    let bar = entries_bar("fetching entries and proofs");
    let found = online::candidates(client, digest, cp, signers, max, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish_and_clear();
    Ok(found)
}

/// The log's latest checkpoint that satisfies `policy`, also considering
/// the cosigned checkpoint notes in `files` (`--checkpoint`).
async fn witnessed(
    client: &mut LogClient,
    policy: &Policy,
    files: &[PathBuf],
) -> anyhow::Result<WitnessedCheckpoint> {
    let extra = files
        .iter()
        .map(|p| read(p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(online::witnessed_checkpoint(client, policy, &extra).await?)
}
