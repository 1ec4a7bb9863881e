//! [`Admission`] for OpenPGP-signed attestations, through
//! `attestlog-attest`: verification, the index keys and the certificate to
//! store, and the mapping of each verification error to a rejection kind.

use std::sync::Arc;
use std::time::SystemTime;

use attestlog_attest::openpgp::serialize::SerializeInto as _;
use attestlog_attest::{
    AdmissionPolicy, AttestError, Keyring, Submission as AttestSubmission, Verifier,
};
use attestlog_core::Hash;
use attestlog_store::IndexKey;
use sha2::{Digest, Sha256};

use crate::admission::{Admission, Admitted, Rejection, Submission};

/// Verifies attestations under an admission policy.
pub struct AttestAdmission {
    verifier: Verifier,
    keyring: Option<Arc<Keyring>>,
}

impl AttestAdmission {
    /// Admits any valid certificate (which submissions must then include).
    pub fn open() -> AttestAdmission {
        AttestAdmission {
            verifier: Verifier::new(AdmissionPolicy::Open),
            keyring: None,
        }
    }

    /// Admits only the certificates of `keyring`.
    pub fn keyring(keyring: Arc<Keyring>) -> AttestAdmission {
        AttestAdmission {
            verifier: Verifier::new(AdmissionPolicy::Keyring(keyring.clone())),
            keyring: Some(keyring),
        }
    }

    /// Rereads the keyring from disk (no-op for the open policy); returns
    /// the number of certificates loaded. On error the old set stays.
    pub fn reload(&self) -> Result<Option<usize>, AttestError> {
        self.keyring.as_ref().map(|k| k.reload()).transpose()
    }
}

/// The deduplication key of an attestation: SHA-256 over the statement,
/// the signature and the signer, without the log's verification time, so
/// resubmitting the same signature finds the first entry.
pub fn dedup_key(statement: &[u8], signature: &[u8], primary_fingerprint: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(b"attestlog/dedup/v1\n");
    for part in [statement, signature, primary_fingerprint] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    Hash(h.finalize().into())
}

fn rejection(e: AttestError) -> Rejection {
    let msg = e.to_string();
    match e {
        AttestError::InputTooLarge { .. }
        | AttestError::EntryTooLarge { .. }
        | AttestError::TooManySubjects { .. }
        | AttestError::TooManySignatures { .. } => Rejection::TooLarge(msg),
        AttestError::UnknownSigner { .. } => Rejection::NotAdmitted(msg),
        _ => Rejection::Invalid(msg),
    }
}

impl Admission for AttestAdmission {
    fn admit(&self, submission: &Submission) -> Result<Admitted, Rejection> {
        let s = AttestSubmission {
            payload: &submission.payload,
            signature: submission.signature.as_deref(),
            certificate: submission.certificate.as_deref(),
        };
        let v = self
            .verifier
            .verify(&s, SystemTime::now())
            .map_err(rejection)?;
        let leaf = v.leaf();
        let primary = v.primary_fingerprint().as_bytes().to_vec();
        let keys = v.index_keys();
        let mut index_keys: Vec<IndexKey> = keys
            .subject_sha256
            .iter()
            .map(|d| IndexKey::Sha256(*d))
            .collect();
        index_keys.push(IndexKey::Signer(primary.clone()));
        index_keys.extend(
            keys.subject_names
                .iter()
                .cloned()
                .map(IndexKey::SubjectName),
        );
        let certificate =
            v.certificate().as_ref().to_vec().map_err(|e| {
                Rejection::Invalid(format!("certificate cannot be serialized: {e}"))
            })?;
        Ok(Admitted {
            entry: v.leaf_bytes().to_vec(),
            dedup_key: dedup_key(leaf.statement(), leaf.signature(), &primary),
            index_keys,
            certificate: Some((primary.clone(), certificate)),
            signer: primary,
        })
    }
}
