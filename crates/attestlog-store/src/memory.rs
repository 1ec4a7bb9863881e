//! An in-memory [`Store`]: the same contract as RocksDB, without
//! durability. For tests and tools.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use attestlog_core::tree::{HashReader, Subtree};
use attestlog_core::{leaf_hash, Hash};

use crate::{AppendBatch, IndexKey, Store, StoreError, TreeState, MAX_ENTRIES_PER_READ};

#[derive(Default)]
struct Inner {
    entries: Vec<Vec<u8>>,
    hashes: HashMap<Subtree, Hash>,
    leaves: HashMap<Hash, u64>,
    dedup: HashMap<Hash, u64>,
    index: BTreeSet<(IndexKey, u64)>,
    certs: HashMap<Vec<u8>, Vec<u8>>,
    checkpoint: Option<Vec<u8>>,
}

/// A [`Store`] in memory; nothing survives the process.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied
        // batch: `append` validates before it mutates.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl HashReader for MemoryStore {
    type Error = StoreError;

    fn read_hashes(&self, subtrees: &[Subtree]) -> Result<Vec<Hash>, StoreError> {
        let inner = self.lock();
        subtrees
            .iter()
            .map(|s| {
                inner
                    .hashes
                    .get(s)
                    .copied()
                    .ok_or_else(|| StoreError::NotFound(format!("subtree {s:?}")))
            })
            .collect()
    }
}

impl Store for MemoryStore {
    fn state(&self) -> Result<Option<TreeState>, StoreError> {
        let inner = self.lock();
        Ok(inner.checkpoint.as_ref().map(|c| TreeState {
            size: inner.entries.len() as u64,
            checkpoint: c.clone(),
        }))
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let actual = inner.entries.len() as u64;
        if batch.old_size != actual {
            return Err(StoreError::SizeMismatch {
                expected: batch.old_size,
                actual,
            });
        }
        if batch.checkpoint.is_empty() {
            return Err(StoreError::InvalidBatch("empty checkpoint"));
        }
        for (i, e) in batch.entries.iter().enumerate() {
            let index = batch.old_size + i as u64;
            inner.entries.push(e.bytes.clone());
            inner.leaves.entry(leaf_hash(&e.bytes)).or_insert(index);
            inner.dedup.entry(e.dedup_key).or_insert(index);
            for k in &e.index_keys {
                inner.index.insert((k.clone(), index));
            }
        }
        for (st, h) in &batch.hashes {
            inner.hashes.insert(*st, *h);
        }
        for (fpr, cert) in &batch.certificates {
            inner.certs.insert(fpr.clone(), cert.clone());
        }
        inner.checkpoint = Some(batch.checkpoint.clone());
        Ok(())
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        if end.saturating_sub(start) > MAX_ENTRIES_PER_READ {
            return Err(StoreError::TooMany(end - start));
        }
        let inner = self.lock();
        (start..end)
            .map(|i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| inner.entries.get(i))
                    .cloned()
                    .ok_or_else(|| StoreError::NotFound(format!("entry {i}")))
            })
            .collect()
    }

    fn index_of_leaf(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        Ok(self.lock().leaves.get(leaf).copied())
    }

    fn index_of_dedup_key(&self, key: &Hash) -> Result<Option<u64>, StoreError> {
        Ok(self.lock().dedup.get(key).copied())
    }

    fn search(&self, key: &IndexKey, from: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .index
            .range((key.clone(), from)..)
            .take_while(|(k, _)| k == key)
            .take(limit)
            .map(|&(_, i)| i)
            .collect())
    }

    fn certificate(&self, fingerprint: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().certs.get(fingerprint).cloned())
    }
}
