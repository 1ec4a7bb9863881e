//! `attestlog submit`: log a signed statement (or write one for an artifact).

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use attestlog_client::grpc::LogClient;
use attestlog_client::tlog_proof::TlogProof;
use clap::Args;

use super::{digest_of, read, LogArgs};

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
