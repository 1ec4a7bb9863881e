//! Parsing submitted certificates, with a bounded cache.
//!
//! Parsing and canonicalizing a certificate costs tens of microseconds, and
//! the same maintainers submit again and again with the same certificate
//! bytes. The cache maps SHA-256 of the submitted bytes to the parsed
//! certificate (so a changed certificate, e.g. with a new revocation, is
//! parsed afresh), and is emptied whenever it reaches [`CERT_CACHE_ENTRIES`]:
//! simple, bounded, and refilled at the next submissions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::Cert;
use sha2::{Digest, Sha256};

use crate::error::AttestError;
use crate::signature_check::chain;
use crate::MAX_CERT_SIZE;

/// How many parsed certificates the cache holds before it is emptied.
pub const CERT_CACHE_ENTRIES: usize = 4096;

/// A bounded map from certificate bytes to parsed certificates.
#[derive(Debug, Default)]
pub(crate) struct CertCache {
    map: Mutex<HashMap<[u8; 32], Arc<Cert>>>,
}

impl CertCache {
    /// Parses `bytes` as exactly one public certificate (binary or armored),
    /// or returns the cached result of an earlier parse of the same bytes.
    pub(crate) fn parse(&self, bytes: &[u8]) -> Result<Arc<Cert>, AttestError> {
        if bytes.len() > MAX_CERT_SIZE {
            return Err(AttestError::InputTooLarge {
                field: "certificate",
                size: bytes.len(),
                max: MAX_CERT_SIZE,
            });
        }
        let key: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(cert) = self.lock().get(&key) {
            return Ok(cert.clone());
        }
        let cert = parse_certificate(bytes)?;
        let cert = Arc::new(cert);
        let mut map = self.lock();
        if map.len() >= CERT_CACHE_ENTRIES {
            map.clear();
        }
        map.insert(key, cert.clone());
        Ok(cert)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Arc<Cert>>> {
        // The map is only ever inserted into or cleared: always consistent.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Parses one public certificate, refusing secret key material.
pub(crate) fn parse_certificate(bytes: &[u8]) -> Result<Cert, AttestError> {
    let cert = Cert::from_bytes(bytes)
        .map_err(|e| AttestError::MalformedCertificate { reason: chain(&e) })?;
    if cert.is_tsk() {
        return Err(AttestError::MalformedCertificate {
            reason: "it contains secret key material; send the public certificate \
                     (gpg --export, not --export-secret-keys) and consider that key exposed"
                .into(),
        });
    }
    Ok(cert)
}
