//! The whole "may I install this artifact?" decision, as `attestlog verify`
//! makes it, callable by anything that embeds this library: online against
//! a live log ([`verify_online`]) or from an offline bundle with no network
//! ([`verify_offline`]), and fetching such a bundle ([`fetch_bundle`]).
//!
//! The caller brings what it trusts, as an [`ArtifactCheck`]: the
//! artifact's digest, a C2SP tlog-policy (logs, witnesses, quorum) and the
//! [`Maintainers`] (keyring and threshold, e.g. from a maintainers file,
//! [`Maintainers::from_trust_file`]). The answer is a [`Report`] whose
//! `passed` is the verdict; an error means the check could not be made.
//!
//! Online, in order:
//! 1. the log's latest checkpoint, joined with the cosignatures of any
//!    notes the caller brings ([`OnlineSources::checkpoints`]), must pass
//!    the policy ([`crate::online::witnessed_checkpoint`]);
//! 2. with a state directory, it must be consistent with the checkpoint
//!    stored there, which it then replaces ([`StateDir::advance`]); a log
//!    caught rolling back or forking is [`ClientError::Fork`] or
//!    [`ClientError::Rollback`];
//! 3. every entry for the digest by a trusted maintainer is fetched with
//!    its inclusion proof ([`crate::online::candidates`]), and trusted
//!    maintainers' entries giving the same name another digest
//!    ([`crate::online::conflicts`]);
//! 4. [`crate::quorum::evaluate`] decides.
//!
//! Offline, the bundle must be for the digest; its entries are read back
//! ([`Bundle::candidates`]) and step 4 decides, each entry's checkpoint
//! passing the same policy.

use std::path::Path;

use attestlog_attest::Keyring;

use crate::bundle::{Bundle, MAX_BUNDLE_ENTRIES};
use crate::error::ClientError;
use crate::grpc::{LogClient, MAX_SEARCH_RESULTS};
use crate::online;
use crate::quorum::{evaluate, Maintainers};
use crate::report::Report;
use crate::state::StateDir;
use crate::tlog_policy::TlogPolicy;
use crate::witnessed::WitnessedCheckpoint;
use attestlog_http::tiles::{TileFetcher, DEFAULT_TIMEOUT};

/// What to check: which artifact, and what the verifier trusts.
#[derive(Clone, Copy, Debug)]
pub struct ArtifactCheck<'a> {
    /// The artifact's SHA-256 digest.
    pub digest: [u8; 32],
    /// The logs and witnesses trusted, and the witness quorum.
    pub policy: &'a TlogPolicy,
    /// The maintainers trusted, and how many must attest.
    pub maintainers: &'a Maintainers,
}

/// Where an online check finds what the log alone does not give.
#[derive(Clone, Copy, Debug, Default)]
pub struct OnlineSources<'a> {
    /// Cosigned checkpoint notes (e.g. from witnesses, or files) whose
    /// cosignatures join those of the log's checkpoint over the same tree.
    pub checkpoints: &'a [Vec<u8>],
    /// The client state directory: the latest checkpoint of each log is
    /// kept there and every newer one must be consistent with it.
    pub state_dir: Option<&'a Path>,
    /// The log's tiles URL, used with `state_dir` to prove a fork.
    /// [`verify_online`] defaults it to the policy's first `http://` log
    /// URL; [`fetch_bundle`] uses it only when given.
    pub tiles_url: Option<&'a str>,
}

/// Checks the artifact against a live log (steps in the module
/// documentation). `progress(done, total)` is called after each entry
/// fetched.
pub async fn verify_online(
    client: &mut LogClient,
    check: &ArtifactCheck<'_>,
    sources: &OnlineSources<'_>,
    progress: impl FnMut(u64, u64),
) -> Result<Report, ClientError> {
    let policy = check.policy;
    let tiles_url = sources
        .tiles_url
        .map(str::to_owned)
        .or_else(|| default_tiles_url(policy));
    let cp = checkpoint(client, policy, sources, tiles_url.as_deref()).await?;
    let keyring = &check.maintainers.keyring;
    let trusted = online::trusted_signers(keyring);
    let candidates = online::candidates(
        client,
        &check.digest,
        &cp,
        &trusted,
        MAX_SEARCH_RESULTS,
        progress,
    )
    .await?;
    let conflicts = online::conflicts(
        client,
        &check.digest,
        &candidates,
        keyring,
        cp.checkpoint.size,
    )
    .await?;
    Ok(evaluate(
        &check.digest,
        &candidates,
        policy,
        check.maintainers,
        conflicts,
    ))
}

/// Checks the artifact against an offline bundle, with no network: the
/// bundle must be for `check.digest` ([`ClientError::WrongBundle`]), and
/// its entries must read back ([`Bundle::candidates`]).
pub fn verify_offline(check: &ArtifactCheck<'_>, bundle: &Bundle) -> Result<Report, ClientError> {
    if bundle.digest != check.digest {
        return Err(ClientError::WrongBundle {
            bundle: hex::encode(bundle.digest),
            wanted: hex::encode(check.digest),
        });
    }
    let candidates = bundle.candidates()?;
    Ok(evaluate(
        &check.digest,
        &candidates,
        check.policy,
        check.maintainers,
        Vec::new(),
    ))
}

/// Fetches an offline bundle for `digest` from a live log: every entry for
/// it (by a maintainer of `keyring` only, if given: what a verifier with
/// that keyring needs), each with its proof under a checkpoint that passes
/// `policy` (steps 1 to 3 of the module documentation, without the
/// conflicts). Also returns that checkpoint. More entries than a bundle
/// carries is [`ClientError::TooManyEntries`].
pub async fn fetch_bundle(
    client: &mut LogClient,
    digest: &[u8; 32],
    policy: &TlogPolicy,
    sources: &OnlineSources<'_>,
    keyring: Option<&Keyring>,
    progress: impl FnMut(u64, u64),
) -> Result<(Bundle, WitnessedCheckpoint), ClientError> {
    let cp = checkpoint(client, policy, sources, sources.tiles_url).await?;
    let signers = keyring.map(online::trusted_signers).unwrap_or_default();
    let candidates =
        online::candidates(client, digest, &cp, &signers, MAX_BUNDLE_ENTRIES, progress).await?;
    Ok((Bundle::from_candidates(digest, &candidates), cp))
}

/// Steps 1 and 2: a checkpoint that passes the policy, consistent with
/// (and then stored in) the state directory if there is one.
async fn checkpoint(
    client: &mut LogClient,
    policy: &TlogPolicy,
    sources: &OnlineSources<'_>,
    tiles_url: Option<&str>,
) -> Result<WitnessedCheckpoint, ClientError> {
    let cp = online::witnessed_checkpoint(client, policy, sources.checkpoints).await?;
    if let Some(dir) = sources.state_dir {
        let state = StateDir::open(dir)?;
        let tiles = tiles_url
            .map(|u| TileFetcher::new(u, tokio::runtime::Handle::current(), DEFAULT_TIMEOUT));
        state
            .advance(&policy.logs[cp.log].key, &cp.note, client, tiles.as_ref())
            .await?;
    }
    Ok(cp)
}

/// The first `http://` log URL of the policy: where a log's tiles are
/// read by default.
pub fn default_tiles_url(policy: &TlogPolicy) -> Option<String> {
    policy.logs.iter().find_map(|l| {
        l.url_str()
            .filter(|u| u.starts_with("http://"))
            .map(str::to_owned)
    })
}
