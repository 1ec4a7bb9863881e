//! The RocksDB [`Store`]: one database directory, seven column families.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `entries` | leaf index (u64) | canonical entry bytes |
//! | `tiles` | tile level (u8) ‖ tile index (u64) | the C2SP tlog-tiles hash tile: `W` × 32 bytes, `W` ≤ 256 |
//! | `leaves` | leaf hash (32 bytes) | leaf index (u64), first occurrence |
//! | `dedup` | deduplication key (32 bytes) | leaf index (u64), first occurrence |
//! | `index` | kind (u8) ‖ length (u16) ‖ value ‖ leaf index (u64) | empty |
//! | `certs` | primary-key fingerprint | certificate bytes |
//! | `meta` | `tree_size` / `checkpoint` | u64 / signed checkpoint note |
//!
//! The Merkle tree is stored as its hash tiles: tile `L/N` holds the
//! hashes of tree level `8·L`, indexes `256·N ..`, as many as are complete
//! (a partial tile grows in place until it is full, then never changes).
//! A subtree of level `8·L + r` is hashed from `2^r` consecutive hashes of
//! one tile ([`attestlog_core::tile::TileHashReader`]), so any hash costs
//! one point read, an inclusion proof reads about one tile per eight tree
//! levels, and `/tile/L/N` is one row. A batch writes a few tile rows, not
//! a row per new subtree.
//!
//! Every append is one `WriteBatch` written with `sync = true`: entries,
//! tiles, index rows and the new checkpoint become durable together or
//! not at all.
//!
//! Directories written by earlier versions (layout 1: a `hashes` family
//! with one row per complete subtree) are converted when opened: the tiles
//! are built from the level-`8·L` rows and written with `sync = true`,
//! and only then is the old family dropped, so a crash during the
//! conversion leaves it to be redone at the next open.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use attestlog_core::tile::{Tile, TileError, TileHashReader, TileReadError, TileSource};
use attestlog_core::tile::{TILE_HEIGHT, TILE_WIDTH};
use attestlog_core::tree::{HashReader, Subtree};
use attestlog_core::{leaf_hash, Hash};
use rocksdb::{
    BlockBasedOptions, ColumnFamily, ColumnFamilyDescriptor, DBCompressionType, Direction,
    IteratorMode, Options, WriteBatch, WriteOptions, DB,
};

use crate::keys;
use crate::{AppendBatch, IndexKey, Store, StoreError, TreeState, MAX_ENTRIES_PER_READ};

const CF_ENTRIES: &str = "entries";
const CF_TILES: &str = "tiles";
/// Layout 1's family of subtree rows, converted to tiles at open.
const CF_SUBTREES_V1: &str = "hashes";
const CF_LEAVES: &str = "leaves";
const CF_DEDUP: &str = "dedup";
const CF_INDEX: &str = "index";
const CF_CERTS: &str = "certs";
const CF_META: &str = "meta";
const FAMILIES: [&str; 7] = [
    CF_ENTRIES, CF_TILES, CF_LEAVES, CF_DEDUP, CF_INDEX, CF_CERTS, CF_META,
];
/// Bytes per stored hash.
const HASH_BYTES: usize = 32;
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
    /// Opens (or creates) the store in `dir`, converting a layout-1
    /// directory to hash tiles first (see the module docs).
    pub fn open(dir: &Path) -> Result<RocksStore, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_compression_type(DBCompressionType::Lz4);
        // A directory that does not exist yet has no families to list.
        let existing = DB::list_cf(&opts, dir).unwrap_or_default();
        let layout_1 = existing.iter().any(|name| name == CF_SUBTREES_V1);
        let names = FAMILIES
            .iter()
            .copied()
            .chain(layout_1.then_some(CF_SUBTREES_V1));
        let cfs: Vec<ColumnFamilyDescriptor> = names
            .map(|name| {
                let mut o = Options::default();
                o.set_compression_type(DBCompressionType::Lz4);
                if POINT_LOOKUPS.contains(&name) {
                    // Looked up by keys that are mostly absent (every new
                    // submission's dedup key): bloom filters in the memtable
                    // and in each table answer "absent" without a search.
                    let mut table = BlockBasedOptions::default();
                    table.set_bloom_filter(10.0, false);
                    o.set_block_based_table_factory(&table);
                    o.set_memtable_whole_key_filtering(true);
                    o.set_memtable_prefix_bloom_ratio(0.02);
                }
                ColumnFamilyDescriptor::new(name, o)
            })
            .collect();
        let mut db = DB::open_cf_descriptors(&opts, dir, cfs)?;
        let size = match db.get_cf(cf(&db, CF_META)?, keys::META_SIZE)? {
            None => 0,
            Some(v) => u64::from_be_bytes(v.as_slice().try_into().map_err(|_| {
                StoreError::Corrupt(format!("tree size is {} bytes, not 8", v.len()))
            })?),
        };
        if layout_1 {
            tiles_from_subtree_rows(&db, size)?;
            db.drop_cf(CF_SUBTREES_V1)?;
        }
        Ok(RocksStore {
            db,
            size: Mutex::new(size),
        })
    }

    fn cf(&self, name: &str) -> Result<&ColumnFamily, StoreError> {
        cf(&self.db, name)
    }

    /// The hashes of `count` consecutive subtrees of `level` starting at
    /// `start` (for a tile level, a slice of one or more hash tiles).
    pub fn hash_range(&self, level: u8, start: u64, count: usize) -> Result<Vec<Hash>, StoreError> {
        let wanted: Vec<Subtree> = (0..count as u64)
            .map(|i| Subtree {
                level,
                index: start + i,
            })
            .collect();
        self.read_hashes(&wanted)
    }

    /// The stored row of hash tile `level/index`, as long as it has grown.
    fn tile_row(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .get_cf(self.cf(CF_TILES)?, keys::tile(level, index))?)
    }
}

