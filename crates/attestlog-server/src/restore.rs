//! `attestlog-server restore`: rebuilds a log's data directory from its
//! bucket alone (the objects of `attestlog_bucket::layout`), trusting
//! nothing in the bucket but what the log's key signed.
//!
//! The procedure ([`restore`]):
//!
//! 1. Refuse if the data directory exists and is not empty: a restore only
//!    ever creates one.
//! 2. Read the bucket's checkpoint and verify it with the log's key and
//!    origin. Everything read afterwards is checked against its root.
//! 3. Build a new store in `<data_dir>.restoring` ([`staging_dir`]; one
//!    left by an interrupted restore is deleted first). It is never opened
//!    as a log before it is complete.
//! 4. Entry bundle by entry bundle, in chunks of [`RestoreOptions::bundles_per_chunk`]
//!    bundles (and about [`MAX_CHUNK_BYTES`]):
//!    1. read the bundles (`tile/entries/N`, the last one partial at the
//!       checkpoint's size) and their level-0 hash tiles, each of which must
//!       hold exactly the leaf hashes of its bundle's entries;
//!    2. decode every entry and recompute what the log indexed it under
//!       ([`attestlog_attest::leaf_keys`], [`store_index_keys`]); an entry
//!       that does not decode means a corrupt bucket;
//!    3. compute the chunk's subtree hashes and the root of the tree at its
//!       end ([`append_leaves`]), and check that root against the
//!       checkpoint's: by a consistency proof built from the bucket's hash
//!       tiles, and for the last chunk by equality;
//!    4. read the certificate of each signer not seen before
//!       (`certificate/<FPR>`), which must be an OpenPGP certificate with
//!       that primary fingerprint;
//!    5. append the chunk to the staging store in one synced write, with
//!       the bucket's checkpoint note as the store's checkpoint.
//! 5. Close the store, reopen it and check its size, checkpoint and root;
//!    check every upper hash tile of the bucket against it.
//! 6. Rename the staging directory to the data directory and sync their
//!    parent directory.
//!
//! Nothing is written to the data directory unless every check passed; on
//! a failure the staging directory is removed. `serve` on the restored
//! directory runs its own start-up check and continues the log from
//! exactly the bucket's checkpoint (with its cosignatures, if the bucket's
//! note had them).
//!
//! Out of scope: re-verifying each entry's OpenPGP signature (the signed
//! tree vouches for the entries; `attestlog monitor` re-verifies them), and
//! partial tiles and bundles of earlier tree sizes, which the bucket keeps
//! but the checkpoint's tree does not use.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use attestlog_bucket::layout::{
    self, MAX_CERTIFICATE_BYTES, MAX_CHECKPOINT_BYTES, MAX_ENTRY_BUNDLE_BYTES, MAX_HASH_TILE_BYTES,
};
use attestlog_bucket::{Bucket, BucketError};
use attestlog_core::checkpoint::{Checkpoint, CheckpointError};
use attestlog_core::note::VerifierKey;
use attestlog_core::proof::{prove_consistency, verify_consistency};
use attestlog_core::tile::{
    parse_entry_bundle, read_tile, Tile, TileHashReader, TileSource, TILE_WIDTH,
};
use attestlog_core::tree::{append_leaves, tree_root, Appended};
use attestlog_core::{leaf_hash, Hash};
use attestlog_store::{AppendBatch, NewEntry, RocksStore, Store, StoreError};
use bytes::Bytes;

use crate::admission::openpgp::store_index_keys;

/// Objects read from the bucket at once.
const FETCH_CONCURRENCY: usize = 16;

/// A chunk stops growing once its bundles hold this many bytes (a chunk
/// is held in memory until it is appended).
pub const MAX_CHUNK_BYTES: usize = 64 << 20;

/// Hash bytes per tile entry.
const HASH_BYTES: usize = 32;

