//! Gathering what the quorum check needs from a live log: a checkpoint the
//! policy accepts, every entry for a digest with its certificate and
//! inclusion proof, and trusted maintainers' entries that name the same
//! subject with another digest.
//!
//! Everything fetched is checked later by [`crate::quorum::evaluate`];
//! this module only asks and keeps the answers apart.

use std::collections::HashMap;

use attestlog_attest::{verify_leaf, Keyring, Leaf};

use crate::error::ClientError;
use crate::grpc::{LogClient, SearchKey};
use crate::quorum::{display_name, Candidate};
use crate::report::Conflict;
use crate::tlog_policy::TlogPolicy;
use crate::witnessed::{merge_notes, unverified_size, verify_checkpoint, WitnessedCheckpoint};

/// Fetches the log's checkpoint, joins the cosignatures of any `extra`
/// notes over the same checkpoint (from witnesses or files), and returns
/// the largest candidate that the policy accepts — or, if none does, the
/// error of the largest.
pub async fn witnessed_checkpoint(
    client: &mut LogClient,
    policy: &TlogPolicy,
    extra: &[Vec<u8>],
) -> Result<WitnessedCheckpoint, ClientError> {
    let from_log = client.checkpoint().await?;
    let mut candidates = vec![merge_notes(&from_log, extra)?];
    for e in extra {
        candidates.push(merge_notes(e, extra)?);
    }
    candidates.sort_by_key(|n| std::cmp::Reverse(unverified_size(n).unwrap_or(0)));
    let mut first_err = None;
    for c in &candidates {
        match verify_checkpoint(policy, c) {
            Ok(v) => return Ok(v),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| ClientError::CheckpointUntrusted("no checkpoint".into())))
}

/// Fetches one entry.
pub async fn entry(client: &mut LogClient, index: u64) -> Result<Vec<u8>, ClientError> {
    client
        .entries(index, index + 1)
        .await?
        .pop()
        .ok_or_else(|| ClientError::BadAnswer(format!("no entry {index}")))
}

/// Every entry the log indexes under `digest` within the checkpoint's
/// tree and signed by one of `signers` (primary fingerprints; every signer
/// if empty), with its logged certificate and its inclusion proof.
/// `progress(done, total)` is called after each entry.
///
/// A verifier passes its trusted maintainers: anyone can log entries
/// naming any digest, and only trusted ones can count, so the others are
/// never fetched. More than `max` matching entries is
/// [`ClientError::TooManyEntries`], found before any entry is fetched.
pub async fn candidates(
    client: &mut LogClient,
    digest: &[u8; 32],
    cp: &WitnessedCheckpoint,
    signers: &[Vec<u8>],
    max: usize,
    mut progress: impl FnMut(u64, u64),
) -> Result<Vec<Candidate>, ClientError> {
    let size = cp.checkpoint.size;
    let mut certs: HashMap<Vec<u8>, Option<Vec<u8>>> = HashMap::new();
    let mut out = Vec::new();
    let indexes: Vec<u64> = client
        .search_signed_by(SearchKey::Sha256(*digest), signers)
        .await?
        .into_iter()
        // Logged after the checkpoint: not provable under it.
        .filter(|&index| index < size)
        .collect();
    if indexes.len() > max {
        return Err(ClientError::TooManyEntries {
            found: indexes.len(),
            max,
            hint: if signers.is_empty() {
                "; name the maintainers whose entries you need (--keyring)"
            } else {
                ""
            },
        });
    }
    let total = indexes.len() as u64;
    for index in indexes {
        let leaf = entry(client, index).await?;
        let logged_certificate = match Leaf::decode(&leaf) {
            Ok(l) => {
                let fp = l.primary_fingerprint().as_bytes().to_vec();
                match certs.get(&fp) {
                    Some(c) => c.clone(),
                    None => {
                        let c = client.certificate(&fp).await.ok();
                        certs.insert(fp, c.clone());
                        c
                    }
                }
            }
            Err(_) => None,
        };
        let audit_path = client.inclusion_proof(index, size).await?;
        out.push(Candidate {
            index,
            leaf,
            logged_certificate,
            audit_path,
            checkpoint: cp.note.clone(),
        });
        progress(out.len() as u64, total);
    }
    Ok(out)
}

/// Entries by trusted maintainers, within the checkpoint's tree, that give
/// one of the subject names of `found` another digest. Each is verified
/// against the trusted certificate before it is reported.
pub async fn conflicts(
    client: &mut LogClient,
    digest: &[u8; 32],
    found: &[Candidate],
    keyring: &Keyring,
    size: u64,
) -> Result<Vec<Conflict>, ClientError> {
    let mut names: Vec<String> = Vec::new();
    for c in found {
        let Ok(leaf) = Leaf::decode(&c.leaf) else {
            continue;
        };
        let Ok(st) = attestlog_attest::Statement::parse(leaf.statement()) else {
            continue;
        };
        for s in st.subjects() {
            if s.sha256 == *digest && !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
    }
    let seen: Vec<u64> = found.iter().map(|c| c.index).collect();
    let trusted = trusted_signers(keyring);
    let mut out = Vec::new();
    for name in names {
        for index in client
            .search_signed_by(SearchKey::SubjectName(name.clone()), &trusted)
            .await?
        {
            if index >= size || seen.contains(&index) {
                continue;
            }
            let bytes = entry(client, index).await?;
            let Ok(leaf) = Leaf::decode(&bytes) else {
                continue;
            };
            let Some(cert) = keyring.get(leaf.primary_fingerprint()) else {
                continue;
            };
            let Ok(v) = verify_leaf(&bytes, &cert) else {
                continue;
            };
            for s in v.statement().subjects() {
                if s.name == name && s.sha256 != *digest {
                    out.push(Conflict {
                        index,
                        signer: format!(
                            "{} ({})",
                            display_name(&cert),
                            cert.fingerprint().to_hex()
                        ),
                        subject: name.clone(),
                        digest: hex::encode(s.sha256),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The primary fingerprints of `keyring`, as `Search` filters take them.
pub fn trusted_signers(keyring: &Keyring) -> Vec<Vec<u8>> {
    keyring
        .fingerprints()
        .iter()
        .map(|f| f.as_bytes().to_vec())
        .collect()
}