/// Builds the hash tiles of a layout-1 directory from its subtree rows
/// (only tree levels `8·L` are kept; the others are hashed from them) and
/// writes them durably. Rewrites every tile, so it can be repeated.
fn tiles_from_subtree_rows(db: &DB, size: u64) -> Result<(), StoreError> {
    let (old, tiles) = (cf(db, CF_SUBTREES_V1)?, cf(db, CF_TILES)?);
    let mut wb = WriteBatch::default();
    let mut row: Option<((u8, u64), Vec<u8>)> = None;
    for item in db.iterator_cf(old, IteratorMode::Start) {
        let (k, v) = item?;
        let st = keys::parse_subtree(&k)
            .ok_or_else(|| StoreError::Corrupt(format!("subtree key of {} bytes", k.len())))?;
        if st.level % TILE_HEIGHT != 0 || st.end() > size {
            continue;
        }
        let hash = to_hash(&v)?;
        let at = (st.level / TILE_HEIGHT, st.index / u64::from(TILE_WIDTH));
        let pos = (st.index % u64::from(TILE_WIDTH)) as usize;
        if row.as_ref().is_some_and(|(key, _)| *key != at) {
            if let Some(((l, n), bytes)) = row.take() {
                wb.put_cf(tiles, keys::tile(l, n), bytes);
            }
        }
        let bytes = &mut row.get_or_insert_with(|| (at, Vec::new())).1;
        if bytes.len() != pos * HASH_BYTES {
            return Err(StoreError::Corrupt(format!(
                "layout-1 subtree rows skip from position {} to {pos} of tile {}/{}",
                bytes.len() / HASH_BYTES,
                at.0,
                at.1
            )));
        }
        bytes.extend_from_slice(&hash.0);
        if wb.len() >= 4096 {
            db.write(std::mem::take(&mut wb))?;
        }
    }
    if let Some(((l, n), bytes)) = row {
        wb.put_cf(tiles, keys::tile(l, n), bytes);
    }
    let mut wo = WriteOptions::default();
    wo.set_sync(true);
    db.write_opt(wb, &wo)?;
    Ok(())
}

/// Tiles read from the `tiles` family for [`TileHashReader`].
struct StoredTiles<'a>(&'a RocksStore);