/// Why a restore failed. Whatever the reason, the data directory was not
/// written.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The key given is not this log's checkpoint key.
    #[error("log key: {0}")]
    LogKey(String),
    /// The data directory exists and is not empty.
    #[error(
        "{} exists and is not an empty directory; restore only creates a data directory, \
         it never writes over one (move it away first)",
        .0.display()
    )]
    DataDirInUse(PathBuf),
    /// The data directory path has no last component to name the staging
    /// directory after (`/`, `.`, `..`).
    #[error("{} cannot be a data directory to restore into; name a directory", .0.display())]
    DataDirPath(PathBuf),
    /// A file system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The bucket failed or timed out.
    #[error(transparent)]
    Bucket(#[from] BucketError),
    /// The bucket holds no checkpoint.
    #[error("{0} holds no checkpoint: no log to restore")]
    NoCheckpoint(String),
    /// The checkpoint is not this log's (origin or signature).
    #[error("the bucket's checkpoint does not verify as this log's: {0}")]
    Checkpoint(#[source] CheckpointError),
    /// An object the checkpoint's tree needs is missing.
    #[error("object {0} is missing from the bucket")]
    Missing(String),
    /// The certificate of an entry's signer is missing.
    #[error(
        "certificate/{fingerprint}, of the signer of entry {entry}, is missing from the bucket"
    )]
    MissingCertificate {
        /// The upper-case hex primary fingerprint.
        fingerprint: String,
        /// The first entry it signed.
        entry: u64,
    },
    /// An object does not hold what the checkpoint's tree says it must.
    #[error("object {object} is corrupt: {reason}")]
    Corrupt {
        /// The object's name.
        object: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The entries read do not lead to the checkpoint's root.
    #[error("the bucket's first {size} entries do not lead to its checkpoint's root: {reason}")]
    NotConsistent {
        /// How many entries had been read.
        size: u64,
        /// What did not match.
        reason: String,
    },
    /// The staging store failed.
    #[error("the staging store: {0}")]
    Store(#[from] StoreError),
    /// The staging store, closed and reopened, is not what was written.
    #[error("the restored store, reopened: {0}")]
    Reopened(String),
    /// A task of the restore panicked or was cancelled.
    #[error("a restore task failed: {0}")]
    Task(String),
}

impl RestoreError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RestoreError + '_ {
        move |source| RestoreError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// What a restore did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreReport {
    /// The tree size restored (the bucket's checkpoint's).
    pub size: u64,
    /// Its root.
    pub root: Hash,
    /// Entries written.
    pub entries: u64,
    /// Signer certificates written.
    pub certificates: usize,
    /// Bytes read from the bucket.
    pub bytes_read: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// How a restore proceeds; the default is what `attestlog-server restore`
/// uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Entry bundles per chunk: each chunk is checked against the
    /// checkpoint, then appended in one synced write (at least 1).
    pub bundles_per_chunk: usize,
    /// Least time between two progress reports.
    pub progress_every: Duration,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions {
            bundles_per_chunk: 64,
            progress_every: Duration::from_secs(2),
        }
    }
}

/// Rebuilds the data directory `data_dir` from `bucket`, whose checkpoint
/// must be signed for `origin` by `verifier` (see the module docs);
/// `progress` is called with (entries done, total) at most every 2 s.
pub async fn restore(
    bucket: &Bucket,
    origin: &str,
    verifier: &VerifierKey,
    data_dir: &Path,
    progress: impl FnMut(u64, u64) + Send,
) -> Result<RestoreReport, RestoreError> {
    restore_with(
        bucket,
        origin,
        verifier,
        data_dir,
        &RestoreOptions::default(),
        progress,
    )
    .await
}

