//! RFC 9162 inclusion and consistency proofs: generation from stored subtree
//! hashes, and verification.
//!
//! A proof is a list of hashes (an "audit path" or "consistency path"),
//! ordered from the bottom of the tree to the top, exactly as RFC 9162
//! §2.1.3.1 and §2.1.4.1 produce them. Generation reads O(log n) stored
//! subtree hashes through a [`HashReader`](crate::tree::HashReader) in a
//! single call.
//!
//! Wire forms of a proof live with the formats that carry them: base64 lines
//! ([`parse_base64_lines`], as in C2SP tlog-witness and tlog-proof) and
//! concatenated 32-byte hashes ([`parse_concatenated`]).

mod consistency;
mod inclusion;

pub use consistency::{consistency_proof_len, prove_consistency, verify_consistency};
pub use inclusion::{inclusion_proof_len, prove_inclusion, root_from_inclusion, verify_inclusion};

use base64::Engine as _;

use crate::hash::{Hash, HASH_SIZE};
use crate::tree::MAX_TREE_SIZE;

/// The longest proof that a tree of at most 2^63 leaves can need.
pub const MAX_PROOF_HASHES: usize = 63;

/// Why a proof could not be generated or did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A tree size above 2^63 was given.
    #[error("tree size {size} is larger than the maximum of 2^63")]
    SizeTooLarge {
        /// The size given.
        size: u64,
    },
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is out of range for a tree of {size} leaves")]
    IndexOutOfRange {
        /// The index given.
        index: u64,
        /// The tree size given.
        size: u64,
    },
    /// A consistency proof was asked between an old size above the new one.
    #[error("old tree size {old} is larger than new tree size {new}")]
    OldSizeLarger {
        /// The old size.
        old: u64,
        /// The new size.
        new: u64,
    },
    /// More hashes than any tree of at most 2^63 leaves needs.
    #[error("proof has {len} hashes; no proof has more than 63")]
    ProofTooLong {
        /// The number of hashes.
        len: usize,
    },
    /// The proof does not have the number of hashes its sizes imply.
    #[error("proof has {got} hashes but these sizes need exactly {expected}")]
    WrongProofLength {
        /// What the sizes imply.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// The proof is well-formed but yields a different root.
    #[error("proof does not lead to the expected root hash")]
    RootMismatch,
    /// Proof bytes or text could not be decoded.
    #[error("malformed proof: {0}")]
    Malformed(&'static str),
}

/// Why a proof could not be generated: bad arguments, or the store failed.
#[derive(Debug, thiserror::Error)]
pub enum ProveError<E> {
    /// The sizes or index do not describe a proof (see [`ProofError`]).
    #[error(transparent)]
    Invalid(#[from] ProofError),
    /// The hash reader failed.
    #[error("reading stored hashes: {0}")]
    Read(#[source] E),
}

pub(crate) fn check_size(size: u64) -> Result<(), ProofError> {
    if size > MAX_TREE_SIZE {
        return Err(ProofError::SizeTooLarge { size });
    }
    Ok(())
}

pub(crate) fn check_len(expected: usize, got: usize) -> Result<(), ProofError> {
    if got > MAX_PROOF_HASHES {
        return Err(ProofError::ProofTooLong { len: got });
    }
    if got != expected {
        return Err(ProofError::WrongProofLength { expected, got });
    }
    Ok(())
}

/// Reads a proof given as concatenated 32-byte hashes.
pub fn parse_concatenated(bytes: &[u8]) -> Result<Vec<Hash>, ProofError> {
    if !bytes.len().is_multiple_of(HASH_SIZE) {
        return Err(ProofError::Malformed(
            "length is not a multiple of 32 bytes",
        ));
    }
    let count = bytes.len() / HASH_SIZE;
    if count > MAX_PROOF_HASHES {
        return Err(ProofError::ProofTooLong { len: count });
    }
    Ok(bytes
        .chunks_exact(HASH_SIZE)
        .filter_map(Hash::from_slice)
        .collect())
}

/// Reads a proof given as lines of standard base64, one hash per line, each
/// line ending in `\n` (the form of C2SP tlog-witness and tlog-proof).
pub fn parse_base64_lines(text: &str) -> Result<Vec<Hash>, ProofError> {
    let mut out = Vec::new();
    if text.is_empty() {
        return Ok(out);
    }
    let body = text.strip_suffix('\n').ok_or(ProofError::Malformed(
        "proof text does not end in a newline",
    ))?;
    for line in body.split('\n') {
        if out.len() == MAX_PROOF_HASHES {
            return Err(ProofError::ProofTooLong {
                len: MAX_PROOF_HASHES + 1,
            });
        }
        out.push(parse_base64_hash(line)?);
    }
    Ok(out)
}

/// Decodes one hash from standard, padded base64 (44 characters).
pub fn parse_base64_hash(text: &str) -> Result<Hash, ProofError> {
    let mut buf = [0u8; HASH_SIZE + 2];
    if text.len() != 44 {
        return Err(ProofError::Malformed("a hash is 44 characters of base64"));
    }
    let n = base64::engine::general_purpose::STANDARD
        .decode_slice(text, &mut buf)
        .map_err(|_| ProofError::Malformed("invalid base64"))?;
    Hash::from_slice(&buf[..n]).ok_or(ProofError::Malformed("a hash is 32 bytes"))
}

/// Writes a proof as base64 lines, the inverse of [`parse_base64_lines`].
pub fn to_base64_lines(proof: &[Hash]) -> String {
    let mut out = String::with_capacity(proof.len() * 45);
    for h in proof {
        out.push_str(&base64::engine::general_purpose::STANDARD.encode(h.0));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn base64_lines_round_trip() {
        let proof: Vec<Hash> = (0..5u8).map(|i| leaf_hash(&[i])).collect();
        let text = to_base64_lines(&proof);
        assert_eq!(parse_base64_lines(&text).unwrap(), proof);
        assert_eq!(parse_base64_lines("").unwrap(), vec![]);
    }

    #[test]
    fn base64_lines_reject_malformed() {
        let h = to_base64_lines(&[leaf_hash(b"x")]);
        assert!(parse_base64_lines(h.trim_end()).is_err());
        assert!(parse_base64_lines(&format!("{h}\n")).is_err());
        assert!(parse_base64_lines("AAAA\n").is_err());
        let long = h.repeat(64);
        assert_eq!(
            parse_base64_lines(&long),
            Err(ProofError::ProofTooLong { len: 64 })
        );
        assert!(parse_base64_lines(&h.repeat(63)).is_ok());
    }

    #[test]
    fn concatenated_rejects_bad_lengths() {
        assert!(parse_concatenated(&[0u8; 33]).is_err());
        assert_eq!(parse_concatenated(&[0u8; 64]).unwrap().len(), 2);
        assert_eq!(
            parse_concatenated(&[0u8; 64 * 32]),
            Err(ProofError::ProofTooLong { len: 64 })
        );
    }
}
