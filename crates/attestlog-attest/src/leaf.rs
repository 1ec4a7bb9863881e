//! The leaf: the canonical binary encoding of one logged attestation, the
//! bytes the Merkle tree commits to (its RFC 6962 leaf hash is
//! `SHA-256(0x00 || leaf)`).
//!
//! # Grammar (versions 1 and 2)
//!
//! ```text
//! leaf        = version statement signature primary signer verified-at
//! version     = %x01 / %x02
//! statement   = length 1*OCTET   ; the signed statement bytes, exactly
//! signature   = length 1*OCTET   ; one OpenPGP signature packet, new-format
//!                                 ; header with the shortest length encoding
//! length      = 2OCTET           ; big-endian u16, the number of octets
//!                                 ; that follow in this field, >= 1
//! primary     = fingerprint      ; the signer's primary key
//! signer      = fingerprint      ; the key that made the signature (the
//!                                 ; primary key or a signing subkey)
//! fingerprint = %x04 20OCTET     ; OpenPGP v4 fingerprint
//!             / %x06 32OCTET     ; OpenPGP v6 fingerprint
//! verified-at = 8OCTET           ; big-endian u64, Unix seconds at which
//!                                 ; the log verified the signature
//! ```
//!
//! The whole leaf is at most [`MAX_ENTRY_SIZE`] = 65,535 bytes, because C2SP
//! tlog-tiles entry bundles prefix every entry with a big-endian u16 length.
//!
//! # Why it is canonical
//!
//! Every field has a fixed position and either a fixed width or a
//! fixed-width length prefix, so there is no choice of encoding left: no
//! varints, no optional fields, no field order to vary. The decoder rejects
//! unknown versions, empty or truncated fields, unknown fingerprint versions,
//! a signature field that is not exactly one shortest-form signature packet,
//! and trailing bytes; so `encode(decode(b)) == b` for every `b` it accepts.
//! The signature field is the packet as the log re-serialized it (new-format
//! header), so armored, old-format, compressed or inline-signed submissions of
//! one signature all give the same field.
//!
//! # Version 2: one leaf per signed content
//!
//! A signature packet has parts its signature does not cover: the unhashed
//! subpacket area, and, for a text signature (type 0x01), the line endings of
//! the text. Version 1 stored them as submitted, so anyone could turn one
//! public signature into many valid leaves. Version 2 fixes both
//! ([`crate::verify`] builds them; the decoder cannot tell, re-verification
//! does):
//!
//! * the unhashed area holds exactly one Issuer Fingerprint subpacket
//!   naming the key that made the signature, unless the hashed area already
//!   names it, in which case the unhashed area is empty;
//! * a text signature's statement has every line ending (CR LF, lone CR,
//!   lone LF) written as LF.
//!
//! Version 1 leaves stay readable and re-verifiable as they were logged;
//! the log writes only version 2.

use sequoia_openpgp::Fingerprint;

use crate::error::AttestError;
use crate::MAX_ENTRY_SIZE;

/// The leaf version this crate writes.
pub const LEAF_VERSION: u8 = 2;

/// The first leaf version (unhashed subpackets and text line endings as
/// submitted), still read and re-verified.
pub const LEAF_VERSION_1: u8 = 1;

/// The OpenPGP packet tag of a signature packet (RFC 9580 §5.2).
const SIGNATURE_TAG: u8 = 2;

/// One decoded leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    version: u8,
    statement: Vec<u8>,
    signature: Vec<u8>,
    primary: Fingerprint,
    signer: Fingerprint,
    verified_at: u64,
}

impl Leaf {
    /// Builds a leaf of the current [`LEAF_VERSION`], checking every rule
    /// the decoder checks.
    pub fn new(
        statement: Vec<u8>,
        signature: Vec<u8>,
        primary: Fingerprint,
        signer: Fingerprint,
        verified_at: u64,
    ) -> Result<Leaf, AttestError> {
        Leaf::with_version(
            LEAF_VERSION,
            statement,
            signature,
            primary,
            signer,
            verified_at,
        )
    }

    /// Builds a leaf of `version` (1 or 2), checking every rule the decoder
    /// checks.
    pub fn with_version(
        version: u8,
        statement: Vec<u8>,
        signature: Vec<u8>,
        primary: Fingerprint,
        signer: Fingerprint,
        verified_at: u64,
    ) -> Result<Leaf, AttestError> {
        if version != LEAF_VERSION && version != LEAF_VERSION_1 {
            return Err(AttestError::LeafUnsupportedVersion(version));
        }
        let leaf = Leaf {
            version,
            statement,
            signature,
            primary,
            signer,
            verified_at,
        };
        if leaf.statement.is_empty() {
            return Err(AttestError::LeafEmptyField { field: "statement" });
        }
        check_signature_framing(&leaf.signature)?;
        fingerprint_width(&leaf.primary)?;
        fingerprint_width(&leaf.signer)?;
        let size = leaf.encoded_len();
        if size > MAX_ENTRY_SIZE {
            return Err(AttestError::EntryTooLarge {
                size,
                max: MAX_ENTRY_SIZE,
            });
        }
        Ok(leaf)
    }

