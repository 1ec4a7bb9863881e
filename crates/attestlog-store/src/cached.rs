//! [`CachedStore`]: the upper levels of the Merkle tree kept in memory in
//! front of any [`Store`], so that building a proof reads few hashes (or
//! none) from disk.
//!
//! An inclusion or consistency proof needs about log2(size) subtree hashes,
//! mostly from the upper levels, and the sequencer reads the tree's right
//! edge for every batch. Levels `min_level` and above are held in memory
//! in full (every complete subtree of the level, from the left), filled
//! when opened (level `min_level` read from the inner store, each level
//! above hashed from the one below) and extended after each append. The
//! memory is bounded: a level of `n` entries costs `32 * (n >> level)`
//! bytes, so all levels from `m` up cost less than `64 * n / 2^m` bytes;
//! when the tree grows past the budget the lowest cached level is dropped
//! and read from the inner store again.
//!
//! Durability is the inner store's: hashes enter the cache only after the
//! inner store's [`Store::append`] has returned successfully, so the cache
//! never holds (or serves) a hash that is not durable: the fill hashes
//! only pairs of durable hashes, and a hash not in the cache is read from
//! the inner store.

use std::sync::RwLock;

use attestlog_core::tree::{HashReader, Subtree};
use attestlog_core::{node_hash, Hash};

use crate::{AppendBatch, IndexKey, Store, StoreError, TreeState};

/// Hashes read from the inner store per call while filling the cache.
const FILL_CHUNK: u64 = 4096;

/// A [`Store`] with its upper tree levels in memory (see the module docs).
pub struct CachedStore<S> {
    inner: S,
    budget_bytes: u64,
    cache: RwLock<Levels>,
}

/// Complete levels: `levels[k]` holds every complete subtree hash of level
/// `min_level + k`, indexes `0..len`.
#[derive(Default)]
struct Levels {
    min_level: u8,
    levels: Vec<Vec<Hash>>,
}

impl Levels {
    fn get(&self, st: &Subtree) -> Option<Hash> {
        let k = st.level.checked_sub(self.min_level)? as usize;
        let index = usize::try_from(st.index).ok()?;
        self.levels.get(k)?.get(index).copied()
    }

    fn bytes(&self) -> u64 {
        self.levels.iter().map(|l| l.len() as u64 * 32).sum()
    }
}

/// The lowest level whose cache, with every level above it, fits
/// `budget_bytes` for a tree of `size` leaves.
fn min_level_for(size: u64, budget_bytes: u64) -> u8 {
    (0..64u8)
        .find(|&m| {
            (0..64u32.saturating_sub(u32::from(m)))
                .map(|l| (size >> (u32::from(m) + l)) * 32)
                .sum::<u64>()
                <= budget_bytes
        })
        .unwrap_or(63)
}

