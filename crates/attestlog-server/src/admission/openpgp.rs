//! [`Admission`] for OpenPGP-signed attestations, through
//! `attestlog-attest`: verification, the index keys and the certificate to
//! store, and the mapping of each verification error to a rejection kind.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use attestlog_attest::{
    stored_view, AdmissionPolicy, AttestError, AttestationInput, IndexKeys, Keyring, Verifier,
};
use attestlog_core::Hash;
use attestlog_store::IndexKey;

use crate::admission::{Admission, Admitted, Rejection, Submission};

/// Verifies attestations under an admission policy.
pub struct OpenPgpAdmission {
    verifier: Verifier,
    keyring: Option<Arc<Keyring>>,
}

impl OpenPgpAdmission {
    /// Admits any valid certificate (which submissions must then include),
    /// refusing signatures older than `max_signature_age` (if any).
    pub fn open(max_signature_age: Option<Duration>) -> OpenPgpAdmission {
        OpenPgpAdmission {
            verifier: Verifier::new(AdmissionPolicy::Open)
                .with_max_signature_age(max_signature_age),
            keyring: None,
        }
    }

    /// Admits only the certificates of `keyring`, refusing signatures older
    /// than `max_signature_age` (if any).
    pub fn keyring(keyring: Arc<Keyring>, max_signature_age: Option<Duration>) -> OpenPgpAdmission {
        OpenPgpAdmission {
            verifier: Verifier::new(AdmissionPolicy::Keyring(keyring.clone()))
                .with_max_signature_age(max_signature_age),
            keyring: Some(keyring),
        }
    }

    /// Rereads the keyring from disk (no-op for the open policy); returns
    /// the number of certificates loaded. On error the old set stays.
    pub fn reload(&self) -> Result<Option<usize>, AttestError> {
        self.keyring.as_ref().map(|k| k.reload()).transpose()
    }
}

/// The store's index rows for an entry with `keys`: each subject digest,
/// the signer's primary fingerprint, each subject name. Admission and
/// [`crate::restore`] both build them here, so a restored log is searched
/// exactly as the original was.
pub fn store_index_keys(keys: &IndexKeys) -> Vec<IndexKey> {
    let mut out: Vec<IndexKey> = keys
        .subject_sha256
        .iter()
        .map(|d| IndexKey::Sha256(*d))
        .collect();
    out.push(IndexKey::Signer(
        keys.primary_fingerprint.as_bytes().to_vec(),
    ));
    out.extend(
        keys.subject_names
            .iter()
            .cloned()
            .map(IndexKey::SubjectName),
    );
    out
}

fn rejection(e: AttestError) -> Rejection {
    let msg = e.to_string();
    match e {
        AttestError::InputTooLarge { .. }
        | AttestError::EntryTooLarge { .. }
        | AttestError::TooManySubjects { .. }
        | AttestError::TooManySignatures { .. }
        | AttestError::MessageTooComplex { .. } => Rejection::TooLarge(msg),
        AttestError::BudgetExceeded => Rejection::OverBudget(msg),
        AttestError::UnknownSigner { .. } => Rejection::NotAdmitted(msg),
        _ => Rejection::Invalid(msg),
    }
}

impl Admission for OpenPgpAdmission {
    fn admit(&self, submission: &Submission, deadline: Instant) -> Result<Admitted, Rejection> {
        let s = AttestationInput {
            payload: &submission.payload,
            signature: submission.signature.as_deref(),
            certificate: submission.certificate.as_deref(),
        };
        let v = self
            .verifier
            .verify_within(&s, SystemTime::now(), Some(deadline))
            .map_err(rejection)?;
        let primary = v.primary_fingerprint().as_bytes().to_vec();
        let index_keys = store_index_keys(v.index_keys());
        let certificate =
            stored_view(v.certificate(), v.signing_fingerprint()).map_err(rejection)?;
        Ok(Admitted {
            entry: v.leaf_bytes().to_vec(),
            dedup_key: Hash(v.dedup_key()),
            index_keys,
            certificate: Some((primary.clone(), certificate)),
            signer: primary,
        })
    }
}