    /// The leaf's format version ([`LEAF_VERSION_1`] or [`LEAF_VERSION`]).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The signed statement bytes.
    pub fn statement(&self) -> &[u8] {
        &self.statement
    }

    /// The binary OpenPGP signature packet.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The signer's primary-key fingerprint (how the log files the certificate).
    pub fn primary_fingerprint(&self) -> &Fingerprint {
        &self.primary
    }

    /// The fingerprint of the key that made the signature.
    pub fn signing_fingerprint(&self) -> &Fingerprint {
        &self.signer
    }

    /// When the log verified the signature, Unix seconds.
    pub fn verified_at(&self) -> u64 {
        self.verified_at
    }

    /// The encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        1 + 2
            + self.statement.len()
            + 2
            + self.signature.len()
            + 1
            + self.primary.as_bytes().len()
            + 1
            + self.signer.as_bytes().len()
            + 8
    }

    /// Encodes the leaf. Infallible: [`Leaf::new`] and [`Leaf::decode`]
    /// already enforced every limit.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.push(self.version);
        for field in [&self.statement, &self.signature] {
            // Leaf::new bounds the whole leaf by u16::MAX, so each field fits.
            let len = u16::try_from(field.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(field);
        }
        for fp in [&self.primary, &self.signer] {
            out.push(fingerprint_version(fp));
            out.extend_from_slice(fp.as_bytes());
        }
        out.extend_from_slice(&self.verified_at.to_be_bytes());
        out
    }

    /// Decodes a leaf, rejecting anything that is not the canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Leaf, AttestError> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(AttestError::EntryTooLarge {
                size: bytes.len(),
                max: MAX_ENTRY_SIZE,
            });
        }
        let mut r = Reader(bytes);
        let version = r.take(1, "version")?[0];
        if version != LEAF_VERSION && version != LEAF_VERSION_1 {
            return Err(AttestError::LeafUnsupportedVersion(version));
        }
        let statement = r.length_prefixed("statement")?.to_vec();
        let signature = r.length_prefixed("signature")?.to_vec();
        let primary = r.fingerprint("primary")?;
        let signer = r.fingerprint("signer")?;
        let time = r.take(8, "verified_at")?;
        let mut be = [0u8; 8];
        be.copy_from_slice(time);
        if !r.0.is_empty() {
            return Err(AttestError::LeafTrailingBytes { extra: r.0.len() });
        }
        Leaf::with_version(
            version,
            statement,
            signature,
            primary,
            signer,
            u64::from_be_bytes(be),
        )
    }

    /// The RFC 6962 leaf hash of the encoding, `SHA-256(0x00 || leaf)`.
    pub fn leaf_hash(&self) -> attestlog_core::Hash {
        attestlog_core::leaf_hash(&self.encode())
    }
}

/// Checks that `sig` is one signature packet with a new-format header and
/// the shortest length encoding (RFC 9580 §4.2.1), nothing before or after.
fn check_signature_framing(sig: &[u8]) -> Result<(), AttestError> {
    let bad = |what: &str| AttestError::LeafNotCanonical {
        reason: format!("signature field: {what}"),
    };
    let (&ctb, rest) = sig
        .split_first()
        .ok_or(AttestError::LeafEmptyField { field: "signature" })?;
    if ctb != 0xC0 | SIGNATURE_TAG {
        return Err(bad("not a new-format signature packet header"));
    }
    let (body_len, header_len) = match rest {
        [a, ..] if *a < 192 => (usize::from(*a), 1),
        [a, b, ..] if *a < 224 => ((usize::from(*a) - 192) * 256 + usize::from(*b) + 192, 2),
        [0xFF, a, b, c, d, ..] => (u32::from_be_bytes([*a, *b, *c, *d]) as usize, 5),
        [] => return Err(bad("missing length")),
        _ => return Err(bad("partial-body or truncated length")),
    };
    let shortest = match body_len {
        0..=191 => 1,
        192..=8383 => 2,
        _ => 5,
    };
    if header_len != shortest {
        return Err(bad("length not in its shortest encoding"));
    }
    if rest.len() - header_len != body_len {
        return Err(bad("packet length does not match the field length"));
    }
    Ok(())
}

fn fingerprint_version(fp: &Fingerprint) -> u8 {
    match fp {
        Fingerprint::V6(_) => 6,
        _ => 4,
    }
}

fn fingerprint_width(fp: &Fingerprint) -> Result<usize, AttestError> {
    match fp {
        Fingerprint::V4(b) => Ok(b.len()),
        Fingerprint::V6(b) => Ok(b.len()),
        _ => Err(AttestError::LeafFingerprintVersion(0)),
    }
}

