//! Addressing of complete subtrees, and hash reading for trees too large to
//! hold in memory.
//!
//! A log stores the hash of every *complete, aligned* subtree: the subtree at
//! `level` `l` and `index` `i` covers leaves `[i·2^l, (i+1)·2^l)`. Level 0
//! holds leaf hashes. Any range that RFC 9162's recursive definitions ask for
//! (`D[lo:hi]` where `lo` is a multiple of a power of two at least `hi - lo`)
//! decomposes into at most 64 such subtrees, which is what makes proofs cost
//! O(log n) reads. A store implements [`HashReader`]; the proof code in
//! [`crate::proof`] plans which subtrees it needs, asks for all of them in one
//! call, and folds them.

use crate::frontier::Frontier;
use crate::hash::{node_hash, Hash};

/// The largest tree size this crate accepts: 2^63 leaves.
///
/// Sizes and indexes are `u64`; keeping them at or below 2^63 leaves room
/// for `index + 1` and for power-of-two arithmetic without overflow.
pub const MAX_TREE_SIZE: u64 = 1 << 63;

/// A complete, aligned subtree: leaves `[index << level, (index + 1) << level)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subtree {
    /// Height above the leaves; 0 is a single leaf.
    pub level: u8,
    /// Position among the subtrees of this level, from the left.
    pub index: u64,
}

impl Subtree {
    /// The subtree that is the single leaf `index`.
    pub fn leaf(index: u64) -> Subtree {
        Subtree { level: 0, index }
    }

    /// The first leaf index covered.
    pub fn start(&self) -> u64 {
        self.index << self.level
    }

    /// One past the last leaf index covered.
    pub fn end(&self) -> u64 {
        (self.index + 1) << self.level
    }

    /// The two halves one level down, or `None` for a leaf.
    pub fn children(&self) -> Option<(Subtree, Subtree)> {
        let level = self.level.checked_sub(1)?;
        Some((
            Subtree {
                level,
                index: self.index * 2,
            },
            Subtree {
                level,
                index: self.index * 2 + 1,
            },
        ))
    }
}

/// A source of stored subtree hashes: a database, a set of tiles, memory.
pub trait HashReader {
    /// Why a read failed (I/O, a missing hash, corruption).
    type Error;

    /// Returns the hashes of `subtrees`, in the same order.
    ///
    /// Every requested subtree is complete within the tree the caller is
    /// working on; a reader that does not hold one must return an error,
    /// never a made-up hash.
    fn read_hashes(&self, subtrees: &[Subtree]) -> Result<Vec<Hash>, Self::Error>;
}

/// Splits `[start, end)` into maximal complete, aligned subtrees, left to
/// right. Returns an empty list when `start >= end`.
///
/// For the ranges of RFC 9162's definitions (`start` a multiple of a power
/// of two at least `end - start`), folding the pieces from the right with
/// [`node_hash`] gives the range's Merkle tree hash: see [`fold_range`].
pub fn decompose(start: u64, end: u64) -> Vec<Subtree> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let remaining = end - at;
        let by_size = 63 - remaining.leading_zeros();
        let by_alignment = if at == 0 { 63 } else { at.trailing_zeros() };
        let level = by_size.min(by_alignment);
        out.push(Subtree {
            level: level as u8,
            index: at >> level,
        });
        at += 1u64 << level;
    }
    out
}

/// Folds the hashes of a range's [`decompose`] pieces into the range's hash:
/// `node(h0, node(h1, … node(h_{n-2}, h_{n-1})))`. Returns `None` for no
/// pieces.
pub fn fold_range(pieces: &[Hash]) -> Option<Hash> {
    let (last, rest) = pieces.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// Computes the Merkle tree hash of every range in `ranges` with one call to
/// `reader`. Each range must be of the RFC 9162 shape described in
/// [`decompose`] and lie within the reader's tree; empty ranges give the
/// empty-tree root.
pub fn range_hashes<R: HashReader + ?Sized>(
    reader: &R,
    ranges: &[(u64, u64)],
) -> Result<Vec<Hash>, R::Error> {
    let plans: Vec<Vec<Subtree>> = ranges.iter().map(|&(s, e)| decompose(s, e)).collect();
    let wanted: Vec<Subtree> = plans.iter().flatten().copied().collect();
    let hashes = if wanted.is_empty() {
        Vec::new()
    } else {
        reader.read_hashes(&wanted)?
    };
    let mut at = 0;
    Ok(plans
        .iter()
        .map(|plan| {
            let slice = hashes.get(at..at + plan.len()).unwrap_or(&[]);
            at += plan.len();
            fold_range(slice).unwrap_or(Hash::EMPTY_ROOT)
        })
        .collect())
}

/// The root hash of the tree of the first `size` leaves, read from `reader`
/// (its [`Frontier`], in one call).
pub fn tree_root<R: HashReader + ?Sized>(reader: &R, size: u64) -> Result<Hash, R::Error> {
    Ok(Frontier::read(reader, size)?.root())
}

/// What appending leaves to a tree produces: every newly completed subtree
/// hash (leaves included), and the new root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Each subtree completed by the append, with its hash, in the order
    /// they were completed.
    pub hashes: Vec<(Subtree, Hash)>,
    /// The root of the grown tree.
    pub root: Hash,
}

