//! Reading a log's C2SP tlog-tiles over HTTP: hash tiles, to rebuild the
//! root of a prefix of the tree and proofs with no help from the log's
//! other APIs, and entry bundles, for monitors. The one tile reader of the
//! client (fork evidence, `attestlog monitor --tiles-url`) and the witness
//! (checking gossiped checkpoints).
//!
//! C2SP tlog-tiles: "Logs MAY delete partial tiles once the corresponding
//! full tile is available". A partial tile (hash tile or entry bundle)
//! answered with 404 is therefore read as the prefix of its full tile.
//!
//! Nothing read is trusted: a root or proof rebuilt from tiles means
//! something only once checked against a signed checkpoint, which the
//! callers do.
//!
//! Limits, against a slow or hostile tiles server: each request is bounded
//! by the reader's timeout and its body by [`MAX_HASH_TILE`] or
//! [`MAX_ENTRY_BUNDLE`]; a tile costs at most two requests (the partial
//! tile, then the full one), and one rebuild fetches each tile at most
//! once ([`TileHashReader`]).

use std::time::Duration;

use attestlog_core::hash::HASH_SIZE;
use attestlog_core::proof::{prove_consistency, ProofError, ProveError};
use attestlog_core::tile::{
    parse_entry_bundle, Tile, TileError, TileHashReader, TileReadError, TileSource, TILE_WIDTH,
};
use attestlog_core::tree::tree_root;
use attestlog_core::Hash;
use tokio::runtime::Handle;

use crate::{get, HttpError};

/// The time the `attestlog` client allows one tile request (the witness
/// uses its configured `timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// The largest hash tile: 256 hashes of 32 bytes.
pub const MAX_HASH_TILE: usize = TILE_WIDTH as usize * HASH_SIZE;

/// The largest entry bundle: 256 entries of at most 65,535 bytes plus
/// their length prefixes.
pub const MAX_ENTRY_BUNDLE: usize = TILE_WIDTH as usize * (u16::MAX as usize + 2);