/// [`restore`] with explicit options.
pub async fn restore_with(
    bucket: &Bucket,
    origin: &str,
    verifier: &VerifierKey,
    data_dir: &Path,
    options: &RestoreOptions,
    mut progress: impl FnMut(u64, u64) + Send,
) -> Result<RestoreReport, RestoreError> {
    let started = Instant::now();
    check_key(origin, verifier)?;
    check_data_dir(data_dir)?;
    let staging = staging_dir(data_dir)?;
    let mut reader = Reader {
        bucket,
        bytes_read: 0,
    };
    let (cp, note) = read_checkpoint(&mut reader, origin, verifier).await?;
    tracing::info!(
        size = cp.size,
        root = %cp.root,
        bucket = bucket.describe(),
        "the bucket's checkpoint verifies; restoring its tree"
    );
    prepare_staging(&staging)?;
    let built = async {
        let certificates = build(&mut reader, &cp, &note, &staging, options, &mut progress).await?;
        check_restored(&mut reader, &staging, &cp, &note).await?;
        // Someone may have created the data directory meanwhile.
        check_data_dir(data_dir)?;
        std::fs::rename(&staging, data_dir).map_err(RestoreError::io(data_dir))?;
        Ok::<usize, RestoreError>(certificates)
    }
    .await;
    let certificates = match built {
        Ok(c) => c,
        Err(e) => {
            if let Err(rm) = std::fs::remove_dir_all(&staging) {
                if rm.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(dir = %staging.display(), error = %rm, "could not remove the staging directory");
                }
            }
            return Err(e);
        }
    };
    sync_dir(parent_of(data_dir))?;
    Ok(RestoreReport {
        size: cp.size,
        root: cp.root,
        entries: cp.size,
        certificates,
        bytes_read: reader.bytes_read,
        elapsed: started.elapsed(),
    })
}

/// Where a restore into `data_dir` builds the store: `<data_dir>.restoring`,
/// beside it, so that the final rename stays on one file system.
pub fn staging_dir(data_dir: &Path) -> Result<PathBuf, RestoreError> {
    let name = data_dir
        .file_name()
        .ok_or_else(|| RestoreError::DataDirPath(data_dir.to_owned()))?;
    let mut staging = name.to_os_string();
    staging.push(".restoring");
    Ok(data_dir.with_file_name(staging))
}

/// The log's checkpoint key must be this origin's ([`crate::check_log_key`]).
fn check_key(origin: &str, verifier: &VerifierKey) -> Result<(), RestoreError> {
    crate::check_log_key(verifier, origin).map_err(RestoreError::LogKey)
}

/// Refuses a data directory that exists and is not an empty directory.
fn check_data_dir(dir: &Path) -> Result<(), RestoreError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(RestoreError::DataDirInUse(dir.to_owned())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if std::fs::symlink_metadata(dir).is_ok() => {
            Err(RestoreError::DataDirInUse(dir.to_owned()))
        }
        Err(e) => Err(RestoreError::io(dir)(e)),
    }
}

/// Creates the staging directory's parent and deletes a staging directory
/// left by an interrupted restore.
fn prepare_staging(staging: &Path) -> Result<(), RestoreError> {
    let parent = parent_of(staging);
    std::fs::create_dir_all(parent).map_err(RestoreError::io(parent))?;
    match std::fs::remove_dir_all(staging) {
        Ok(()) => {
            tracing::warn!(dir = %staging.display(), "deleted the staging directory of an interrupted restore");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RestoreError::io(staging)(e)),
    }
}

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), RestoreError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(RestoreError::io(dir))
}

/// Reads objects, counting the bytes.
pub(crate) struct Reader<'a> {
    pub(crate) bucket: &'a Bucket,
    pub(crate) bytes_read: u64,
}

