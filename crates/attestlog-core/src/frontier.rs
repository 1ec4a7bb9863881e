//! The Merkle frontier: the root of a growing tree in O(log n) memory.
//!
//! A tree of `size` leaves is, left to right, a run of complete, aligned
//! subtrees, one for each bit set in `size` (13 = 8 + 4 + 1 leaves):
//! [`crate::tree::decompose`]`(0, size)`. Their hashes, the tree's *frontier*
//! (the "compact range" `[0, size)` of transparency-dev/merkle), are all
//! that is needed
//!
//! - to append a leaf: it merges with the frontier's rightmost hashes of
//!   equal height, one `node_hash` per trailing one bit of `size`;
//! - to compute the root: fold the hashes from the right,
//!   `node(h0, node(h1, … node(h_{k-2}, h_{k-1})))`, which is RFC 9162's
//!   `MTH(D[0:size])` (split at the largest power of two below `size`).
//!
//! ```text
//! size 13 = 0b1101      frontier [ MTH(D[0:8]), MTH(D[8:12]), MTH(D[12:13]) ]
//! push leaf 13:         size 14 = 0b1110: MTH(D[12:13]) and the new leaf merge
//!                       frontier [ MTH(D[0:8]), MTH(D[8:12]), MTH(D[12:14]) ]
//! ```
//!
//! This is the one implementation of that fold: the sequencer's
//! [`crate::tree::append_leaves`], [`crate::tree::tree_root`], tile hashes
//! ([`crate::tile::tile_root`]), the store's start-up root recomputation and
//! the client's monitor all use it. Memory is at most 63 hashes; pushing a
//! leaf allocates nothing once the frontier has grown to its height.

use crate::hash::{node_hash, Hash};
use crate::tree::{decompose, fold_range, HashReader, Subtree, MAX_TREE_SIZE};

/// Why hashes given as a frontier were refused by [`Frontier::from_parts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrontierError {
    /// The tree size is above [`MAX_TREE_SIZE`].
    #[error("tree size {0} is larger than 2^63")]
    SizeTooLarge(u64),
    /// A frontier of `size` leaves has one hash per bit set in `size`.
    #[error("a frontier of {size} leaves has {expected} hashes, not {got}")]
    WrongHashCount {
        /// The tree size given.
        size: u64,
        /// The number of hashes a frontier of that size has.
        expected: usize,
        /// The number of hashes given.
        got: usize,
    },
}

/// The hashes of the complete subtrees covering leaves `[0, size)`, largest
/// (leftmost) first: enough to append leaves and to compute the root of
/// every size reached.
///
/// Invariant: there is exactly one hash per bit set in `size`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// A frontier from its tree size and its hashes, largest subtree first
    /// (what [`Frontier::hashes`] returned, or the hashes of
    /// [`decompose`]`(0, size)` read from tiles). Fails unless there is one
    /// hash per bit set in `size`, and `size` is at most [`MAX_TREE_SIZE`].
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Frontier, FrontierError> {
        if size > MAX_TREE_SIZE {
            return Err(FrontierError::SizeTooLarge(size));
        }
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(FrontierError::WrongHashCount {
                size,
                expected,
                got: hashes.len(),
            });
        }
        Ok(Frontier { size, hashes })
    }

    /// The frontier of the tree of the first `size` leaves held by `reader`,
    /// read in one call (none for the empty tree). `size` must be within
    /// the reader's tree and at most [`MAX_TREE_SIZE`]; the reader returns
    /// one hash per subtree asked for, as [`HashReader`] promises.
    pub fn read<R: HashReader + ?Sized>(reader: &R, size: u64) -> Result<Frontier, R::Error> {
        let edge = decompose(0, size);
        let hashes = if edge.is_empty() {
            Vec::new()
        } else {
            reader.read_hashes(&edge)?
        };
        debug_assert_eq!(hashes.len(), edge.len(), "HashReader broke its promise");
        Ok(Frontier { size, hashes })
    }

    /// The number of leaves folded in.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The frontier's hashes, largest subtree first: one per bit set in
    /// [`Frontier::size`]. [`Frontier::from_parts`] takes them back.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        self.push_reporting(leaf, |_, _| {});
    }

    /// Appends one leaf hash, calling `completed` with every subtree the
    /// leaf completes and its hash, bottom up: the leaf itself first, then
    /// one subtree per level it merges into. A store keeps these.
    pub fn push_reporting(&mut self, leaf: Hash, mut completed: impl FnMut(Subtree, Hash)) {
        let index = self.size;
        let mut top = leaf;
        completed(Subtree::leaf(index), top);
        // Each trailing one bit of the old size is a complete subtree of the
        // same height as `top` just to its left: merge them.
        for level in 1..=index.trailing_ones() {
            let Some(left) = self.hashes.pop() else {
                break; // unreachable: one hash per bit set in `size`
            };
            top = node_hash(&left, &top);
            completed(
                Subtree {
                    level: level as u8,
                    index: index >> level,
                },
                top,
            );
        }
        self.hashes.push(top);
        self.size += 1;
    }

    /// The RFC 9162 Merkle tree hash of the leaves folded in;
    /// [`Hash::EMPTY_ROOT`] for none.
    pub fn root(&self) -> Hash {
        fold_range(&self.hashes).unwrap_or(Hash::EMPTY_ROOT)
    }
}

