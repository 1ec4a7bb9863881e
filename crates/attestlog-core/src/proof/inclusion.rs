//! Inclusion proofs (RFC 9162 §2.1.3).

use super::{check_len, check_size, ProofError, ProveError};
use crate::hash::{node_hash, Hash};
use crate::tree::{range_hashes, split_point, HashReader};

/// The ranges `[lo, hi)` whose hashes form the audit path of leaf `index`
/// in a tree of `size` leaves, bottom first (RFC 9162 `PATH(m, D[n])`).
fn path_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut hi) = (0, size);
    let mut top_down = Vec::new();
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            top_down.push((lo + k, hi));
            hi = lo + k;
        } else {
            top_down.push((lo, lo + k));
            lo += k;
        }
    }
    top_down.reverse();
    top_down
}

fn check_args(index: u64, size: u64) -> Result<(), ProofError> {
    check_size(size)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    Ok(())
}

/// The number of hashes in the inclusion proof of `index` in a tree of
/// `size` leaves.
pub fn inclusion_proof_len(index: u64, size: u64) -> Result<usize, ProofError> {
    check_args(index, size)?;
    Ok(path_ranges(index, size).len())
}

/// Generates the inclusion proof of leaf `index` in the tree of the first
/// `size` leaves, reading stored subtree hashes from `reader` in one call.
pub fn prove_inclusion<R: HashReader + ?Sized>(
    reader: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    check_args(index, size)?;
    range_hashes(reader, &path_ranges(index, size)).map_err(ProveError::Read)
}

/// Computes the root that `proof` implies for `leaf` at `index` in a tree of
/// `size` leaves (RFC 9162 §2.1.3.2), after checking the proof's length.
pub fn root_from_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    check_args(index, size)?;
    check_len(path_ranges(index, size).len(), proof.len())?;
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongProofLength {
                expected: proof.len() - 1,
                got: proof.len(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongProofLength {
            expected: proof.len() + 1,
            got: proof.len(),
        });
    }
    Ok(r)
}

/// Verifies that `leaf` is at `index` in the tree of `size` leaves whose
/// root is `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if root_from_inclusion(leaf, index, size, proof)? != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}
