//! [`Admission`] for OpenPGP-signed attestations, through
//! `attestlog-attest`: verification, the index keys and the certificate to
//! store, and the mapping of each verification error to a rejection kind.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use attestlog_attest::openpgp::serialize::SerializeInto as _;
use attestlog_attest::openpgp::Cert;
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
    serialized: SerializedCerts,
}

/// How many serialized certificates [`SerializedCerts`] keeps before it is
/// emptied.
const SERIALIZED_CERTS: usize = 4096;

/// The bytes to store for each verified certificate, serialized once per
/// certificate object rather than once per submission (it was ~3 % of the
/// server's CPU at peak ingest). An entry is used only for the very
/// `Arc<Cert>` it was made from — the verifier's parse cache hands out the
/// same one for the same submitted bytes — and holds that `Arc`, so the
/// pointer cannot be reused by another certificate while it is cached.
#[derive(Default)]
struct SerializedCerts {
    map: std::sync::Mutex<HashMap<Vec<u8>, SerializedCert>>,
}

/// A certificate object and its serialization.
type SerializedCert = (Arc<Cert>, Arc<Vec<u8>>);

impl SerializedCerts {
    fn get(&self, cert: &Arc<Cert>) -> Result<(Vec<u8>, Vec<u8>), Rejection> {
        let fingerprint = cert.fingerprint().as_bytes().to_vec();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((cached, bytes)) = map.get(&fingerprint) {
            if Arc::ptr_eq(cached, cert) {
                return Ok((fingerprint, bytes.as_ref().clone()));
            }
        }
        let bytes =
            Arc::new(cert.as_ref().to_vec().map_err(|e| {
                Rejection::Invalid(format!("certificate cannot be serialized: {e}"))
            })?);
        if map.len() >= SERIALIZED_CERTS {
            map.clear();
        }
        map.insert(fingerprint.clone(), (cert.clone(), bytes.clone()));
        Ok((fingerprint, bytes.as_ref().clone()))
    }
}

impl AttestAdmission {
    /// Admits any valid certificate (which submissions must then include).
    pub fn open() -> AttestAdmission {
        AttestAdmission {
            verifier: Verifier::new(AdmissionPolicy::Open),
            keyring: None,
            serialized: SerializedCerts::default(),
        }
    }

    /// Admits only the certificates of `keyring`.
    pub fn keyring(keyring: Arc<Keyring>) -> AttestAdmission {
        AttestAdmission {
            verifier: Verifier::new(AdmissionPolicy::Keyring(keyring.clone())),
            keyring: Some(keyring),
            serialized: SerializedCerts::default(),
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
        let certificate = self.serialized.get(v.certificate())?;
        Ok(Admitted {
            entry: v.leaf_bytes().to_vec(),
            dedup_key: dedup_key(leaf.statement(), leaf.signature(), &primary),
            index_keys,
            certificate: Some(certificate),
            signer: primary,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use attestlog_attest::openpgp::cert::CertBuilder;

    #[test]
    fn certificates_are_serialized_once_per_object() {
        let generate = |uid: &str| {
            CertBuilder::general_purpose(Some(uid))
                .generate()
                .map(|(c, _)| Arc::new(c))
                .expect("generate a certificate")
        };
        let (a, b) = (generate("a@x.test"), generate("b@x.test"));
        let cache = SerializedCerts::default();
        let (fa, bytes) = cache.get(&a).expect("serializes");
        assert_eq!(fa, a.fingerprint().as_bytes());
        assert_eq!(bytes, a.as_ref().to_vec().expect("serializes"));
        assert_eq!(cache.get(&a).expect("cached").1, bytes);
        // Another object of the same key (as after a reparse) replaces it.
        let a2 = Arc::new(a.as_ref().clone());
        assert_eq!(cache.get(&a2).expect("serializes").1, bytes);
        let held = cache.map.lock().expect("lock")[&fa].0.clone();
        assert!(Arc::ptr_eq(&held, &a2));
        let (fb, _) = cache.get(&b).expect("serializes");
        assert_eq!(fb, b.fingerprint().as_bytes());
    }
}
