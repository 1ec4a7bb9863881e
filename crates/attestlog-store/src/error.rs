//! The store's one error type.

/// Why a store operation failed.
///
/// [`StoreError::is_fatal`] separates failures after which the caller's
/// view of the log can no longer be trusted (stop sequencing and reload
/// from disk) from ordinary ones (a missing entry, a lost race).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// RocksDB reported an error (I/O, a failed fsync, a closed database).
    #[error("database error: {0}")]
    Db(String),
    /// Stored data contradicts itself (a leaf hash that does not match its
    /// entry, a short hash value, a missing row that must exist).
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// The append was computed against another tree size: another writer
    /// got there first, or the caller's view is stale. Nothing was written.
    #[error("append expected tree size {expected}, but the store holds {actual} entries")]
    SizeMismatch {
        /// The batch's `old_size`.
        expected: u64,
        /// The store's size.
        actual: u64,
    },
    /// The batch is inconsistent in itself (e.g. an empty checkpoint).
    #[error("invalid append batch: {0}")]
    InvalidBatch(&'static str),
    /// A requested entry or hash is beyond the stored tree.
    #[error("not found: {0}")]
    NotFound(String),
    /// A read asked for more than [`crate::MAX_ENTRIES_PER_READ`] entries.
    #[error("asked for {0} entries at once; the limit is {limit}", limit = crate::MAX_ENTRIES_PER_READ)]
    TooMany(u64),
}

impl StoreError {
    /// Whether the caller must stop and reload from disk.
    pub fn is_fatal(&self) -> bool {
        matches!(self, StoreError::Db(_) | StoreError::Corrupt(_))
    }
}

impl From<rocksdb::Error> for StoreError {
    fn from(e: rocksdb::Error) -> Self {
        StoreError::Db(e.into_string())
    }
}
