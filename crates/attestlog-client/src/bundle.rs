//! Offline bundles: every entry the log holds for one artifact digest, with
//! its signer's certificate and a C2SP tlog-proof, in one file that
//! verifies with no network (`attestlog verify --bundle FILE`).
//!
//! ```text
//! bundle      = magic digest-line count-line count*entry
//! magic       = "attestlog bundle v1\n"
//! digest-line = "digest sha256:" 64(%x30-39 / %x61-66) "\n"
//! count-line  = "entries " count "\n"           ; decimal, no leading zeros,
//!                                               ; count ≤ MAX_BUNDLE_ENTRIES
//! entry       = "entry " base64(leaf) "\n"      ; canonical leaf (SPEC §6.5)
//!               "certificate " base64(cert) "\n"; the signer's certificate,
//!                                               ; binary OpenPGP, as logged
//!               "proof " length "\n"            ; decimal, ≤ MAX_ENTRY_PROOF_SIZE
//!               length*OCTET                    ; c2sp.org/tlog-proof@v1 text
//!                                               ; for this leaf ([`TlogProof`])
//! base64      = standard alphabet, padded (RFC 4648 §4), one line
//! ```
//!
//! Nothing in a bundle is trusted: each proof's checkpoint is checked
//! against the verifier's tlog-policy, each audit path against that
//! checkpoint's root, and each leaf's signature against the verifier's
//! own keyring (the bundled certificate only adds what its primary key
//! signed, such as a newer subkey). The bundled certificate is there so
//! that a reader can see who signed without fetching anything.
//!
//! Serializing a parsed bundle gives back exactly its bytes. A bundle
//! converts to and from the quorum check's [`Candidate`]s
//! ([`Bundle::from_candidates`], [`Bundle::candidates`]); the check itself
//! is [`crate::artifact::verify_offline`].

use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::Cert;
use attestlog_core::text::{decode_lower_hex_32, parse_decimal_u64};
use base64::Engine as _;

use crate::error::ClientError;
use crate::quorum::Candidate;
use crate::tlog_proof::TlogProof;

/// The first line of a bundle, with its newline.
pub const BUNDLE_MAGIC: &str = "attestlog bundle v1\n";
/// The most entries one bundle may carry.
pub const MAX_BUNDLE_ENTRIES: usize = 1000;
/// The largest tlog-proof text of one entry: a note of
/// [`attestlog_core::note::MAX_NOTE_SIZE`] plus room for the path.
pub const MAX_ENTRY_PROOF_SIZE: usize = attestlog_core::note::MAX_NOTE_SIZE + 8 * 1024;
/// The largest bundle file accepted, in bytes.
pub const MAX_BUNDLE_SIZE: usize = 64 << 20;

/// One bundled entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleEntry {
    /// The canonical leaf bytes.
    pub leaf: Vec<u8>,
    /// The signer certificate as the log stores it (binary OpenPGP).
    pub certificate: Vec<u8>,
    /// The tlog-proof text, verbatim.
    pub proof: Vec<u8>,
}

impl BundleEntry {
    /// Parses the entry's tlog-proof.
    pub fn tlog_proof(&self) -> Result<TlogProof, ClientError> {
        TlogProof::parse(&self.proof)
    }
}

/// A bundle file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    /// The artifact's SHA-256 digest.
    pub digest: [u8; 32],
    /// The entries.
    pub entries: Vec<BundleEntry>,
}

fn bad(reason: &str) -> ClientError {
    ClientError::Bundle(reason.to_owned())
}

struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn line(&mut self) -> Result<&'a str, ClientError> {
        let at = self
            .rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad("a line does not end in a newline"))?;
        let l = std::str::from_utf8(&self.rest[..at]).map_err(|_| bad("a line is not UTF-8"))?;
        self.rest = &self.rest[at + 1..];
        Ok(l)
    }

    fn field(&mut self, name: &str) -> Result<&'a str, ClientError> {
        let l = self.line()?;
        l.strip_prefix(name)
            .ok_or_else(|| ClientError::Bundle(format!("expected a `{}` line", name.trim_end())))
    }

    fn base64(&mut self, name: &str) -> Result<Vec<u8>, ClientError> {
        let v = self.field(name)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v)
            .map_err(|_| ClientError::Bundle(format!("`{}` is not base64", name.trim_end())))?;
        // Canonical: re-encoding must give the same text.
        if base64::engine::general_purpose::STANDARD.encode(&bytes) != v {
            return Err(ClientError::Bundle(format!(
                "`{}` is not canonical base64",
                name.trim_end()
            )));
        }
        Ok(bytes)
    }
}

