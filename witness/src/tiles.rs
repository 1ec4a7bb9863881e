//! Consistency proofs from a log's C2SP tlog-tiles API: the
//! [`TreeSource`] the witness uses when gossip shows a checkpoint other
//! than its own.
//!
//! Tiles are fetched over HTTP at the widths they have in the tree of the
//! newer checkpoint; a partial tile that the log no longer serves (C2SP
//! tlog-tiles lets logs delete partial tiles once the full tile exists) is
//! read from the full tile's prefix instead. Nothing fetched is trusted:
//! the witness checks the resulting proof against the signed root.

use std::time::Duration;

use attestlog_core::hash::HASH_SIZE;
use attestlog_core::proof::prove_consistency;
use attestlog_core::tile::{Tile, TileHashReader, TileSource, TILE_WIDTH};
use attestlog_core::tree::tree_root;
use attestlog_core::Hash;
use hyper::Method;
use tokio::runtime::Handle;

use crate::client;
use crate::config::LogConfig;
use crate::error::WitnessError;
use crate::witness::TreeSource;

/// Fetches tiles over HTTP. Must be used from a blocking thread
/// (`spawn_blocking`) of the runtime `handle` belongs to.
pub struct HttpTiles {
    handle: Handle,
    timeout: Duration,
}

impl HttpTiles {
    /// A tile fetcher with a per-request timeout.
    pub fn new(handle: Handle, timeout: Duration) -> Self {
        HttpTiles { handle, timeout }
    }
}

struct Fetcher<'a> {
    base: &'a str,
    handle: &'a Handle,
    timeout: Duration,
}

impl Fetcher<'_> {
    fn get(&self, path: &str) -> Result<client::Response, String> {
        let url = format!("{}/{path}", self.base);
        self.handle
            .block_on(client::request(
                Method::GET,
                &url,
                Vec::new(),
                self.timeout,
                usize::from(TILE_WIDTH) * HASH_SIZE,
            ))
            .map_err(|e| e.to_string())
    }
}

impl TileSource for Fetcher<'_> {
    type Error = String;

    fn read_tile(&self, tile: &Tile) -> Result<Vec<u8>, String> {
        let resp = self.get(&tile.path())?;
        if resp.status == 200 {
            return Ok(resp.body);
        }
        if resp.status == 404 && tile.is_partial() {
            let full = Tile::new(tile.level, tile.index, TILE_WIDTH).map_err(|e| e.to_string())?;
            let resp = self.get(&full.path())?;
            if resp.status == 200 && resp.body.len() >= usize::from(tile.width) * HASH_SIZE {
                let mut body = resp.body;
                body.truncate(usize::from(tile.width) * HASH_SIZE);
                return Ok(body);
            }
        }
        Err(format!("{} answered {}", tile.path(), resp.status))
    }
}

impl TreeSource for HttpTiles {
    fn prefix_proof(
        &self,
        log: &LogConfig,
        older: u64,
        newer: u64,
    ) -> Result<(Hash, Vec<Hash>), WitnessError> {
        let base = log
            .tiles_url
            .as_deref()
            .ok_or_else(|| WitnessError::Fetch {
                url: log.origin.clone(),
                reason: "no tiles_url configured for this log".into(),
            })?;
        let fail = |reason: String| WitnessError::Fetch {
            url: base.to_owned(),
            reason,
        };
        let reader = TileHashReader::new(
            Fetcher {
                base,
                handle: &self.handle,
                timeout: self.timeout,
            },
            newer,
        );
        let prefix = tree_root(&reader, older).map_err(|e| fail(e.to_string()))?;
        let proof = prove_consistency(&reader, older, newer).map_err(|e| fail(e.to_string()))?;
        Ok((prefix, proof))
    }
}