impl Extend<Hash> for Frontier {
    /// Appends leaf hashes in order, as [`Frontier::push`] does.
    fn extend<I: IntoIterator<Item = Hash>>(&mut self, leaves: I) {
        for leaf in leaves {
            self.push(leaf);
        }
    }
}

impl FromIterator<Hash> for Frontier {
    /// The frontier of the tree of these leaf hashes.
    fn from_iter<I: IntoIterator<Item = Hash>>(leaves: I) -> Frontier {
        let mut f = Frontier::new();
        f.extend(leaves);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::rs_merkle_oracle::rs_merkle_root;
    use crate::tree::{tree_root, InMemoryTree};
    use proptest::prelude::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    fn tree_of(leaves: &[Hash]) -> InMemoryTree {
        let mut t = InMemoryTree::new();
        for &leaf in leaves {
            t.push(leaf);
        }
        t
    }

    /// RFC 9162 §2.1.1 `MTH`, written as the RFC defines it (recursion on
    /// the largest power of two below `n`): a third, independent root.
    fn mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => Hash::EMPTY_ROOT,
            1 => d[0],
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    /// Sizes where the frontier's shape changes most: 0, 1, and every
    /// power of two and its neighbours up to 2^12.
    fn edge_sizes() -> Vec<u64> {
        let mut s = vec![0, 1];
        for k in 1..=12 {
            s.extend([(1u64 << k) - 1, 1 << k, (1 << k) + 1]);
        }
        s.sort_unstable();
        s.dedup();
        s
    }

    #[test]
    fn empty_frontier_has_the_empty_root() {
        let f = Frontier::new();
        assert_eq!(f.size(), 0);
        assert!(f.hashes().is_empty());
        assert_eq!(f.root(), Hash::EMPTY_ROOT);
    }

    #[test]
    fn one_leaf_is_its_own_root() {
        let leaf = leaf_hash(b"a");
        let f: Frontier = [leaf].into_iter().collect();
        assert_eq!(f.root(), leaf);
    }

    #[test]
    fn roots_at_every_size_match_the_tree_and_rs_merkle() {
        let all = leaves(300);
        let mut f = Frontier::new();
        let mut t = InMemoryTree::new();
        for (i, &leaf) in all.iter().enumerate() {
            f.push(leaf);
            t.push(leaf);
            let size = i as u64 + 1;
            assert_eq!(f.size(), size);
            assert_eq!(f.hashes().len(), size.count_ones() as usize);
            assert_eq!(f.root(), t.root(), "size {size}");
            assert_eq!(f.root(), rs_merkle_root(&all[..=i]), "size {size}");
        }
    }

    #[test]
    fn roots_at_edge_sizes_match_three_other_computations() {
        let all = leaves(4097);
        let t = tree_of(&all);
        for size in edge_sizes() {
            let d = &all[..size as usize];
            let f: Frontier = d.iter().copied().collect();
            assert_eq!(f.root(), rs_merkle_root(d), "size {size}");
            assert_eq!(f.root(), mth(d), "size {size}");
            assert_eq!(f.root(), tree_root(&t, size).unwrap(), "size {size}");
        }
    }

    #[test]
    fn hashes_are_the_decomposed_subtrees() {
        let all = leaves(45);
        let t = tree_of(&all);
        let f: Frontier = all.iter().copied().collect();
        let want: Vec<Hash> = decompose(0, 45)
            .into_iter()
            .map(|s| t.subtree(s).unwrap())
            .collect();
        assert_eq!(f.hashes(), &want[..]);
        assert_eq!(Frontier::read(&t, 45).unwrap(), f);
    }

    #[test]
    fn push_reports_each_completed_subtree_once() {
        let all = leaves(70);
        let t = tree_of(&all);
        let mut f = Frontier::new();
        let mut reported = Vec::new();
        for &leaf in &all {
            f.push_reporting(leaf, |st, h| reported.push((st, h)));
        }
        let complete: u64 = (0..64).map(|l| 70u64 >> l).sum();
        assert_eq!(reported.len() as u64, complete);
        for (st, h) in reported {
            assert_eq!(t.subtree(st), Some(h), "{st:?}");
        }
    }

    #[test]
    fn from_parts_checks_the_hash_count_and_size() {
        let f: Frontier = leaves(13).into_iter().collect();
        let back = Frontier::from_parts(13, f.hashes().to_vec()).unwrap();
        assert_eq!(back, f);
        assert_eq!(
            Frontier::from_parts(12, f.hashes().to_vec()),
            Err(FrontierError::WrongHashCount {
                size: 12,
                expected: 2,
                got: 3
            })
        );
        assert_eq!(
            Frontier::from_parts(0, vec![]).unwrap().root(),
            Hash::EMPTY_ROOT
        );
        let max = Frontier::from_parts(MAX_TREE_SIZE, vec![Hash([1; 32])]).unwrap();
        assert_eq!(max.root(), Hash([1; 32]));
        assert_eq!(
            Frontier::from_parts(MAX_TREE_SIZE + 1, vec![Hash([1; 32]); 2]),
            Err(FrontierError::SizeTooLarge(MAX_TREE_SIZE + 1))
        );
    }

    /// A reader of a tree too large to build: every subtree's hash is made
    /// up from its position. Not a real tree, but every frontier read from
    /// it is one, of the given size.
    struct Synthetic;

    impl HashReader for Synthetic {
        type Error = std::convert::Infallible;
        fn read_hashes(&self, subtrees: &[Subtree]) -> Result<Vec<Hash>, Self::Error> {
            Ok(subtrees
                .iter()
                .map(|s| {
                    let mut b = [0u8; 9];
                    b[0] = s.level;
                    b[1..].copy_from_slice(&s.index.to_be_bytes());
                    leaf_hash(&b)
                })
                .collect())
        }
    }

    /// The [`Synthetic`] tree of `size` leaves with `pushed` appended: a
    /// subtree reaching past `size` is hashed from its two halves (RFC 9162
    /// §2.1.1), down to the pushed leaves.
    struct Grown<'a> {
        size: u64,
        pushed: &'a [Hash],
    }

