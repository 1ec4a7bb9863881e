//! Parsing submitted certificates, with a bounded cache.
//!
//! Parsing and canonicalizing a certificate costs tens of microseconds, and
//! the same maintainers submit again and again with the same certificate
//! bytes. The cache maps SHA-256 of the submitted bytes to the parsed
//! certificate (so a changed certificate, e.g. with a new revocation, is
//! parsed afresh), and is emptied whenever it would hold more than
//! [`CERT_CACHE_ENTRIES`] certificates or [`CERT_CACHE_BYTES`] submitted
//! bytes: simple, bounded, and refilled at the next submissions.
//!
//! A parsed certificate takes about ten times its serialized size in
//! memory (Sequoia keeps each signature's subpacket areas with lookup
//! tables), and what is cached is already stripped
//! ([`crate::certificate`]), so the cache stays within a few tens of MiB
//! whatever submitters send.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sequoia_openpgp::Cert;
use sha2::{Digest, Sha256};

use crate::certificate::parse_submitted;
use crate::error::AttestError;
use crate::MAX_CERT_SIZE;

/// How many parsed certificates the cache holds before it is emptied.
pub const CERT_CACHE_ENTRIES: usize = 1024;

/// How many submitted certificate bytes the cache stands for before it is
/// emptied (a certificate costs its submitted size).
pub const CERT_CACHE_BYTES: usize = 4 << 20;

/// A bounded map from certificate bytes to parsed certificates.
#[derive(Debug, Default)]
pub(crate) struct CertCache {
    map: Mutex<Cached>,
}

#[derive(Debug, Default)]
struct Cached {
    certs: HashMap<[u8; 32], Arc<Cert>>,
    bytes: usize,
}

impl CertCache {
    /// Parses `bytes` as exactly one public certificate (binary or armored),
    /// stripped as [`crate::certificate`] says, or returns the cached result
    /// of an earlier parse of the same bytes.
    pub(crate) fn parse(&self, bytes: &[u8]) -> Result<Arc<Cert>, AttestError> {
        if bytes.len() > MAX_CERT_SIZE {
            return Err(AttestError::InputTooLarge {
                field: "certificate",
                size: bytes.len(),
                max: MAX_CERT_SIZE,
            });
        }
        let key: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(cert) = self.lock().certs.get(&key) {
            return Ok(cert.clone());
        }
        let cert = parse_submitted(bytes)?;
        let cert = Arc::new(cert);
        let mut cached = self.lock();
        if cached.certs.len() >= CERT_CACHE_ENTRIES || cached.bytes + bytes.len() > CERT_CACHE_BYTES
        {
            *cached = Cached::default();
        }
        if cached.certs.insert(key, cert.clone()).is_none() {
            cached.bytes += bytes.len();
        }
        Ok(cert)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        // The map is only ever inserted into or cleared: always consistent.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}
