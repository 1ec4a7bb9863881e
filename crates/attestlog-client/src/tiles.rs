//! Reading a log's C2SP tlog-tiles over plain HTTP: `/checkpoint`, hash
//! tiles (for rebuilding roots and proofs with no help from the log's
//! gRPC answers) and entry bundles (for monitors).
//!
//! Nothing read is trusted: roots rebuilt from tiles are compared with
//! signed checkpoints by the callers. Only `http://` URLs (integrity comes
//! from signatures; put TLS in front for confidentiality).

use std::time::Duration;

use attestlog_core::hash::HASH_SIZE;
use attestlog_core::proof::{prove_consistency, verify_consistency};
use attestlog_core::tile::{parse_entry_bundle, Tile, TileHashReader, TileSource, TILE_WIDTH};
use attestlog_core::tree::tree_root;
use attestlog_core::Hash;
use tokio::runtime::Handle;

use crate::error::ClientError;

/// Time allowed for one tile request.
pub const TILE_TIMEOUT: Duration = Duration::from_secs(20);

/// The largest entry bundle: 256 entries of at most 65,535 bytes plus
/// their length prefixes.
pub const MAX_ENTRY_BUNDLE: usize = 256 * (65_535 + 2);

/// A tile reader for the log whose tiles live under `base`
/// (e.g. `http://127.0.0.1:8080`). Its blocking methods must run on a
/// blocking thread (`spawn_blocking`) of the runtime `handle` belongs to.
#[derive(Clone, Debug)]
pub struct HttpTiles {
    base: String,
    handle: Handle,
}

impl HttpTiles {
    /// A reader for `base`, on the current Tokio runtime.
    pub fn new(base: &str, handle: Handle) -> HttpTiles {
        HttpTiles {
            base: base.trim_end_matches('/').to_owned(),
            handle,
        }
    }

    fn get(&self, path: &str, max: usize) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}/{path}", self.base);
        let r = self
            .handle
            .block_on(attestlog_http::get(&url, TILE_TIMEOUT, max))?;
        if r.status != 200 {
            return Err(ClientError::BadAnswer(format!(
                "GET {url} answered {}",
                r.status
            )));
        }
        Ok(r.body)
    }

    /// The entries of bundle `index` with `width` entries.
    pub fn entries(&self, index: u64, width: u16) -> Result<Vec<Vec<u8>>, ClientError> {
        let tile = Tile::new(0, index, width)
            .map_err(|e| ClientError::BadAnswer(format!("entry bundle: {e}")))?;
        let body = self.get(&tile.entries_path(), MAX_ENTRY_BUNDLE)?;
        Ok(parse_entry_bundle(&body, width)
            .map_err(|e| {
                ClientError::BadAnswer(format!("entry bundle {}: {e}", tile.entries_path()))
            })?
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect())
    }
}

impl TileSource for &HttpTiles {
    type Error = ClientError;

    fn read_tile(&self, tile: &Tile) -> Result<Vec<u8>, ClientError> {
        self.get(&tile.path(), usize::from(TILE_WIDTH) * HASH_SIZE)
    }
}

/// For a tree of `new_size` leaves with signed root `new_root`, reads from
/// tiles the root of its first `old_size` leaves and the consistency proof
/// from there, and checks the proof against `new_root` (so the tiles are
/// the signed tree). Returns `(prefix root, proof)`: the material of
/// `inconsistent` split-view evidence when the prefix root is not the one
/// a checkpoint of `old_size` signed.
pub fn prefix_and_proof(
    tiles: &HttpTiles,
    old_size: u64,
    new_size: u64,
    new_root: &Hash,
) -> Result<(Hash, Vec<Hash>), ClientError> {
    let reader = TileHashReader::new(tiles, new_size);
    let tile_err = |e| ClientError::BadAnswer(format!("reading tiles: {e}"));
    let prefix = tree_root(&reader, old_size).map_err(tile_err)?;
    let proof = prove_consistency(&reader, old_size, new_size)
        .map_err(|e| ClientError::BadAnswer(format!("reading tiles: {e}")))?;
    verify_consistency(old_size, new_size, &prefix, new_root, &proof).map_err(|source| {
        ClientError::Proof {
            what: "the log's tiles do not match its signed checkpoint".into(),
            source,
        }
    })?;
    Ok((prefix, proof))
}