/// Why tiles could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TileFetchError {
    /// The request failed (connection, timeout, body too large).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The server answered something other than 200 (for a partial tile:
    /// the partial tile's status, its full tile being no better).
    #[error("GET {url} answered {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// A full tile, read in place of its partial tile, is shorter than
    /// the partial tile.
    #[error("GET {url}: the full tile has {len} bytes, fewer than its partial tile's {need}")]
    ShortFullTile {
        /// The full tile's URL.
        url: String,
        /// Its length.
        len: usize,
        /// The partial tile's length.
        need: usize,
    },
    /// The coordinates asked for are not a tile.
    #[error("no such tile: {0}")]
    NotATile(#[source] TileError),
    /// An entry bundle does not parse.
    #[error("entry bundle {path}: {source}")]
    EntryBundle {
        /// The bundle's path.
        path: String,
        /// Why it does not parse.
        #[source]
        source: TileError,
    },
    /// A hash could not be read from tiles: a failed fetch, or a
    /// malformed tile.
    #[error("reading tiles: {0}")]
    Read(#[source] Box<TileReadError<TileFetchError>>),
    /// The sizes asked for describe no proof.
    #[error(transparent)]
    Sizes(#[from] ProofError),
}

/// What a GET of a tile gave: the tile itself, or (the partial tile being
/// gone) its full tile.
enum Fetched {
    Exact(Vec<u8>),
    Full(Vec<u8>),
}

/// The tile reader of one log, whose tiles live under `base` (e.g.
/// `http://127.0.0.1:8080`). Its methods block: call them from a blocking
/// thread (`spawn_blocking`) of the runtime `handle` belongs to.
#[derive(Clone, Debug)]
pub struct TileFetcher {
    base: String,
    host: Option<String>,
    handle: Handle,
    timeout: Duration,
}

impl TileFetcher {
    /// A reader for the tiles under `base`, each request bounded by
    /// `timeout`, run on the runtime of `handle`.
    pub fn new(base: &str, handle: Handle, timeout: Duration) -> TileFetcher {
        TileFetcher {
            base: base.trim_end_matches('/').to_owned(),
            host: None,
            handle,
            timeout,
        }
    }

    /// The same reader, sending `host` as every request's `Host` header
    /// instead of `base`'s authority: for a website endpoint or CDN
    /// reached by IP address that picks the site by `Host` (Garage's
    /// website endpoint serves the bucket named like the `Host`).
    pub fn with_host(self, host: &str) -> TileFetcher {
        TileFetcher {
            host: Some(host.to_owned()),
            ..self
        }
    }

    /// `GET base/path`, with a body of at most `max` bytes.
    fn get(&self, path: &str, max: usize) -> Result<(String, crate::Response), HttpError> {
        let url = format!("{}/{path}", self.base);
        let r = self
            .handle
            .block_on(get(&url, self.host.as_deref(), self.timeout, max))?;
        Ok((url, r))
    }

    /// Fetches `tile` at `path_of(tile)`, or its full tile if the server
    /// answers 404 for a partial one.
    fn fetch(
        &self,
        tile: &Tile,
        path_of: fn(&Tile) -> String,
        max: usize,
    ) -> Result<Fetched, TileFetchError> {
        let (url, r) = self.get(&path_of(tile), max)?;
        if r.status == 200 {
            return Ok(Fetched::Exact(r.body));
        }
        // C2SP tlog-tiles: "Logs MAY delete partial tiles once the
        // corresponding full tile is available".
        if r.status == 404 && tile.is_partial() {
            let full =
                Tile::new(tile.level, tile.index, TILE_WIDTH).map_err(TileFetchError::NotATile)?;
            let (_, f) = self.get(&path_of(&full), max)?;
            if f.status == 200 {
                return Ok(Fetched::Full(f.body));
            }
        }
        Err(TileFetchError::Status {
            url,
            status: r.status,
        })
    }

    /// The entries of entry bundle `index` as it is with `width` entries.
    pub fn entries(&self, index: u64, width: u16) -> Result<Vec<Vec<u8>>, TileFetchError> {
        let tile = Tile::new(0, index, width).map_err(TileFetchError::NotATile)?;
        let parse = |body: &[u8], width: u16| -> Result<Vec<Vec<u8>>, TileFetchError> {
            Ok(parse_entry_bundle(body, width)
                .map_err(|source| TileFetchError::EntryBundle {
                    path: tile.entries_path(),
                    source,
                })?
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect())
        };
        match self.fetch(&tile, Tile::entries_path, MAX_ENTRY_BUNDLE)? {
            Fetched::Exact(body) => parse(&body, width),
            Fetched::Full(body) => {
                let mut all = parse(&body, TILE_WIDTH)?;
                all.truncate(usize::from(width));
                Ok(all)
            }
        }
    }

    /// The tree of `size` leaves as its tiles give it, for
    /// `attestlog_core`'s `tree_root`, `prove_inclusion` and
    /// `prove_consistency`. Nothing it gives is checked.
    pub fn tree(&self, size: u64) -> TileHashReader<&TileFetcher> {
        TileHashReader::new(self, size)
    }

    /// From the tiles of the tree of `new_size` leaves: the root of its
    /// first `old_size` leaves and the consistency proof from there to
    /// `new_size` — the material of `inconsistent` split-view evidence
    /// when that root is not the one a checkpoint of `old_size` signed.
    ///
    /// Nothing is checked: the tiles are the signed tree only if the proof
    /// leads from this root to the signed root of `new_size`
    /// (`attestlog_core::proof::verify_consistency`), which the caller
    /// must check before using either.
    pub fn prefix_and_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<(Hash, Vec<Hash>), TileFetchError> {
        let tree = self.tree(new_size);
        let read = |e| TileFetchError::Read(Box::new(e));
        let prefix = tree_root(&tree, old_size).map_err(read)?;
        let proof = prove_consistency(&tree, old_size, new_size).map_err(|e| match e {
            ProveError::Invalid(e) => TileFetchError::Sizes(e),
            ProveError::Read(e) => read(e),
        })?;
        Ok((prefix, proof))
    }
}

impl TileSource for &TileFetcher {
    type Error = TileFetchError;

    fn read_tile(&self, tile: &Tile) -> Result<Vec<u8>, TileFetchError> {
        match self.fetch(tile, Tile::path, MAX_HASH_TILE)? {
            Fetched::Exact(body) => Ok(body),
            Fetched::Full(mut body) => {
                let need = usize::from(tile.width) * HASH_SIZE;
                if body.len() < need {
                    let full = Tile::new(tile.level, tile.index, TILE_WIDTH)
                        .map_err(TileFetchError::NotATile)?;
                    return Err(TileFetchError::ShortFullTile {
                        url: format!("{}/{}", self.base, full.path()),
                        len: body.len(),
                        need,
                    });
                }
                body.truncate(need);
                Ok(body)
            }
        }
    }
}
