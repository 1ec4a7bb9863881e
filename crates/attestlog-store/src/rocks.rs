//! The RocksDB [`Store`]: one database directory, six column families.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `entries` | leaf index (u64) | canonical entry bytes |
//! | `hashes` | level (u8) ‖ index (u64) | 32-byte subtree hash |
//! | `leaves` | leaf hash (32 bytes) | leaf index (u64), first occurrence |
//! | `dedup` | deduplication key (32 bytes) | leaf index (u64), first occurrence |
//! | `index` | kind (u8) ‖ length (u16) ‖ value ‖ leaf index (u64) | empty |
//! | `certs` | primary-key fingerprint | certificate bytes |
//! | `meta` | `tree_size` / `checkpoint` | u64 / signed checkpoint note |
//!
//! Every append is one `WriteBatch` written with `sync = true`: entries,
//! hashes, index rows and the new checkpoint become durable together or
//! not at all.

use std::path::Path;
use std::sync::Mutex;

use attestlog_core::tree::{HashReader, Subtree};
use attestlog_core::{leaf_hash, Hash};
use rocksdb::{
    BlockBasedOptions, ColumnFamily, ColumnFamilyDescriptor, DBCompressionType, Direction,
    IteratorMode, Options, WriteBatch, WriteOptions, DB,
};

use crate::keys;
use crate::{AppendBatch, IndexKey, Store, StoreError, TreeState, MAX_ENTRIES_PER_READ};

const CF_ENTRIES: &str = "entries";
const CF_HASHES: &str = "hashes";
const CF_LEAVES: &str = "leaves";
const CF_DEDUP: &str = "dedup";
const CF_INDEX: &str = "index";
const CF_CERTS: &str = "certs";
const CF_META: &str = "meta";
const FAMILIES: [&str; 7] = [
    CF_ENTRIES, CF_HASHES, CF_LEAVES, CF_DEDUP, CF_INDEX, CF_CERTS, CF_META,
];
/// Families read by exact key only, mostly for keys that are absent.
const POINT_LOOKUPS: [&str; 3] = [CF_LEAVES, CF_DEDUP, CF_CERTS];

/// A [`Store`] in a RocksDB directory. Only one process may open a
/// directory at a time (RocksDB holds a lock file).
pub struct RocksStore {
    db: DB,
    /// Serializes appends and holds the size they compare against.
    size: Mutex<u64>,
}

impl RocksStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<RocksStore, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_compression_type(DBCompressionType::Lz4);
        let cfs = FAMILIES.iter().map(|name| {
            let mut o = Options::default();
            o.set_compression_type(DBCompressionType::Lz4);
            if POINT_LOOKUPS.contains(name) {
                // Looked up by keys that are mostly absent (every new
                // submission's dedup key): bloom filters in the memtable
                // and in each table answer "absent" without a search.
                let mut table = BlockBasedOptions::default();
                table.set_bloom_filter(10.0, false);
                o.set_block_based_table_factory(&table);
                o.set_memtable_whole_key_filtering(true);
                o.set_memtable_prefix_bloom_ratio(0.02);
            }
            ColumnFamilyDescriptor::new(*name, o)
        });
        let db = DB::open_cf_descriptors(&opts, dir, cfs)?;
        let size = match db.get_cf(cf(&db, CF_META)?, keys::META_SIZE)? {
            None => 0,
            Some(v) => u64::from_be_bytes(v.as_slice().try_into().map_err(|_| {
                StoreError::Corrupt(format!("tree size is {} bytes, not 8", v.len()))
            })?),
        };
        Ok(RocksStore {
            db,
            size: Mutex::new(size),
        })
    }

    fn cf(&self, name: &str) -> Result<&ColumnFamily, StoreError> {
        cf(&self.db, name)
    }

    /// The hashes of `count` consecutive subtrees of `level` starting at
    /// `start`, by one range scan: what a hash tile holds.
    pub fn hash_range(&self, level: u8, start: u64, count: usize) -> Result<Vec<Hash>, StoreError> {
        let from = keys::subtree(&Subtree {
            level,
            index: start,
        });
        let mut out = Vec::with_capacity(count);
        let iter = self.db.iterator_cf(
            self.cf(CF_HASHES)?,
            IteratorMode::From(&from, Direction::Forward),
        );
        for (i, item) in iter.take(count).enumerate() {
            let (k, v) = item?;
            let want = keys::subtree(&Subtree {
                level,
                index: start + i as u64,
            });
            if *k != want {
                return Err(StoreError::NotFound(format!(
                    "subtree level {level} index {}",
                    start + i as u64
                )));
            }
            out.push(to_hash(&v)?);
        }
        if out.len() != count {
            return Err(StoreError::NotFound(format!(
                "subtree level {level} index {}",
                start + out.len() as u64
            )));
        }
        Ok(out)
    }
}

fn cf<'a>(db: &'a DB, name: &str) -> Result<&'a ColumnFamily, StoreError> {
    db.cf_handle(name)
        .ok_or_else(|| StoreError::Corrupt(format!("column family {name} is missing")))
}

fn to_hash(v: &[u8]) -> Result<Hash, StoreError> {
    Hash::from_slice(v)
        .ok_or_else(|| StoreError::Corrupt(format!("stored hash is {} bytes, not 32", v.len())))
}

fn to_u64(v: &[u8]) -> Result<u64, StoreError> {
    Ok(u64::from_be_bytes(v.try_into().map_err(|_| {
        StoreError::Corrupt(format!("stored index is {} bytes, not 8", v.len()))
    })?))
}