impl Reader<'_> {
    /// Reads `objects` (name, size limit), [`FETCH_CONCURRENCY`] at a
    /// time, in order; `None` for a missing one.
    async fn get_all(
        &mut self,
        objects: Vec<(String, u64)>,
    ) -> Result<Vec<Option<Bytes>>, RestoreError> {
        let mut out = vec![None; objects.len()];
        let mut pending = objects.into_iter().enumerate();
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < FETCH_CONCURRENCY {
                let Some((i, (name, max))) = pending.next() else {
                    break;
                };
                let bucket = self.bucket.clone();
                running.spawn(async move { (i, bucket.get(&name, max).await) });
            }
            match running.join_next().await {
                None => return Ok(out),
                Some(Ok((i, Ok(object)))) => {
                    if let Some(o) = object {
                        self.bytes_read += o.bytes.len() as u64;
                        out[i] = Some(o.bytes);
                    }
                }
                Some(Ok((_, Err(e)))) => return Err(e.into()),
                Some(Err(e)) => return Err(RestoreError::Task(e.to_string())),
            }
        }
    }

    /// Reads objects that must all exist.
    async fn get_present(
        &mut self,
        objects: Vec<(String, u64)>,
    ) -> Result<Vec<Bytes>, RestoreError> {
        let names: Vec<String> = objects.iter().map(|(n, _)| n.clone()).collect();
        self.get_all(objects)
            .await?
            .into_iter()
            .zip(names)
            .map(|(o, name)| o.ok_or(RestoreError::Missing(name)))
            .collect()
    }
}

/// Reads the bucket's checkpoint and verifies it: (checkpoint, note bytes).
pub(crate) async fn read_checkpoint(
    reader: &mut Reader<'_>,
    origin: &str,
    verifier: &VerifierKey,
) -> Result<(Checkpoint, Vec<u8>), RestoreError> {
    let note = reader
        .get_all(vec![(layout::CHECKPOINT.to_owned(), MAX_CHECKPOINT_BYTES)])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| RestoreError::NoCheckpoint(reader.bucket.describe().to_owned()))?;
    let (cp, _) = Checkpoint::open(&note, origin, verifier).map_err(RestoreError::Checkpoint)?;
    Ok((cp, note.to_vec()))
}

/// The entry bundle `n` of the tree of `size` leaves (`n` below the
/// number of bundles), as a level-0 tile.
fn bundle_tile(n: u64, size: u64) -> Tile {
    let width = (size - n * u64::from(TILE_WIDTH)).min(u64::from(TILE_WIDTH));
    Tile {
        level: 0,
        index: n,
        width: width as u16,
    }
}

/// An entry bundle and its level-0 hash tile, as read.
struct Fetched {
    tile: Tile,
    bundle: Bytes,
    hashes: Bytes,
}

/// A chunk ready to append.
struct Chunk {
    entries: Vec<NewEntry>,
    appended: Appended,
    /// Each signer's primary fingerprint, with the first entry it signed,
    /// in entry order.
    signers: Vec<(Vec<u8>, u64)>,
}

/// Step 4 of the module docs; returns the number of certificates written.
async fn build(
    reader: &mut Reader<'_>,
    cp: &Checkpoint,
    note: &[u8],
    staging: &Path,
    options: &RestoreOptions,
    progress: &mut (impl FnMut(u64, u64) + Send),
) -> Result<usize, RestoreError> {
    let store: Arc<dyn Store> = Arc::new(RocksStore::open(staging)?);
    if cp.size == 0 {
        // The empty tree: its checkpoint is all the store holds.
        if cp.root != Hash::EMPTY_ROOT {
            return Err(RestoreError::NotConsistent {
                size: 0,
                reason: format!(
                    "the checkpoint is for size 0 but its root is {}, not the empty tree's",
                    cp.root
                ),
            });
        }
        store.append(&AppendBatch {
            old_size: 0,
            checkpoint: note.to_vec(),
            ..AppendBatch::default()
        })?;
        return Ok(0);
    }
    append_from_bucket(reader, &store, 0, cp, note, options, progress).await
}

