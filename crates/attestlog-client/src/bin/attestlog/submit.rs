//! `attestlog submit`: log a signed statement (or write one for an artifact).

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use attestlog_client::submit::{submit_checked, Sent, Trust};
use attestlog_client::tlog_proof::TlogProof;
use attestlog_client::ClientError;
use attestlog_core::note::{KeyType, VerifierKey};
use clap::Args;

use super::{digest_of, load_policy, read, LogArgs, EXIT_FAIL};

/// Submit a signed attestation, or print a statement to sign.
///
/// Before it prints success or writes the proof, `submit` checks the log's
/// answer: the checkpoint is signed by the log you trust (--log-key, or a
/// log of your --policy), the returned entry is your statement with your
/// signature and re-verifies against your certificate, and the inclusion
/// proof leads to the checkpoint's root. If a check fails it exits 1 and
/// writes no proof (the log may have logged the entry all the same).
///
/// Examples:
///   # 1. make the statement for an artifact, 2. sign it, 3. submit it
///   attestlog submit --artifact hello-1.0.tar.gz --name hello-1.0.tar.gz \
///       --source git+https://example.org/hello.git --revision v1.0 > st.json
///   gpg --detach-sign st.json
///   attestlog submit st.json --signature st.json.sig --certificate me.asc \
///       --log-key 'log.example.org+4f3a2b1c+AQ…'
///   # the log's key from a file (`attestlog-server public-key` prints it)
///   attestlog submit st.json --signature st.json.sig --log-key log.vkey
///   # trust the logs of a C2SP tlog-policy; wait for its witness quorum
///   attestlog submit st.json --signature st.json.sig --policy log.policy \
///       --wait-for-witnesses
///   # inline-signed (gpg --sign / --clearsign), JSON output for scripts
///   attestlog submit st.json.asc --log-key log.vkey --json
///
/// The proof (c2sp.org/tlog-proof@v1) is written to --proof, by default
/// next to the statement as <STATEMENT>.tlog-proof.
///
/// Exit codes: 0 logged and proven, 1 the log's answer does not prove it,
/// 2 error (including neither --log-key nor --policy given).
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub(super) struct SubmitArgs {
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
    /// The log's public key (C2SP signed-note verifier key, name = the
    /// log's origin), or a file holding it: the answer's checkpoint must
    /// be signed by it. One of --log-key and --policy is required.
    #[arg(long, conflicts_with = "policy")]
    log_key: Option<String>,
    /// C2SP tlog-policy file: the answer's checkpoint must be signed by a
    /// log it lists (and, with --wait-for-witnesses, cosigned by its
    /// witness quorum).
    #[arg(long)]
    policy: Option<PathBuf>,
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

pub(super) async fn run(a: SubmitArgs) -> anyhow::Result<u8> {
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
    // Decided before anything is sent: an answer that cannot be checked
    // proves nothing.
    let (log_key, policy);
    let trust = match (&a.log_key, &a.policy) {
        (Some(k), _) => {
            log_key = parse_log_key(k)?;
            Trust::LogKey(&log_key)
        }
        (None, Some(p)) => {
            policy = load_policy(p)?;
            Trust::TlogPolicy {
                policy: &policy,
                quorum: a.wait_for_witnesses,
            }
        }
        (None, None) => bail!(
            "give --log-key (the log's public key, as `attestlog-server public-key` prints \
             it, or a file holding it) or --policy (a C2SP tlog-policy listing the log): \
             without one, the log's answer cannot be checked"
        ),
    };
    let payload = read(statement)?;
    let signature = a.signature.as_deref().map(read).transpose()?;
    let certificate = a
        .certificate
        .as_deref()
        .map(read)
        .transpose()?
        .unwrap_or_default();
    let mut client = a.log.connect().await?;
    let sent = Sent {
        payload: &payload,
        signature: signature.as_deref(),
    };
    let checked = match submit_checked(&mut client, sent, &certificate, a.wait_for_witnesses, trust)
        .await
    {
        Ok(c) => c,
        Err(e @ ClientError::UnprovenSubmission { .. }) => {
            eprintln!("error: {e}");
            eprintln!("the log may have logged the entry all the same; no proof file was written");
            return Ok(EXIT_FAIL);
        }
        Err(e) => return Err(e.into()),
    };
    let r = &checked.answer;
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
                "leaf_hash": r.leaf_hash.to_hex(),
                "checkpoint_size": checked.checkpoint.size,
                "proof": proof_path.display().to_string(),
            })
        );
    } else {
        println!(
            "{} at index {}, proven under the checkpoint of {} at size {}; proof written to {}",
            if r.duplicate {
                "already logged"
            } else {
                "logged"
            },
            r.index,
            checked.checkpoint.origin,
            checked.checkpoint.size,
            proof_path.display()
        );
    }
    Ok(0)
}

/// A log key given as the key text itself or as a file holding it.
fn parse_log_key(given: &str) -> anyhow::Result<VerifierKey> {
    let key = match VerifierKey::parse(given.trim()) {
        Ok(k) => k,
        Err(as_text) => {
            let text = std::fs::read_to_string(given).map_err(|e| {
                anyhow::anyhow!(
                    "--log-key {given:?} is neither a log key ({as_text}) nor a readable file ({e})"
                )
            })?;
            VerifierKey::parse(text.trim())
                .with_context(|| format!("--log-key: the key in {given}"))?
        }
    };
    if key.key_type() != KeyType::Ed25519 {
        bail!(
            "--log-key: a log key has type 0x{:02x} (Ed25519), this one 0x{:02x}",
            KeyType::Ed25519.byte(),
            key.key_type().byte()
        );
    }
    Ok(key)
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