/// Computes the subtree hashes that appending `leaves` to the tree of
/// `size` leaves completes, and the new root.
///
/// Reads only the tree's right edge from `reader` (the at most 63 complete
/// subtrees of `[0, size)`, in one call), so the cost is independent of the
/// tree size. The caller stores the returned hashes with the leaves.
pub fn append_leaves<R: HashReader + ?Sized>(
    reader: &R,
    size: u64,
    leaves: &[Hash],
) -> Result<Appended, R::Error> {
    let mut frontier = Frontier::read(reader, size)?;
    let mut hashes = Vec::with_capacity(leaves.len() * 2);
    for leaf in leaves {
        frontier.push_reporting(*leaf, |subtree, hash| hashes.push((subtree, hash)));
    }
    Ok(Appended {
        hashes,
        root: frontier.root(),
    })
}

/// A subtree that an [`InMemoryTree`] was asked for but does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("subtree at level {} index {} is not complete in a tree of {size} leaves", .subtree.level, .subtree.index)]
pub struct MissingSubtree {
    /// The subtree asked for.
    pub subtree: Subtree,
    /// The tree's size when it was asked.
    pub size: u64,
}

/// An append-only Merkle tree held in memory, storing every complete
/// subtree hash (about two hashes per leaf).
///
/// For tests, tools and small logs; durable logs keep the same hashes in
/// their store and implement [`HashReader`] over it.
#[derive(Clone, Debug, Default)]
pub struct InMemoryTree {
    /// `levels[l][i]` is the hash of [`Subtree`] `{ level: l, index: i }`.
    levels: Vec<Vec<Hash>>,
}

impl InMemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash and every subtree it completes.
    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut hash = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(hash);
            if row.len() % 2 == 1 {
                break;
            }
            hash = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
    }

    /// The current root hash.
    pub fn root(&self) -> Hash {
        match tree_root(self, self.size()) {
            Ok(root) => root,
            // Unreachable: every piece of [0, size) is complete.
            Err(_) => Hash::EMPTY_ROOT,
        }
    }

    /// The hash of a complete subtree, if the tree holds it.
    pub fn subtree(&self, subtree: Subtree) -> Option<Hash> {
        self.levels
            .get(subtree.level as usize)?
            .get(usize::try_from(subtree.index).ok()?)
            .copied()
    }
}

impl HashReader for InMemoryTree {
    type Error = MissingSubtree;

    fn read_hashes(&self, subtrees: &[Subtree]) -> Result<Vec<Hash>, MissingSubtree> {
        subtrees
            .iter()
            .map(|&s| {
                self.subtree(s).ok_or(MissingSubtree {
                    subtree: s,
                    size: self.size(),
                })
            })
            .collect()
    }
}

/// The largest power of two strictly less than `n` (RFC 9162's `k`).
/// `n` must be at least 2.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::rs_merkle_oracle::rs_merkle_root;

    #[test]
    fn split_point_is_largest_power_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(1 << 40), 1 << 39);
        assert_eq!(split_point((1 << 40) + 1), 1 << 40);
    }

    #[test]
    fn decompose_covers_range_exactly() {
        for start in [0u64, 8, 16, 256] {
            for len in 0..70u64 {
                let pieces = decompose(start, start + len);
                let mut at = start;
                for p in &pieces {
                    assert_eq!(p.start(), at);
                    at = p.end();
                }
                assert_eq!(at, start + len);
                assert!(pieces.len() <= 64);
            }
        }
        assert_eq!(decompose(0, 13).len(), 3); // 8 + 4 + 1
    }

    #[test]
    fn in_memory_root_matches_rs_merkle() {
        let mut tree = InMemoryTree::new();
        let mut leaves = Vec::new();
        assert_eq!(tree.root(), Hash::EMPTY_ROOT);
        for i in 0..300u32 {
            let leaf = leaf_hash(&i.to_be_bytes());
            leaves.push(leaf);
            tree.push(leaf);
            assert_eq!(tree.root(), rs_merkle_root(&leaves), "size {}", i + 1);
        }
    }

    #[test]
    fn missing_subtree_is_an_error() {
        let mut tree = InMemoryTree::new();
        tree.push(leaf_hash(b"a"));
        let err = tree
            .read_hashes(&[Subtree { level: 1, index: 0 }])
            .unwrap_err();
        assert_eq!(err.size, 1);
    }

    #[test]
    fn append_leaves_matches_pushing_one_by_one() {
        let mut reference = InMemoryTree::new();
        let mut built = InMemoryTree::new();
        let mut next = 0u64;
        for batch in [1usize, 1, 2, 5, 8, 100, 3, 256, 1] {
            let leaves: Vec<Hash> = (0..batch)
                .map(|j| crate::hash::leaf_hash(&(next + j as u64).to_be_bytes()))
                .collect();
            next += batch as u64;
            let out = append_leaves(&built, built.size(), &leaves).unwrap();
            for l in &leaves {
                reference.push(*l);
                built.push(*l);
            }
            assert_eq!(out.root, reference.root());
            for (st, h) in &out.hashes {
                assert_eq!(reference.subtree(*st), Some(*h), "{st:?}");
            }
            // Every subtree that became complete is reported exactly once.
            let leaves_added = leaves.len();
            let complete_before: u64 = (0..64).map(|l| (next - batch as u64) >> l).sum();
            let complete_after: u64 = (0..64).map(|l| next >> l).sum();
            assert_eq!(out.hashes.len() as u64, complete_after - complete_before);
            assert!(out.hashes.len() >= leaves_added);
        }
    }
}