impl TileSource for StoredTiles<'_> {
    type Error = StoreError;

    fn read_tile(&self, tile: &Tile) -> Result<Vec<u8>, StoreError> {
        let want = usize::from(tile.width) * HASH_BYTES;
        match self.0.tile_row(tile.level, tile.index)? {
            Some(mut row) if row.len() >= want => {
                row.truncate(want);
                Ok(row)
            }
            Some(row) => Err(StoreError::Corrupt(format!(
                "tile {} has {} hashes stored, the tree needs {}",
                tile.path(),
                row.len() / HASH_BYTES,
                tile.width
            ))),
            None => Err(StoreError::Corrupt(format!(
                "tile {} is missing",
                tile.path()
            ))),
        }
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
        let size = *self.size.lock().unwrap_or_else(|p| p.into_inner());
        TileHashReader::new(StoredTiles(self), size)
            .read_hashes(subtrees)
            .map_err(|e| match e {
                TileReadError::Source(e) => e,
                TileReadError::Tile(TileError::NotInTree(what, size)) => {
                    StoreError::NotFound(format!("a tile {what} in the tree of {size}"))
                }
                TileReadError::Tile(other) => StoreError::Corrupt(other.to_string()),
            })
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
        let (entries, tiles, leaves, dedup, index, certs, meta) = (
            self.cf(CF_ENTRIES)?,
            self.cf(CF_TILES)?,
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
        // The new hashes of tile levels grow their tiles (read once, from
        // their stored width); the levels between are hashed at read time.
        let mut grown: BTreeMap<(u8, u64), Vec<u8>> = BTreeMap::new();
        for (st, h) in &batch.hashes {
            if st.level % TILE_HEIGHT != 0 {
                continue;
            }
            let at = (st.level / TILE_HEIGHT, st.index / u64::from(TILE_WIDTH));
            let row = match grown.entry(at) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(self.tile_row(at.0, at.1)?.unwrap_or_default())
                }
            };
            let pos = (st.index % u64::from(TILE_WIDTH)) as usize;
            if row.len() != pos * HASH_BYTES {
                return Err(StoreError::InvalidBatch(
                    "subtree hashes do not continue their tiles",
                ));
            }
            row.extend_from_slice(&h.0);
        }
        for ((level, n), row) in grown {
            wb.put_cf(tiles, keys::tile(level, n), row);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryStore, NewEntry};
    use attestlog_core::tree::append_leaves;

    /// A directory as layout 1 wrote it: a `hashes` family with a row per
    /// complete subtree, and no `tiles`.
    fn write_layout_1(dir: &Path, memory: &MemoryStore, size: u64) {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let names = [
            CF_ENTRIES,
            CF_SUBTREES_V1,
            CF_LEAVES,
            CF_DEDUP,
            CF_INDEX,
            CF_CERTS,
            CF_META,
        ];
        let db = DB::open_cf(&opts, dir, names).unwrap();
        let mut wb = WriteBatch::default();
        for start in (0..size).step_by(MAX_ENTRIES_PER_READ as usize) {
            let end = (start + MAX_ENTRIES_PER_READ).min(size);
            for (i, e) in memory.entries(start, end).unwrap().iter().enumerate() {
                let at = start + i as u64;
                wb.put_cf(cf(&db, CF_ENTRIES).unwrap(), keys::entry(at), e);
            }
        }
        let all: Vec<Subtree> = (0..64u8)
            .take_while(|&l| size >> l > 0)
            .flat_map(|level| (0..size >> level).map(move |index| Subtree { level, index }))
            .collect();
        for (st, h) in all.iter().zip(memory.read_hashes(&all).unwrap()) {
            wb.put_cf(cf(&db, CF_SUBTREES_V1).unwrap(), keys::subtree(st), h.0);
        }
        let meta = cf(&db, CF_META).unwrap();
        wb.put_cf(meta, keys::META_SIZE, size.to_be_bytes());
        wb.put_cf(meta, keys::META_CHECKPOINT, b"checkpoint");
        db.write(wb).unwrap();
    }

    #[test]
    fn layout_1_directories_are_converted_to_tiles() {
        let size = 70_000u64;
        let memory = MemoryStore::new();
        let entries: Vec<NewEntry> = (0..size)
            .map(|i| NewEntry {
                bytes: format!("entry {i}").into_bytes(),
                dedup_key: leaf_hash(format!("dedup {i}").as_bytes()),
                index_keys: Vec::new(),
            })
            .collect();
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(&e.bytes)).collect();
        let out = append_leaves(&memory, 0, &leaves).unwrap();
        memory
            .append(&AppendBatch {
                old_size: 0,
                entries,
                hashes: out.hashes,
                certificates: Vec::new(),
                checkpoint: b"checkpoint".to_vec(),
            })
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        write_layout_1(dir.path(), &memory, size);

        let store = RocksStore::open(dir.path()).unwrap();
        let families = DB::list_cf(&Options::default(), dir.path()).unwrap();
        assert!(
            !families.iter().any(|f| f == CF_SUBTREES_V1),
            "{families:?}"
        );
        let sample: Vec<Subtree> = (0..17u8)
            .flat_map(|level| {
                let count = size >> level;
                [0, count / 2, count - 1].map(|index| Subtree { level, index })
            })
            .collect();
        assert_eq!(
            store.read_hashes(&sample).unwrap(),
            memory.read_hashes(&sample).unwrap()
        );
        assert_eq!(
            store.recompute_root(size, &mut |_, _| {}).unwrap(),
            attestlog_core::tree::tree_root(&memory, size).unwrap()
        );
        // Converted once: reopening finds tiles only and reads the same.
        drop(store);
        let store = RocksStore::open(dir.path()).unwrap();
        assert_eq!(
            store.read_hashes(&sample).unwrap(),
            memory.read_hashes(&sample).unwrap()
        );
    }

    #[test]
    fn a_batch_that_skips_part_of_a_tile_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = RocksStore::open(dir.path()).unwrap();
        let e = NewEntry {
            bytes: b"entry".to_vec(),
            dedup_key: leaf_hash(b"d"),
            index_keys: Vec::new(),
        };
        let skip = AppendBatch {
            old_size: 0,
            entries: vec![e],
            hashes: vec![(Subtree::leaf(1), leaf_hash(b"entry"))],
            certificates: Vec::new(),
            checkpoint: b"checkpoint".to_vec(),
        };
        assert!(matches!(
            store.append(&skip),
            Err(StoreError::InvalidBatch(_))
        ));
        assert_eq!(store.state().unwrap(), None);
    }
}