impl<S: Store> CachedStore<S> {
    /// Wraps `inner`, caching as many upper levels as `budget_bytes`
    /// allows for its current size, read from `inner` now.
    pub fn new(inner: S, budget_bytes: u64) -> Result<CachedStore<S>, StoreError> {
        let size = inner.state()?.map_or(0, |s| s.size);
        let min_level = min_level_for(size, budget_bytes);
        let count = size >> min_level;
        let mut bottom = Vec::with_capacity(count as usize);
        let mut at = 0;
        while at < count {
            let end = (at + FILL_CHUNK).min(count);
            let wanted: Vec<Subtree> = (at..end)
                .map(|index| Subtree {
                    level: min_level,
                    index,
                })
                .collect();
            bottom.extend(inner.read_hashes(&wanted)?);
            at = end;
        }
        // Each level above from the one below: a parent is the hash of its
        // two (durable) children, as the inner store would compute it.
        let mut levels = vec![bottom];
        while let Some(below) = levels.last().filter(|l| l.len() >= 2) {
            let above = below
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
            levels.push(above);
        }
        Ok(CachedStore {
            inner,
            budget_bytes,
            cache: RwLock::new(Levels { min_level, levels }),
        })
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The lowest level held in memory.
    pub fn min_cached_level(&self) -> u8 {
        self.cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .min_level
    }

    /// Adds a durable batch's new hashes, then trims to the budget.
    fn extend(&self, batch: &AppendBatch) {
        let mut c = self.cache.write().unwrap_or_else(|p| p.into_inner());
        let mut hashes: Vec<&(Subtree, Hash)> = batch.hashes.iter().collect();
        hashes.sort_by_key(|(st, _)| (st.level, st.index));
        for (st, h) in hashes {
            let Some(k) = st.level.checked_sub(c.min_level).map(usize::from) else {
                continue;
            };
            while c.levels.len() <= k {
                c.levels.push(Vec::new());
            }
            let level = &mut c.levels[k];
            if st.index == level.len() as u64 {
                level.push(*h);
            } else if st.index > level.len() as u64 {
                // A gap: never guess. This level and those above it are
                // read from the inner store from now on.
                c.levels.truncate(k);
                break;
            }
        }
        while c.bytes() > self.budget_bytes && !c.levels.is_empty() {
            c.levels.remove(0);
            c.min_level += 1;
        }
    }
}

impl<S: Store> HashReader for CachedStore<S> {
    type Error = StoreError;

    fn read_hashes(&self, subtrees: &[Subtree]) -> Result<Vec<Hash>, StoreError> {
        let mut out = Vec::with_capacity(subtrees.len());
        let mut missing = Vec::new();
        {
            let c = self.cache.read().unwrap_or_else(|p| p.into_inner());
            for (i, st) in subtrees.iter().enumerate() {
                match c.get(st) {
                    Some(h) => out.push(h),
                    None => {
                        out.push(Hash::EMPTY_ROOT);
                        missing.push(i);
                    }
                }
            }
        }
        if !missing.is_empty() {
            let wanted: Vec<Subtree> = missing.iter().map(|&i| subtrees[i]).collect();
            for (i, h) in missing.into_iter().zip(self.inner.read_hashes(&wanted)?) {
                out[i] = h;
            }
        }
        Ok(out)
    }
}

impl<S: Store> Store for CachedStore<S> {
    fn state(&self) -> Result<Option<TreeState>, StoreError> {
        self.inner.state()
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        self.inner.append(batch)?;
        self.extend(batch);
        Ok(())
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        self.inner.entries(start, end)
    }

    fn index_of_leaf(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        self.inner.index_of_leaf(leaf)
    }

    fn index_of_dedup_key(&self, key: &Hash) -> Result<Option<u64>, StoreError> {
        self.inner.index_of_dedup_key(key)
    }

    fn indexes_of_dedup_keys(&self, keys: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        self.inner.indexes_of_dedup_keys(keys)
    }

    fn search(&self, key: &IndexKey, from: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        self.inner.search(key, from, limit)
    }

    fn certificate(&self, fingerprint: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.certificate(fingerprint)
    }

    /// The inner store's check: the start-up integrity check reads what is
    /// on disk, not this cache.
    fn recompute_root(
        &self,
        size: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Hash, StoreError> {
        self.inner.recompute_root(size, progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_level_fits_the_budget() {
        assert_eq!(min_level_for(0, 0), 0);
        assert_eq!(min_level_for(1_000_000, 64 << 20), 0);
        let m = min_level_for(1 << 30, 256 << 20);
        let bytes: u64 = (u32::from(m)..64).map(|l| ((1u64 << 30) >> l) * 32).sum();
        assert!(bytes <= 256 << 20);
        let above: u64 = (u32::from(m) - 1..64)
            .map(|l| ((1u64 << 30) >> l) * 32)
            .sum();
        assert!(above > 256 << 20, "m = {m} is not the lowest that fits");
    }
}
