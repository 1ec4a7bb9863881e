//! The `keyring` admission policy's certificate set: loaded from one file or
//! a directory, indexed by every key's fingerprint and key ID, and reloadable
//! while the log runs.
//!
//! # Sources
//!
//! * A **file**: one or more OpenPGP certificates, binary or ASCII-armored,
//!   concatenated (what `gpg --export` or `sq cert export` writes).
//! * A **directory**: every regular file directly in it whose name ends in
//!   `.asc`, `.pgp` or `.gpg`, each holding one or more certificates. Other
//!   files and subdirectories are ignored, so a `README` can live there.
//!
//! A certificate that appears more than once is merged. Secret key material,
//! if an operator exported it by mistake, is dropped on load. Loading fails,
//! naming the file, if any selected file does not parse, and if the result
//! has no certificate at all.
//!
//! # Reloading
//!
//! [`Keyring::reload`] reads the source again and swaps the new set in
//! atomically; verifications in flight keep the snapshot they started with.
//! If reading fails, the previous set stays in force and the error is
//! returned.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use sequoia_openpgp::cert::CertParser;
use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::{Cert, Fingerprint, KeyHandle, KeyID};

use crate::error::AttestError;
use crate::signature_check::chain;

/// The file extensions read from a keyring directory.
pub const KEYRING_EXTENSIONS: [&str; 3] = ["asc", "pgp", "gpg"];

/// A reloadable set of certificates allowed to submit.
#[derive(Debug)]
pub struct Keyring {
    source: Option<PathBuf>,
    snapshot: RwLock<Arc<Snapshot>>,
}

/// One immutable generation of the keyring.
#[derive(Debug, Default)]
struct Snapshot {
    certs: HashMap<Fingerprint, Arc<Cert>>,
    /// Fingerprint of any key (primary or subkey) → primary fingerprint.
    by_fingerprint: HashMap<Fingerprint, Fingerprint>,
    /// Key ID of any key → primary fingerprints (key IDs can collide).
    by_keyid: HashMap<KeyID, Vec<Fingerprint>>,
}

impl Snapshot {
    fn build(certs: impl IntoIterator<Item = Cert>) -> Snapshot {
        let mut merged: HashMap<Fingerprint, Cert> = HashMap::new();
        for cert in certs {
            let cert = cert.strip_secret_key_material();
            let fp = cert.fingerprint();
            let cert = match merged.remove(&fp) {
                // Both have the same primary key, so merging cannot fail.
                Some(old) => old.clone().merge_public(cert).unwrap_or(old),
                None => cert,
            };
            merged.insert(fp, cert);
        }
        let mut snap = Snapshot::default();
        for (fp, cert) in merged {
            for key in cert.keys() {
                snap.by_fingerprint
                    .insert(key.key().fingerprint(), fp.clone());
                let ids = snap.by_keyid.entry(key.key().keyid()).or_default();
                if !ids.contains(&fp) {
                    ids.push(fp.clone());
                }
            }
            snap.certs.insert(fp, Arc::new(cert));
        }
        snap
    }
}

impl Keyring {
    /// Loads a keyring from a file or a directory (see the module docs).
    pub fn load(path: impl Into<PathBuf>) -> Result<Keyring, AttestError> {
        let path = path.into();
        let snapshot = read_source(&path)?;
        Ok(Keyring {
            source: Some(path),
            snapshot: RwLock::new(Arc::new(snapshot)),
        })
    }

    /// An in-memory keyring (for tests and embedding); [`Keyring::reload`]
    /// keeps it as it is.
    pub fn from_certs(certs: impl IntoIterator<Item = Cert>) -> Keyring {
        Keyring {
            source: None,
            snapshot: RwLock::new(Arc::new(Snapshot::build(certs))),
        }
    }

    /// Reads the source again and atomically replaces the certificate set;
    /// returns the number of certificates now loaded. On error the previous
    /// set stays in force.
    pub fn reload(&self) -> Result<usize, AttestError> {
        let Some(path) = &self.source else {
            return Ok(self.len());
        };
        let fresh = Arc::new(read_source(path)?);
        let count = fresh.certs.len();
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(count)
    }

    /// The number of certificates.
    pub fn len(&self) -> usize {
        self.current().certs.len()
    }

    /// Whether the keyring holds no certificate (only possible in memory).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The certificate with this primary fingerprint.
    pub fn get(&self, primary: &Fingerprint) -> Option<Arc<Cert>> {
        self.current().certs.get(primary).cloned()
    }

    /// The certificates containing a key named by any of `handles` (the
    /// issuer subpackets of a signature), without duplicates.
    pub fn lookup(&self, handles: &[KeyHandle]) -> Vec<Arc<Cert>> {
        let snap = self.current();
        let mut found: Vec<Fingerprint> = Vec::new();
        for handle in handles {
            let primaries: Vec<Fingerprint> = match handle {
                KeyHandle::Fingerprint(fp) => {
                    snap.by_fingerprint.get(fp).cloned().into_iter().collect()
                }
                KeyHandle::KeyID(id) => snap.by_keyid.get(id).cloned().unwrap_or_default(),
            };
            for fp in primaries {
                if !found.contains(&fp) {
                    found.push(fp);
                }
            }
        }
        found
            .iter()
            .filter_map(|fp| snap.certs.get(fp).cloned())
            .collect()
    }

    /// The primary fingerprints, sorted.
    pub fn fingerprints(&self) -> Vec<Fingerprint> {
        let mut v: Vec<_> = self.current().certs.keys().cloned().collect();
        v.sort();
        v
    }

    fn current(&self) -> Arc<Snapshot> {
        // A poisoned lock still holds a complete Arc: swaps are atomic.
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn read_source(path: &Path) -> Result<Snapshot, AttestError> {
    let io = |source| AttestError::KeyringIo {
        path: path.to_owned(),
        source,
    };
    let files = if std::fs::metadata(path).map_err(io)?.is_dir() {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io)? {
            let entry = entry.map_err(io)?;
            let p = entry.path();
            let wanted = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| KEYRING_EXTENSIONS.contains(&e));
            if wanted && entry.file_type().map_err(io)?.is_file() {
                files.push(p);
            }
        }
        files.sort();
        files
    } else {
        vec![path.to_owned()]
    };
    let mut certs = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).map_err(|source| AttestError::KeyringIo {
            path: file.clone(),
            source,
        })?;
        let bad = |reason: String| AttestError::KeyringCertificate {
            path: file.clone(),
            reason,
        };
        let parser = CertParser::from_bytes(&bytes).map_err(|e| bad(chain(&e)))?;
        for cert in parser {
            certs.push(cert.map_err(|e| bad(chain(&e)))?);
        }
    }
    let snapshot = Snapshot::build(certs);
    if snapshot.certs.is_empty() {
        return Err(AttestError::KeyringEmpty {
            path: path.to_owned(),
        });
    }
    Ok(snapshot)
}