impl HashReader for RocksStore {
    type Error = StoreError;

    fn read_hashes(&self, subtrees: &[Subtree]) -> Result<Vec<Hash>, StoreError> {
        let cf = self.cf(CF_HASHES)?;
        let keys: Vec<[u8; 9]> = subtrees.iter().map(keys::subtree).collect();
        let values = self.db.multi_get_cf(keys.iter().map(|k| (cf, k)));
        subtrees
            .iter()
            .zip(values)
            .map(|(st, v)| match v? {
                Some(v) => to_hash(&v),
                None => Err(StoreError::NotFound(format!("subtree {st:?}"))),
            })
            .collect()
    }
}

impl Store for RocksStore {
    fn state(&self) -> Result<Option<TreeState>, StoreError> {
        let size = *self.size.lock().unwrap_or_else(|p| p.into_inner());
        let checkpoint = self.db.get_cf(self.cf(CF_META)?, keys::META_CHECKPOINT)?;
        Ok(checkpoint.map(|checkpoint| TreeState { size, checkpoint }))
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        let mut size = self.size.lock().unwrap_or_else(|p| p.into_inner());
        if batch.old_size != *size {
            return Err(StoreError::SizeMismatch {
                expected: batch.old_size,
                actual: *size,
            });
        }
        if batch.checkpoint.is_empty() {
            return Err(StoreError::InvalidBatch("empty checkpoint"));
        }
        let (entries, hashes, leaves, dedup, index, certs, meta) = (
            self.cf(CF_ENTRIES)?,
            self.cf(CF_HASHES)?,
            self.cf(CF_LEAVES)?,
            self.cf(CF_DEDUP)?,
            self.cf(CF_INDEX)?,
            self.cf(CF_CERTS)?,
            self.cf(CF_META)?,
        );
        let mut wb = WriteBatch::default();
        let mut seen = std::collections::HashSet::new();
        let mut seen_dedup = std::collections::HashSet::new();
        for (i, e) in batch.entries.iter().enumerate() {
            let at = batch.old_size + i as u64;
            wb.put_cf(entries, keys::entry(at), &e.bytes);
            let lh = leaf_hash(&e.bytes);
            // Keep the first index of a leaf hash: deduplication returns it.
            if seen.insert(lh) && self.db.get_pinned_cf(leaves, lh.0)?.is_none() {
                wb.put_cf(leaves, lh.0, at.to_be_bytes());
            }
            if seen_dedup.insert(e.dedup_key)
                && self.db.get_pinned_cf(dedup, e.dedup_key.0)?.is_none()
            {
                wb.put_cf(dedup, e.dedup_key.0, at.to_be_bytes());
            }
            for k in &e.index_keys {
                wb.put_cf(index, keys::index(k, at), []);
            }
        }
        for (st, h) in &batch.hashes {
            wb.put_cf(hashes, keys::subtree(st), h.0);
        }
        for (fpr, cert) in &batch.certificates {
            wb.put_cf(certs, fpr, cert);
        }
        let new_size = batch.new_size();
        wb.put_cf(meta, keys::META_SIZE, new_size.to_be_bytes());
        wb.put_cf(meta, keys::META_CHECKPOINT, &batch.checkpoint);
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(wb, &wo)?;
        *size = new_size;
        Ok(())
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        if end.saturating_sub(start) > MAX_ENTRIES_PER_READ {
            return Err(StoreError::TooMany(end - start));
        }
        let cf = self.cf(CF_ENTRIES)?;
        let keys: Vec<[u8; 8]> = (start..end).map(keys::entry).collect();
        let values = self.db.multi_get_cf(keys.iter().map(|k| (cf, k)));
        (start..end)
            .zip(values)
            .map(|(i, v)| v?.ok_or_else(|| StoreError::NotFound(format!("entry {i}"))))
            .collect()
    }

    fn index_of_leaf(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        match self.db.get_pinned_cf(self.cf(CF_LEAVES)?, leaf.0)? {
            Some(v) => Ok(Some(to_u64(&v)?)),
            None => Ok(None),
        }
    }

    fn index_of_dedup_key(&self, key: &Hash) -> Result<Option<u64>, StoreError> {
        match self.db.get_pinned_cf(self.cf(CF_DEDUP)?, key.0)? {
            Some(v) => Ok(Some(to_u64(&v)?)),
            None => Ok(None),
        }
    }

    fn indexes_of_dedup_keys(&self, keys: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        let cf = self.cf(CF_DEDUP)?;
        self.db
            .multi_get_cf(keys.iter().map(|k| (cf, k.0)))
            .into_iter()
            .map(|v| v?.map(|v| to_u64(&v)).transpose())
            .collect()
    }

    fn search(&self, key: &IndexKey, from: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        let prefix = keys::index_prefix(key);
        let start = keys::index(key, from);
        let iter = self.db.iterator_cf(
            self.cf(CF_INDEX)?,
            IteratorMode::From(&start, Direction::Forward),
        );
        let mut out = Vec::new();
        for item in iter {
            if out.len() == limit {
                break;
            }
            let (k, _) = item?;
            let Some(rest) = k.strip_prefix(prefix.as_slice()) else {
                break;
            };
            out.push(to_u64(rest)?);
        }
        Ok(out)
    }

    fn certificate(&self, fingerprint: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(CF_CERTS)?, fingerprint)?)
    }
}
