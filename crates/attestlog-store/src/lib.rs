//! Durable storage for an attestlog log: entries, the Merkle tree's hash
//! tiles, secondary indexes, certificates and the latest signed checkpoint.
//!
//! In scope: the [`Store`] trait and its two implementations, [`RocksStore`]
//! (the production store, RocksDB in a local directory) and [`MemoryStore`]
//! (tests and tools). Out of scope: what entries mean, signing, networking.
//!
//! The one write is [`Store::append`]: a batch of entries, their subtree
//! hashes, index rows, certificates and the new checkpoint, applied
//! atomically, **durable once it returns** (RocksDB `WriteBatch` with
//! `sync = true`), and only if the store's size is still the size the
//! batch was computed against (compare-and-swap). A caller that sees an
//! error must treat its in-memory view as stale and reload from the store.

mod cached;
mod error;
mod keys;
mod memory;
mod rocks;

pub use cached::CachedStore;
pub use error::StoreError;
pub use memory::MemoryStore;
pub use rocks::RocksStore;

use attestlog_core::tree::{HashReader, Subtree};
use attestlog_core::{leaf_hash, Frontier, Hash};

/// The most entries [`Store::entries`] returns in one call.
pub const MAX_ENTRIES_PER_READ: u64 = 1024;

/// A secondary index key: what an entry can be found by.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndexKey {
    /// A subject's SHA-256 digest.
    Sha256([u8; 32]),
    /// The signer's primary-key fingerprint.
    Signer(Vec<u8>),
    /// A subject name, exactly as logged.
    SubjectName(String),
}

/// One entry of an [`AppendBatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEntry {
    /// The canonical entry bytes (the leaf data).
    pub bytes: Vec<u8>,
    /// What makes two submissions "the same entry" for deduplication. For
    /// attestations this leaves out the log's verification time, which
    /// differs between two submissions of the same signature.
    pub dedup_key: Hash,
    /// What the entry can be searched by.
    pub index_keys: Vec<IndexKey>,
}

/// Everything one sequencing step writes, atomically.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppendBatch {
    /// The tree size the batch was computed against; the append fails
    /// unless the store is still at this size.
    pub old_size: u64,
    /// The entries, to be given indexes `old_size ..`.
    pub entries: Vec<NewEntry>,
    /// Newly completed subtree hashes (from
    /// [`attestlog_core::tree::append_leaves`]). A store keeps what it
    /// needs to answer every later read: [`RocksStore`] keeps those of tree
    /// levels 8·L (its hash tiles) and hashes the others from them.
    pub hashes: Vec<(Subtree, Hash)>,
    /// Certificates to store, by primary-key fingerprint.
    pub certificates: Vec<(Vec<u8>, Vec<u8>)>,
    /// The signed checkpoint note for the new size.
    pub checkpoint: Vec<u8>,
}

impl AppendBatch {
    /// The tree size after this batch.
    pub fn new_size(&self) -> u64 {
        self.old_size + self.entries.len() as u64
    }
}

/// What a store holds about the tree as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeState {
    /// Number of entries.
    pub size: u64,
    /// The latest signed checkpoint note, for `size`.
    pub checkpoint: Vec<u8>,
}

/// A log's durable storage. Implementations are shared between threads.
///
/// Reads see a consistent prefix: every entry and hash of the tree of
/// [`Store::state`]'s size is readable once `append` has returned.
pub trait Store: HashReader<Error = StoreError> + Send + Sync {
    /// The current size and checkpoint, or `None` for a store never
    /// appended to.
    fn state(&self) -> Result<Option<TreeState>, StoreError>;

    /// Applies `batch` atomically and durably (see the crate docs). Fails
    /// with [`StoreError::SizeMismatch`] if the store's size is not
    /// `batch.old_size`, changing nothing.
    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError>;

    /// Entries `[start, end)`, at most [`MAX_ENTRIES_PER_READ`]; fails with
    /// [`StoreError::NotFound`] if any is missing.
    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError>;

    /// The index of the entry whose leaf hash is `leaf`, if logged.
    fn index_of_leaf(&self, leaf: &Hash) -> Result<Option<u64>, StoreError>;

    /// The first index of an entry with this deduplication key, if logged.
    fn index_of_dedup_key(&self, key: &Hash) -> Result<Option<u64>, StoreError>;

    /// [`Store::index_of_dedup_key`] for many keys at once, in order (what
    /// the sequencer asks for every batch; a store may answer it in one
    /// read).
    fn indexes_of_dedup_keys(&self, keys: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        keys.iter().map(|k| self.index_of_dedup_key(k)).collect()
    }

    /// Indexes of entries under `key`, ascending, greater than or equal to
    /// `from`, at most `limit`.
    fn search(&self, key: &IndexKey, from: u64, limit: usize) -> Result<Vec<u64>, StoreError>;

    /// A certificate by primary-key fingerprint.
    fn certificate(&self, fingerprint: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Recomputes the root from the stored entries (not from stored
    /// hashes), checking each stored leaf hash on the way; reports progress
    /// as (entries done, total). Used at start-up to refuse to serve a
    /// corrupted tree.
    fn recompute_root(
        &self,
        size: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Hash, StoreError> {
        let mut frontier = Frontier::new();
        let mut at = 0;
        while at < size {
            let end = (at + MAX_ENTRIES_PER_READ).min(size);
            let entries = self.entries(at, end)?;
            let stored = self.read_hashes(&(at..end).map(Subtree::leaf).collect::<Vec<_>>())?;
            for (i, (e, s)) in entries.iter().zip(stored).enumerate() {
                let h = leaf_hash(e);
                if h != s {
                    return Err(StoreError::Corrupt(format!(
                        "entry {} hashes to {h}, but the stored leaf hash is {s}",
                        at + i as u64
                    )));
                }
                frontier.push(h);
            }
            at = end;
            progress(at, size);
        }
        Ok(frontier.root())
    }
}