/// Appends to `store`, which holds the first `from` entries of the
/// bucket's tree, the entries `from..cp.size`, chunk by chunk, each
/// checked against the checkpoint before it is written (steps 4.1 to 4.5
/// of the module docs; the store's checkpoint is `note` from the first
/// chunk on). Restore and read replicas (`crate::replica`) both append
/// this way. Returns the number of certificates written.
pub(crate) async fn append_from_bucket(
    reader: &mut Reader<'_>,
    store: &Arc<dyn Store>,
    from: u64,
    cp: &Checkpoint,
    note: &[u8],
    options: &RestoreOptions,
    progress: &mut (impl FnMut(u64, u64) + Send),
) -> Result<usize, RestoreError> {
    let size = cp.size;
    let width = u64::from(TILE_WIDTH);
    let bundles = size.div_ceil(width);
    let per_chunk = options.bundles_per_chunk.max(1) as u64;
    let mut known_signers: HashSet<Vec<u8>> = HashSet::new();
    let mut done = from;
    let mut next = from / width;
    let mut last_report = Instant::now();
    while next < bundles {
        // 4.1: the chunk's bundles and level-0 tiles.
        let first = next;
        let mut fetched: Vec<Fetched> = Vec::new();
        let mut chunk_bytes = 0usize;
        while next < bundles && next < first + per_chunk && chunk_bytes < MAX_CHUNK_BYTES {
            let end = bundles
                .min(next + FETCH_CONCURRENCY as u64 / 2)
                .min(first + per_chunk);
            let tiles: Vec<Tile> = (next..end).map(|n| bundle_tile(n, size)).collect();
            let names = tiles
                .iter()
                .flat_map(|t| {
                    [
                        (layout::entry_bundle(t), MAX_ENTRY_BUNDLE_BYTES),
                        (layout::hash_tile(t), MAX_HASH_TILE_BYTES),
                    ]
                })
                .collect();
            let mut objects = reader.get_present(names).await?.into_iter();
            for tile in tiles {
                let (Some(bundle), Some(hashes)) = (objects.next(), objects.next()) else {
                    return Err(RestoreError::Task("an object read went missing".into()));
                };
                chunk_bytes += bundle.len();
                fetched.push(Fetched {
                    tile,
                    bundle,
                    hashes,
                });
            }
            next = end;
        }
        let level0: HashMap<Tile, Bytes> =
            fetched.iter().map(|f| (f.tile, f.hashes.clone())).collect();

        // 4.2 and the hashes of 4.3, off the async threads.
        let chunk = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || decode_chunk(store.as_ref(), done, fetched))
                .await
                .map_err(|e| RestoreError::Task(e.to_string()))??
        };
        let end = done + chunk.entries.len() as u64;

        // 4.3: the root at the chunk's end against the checkpoint's.
        check_consistent(reader, cp, end, &chunk.appended.root, level0).await?;

        // 4.4: certificates of the signers not read yet in this call.
        let new_signers: Vec<(Vec<u8>, u64)> = chunk
            .signers
            .into_iter()
            .filter(|(fpr, _)| !known_signers.contains(fpr))
            .collect();
        let certificates = read_certificates(reader, &new_signers).await?;
        known_signers.extend(new_signers.into_iter().map(|(fpr, _)| fpr));

        // 4.5: one synced write.
        let batch = AppendBatch {
            old_size: done,
            entries: chunk.entries,
            hashes: chunk.appended.hashes,
            certificates,
            checkpoint: note.to_vec(),
        };
        let writer = store.clone();
        tokio::task::spawn_blocking(move || writer.append(&batch))
            .await
            .map_err(|e| RestoreError::Task(e.to_string()))??;
        done = end;
        if last_report.elapsed() >= options.progress_every {
            last_report = Instant::now();
            progress(done, size);
        }
    }
    Ok(known_signers.len())
}

