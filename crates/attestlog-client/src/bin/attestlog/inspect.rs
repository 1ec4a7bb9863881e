//! `attestlog inspect` and `attestlog verify-evidence`: read entries,
//! checkpoints, bundles and proofs; check split-view evidence.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::Cert;
use attestlog_attest::{Leaf, Statement};
use attestlog_client::bundle::{Bundle, BUNDLE_MAGIC};
use attestlog_client::quorum::display_name;
use attestlog_client::tlog_proof::{TlogProof, TLOG_PROOF_MAGIC};
use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::evidence::{Contradiction, Evidence, EVIDENCE_MAGIC};
use attestlog_core::note::{Note, VerifierKey};
use clap::Args;

use super::{load_policy, read, EXIT_FAIL};

/// Show an entry, checkpoint, tlog-proof, bundle or evidence file.
///
/// Examples:
///   attestlog inspect hello.bundle
///   attestlog inspect st.json.tlog-proof
///   attestlog inspect checkpoint.txt
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub(super) struct InspectArgs {
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
pub(super) struct EvidenceArgs {
    /// The evidence file.
    file: PathBuf,
    /// The log's verifier key.
    #[arg(long, conflicts_with = "policy")]
    log_key: Option<String>,
    /// A tlog-policy naming the log.
    #[arg(long)]
    policy: Option<PathBuf>,
}

pub(super) fn run(a: InspectArgs) -> anyhow::Result<u8> {
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

pub(super) fn run_verify_evidence(a: EvidenceArgs) -> anyhow::Result<u8> {
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
