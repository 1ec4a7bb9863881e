//! Consistency proofs (RFC 9162 §2.1.4).

use super::{check_len, check_size, ProofError, ProveError};
use crate::hash::{node_hash, Hash};
use crate::tree::{range_hashes, split_point, HashReader};

/// The ranges `[lo, hi)` whose hashes form the consistency proof from `old`
/// to `new` leaves, bottom first (RFC 9162 `SUBPROOF(m, D[n], true)`).
/// Empty when `old` is 0 or equal to `new`.
fn path_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    if old == 0 || old == new {
        return Vec::new();
    }
    let (mut lo, mut hi) = (0, new);
    let mut complete = true; // RFC 9162's `b`
    let mut top_down = Vec::new();
    let mut bottom = None;
    loop {
        if old == hi {
            if !complete {
                bottom = Some((lo, hi));
            }
            break;
        }
        let k = split_point(hi - lo);
        if old <= lo + k {
            top_down.push((lo + k, hi));
            hi = lo + k;
        } else {
            top_down.push((lo, lo + k));
            lo += k;
            complete = false;
        }
    }
    bottom
        .into_iter()
        .chain(top_down.into_iter().rev())
        .collect()
}

fn check_args(old: u64, new: u64) -> Result<(), ProofError> {
    check_size(new)?;
    if old > new {
        return Err(ProofError::OldSizeLarger { old, new });
    }
    Ok(())
}

/// The number of hashes in the consistency proof from `old` to `new`
/// leaves. It is 0 when `old` is 0 or equal to `new`.
pub fn consistency_proof_len(old: u64, new: u64) -> Result<usize, ProofError> {
    check_args(old, new)?;
    Ok(path_ranges(old, new).len())
}

/// Generates the proof that the tree of `old` leaves is a prefix of the tree
/// of `new` leaves, reading stored subtree hashes from `reader` in one call.
pub fn prove_consistency<R: HashReader + ?Sized>(
    reader: &R,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    check_args(old, new)?;
    range_hashes(reader, &path_ranges(old, new)).map_err(ProveError::Read)
}

/// Verifies that the tree of `old` leaves with root `old_root` is a prefix
/// of the tree of `new` leaves with root `new_root` (RFC 9162 §2.1.4.2).
///
/// When `old` is 0 the proof must be empty and `old_root` must be the
/// empty-tree root; when `old == new` the proof must be empty and the roots
/// equal.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    check_args(old, new)?;
    check_len(path_ranges(old, new).len(), proof.len())?;
    if old == 0 {
        if *old_root != Hash::EMPTY_ROOT {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    if old == new {
        if old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    // Step 1: when `old` is a power of two, the old root is the first node.
    let mut path = proof.iter();
    let seed = if old.is_power_of_two() {
        *old_root
    } else {
        *path.next().ok_or(ProofError::WrongProofLength {
            expected: 1,
            got: 0,
        })?
    };
    let (mut fnode, mut snode) = (old - 1, new - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (seed, seed);
    for c in path {
        if snode == 0 {
            return Err(ProofError::WrongProofLength {
                expected: proof.len() - 1,
                got: proof.len(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
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
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}