/// Decodes a chunk's bundles into entries with their index keys, checks
/// each level-0 tile against the bundle's leaf hashes, and computes the
/// subtree hashes appending them to the tree of `start` leaves completes.
/// The first bundle may begin before `start` (a replica holding part of
/// it): its earlier entries are checked against the tile but not
/// appended again.
fn decode_chunk(
    store: &dyn Store,
    start: u64,
    fetched: Vec<Fetched>,
) -> Result<Chunk, RestoreError> {
    let mut entries = Vec::new();
    let mut leaves: Vec<Hash> = Vec::new();
    let mut signers = Vec::new();
    let mut seen = HashSet::new();
    for f in &fetched {
        let bundle_name = layout::entry_bundle(&f.tile);
        let corrupt = |reason: String| RestoreError::Corrupt {
            object: bundle_name.clone(),
            reason,
        };
        let parsed =
            parse_entry_bundle(&f.bundle, f.tile.width).map_err(|e| corrupt(e.to_string()))?;
        let mut tile_leaves = Vec::with_capacity(parsed.len());
        for (i, bytes) in parsed.into_iter().enumerate() {
            let index = f.tile.index * u64::from(TILE_WIDTH) + i as u64;
            tile_leaves.push(leaf_hash(bytes));
            if index < start {
                continue;
            }
            let keys = attestlog_attest::leaf_keys(bytes).map_err(|e| {
                corrupt(format!("entry {index} is not a leaf this log writes: {e}"))
            })?;
            let primary = keys.index.primary_fingerprint.as_bytes().to_vec();
            if seen.insert(primary.clone()) {
                signers.push((primary, index));
            }
            entries.push(NewEntry {
                bytes: bytes.to_vec(),
                dedup_key: Hash(keys.dedup_key),
                index_keys: store_index_keys(&keys.index),
            });
        }
        let want: Vec<u8> = tile_leaves.iter().flat_map(|h| h.0).collect();
        if f.hashes[..] != want[..] {
            return Err(RestoreError::Corrupt {
                object: layout::hash_tile(&f.tile),
                reason: format!("it does not hold the leaf hashes of the entries of {bundle_name}"),
            });
        }
        let first_new = start.saturating_sub(f.tile.index * u64::from(TILE_WIDTH)) as usize;
        leaves.extend_from_slice(&tile_leaves[first_new.min(tile_leaves.len())..]);
    }
    let appended = append_leaves(store, start, &leaves)?;
    Ok(Chunk {
        entries,
        appended,
        signers,
    })
}

/// Hash tiles read from the bucket beforehand, for the synchronous
/// [`TileHashReader`]. A proof is built once with the tiles at hand; the
/// ones it lacked are noted (and served as zeros meanwhile), read, and the
/// proof built again. Which tiles a proof reads depends only on the tree
/// sizes, so the second pass has them all.
struct Prefetched<'a> {
    tiles: &'a HashMap<Tile, Bytes>,
    lacking: RefCell<BTreeSet<Tile>>,
}

impl TileSource for &Prefetched<'_> {
    type Error = Infallible;

    fn read_tile(&self, tile: &Tile) -> Result<Vec<u8>, Infallible> {
        Ok(match self.tiles.get(tile) {
            Some(bytes) => bytes.to_vec(),
            None => {
                self.lacking.borrow_mut().insert(*tile);
                vec![0; usize::from(tile.width) * HASH_BYTES]
            }
        })
    }
}

/// Checks that `root`, of the first `at` entries, is consistent with the
/// checkpoint's root: equal at the checkpoint's size, else by a
/// consistency proof from the bucket's hash tiles (`tiles` holds those
/// already read).
async fn check_consistent(
    reader: &mut Reader<'_>,
    cp: &Checkpoint,
    at: u64,
    root: &Hash,
    mut tiles: HashMap<Tile, Bytes>,
) -> Result<(), RestoreError> {
    let not_consistent = |reason: String| RestoreError::NotConsistent { size: at, reason };
    if at == cp.size {
        if *root != cp.root {
            return Err(not_consistent(format!(
                "their root is {root}, the checkpoint's {}",
                cp.root
            )));
        }
        return Ok(());
    }
    for _pass in 0..2 {
        let source = Prefetched {
            tiles: &tiles,
            lacking: RefCell::new(BTreeSet::new()),
        };
        let proof = prove_consistency(&TileHashReader::new(&source, cp.size), at, cp.size);
        let lacking = source.lacking.into_inner();
        if lacking.is_empty() {
            let proof = proof.map_err(|e| {
                not_consistent(format!(
                    "no consistency proof to size {} from the bucket's hash tiles: {e}",
                    cp.size
                ))
            })?;
            return verify_consistency(at, cp.size, root, &cp.root, &proof).map_err(|e| {
                not_consistent(format!(
                    "the consistency proof to size {} from the bucket's hash tiles fails: {e}",
                    cp.size
                ))
            });
        }
        let names = lacking
            .iter()
            .map(|t| (layout::hash_tile(t), MAX_HASH_TILE_BYTES))
            .collect();
        let read = reader.get_present(names).await?;
        tiles.extend(lacking.into_iter().zip(read));
    }
    Err(RestoreError::Task(
        "building a consistency proof kept asking for more tiles".into(),
    ))
}