/// A cursor over the leaf bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], AttestError> {
        if self.0.len() < n {
            return Err(AttestError::LeafTruncated { field });
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn length_prefixed(&mut self, field: &'static str) -> Result<&'a [u8], AttestError> {
        let len = self.take(2, field)?;
        let n = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if n == 0 {
            return Err(AttestError::LeafEmptyField { field });
        }
        self.take(n, field)
    }

    fn fingerprint(&mut self, field: &'static str) -> Result<Fingerprint, AttestError> {
        let version = self.take(1, field)?[0];
        match version {
            4 => {
                let mut b = [0u8; 20];
                b.copy_from_slice(self.take(20, field)?);
                Ok(Fingerprint::V4(b))
            }
            6 => {
                let mut b = [0u8; 32];
                b.copy_from_slice(self.take(32, field)?);
                Ok(Fingerprint::V6(b))
            }
            v => Err(AttestError::LeafFingerprintVersion(v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A syntactically framed signature packet with an arbitrary body.
    pub(crate) fn framed(body: &[u8]) -> Vec<u8> {
        let mut v = vec![0xC2];
        match body.len() {
            n @ 0..=191 => v.push(n as u8),
            n @ 192..=8383 => {
                let m = n - 192;
                v.push((m / 256 + 192) as u8);
                v.push((m % 256) as u8);
            }
            n => {
                v.push(0xFF);
                v.extend_from_slice(&(n as u32).to_be_bytes());
            }
        }
        v.extend_from_slice(body);
        v
    }

    fn sample() -> Leaf {
        Leaf::with_version(
            LEAF_VERSION_1,
            b"{}".to_vec(),
            framed(&[1, 2, 3]),
            Fingerprint::V4([7; 20]),
            Fingerprint::V6([9; 32]),
            1_700_000_000,
        )
        .unwrap()
    }

    #[test]
    fn known_encoding() {
        let bytes = sample().encode();
        let mut want = vec![1, 0, 2, b'{', b'}', 0, 5, 0xC2, 3, 1, 2, 3, 4];
        want.extend([7; 20]);
        want.push(6);
        want.extend([9; 32]);
        want.extend(1_700_000_000u64.to_be_bytes());
        assert_eq!(bytes, want);
        assert_eq!(Leaf::decode(&bytes).unwrap(), sample());
        // docs/SPEC.md, "Worked example": SHA-256(0x00 || leaf).
        assert_eq!(
            hex::encode(sample().leaf_hash().as_bytes()),
            "a04bfac6e4962e19966c2c5e60304a6c48fd9d2c74c1851e887473fb8a9a6358"
        );
    }

    #[test]
    fn rejects_non_canonical() {
        let good = sample().encode();
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(
            Leaf::decode(&trailing),
            Err(AttestError::LeafTrailingBytes { extra: 1 })
        ));
        let mut version = good.clone();
        version[0] = 2;
        assert_eq!(Leaf::decode(&version).unwrap().version(), LEAF_VERSION);
        for unknown in [0, 3, 255] {
            version[0] = unknown;
            assert!(matches!(
                Leaf::decode(&version),
                Err(AttestError::LeafUnsupportedVersion(v)) if v == unknown
            ));
        }
        assert!(matches!(
            Leaf::decode(&good[..good.len() - 1]),
            Err(AttestError::LeafTruncated { .. })
        ));
        let mut fpv = good.clone();
        fpv[12] = 5;
        assert!(matches!(
            Leaf::decode(&fpv),
            Err(AttestError::LeafFingerprintVersion(5))
        ));
        // A five-octet length for a 3-byte body is not the shortest form.
        let long_form = [0xC2, 0xFF, 0, 0, 0, 3, 1, 2, 3];
        assert!(matches!(
            check_signature_framing(&long_form),
            Err(AttestError::LeafNotCanonical { .. })
        ));
        // A partial-body length is not allowed for signatures.
        assert!(matches!(
            check_signature_framing(&[0xC2, 0xE0, 0]),
            Err(AttestError::LeafNotCanonical { .. })
        ));
        // Old-format header.
        assert!(matches!(
            check_signature_framing(&[0x88, 1, 0]),
            Err(AttestError::LeafNotCanonical { .. })
        ));
        assert!(check_signature_framing(&framed(&[0; 300])).is_ok());
        assert!(check_signature_framing(&framed(&[0; 9000])).is_ok());
    }

    #[test]
    fn size_limit() {
        let big = vec![b' '; MAX_ENTRY_SIZE];
        assert!(matches!(
            Leaf::new(
                big,
                framed(&[0]),
                Fingerprint::V4([0; 20]),
                Fingerprint::V4([0; 20]),
                0
            ),
            Err(AttestError::EntryTooLarge { .. })
        ));
    }
}