    impl Grown<'_> {
        fn hash(&self, s: Subtree) -> Hash {
            if s.end() <= self.size {
                return Synthetic.read_hashes(&[s]).unwrap()[0];
            }
            match s.children() {
                None => self.pushed[(s.index - self.size) as usize],
                Some((l, r)) => node_hash(&self.hash(l), &self.hash(r)),
            }
        }
    }

    impl HashReader for Grown<'_> {
        type Error = std::convert::Infallible;
        fn read_hashes(&self, subtrees: &[Subtree]) -> Result<Vec<Hash>, Self::Error> {
            Ok(subtrees.iter().map(|&s| self.hash(s)).collect())
        }
    }

    #[test]
    fn huge_sizes_fold_like_the_tree_code() {
        for k in [32u32, 40, 62] {
            for size in [(1u64 << k) - 1, 1 << k, (1 << k) + 1] {
                let f = Frontier::read(&Synthetic, size).unwrap();
                assert_eq!(f.hashes().len(), size.count_ones() as usize);
                assert_eq!(f.root(), tree_root(&Synthetic, size).unwrap());
            }
        }
        let f = Frontier::read(&Synthetic, MAX_TREE_SIZE).unwrap();
        assert_eq!(f.root(), tree_root(&Synthetic, MAX_TREE_SIZE).unwrap());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any size, any split into an old tree read back and leaves pushed
        /// after it: the root is rs_merkle's, RFC 9162's and the tree's.
        #[test]
        fn roots_match_rs_merkle_and_the_tree(size in 0u64..1100, split in any::<u64>(), seed in any::<u64>()) {
            let all: Vec<Hash> = (0..size)
                .map(|i| leaf_hash(&[seed.to_be_bytes(), i.to_be_bytes()].concat()))
                .collect();
            let t = tree_of(&all);
            let old = split % (size + 1);
            let mut f = Frontier::read(&t, old).unwrap();
            prop_assert_eq!(f.root(), tree_root(&t, old).unwrap());
            f.extend(all[old as usize..].iter().copied());
            prop_assert_eq!(f.size(), size);
            prop_assert_eq!(f.root(), rs_merkle_root(&all));
            prop_assert_eq!(f.root(), mth(&all));
            prop_assert_eq!(f.root(), tree_root(&t, size).unwrap());
            let back = Frontier::from_parts(size, f.hashes().to_vec()).unwrap();
            prop_assert_eq!(back, f);
        }

        /// Large sizes: leaves pushed onto a frontier read back give the
        /// hashes and root that RFC 9162's recursive definition gives for
        /// the grown tree.
        #[test]
        fn pushing_onto_a_large_frontier(size in 0u64..(1 << 62), pushes in 0usize..40) {
            let pushed: Vec<Hash> = (0..pushes as u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let mut f = Frontier::read(&Synthetic, size).unwrap();
            f.extend(pushed.iter().copied());
            let grown = Grown { size, pushed: &pushed };
            let new_size = size + pushes as u64;
            let want = grown.read_hashes(&decompose(0, new_size)).unwrap();
            prop_assert_eq!(f.size(), new_size);
            prop_assert_eq!(f.hashes(), &want[..]);
            prop_assert_eq!(f.root(), fold_range(&want).unwrap_or(Hash::EMPTY_ROOT));
        }
    }
}
