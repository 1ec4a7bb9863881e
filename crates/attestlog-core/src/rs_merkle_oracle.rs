//! `rs_merkle` as an independent oracle for this crate's tests: a root
//! computed by a different, widely used implementation (bottom-up, level by
//! level, all in memory) that the [`crate::frontier::Frontier`] and the
//! [`crate::tree`] code are checked against.
//!
//! `rs_merkle`'s own `Sha256` hasher hashes `left || right` with no domain
//! prefix, which is **not** RFC 6962; [`Rfc6962Hasher`] prefixes 0x01. Its
//! bottom-up construction (a lone rightmost node is promoted unchanged)
//! yields the same root as RFC 9162's "split at the largest power of two"
//! definition. Leaves are given to `rs_merkle` already hashed with
//! [`crate::hash::leaf_hash`].

use sha2::{Digest, Sha256};

use crate::hash::{node_hash, Hash, HASH_SIZE};

/// An RFC 6962 interior-node hasher for `rs_merkle`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Rfc6962Hasher;

impl rs_merkle::Hasher for Rfc6962Hasher {
    type Hash = [u8; HASH_SIZE];

    fn hash(data: &[u8]) -> [u8; HASH_SIZE] {
        Sha256::digest(data).into()
    }

    fn concat_and_hash(left: &Self::Hash, right: Option<&Self::Hash>) -> Self::Hash {
        match right {
            Some(right) => node_hash(&Hash(*left), &Hash(*right)).0,
            None => *left,
        }
    }
}

/// The RFC 9162 Merkle tree hash of `leaves` (leaf hashes), computed by
/// `rs_merkle`; the empty list gives [`Hash::EMPTY_ROOT`].
pub(crate) fn rs_merkle_root(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return Hash::EMPTY_ROOT;
    }
    let raw: Vec<[u8; HASH_SIZE]> = leaves.iter().map(|h| h.0).collect();
    let tree = rs_merkle::MerkleTree::<Rfc6962Hasher>::from_leaves(&raw);
    Hash(tree.root().expect("a non-empty tree has a root"))
}

#[test]
fn the_empty_tree_is_sha256_of_nothing() {
    assert_eq!(rs_merkle_root(&[]), Hash::EMPTY_ROOT);
}