impl Bundle {
    /// Parses a bundle (grammar in the module documentation).
    pub fn parse(bytes: &[u8]) -> Result<Bundle, ClientError> {
        if bytes.len() > MAX_BUNDLE_SIZE {
            return Err(bad("file is larger than the bundle limit"));
        }
        let mut c = Cursor {
            rest: bytes
                .strip_prefix(BUNDLE_MAGIC.as_bytes())
                .ok_or_else(|| bad("does not start with `attestlog bundle v1`"))?,
        };
        let digest = parse_digest(c.field("digest ")?)
            .ok_or_else(|| bad("digest is not sha256:<64 lowercase hex digits>"))?;
        let count = parse_decimal_u64(c.field("entries ")?)
            .map_err(|_| bad("entry count is not a decimal number"))?;
        if count > MAX_BUNDLE_ENTRIES as u64 {
            return Err(bad("more entries than a bundle may carry"));
        }
        let mut entries = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let leaf = c.base64("entry ")?;
            let certificate = c.base64("certificate ")?;
            let len = parse_decimal_u64(c.field("proof ")?)
                .map_err(|_| bad("proof length is not a decimal number"))?;
            if len > MAX_ENTRY_PROOF_SIZE as u64 || len > c.rest.len() as u64 {
                return Err(bad(
                    "proof length runs past the end of the file or the limit",
                ));
            }
            let (proof, rest) = c.rest.split_at(len as usize);
            c.rest = rest;
            entries.push(BundleEntry {
                leaf,
                certificate,
                proof: proof.to_vec(),
            });
        }
        if !c.rest.is_empty() {
            return Err(bad("trailing bytes after the last entry"));
        }
        Ok(Bundle { digest, entries })
    }

    /// Serializes the bundle; the inverse of [`Bundle::parse`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let mut out = BUNDLE_MAGIC.as_bytes().to_vec();
        out.extend_from_slice(
            format!(
                "digest sha256:{}\nentries {}\n",
                hex::encode(self.digest),
                self.entries.len()
            )
            .as_bytes(),
        );
        for e in &self.entries {
            out.extend_from_slice(
                format!(
                    "entry {}\ncertificate {}\nproof {}\n",
                    b64(&e.leaf),
                    b64(&e.certificate),
                    e.proof.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(&e.proof);
        }
        out
    }

    /// Packs candidates (as [`crate::online::candidates`] fetches them)
    /// into a bundle for `digest`; a candidate without a logged
    /// certificate gets an empty one.
    pub fn from_candidates(digest: &[u8; 32], candidates: &[Candidate]) -> Bundle {
        Bundle {
            digest: *digest,
            entries: candidates
                .iter()
                .map(|c| BundleEntry {
                    leaf: c.leaf.clone(),
                    certificate: c.logged_certificate.clone().unwrap_or_default(),
                    proof: TlogProof {
                        extra: None,
                        index: c.index,
                        audit_path: c.audit_path.clone(),
                        checkpoint: c.checkpoint.clone(),
                    }
                    .to_bytes(),
                })
                .collect(),
        }
    }

    /// Reads the candidates back, with no network: each entry's tlog-proof
    /// must parse, and so must its certificate unless it is empty.
    pub fn candidates(&self) -> Result<Vec<Candidate>, ClientError> {
        self.entries
            .iter()
            .map(|e| {
                let p = e.tlog_proof()?;
                let logged_certificate = if e.certificate.is_empty() {
                    None
                } else {
                    // Informational (trust comes from the verifier's keyring),
                    // but a bundle whose certificate does not parse is corrupt.
                    Cert::from_bytes(&e.certificate).map_err(|err| {
                        ClientError::Bundle(format!(
                            "the certificate of entry {} does not parse: {err}",
                            p.index
                        ))
                    })?;
                    Some(e.certificate.clone())
                };
                Ok(Candidate {
                    index: p.index,
                    leaf: e.leaf.clone(),
                    logged_certificate,
                    audit_path: p.audit_path,
                    checkpoint: p.checkpoint,
                })
            })
            .collect()
    }
}

/// Parses `sha256:<64 lowercase hex>`.
pub fn parse_digest(s: &str) -> Option<[u8; 32]> {
    decode_lower_hex_32(s.strip_prefix("sha256:")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bundle {
        Bundle {
            digest: [0xab; 32],
            entries: vec![
                BundleEntry {
                    leaf: vec![1, 2, 3],
                    certificate: vec![4; 40],
                    proof: b"c2sp.org/tlog-proof@v1\nindex 0\n\nx\n".to_vec(),
                },
                BundleEntry {
                    leaf: vec![9],
                    certificate: vec![8],
                    proof: b"\n\n".to_vec(),
                },
            ],
        }
    }

    #[test]
    fn round_trip() {
        let b = sample();
        let bytes = b.to_bytes();
        let parsed = Bundle::parse(&bytes).unwrap();
        assert_eq!(parsed, b);
        assert_eq!(parsed.to_bytes(), bytes);
    }

    #[test]
    fn rejections() {
        let good = sample().to_bytes();
        // Every truncation fails.
        for n in 0..good.len() {
            assert!(Bundle::parse(&good[..n]).is_err(), "truncated at {n}");
        }
        let mut trailing = good.clone();
        trailing.push(b'x');
        assert!(Bundle::parse(&trailing).is_err());
        for bad in [
            "attestlog bundle v2\n",
            "attestlog bundle v1\ndigest sha256:AB\nentries 0\n",
            "attestlog bundle v1\ndigest sha1:00\nentries 0\n",
            "attestlog bundle v1\ndigest sha256:0000000000000000000000000000000000000000000000000000000000000000\nentries 01\n",
            "attestlog bundle v1\ndigest sha256:0000000000000000000000000000000000000000000000000000000000000000\nentries 1001\n",
        ] {
            assert!(Bundle::parse(bad.as_bytes()).is_err(), "{bad}");
        }
        let empty = "attestlog bundle v1\ndigest sha256:0000000000000000000000000000000000000000000000000000000000000000\nentries 0\n";
        assert!(Bundle::parse(empty.as_bytes()).is_ok());
    }
}
