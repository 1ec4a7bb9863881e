//! Checking a signed checkpoint against a tlog-policy: a log signature by a
//! trusted log, then the witness cosignatures, then the quorum.
//!
//! Cosignatures are ordinary signature lines of the checkpoint's note
//! (C2SP tlog-cosignature), so they can come from the log's own
//! `GetCheckpoint`, from a witness, or from a file; [`merge_notes`] joins
//! the signature lines of notes over the same checkpoint text.

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::cosignature;
use attestlog_core::note::{Note, NoteVerifier, MAX_NOTE_SIGNATURES};

use crate::error::ClientError;
use crate::tlog_policy::TlogPolicy;

/// A checkpoint that passed [`verify_checkpoint`].
#[derive(Clone, Debug)]
pub struct WitnessedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The signed note, byte for byte as verified.
    pub note: Vec<u8>,
    /// Index of the trusted log in [`TlogPolicy::logs`].
    pub log: usize,
    /// Witnesses (indexes into [`TlogPolicy::witnesses`]) whose cosignature
    /// verified, with their timestamps.
    pub cosigned: Vec<(usize, u64)>,
    /// Cosignatures by known witnesses that did not verify, in words.
    pub problems: Vec<String>,
}

impl WitnessedCheckpoint {
    /// The policy's rule and which witnesses cosigned, in words.
    pub fn explain(&self, policy: &TlogPolicy) -> String {
        policy.explain(&self.witness_indexes())
    }

    fn witness_indexes(&self) -> Vec<usize> {
        self.cosigned.iter().map(|(w, _)| *w).collect()
    }
}

/// Verifies a signed checkpoint note against `policy`:
///
/// 1. the note parses and its text is a checkpoint;
/// 2. a log of the policy has the checkpoint's origin as key name, and its
///    signature on the note verifies (tlog-policy: "a checkpoint is
///    considered valid if it is signed by any one of the listed logs");
/// 3. each cosignature line by a policy witness (key name and ID) is
///    checked; valid ones count, invalid ones are reported and do not;
/// 4. the counted witnesses satisfy the quorum ("and it is cosigned by
///    witnesses according to the defined quorum rule").
pub fn verify_checkpoint(
    policy: &TlogPolicy,
    note_bytes: &[u8],
) -> Result<WitnessedCheckpoint, ClientError> {
    let note = Note::parse(note_bytes)
        .map_err(|e| ClientError::CheckpointUntrusted(format!("malformed note: {e}")))?;
    let cp = Checkpoint::parse(note.text())
        .map_err(|e| ClientError::CheckpointUntrusted(format!("not a checkpoint: {e}")))?;
    let log = policy
        .logs
        .iter()
        .position(|l| l.key_name() == cp.origin)
        .ok_or_else(|| {
            ClientError::CheckpointUntrusted(format!(
                "the policy trusts no log with origin {:?}",
                cp.origin
            ))
        })?;
    Checkpoint::open(note_bytes, &cp.origin, &policy.logs[log].key).map_err(|e| {
        ClientError::CheckpointUntrusted(format!(
            "the log signature of {:?} does not verify: {e}",
            cp.origin
        ))
    })?;
    let mut cosigned = Vec::new();
    let mut problems = Vec::new();
    for (i, w) in policy.witnesses.iter().enumerate() {
        for sig in note.signatures() {
            if sig.name != w.key.name() || sig.key_id != w.key.key_id() {
                continue;
            }
            match cosignature::verify(&w.key, note.text(), sig) {
                Ok(t) if !cosigned.iter().any(|(c, _)| *c == i) => cosigned.push((i, t)),
                Ok(_) => {}
                Err(e) => problems.push(format!(
                    "the cosignature of witness {} does not verify: {e}",
                    String::from_utf8_lossy(&w.name)
                )),
            }
        }
    }
    let v = WitnessedCheckpoint {
        checkpoint: cp,
        note: note_bytes.to_vec(),
        log,
        cosigned,
        problems,
    };
    if !policy.quorum_met(&v.witness_indexes()) {
        let mut explanation = v.explain(policy);
        for p in &v.problems {
            explanation.push_str("; ");
            explanation.push_str(p);
        }
        return Err(ClientError::QuorumNotMet {
            size: v.checkpoint.size,
            explanation,
        });
    }
    Ok(v)
}

/// Joins the signature lines of `notes` that have the same text as the
/// first, dropping exact duplicates; notes over another text are skipped.
/// Returns the merged note's bytes.
pub fn merge_notes(first: &[u8], others: &[Vec<u8>]) -> Result<Vec<u8>, ClientError> {
    let mut base = Note::parse(first)
        .map_err(|e| ClientError::CheckpointUntrusted(format!("malformed note: {e}")))?;
    for other in others {
        let Ok(o) = Note::parse(other) else { continue };
        if o.text() != base.text() {
            continue;
        }
        for s in o.signatures() {
            if base.signatures().contains(s) || base.signatures().len() == MAX_NOTE_SIGNATURES {
                continue;
            }
            base.add_signature(s.clone())
                .map_err(|e| ClientError::CheckpointUntrusted(e.to_string()))?;
        }
    }
    Ok(base.to_bytes())
}

/// The size stated by a note's checkpoint, without checking signatures
/// (for choosing among candidates).
pub fn unverified_size(note_bytes: &[u8]) -> Option<u64> {
    let note = Note::parse(note_bytes).ok()?;
    Checkpoint::parse(note.text()).ok().map(|c| c.size)
}
