//! Submitting an attestation, and checking the log's answer before
//! believing it.
//!
//! A log answers `Submit` with an index, the entry, its leaf hash, a
//! signed checkpoint and an inclusion proof (SPEC §7). A hostile or broken
//! log could answer with another entry, a proof that leads nowhere, or a
//! checkpoint signed by a key the submitter does not trust (another log's,
//! or one kept for a split view). [`check_answer`] accepts an answer only
//! if, in order:
//!
//! 1. the checkpoint note is signed by the log the submitter trusts
//!    ([`Trust`]): its key, or a log of its C2SP tlog-policy whose key name
//!    is the checkpoint's origin; with [`Trust::TlogPolicy`] and `quorum`, the
//!    note also carries the policy's witness quorum;
//! 2. the index is inside the checkpoint's tree;
//! 3. the leaf hash the log returned is `SHA-256(0x00 || entry)` of the
//!    entry it returned;
//! 4. the entry decodes as a canonical leaf (SPEC §6.5);
//! 5. its statement is, byte for byte, the statement submitted, and its
//!    signature field the submitted signature packet as the log encodes it
//!    (SPEC §6.5.2); the submitter's own input is read by the same code as
//!    the log's ([`attestlog_attest::Verifier`] with the open admission
//!    policy), against the signer's certificate;
//! 6. the entry re-verifies (SPEC §6.5.5, [`attestlog_attest::verify_leaf`])
//!    against that certificate;
//! 7. the audit path leads from that leaf hash at that index to the
//!    checkpoint's root (RFC 9162 §2.1.3.2).
//!
//! The certificate is the one the submitter gives, or else the one the log
//! stores for the entry's signer, accepted only if its fingerprint is the
//! entry's primary fingerprint (a log cannot make a certificate for
//! another's primary key, nor bind a signing subkey to it).

use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::Cert;
use attestlog_attest::{verify_leaf, AdmissionPolicy, AttestationInput, Leaf, Verifier};
use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::leaf_hash;
use attestlog_core::note::{Note, NoteVerifier as _, VerifierKey};
use attestlog_core::proof::verify_inclusion;

use crate::error::ClientError;
use crate::grpc::{LogClient, Submitted};
use crate::tlog_policy::TlogPolicy;
use crate::witnessed::verify_checkpoint;

/// Whom the submitter trusts to have signed the answer's checkpoint.
#[derive(Clone, Copy, Debug)]
pub enum Trust<'a> {
    /// This log key; its key name is the log's origin.
    LogKey(&'a VerifierKey),
    /// A log of this tlog-policy (the one whose key name is the
    /// checkpoint's origin); with `quorum`, the policy's witness quorum
    /// must have cosigned the checkpoint too (for answers the log gave
    /// only once its witnesses cosigned, `wait_for_witnesses`).
    TlogPolicy {
        /// The policy.
        policy: &'a TlogPolicy,
        /// Whether the witness quorum is required.
        quorum: bool,
    },
}

/// What the submitter sent.
#[derive(Clone, Copy, Debug)]
pub struct Sent<'a> {
    /// The statement (with `signature`) or the inline-signed message.
    pub payload: &'a [u8],
    /// The detached signature, if any.
    pub signature: Option<&'a [u8]>,
}

/// An answer that passed [`check_answer`].
#[derive(Clone, Debug)]
pub struct CheckedAnswer {
    /// The answer, as the log gave it.
    pub answer: Submitted,
    /// The checkpoint it proves inclusion under, verified.
    pub checkpoint: Checkpoint,
}

fn unproven(reason: impl Into<String>) -> ClientError {
    ClientError::UnprovenSubmission {
        reason: reason.into(),
    }
}