/// Reads and checks the certificates of `signers` (primary fingerprint,
/// first entry).
async fn read_certificates(
    reader: &mut Reader<'_>,
    signers: &[(Vec<u8>, u64)],
) -> Result<Vec<(Vec<u8>, Vec<u8>)>, RestoreError> {
    let names = signers
        .iter()
        .map(|(fpr, _)| (layout::certificate(fpr), MAX_CERTIFICATE_BYTES))
        .collect();
    let read = reader.get_all(names).await?;
    let mut out = Vec::with_capacity(signers.len());
    for ((fpr, entry), bytes) in signers.iter().zip(read) {
        let fingerprint = hex::encode_upper(fpr);
        let bytes = bytes.ok_or_else(|| RestoreError::MissingCertificate {
            fingerprint: fingerprint.clone(),
            entry: *entry,
        })?;
        let corrupt = |reason: String| RestoreError::Corrupt {
            object: layout::certificate(fpr),
            reason,
        };
        let cert = attestlog_attest::parse_stored(&bytes)
            .map_err(|e| corrupt(format!("not an OpenPGP certificate: {e}")))?;
        if cert.fingerprint().as_bytes() != fpr.as_slice() {
            return Err(corrupt(format!(
                "it holds the certificate of {}, not of {fingerprint}",
                cert.fingerprint().to_hex()
            )));
        }
        out.push((fpr.clone(), bytes.to_vec()));
    }
    Ok(out)
}

/// Step 5 of the module docs: reopens the staging store and checks its
/// size, checkpoint and root, and the bucket's upper hash tiles against
/// it.
async fn check_restored(
    reader: &mut Reader<'_>,
    staging: &Path,
    cp: &Checkpoint,
    note: &[u8],
) -> Result<(), RestoreError> {
    let store = RocksStore::open(staging)?;
    let state = store
        .state()?
        .ok_or_else(|| RestoreError::Reopened("it holds no checkpoint".into()))?;
    if state.size != cp.size {
        return Err(RestoreError::Reopened(format!(
            "it holds {} entries, the checkpoint {}",
            state.size, cp.size
        )));
    }
    if state.checkpoint != note {
        return Err(RestoreError::Reopened(
            "its checkpoint is not the bucket's".into(),
        ));
    }
    let root = tree_root(&store, cp.size)?;
    if root != cp.root {
        return Err(RestoreError::Reopened(format!(
            "its root is {root}, the checkpoint's {}",
            cp.root
        )));
    }
    let upper: Vec<Tile> = Tile::changed_between(0, cp.size)
        .into_iter()
        .filter(|t| t.level > 0)
        .collect();
    for group in upper.chunks(4 * FETCH_CONCURRENCY) {
        let names = group
            .iter()
            .map(|t| (layout::hash_tile(t), MAX_HASH_TILE_BYTES))
            .collect();
        let read = reader.get_present(names).await?;
        for (t, bytes) in group.iter().zip(read) {
            let want = read_tile(&store, t).map_err(|e| RestoreError::Reopened(e.to_string()))?;
            if bytes[..] != want[..] {
                return Err(RestoreError::Corrupt {
                    object: layout::hash_tile(t),
                    reason: "it differs from the tile computed from the entries".into(),
                });
            }
        }
    }
    Ok(())
}