/// Checks the log's `answer` to the submission `sent`, signed by the
/// holder of `certificate`, against `trust` (the numbered checks of the
/// module documentation). Any failure is
/// [`ClientError::UnprovenSubmission`], naming the check.
pub fn check_answer(
    answer: &Submitted,
    sent: Sent<'_>,
    certificate: &[u8],
    trust: Trust<'_>,
) -> Result<CheckedAnswer, ClientError> {
    // 1.
    let checkpoint = checkpoint_trusted(&answer.checkpoint, trust)?;
    // 2.
    if answer.index >= checkpoint.size {
        return Err(unproven(format!(
            "index {} is not in the checkpoint's tree of size {}",
            answer.index, checkpoint.size
        )));
    }
    // 3.
    let hash = leaf_hash(&answer.entry);
    // `Hash` compares in constant time.
    if hash != answer.leaf_hash {
        return Err(unproven(
            "the leaf hash it returned is not the hash of the entry it returned",
        ));
    }
    // 4.
    let leaf = Leaf::decode(&answer.entry)
        .map_err(|e| unproven(format!("the entry it returned is not a valid leaf: {e}")))?;
    // 5.
    let cert = Cert::from_bytes(certificate)
        .map_err(|e| unproven(format!("the signer's certificate does not parse: {e}")))?;
    if &cert.fingerprint() != leaf.primary_fingerprint() {
        return Err(unproven(format!(
            "the entry is signed by {}, not by the submitted certificate {}",
            leaf.primary_fingerprint(),
            cert.fingerprint()
        )));
    }
    let submission = match sent.signature {
        Some(sig) => AttestationInput::detached(sent.payload, sig),
        None => AttestationInput::inline(sent.payload),
    }
    .with_certificate(certificate);
    let mine = Verifier::new(AdmissionPolicy::Open)
        .verify_now(&submission)
        .map_err(|e| unproven(format!("your own submission does not verify here: {e}")))?;
    if mine.leaf().statement() != leaf.statement() {
        return Err(unproven(
            "the entry it returned carries another statement than the one submitted",
        ));
    }
    if mine.leaf().signature() != leaf.signature() {
        return Err(unproven(
            "the entry it returned carries another signature than the one submitted",
        ));
    }
    // 6.
    verify_leaf(&answer.entry, &cert).map_err(|e| {
        unproven(format!(
            "the entry it returned does not verify against the signer's certificate: {e}"
        ))
    })?;
    // 7.
    verify_inclusion(
        &hash,
        answer.index,
        checkpoint.size,
        &answer.audit_path,
        &checkpoint.root,
    )
    .map_err(|e| {
        unproven(format!(
            "the inclusion proof of index {} does not lead to the root of the checkpoint of size {}: {e}",
            answer.index, checkpoint.size
        ))
    })?;
    Ok(CheckedAnswer {
        answer: answer.clone(),
        checkpoint,
    })
}

/// Step 1: the checkpoint, if the note is signed as `trust` requires.
fn checkpoint_trusted(note: &[u8], trust: Trust<'_>) -> Result<Checkpoint, ClientError> {
    match trust {
        Trust::LogKey(key) => {
            let origin = key.name();
            Checkpoint::open(note, origin, key)
                .map(|(cp, _)| cp)
                .map_err(|e| {
                    unproven(format!(
                        "its checkpoint is not signed by the log key you trust ({origin}+{:08x}): {e}",
                        key.key_id()
                    ))
                })
        }
        Trust::TlogPolicy { policy, quorum } => {
            let text = Note::parse(note)
                .map_err(|e| unproven(format!("its checkpoint is not a signed note: {e}")))?;
            let cp = Checkpoint::parse(text.text())
                .map_err(|e| unproven(format!("its checkpoint is malformed: {e}")))?;
            let Some(log) = policy.log(&cp.origin) else {
                return Err(unproven(format!(
                    "your policy trusts no log with origin {:?}",
                    cp.origin
                )));
            };
            if quorum {
                return verify_checkpoint(policy, note)
                    .map(|v| v.checkpoint)
                    .map_err(|e| unproven(e.to_string()));
            }
            Checkpoint::open(note, &cp.origin, &log.key)
                .map(|(cp, _)| cp)
                .map_err(|e| {
                    unproven(format!(
                        "its checkpoint is not signed by the log key you trust ({}+{:08x}): {e}",
                        cp.origin,
                        log.key.key_id()
                    ))
                })
        }
    }
}

/// Submits to `client` and checks the answer ([`check_answer`]).
/// `certificate` may be empty when the log already holds the signer's
/// certificate: the one it gives for the entry's signer is then used.
/// The entry may be logged even when this fails (the log answered, but
/// not in a way that proves it).
pub async fn submit_checked(
    client: &mut LogClient,
    sent: Sent<'_>,
    certificate: &[u8],
    wait_for_witnesses: bool,
    trust: Trust<'_>,
) -> Result<CheckedAnswer, ClientError> {
    let answer = client
        .submit(
            sent.payload.to_vec(),
            sent.signature.map(<[u8]>::to_vec).unwrap_or_default(),
            certificate.to_vec(),
            wait_for_witnesses,
        )
        .await?;
    if !certificate.is_empty() {
        return check_answer(&answer, sent, certificate, trust);
    }
    let leaf = Leaf::decode(&answer.entry)
        .map_err(|e| unproven(format!("the entry it returned is not a valid leaf: {e}")))?;
    let logged = client
        .certificate(leaf.primary_fingerprint().as_bytes())
        .await
        .map_err(|e| {
            unproven(format!(
                "the log gives no certificate for the entry's signer ({e}); pass yours with --certificate"
            ))
        })?;
    check_answer(&answer, sent, &logged, trust)
}

#[cfg(test)]
mod tests;
