//! C2SP tlog-tiles: tile coordinates, paths, contents and entry bundles.
//!
//! A tile at level `L` and index `N` holds up to 256 consecutive hashes of
//! tree level `8·L`: hash `i` is the Merkle tree hash of leaves
//! `[(N·256 + i)·256^L, (N·256 + i + 1)·256^L)`. A full tile has 256
//! hashes (8,192 bytes); the rightmost tile of a level may be *partial*,
//! with width `W = ⌊size / 256^L⌋ mod 256`.
//!
//! ```text
//! hash tile path   = "tile/" L "/" N [ ".p/" W ]
//! entry bundle     = "tile/entries/" N [ ".p/" W ]
//! L                = decimal 0..63, no leading zeros
//! N                = *( "x" 3DIGIT "/" ) 3DIGIT   ; N in groups of three digits,
//!                                                 ; every group but the last
//!                                                 ; prefixed "x", no leading zero group
//! W                = decimal 1..255, no leading zeros
//! entry bundle     = *( uint16-big-endian(length) entry )
//! ```
//!
//! For example index 1,234,067 is `x001/x234/067`. Hash tiles contain the
//! concatenated 32-byte hashes; entry bundles contain up to 256 entries of
//! at most 65,535 bytes each (the length prefix is two bytes).
//!
//! Trees here have at most 2^63 leaves, so only levels 0..=7 can hold
//! tiles; paths with higher levels parse, and are then reported as outside
//! every tree by [`Tile::subtrees`] and [`TileHashReader`].

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::frontier::Frontier;
use crate::hash::{Hash, HASH_SIZE};
use crate::text::parse_decimal_u64;
use crate::tree::{HashReader, Subtree, MAX_TREE_SIZE};

/// Hashes in a full tile.
pub const TILE_WIDTH: u16 = 256;

/// Tree levels per tile level.
pub const TILE_HEIGHT: u8 = 8;

/// The highest level a tile path may name (C2SP tlog-tiles).
pub const MAX_PATH_LEVEL: u8 = 63;

/// The highest tile level that can exist in a tree of at most 2^63 leaves.
pub const MAX_TILE_LEVEL: u8 = 7;

/// The largest entry an entry bundle can hold: its length prefix is a
/// big-endian `uint16`.
pub const MAX_BUNDLE_ENTRY_SIZE: usize = u16::MAX as usize;

/// Why a tile path, tile or entry bundle was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The path does not follow the tlog-tiles grammar.
    #[error("malformed tile path {path:?}: {reason}")]
    BadPath {
        /// The path given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The tile width is not in 1..=256.
    #[error("tile width {0} is not between 1 and 256")]
    BadWidth(u16),
    /// The tile lies outside the tree it is read for.
    #[error("tile {0} is not within a tree of {1} leaves")]
    NotInTree(String, u64),
    /// A tile's bytes are not `width × 32` long.
    #[error("tile {tile} has {got} bytes, expected {expected}")]
    WrongTileLength {
        /// The tile's path.
        tile: String,
        /// `width × 32`.
        expected: usize,
        /// What was read.
        got: usize,
    },
    /// An entry is longer than [`MAX_BUNDLE_ENTRY_SIZE`].
    #[error("entry of {0} bytes does not fit an entry bundle (limit 65535)")]
    EntryTooLarge(usize),
    /// More than 256 entries for one bundle, or none.
    #[error("an entry bundle holds 1 to 256 entries, not {0}")]
    BadEntryCount(usize),
    /// An entry bundle's bytes do not parse.
    #[error("malformed entry bundle: {0}")]
    BadBundle(&'static str),
}

/// A tile: `width` hashes at tile level `level`, starting at hash
/// `index × 256` of tree level `8 × level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Tile level; tree level is `8 × level`.
    pub level: u8,
    /// Tile index within its level.
    pub index: u64,
    /// Number of hashes, 1..=256; 256 is a full tile.
    pub width: u16,
}

/// What a tlog-tiles path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TilePath {
    /// A hash tile, `tile/<L>/<N>[.p/<W>]`.
    Hashes(Tile),
    /// An entry bundle, `tile/entries/<N>[.p/<W>]`; its tile has level 0.
    Entries(Tile),
}

impl Tile {
    /// Builds a tile, checking the width.
    pub fn new(level: u8, index: u64, width: u16) -> Result<Tile, TileError> {
        if width == 0 || width > TILE_WIDTH {
            return Err(TileError::BadWidth(width));
        }
        Ok(Tile {
            level,
            index,
            width,
        })
    }

    /// Whether the tile has fewer than 256 hashes.
    pub fn is_partial(&self) -> bool {
        self.width < TILE_WIDTH
    }

    /// The hash tile's path, `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, self.suffix())
    }

    /// The path of the entry bundle with this index and width,
    /// `tile/entries/<N>[.p/<W>]`.
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}", self.suffix())
    }

    fn suffix(&self) -> String {
        let mut s = encode_index(self.index);
        if self.is_partial() {
            s.push_str(&format!(".p/{}", self.width));
        }
        s
    }

    /// The number of hashes tree level `8 × level` has in a tree of `size`
    /// leaves (complete subtrees of that height).
    fn level_count(level: u8, size: u64) -> u64 {
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        if shift >= 64 {
            0
        } else {
            size >> shift
        }
    }

    /// The tile at `level` and `index` as it stands in a tree of `size`
    /// leaves, or `None` if the tree has no hash in it yet.
    pub fn at(level: u8, index: u64, size: u64) -> Option<Tile> {
        let count = Tile::level_count(level, size);
        let start = index.checked_mul(u64::from(TILE_WIDTH))?;
        if count <= start {
            return None;
        }
        let width = (count - start).min(u64::from(TILE_WIDTH)) as u16;
        Some(Tile {
            level,
            index,
            width,
        })
    }

    /// Whether every hash of this tile exists in a tree of `size` leaves.
    pub fn is_within(&self, size: u64) -> bool {
        Tile::at(self.level, self.index, size).is_some_and(|t| t.width >= self.width)
    }

    /// The complete subtrees whose hashes this tile holds, left to right.
    /// Fails if the tile does not fit in a tree of 2^63 leaves.
    pub fn subtrees(&self) -> Result<Vec<Subtree>, TileError> {
        if !self.is_within(MAX_TREE_SIZE) {
            return Err(TileError::NotInTree(self.path(), MAX_TREE_SIZE));
        }
        let level = self.level * TILE_HEIGHT;
        let first = self.index * u64::from(TILE_WIDTH);
        Ok((0..u64::from(self.width))
            .map(|i| Subtree {
                level,
                index: first + i,
            })
            .collect())
    }

    /// Every tile that changes when a tree grows from `old` to `new`
    /// leaves: each level's completed tiles and its new rightmost partial
    /// tile. This is what a log writes after sequencing a batch.
    pub fn changed_between(old: u64, new: u64) -> Vec<Tile> {
        let mut out = Vec::new();
        if new <= old {
            return out;
        }
        for level in 0..=MAX_TILE_LEVEL {
            let (o, n) = (Tile::level_count(level, old), Tile::level_count(level, new));
            if n == o {
                continue;
            }
            let first = o / u64::from(TILE_WIDTH);
            let last = (n - 1) / u64::from(TILE_WIDTH);
            out.extend((first..=last).filter_map(|i| Tile::at(level, i, new)));
        }
        out
    }

    /// Parses a tlog-tiles path (a hash tile or an entry bundle).
    pub fn parse_path(path: &str) -> Result<TilePath, TileError> {
        let bad = |reason| TileError::BadPath {
            path: path.to_owned(),
            reason,
        };
        let rest = path
            .strip_prefix("tile/")
            .ok_or(bad("does not start with tile/"))?;
        let (level_part, rest) = rest.split_once('/').ok_or(bad("no level"))?;
        let entries = level_part == "entries";
        let level = if entries {
            0
        } else {
            let l =
                parse_decimal_u64(level_part).map_err(|_| bad("level is not a decimal number"))?;
            if l > u64::from(MAX_PATH_LEVEL) {
                return Err(bad("level is above 63"));
            }
            l as u8
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let w = parse_decimal_u64(w).map_err(|_| bad("width is not a decimal number"))?;
                if w == 0 || w >= u64::from(TILE_WIDTH) {
                    return Err(bad("partial width is not between 1 and 255"));
                }
                (i, w as u16)
            }
            None => (rest, TILE_WIDTH),
        };
        let index =
            decode_index(index_part).ok_or(bad("index is not x-grouped 3-digit decimal"))?;
        let tile = Tile {
            level,
            index,
            width,
        };
        Ok(if entries {
            TilePath::Entries(tile)
        } else {
            TilePath::Hashes(tile)
        })
    }

    /// Splits a hash tile's bytes into hashes, checking the length.
    pub fn parse_hashes(&self, bytes: &[u8]) -> Result<Vec<Hash>, TileError> {
        let expected = usize::from(self.width) * HASH_SIZE;
        if bytes.len() != expected {
            return Err(TileError::WrongTileLength {
                tile: self.path(),
                expected,
                got: bytes.len(),
            });
        }
        Ok(bytes
            .chunks_exact(HASH_SIZE)
            .filter_map(Hash::from_slice)
            .collect())
    }
}

/// Writes `n` as three-digit groups, all but the last prefixed `x`.
pub fn encode_index(n: u64) -> String {
    let mut groups = Vec::new();
    let mut rest = n;
    loop {
        groups.push(rest % 1000);
        rest /= 1000;
        if rest == 0 {
            break;
        }
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i == last {
                format!("{g:03}")
            } else {
                format!("x{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads an index written by [`encode_index`]; only the canonical form is
/// accepted.
pub fn decode_index(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split('/').collect();
    if parts.len() > 7 {
        return None;
    }
    let mut n: u64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let digits = if i + 1 < parts.len() {
            part.strip_prefix('x')?
        } else {
            part
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if i == 0 && parts.len() > 1 && digits == "000" {
            return None; // a leading zero group is not canonical
        }
        let g: u64 = digits.parse().ok()?;
        n = n.checked_mul(1000)?.checked_add(g)?;
    }
    Some(n)
}

/// The Merkle tree hash of a full tile's 256 hashes, which is the hash one
/// tile level up (or of any run of consecutive hashes of one tree level,
/// aligned at a power of two at least its length).
pub fn tile_root(hashes: &[Hash]) -> Hash {
    hashes.iter().copied().collect::<Frontier>().root()
}

/// Reads a tile's hashes from a store of subtree hashes and concatenates
/// them: the bytes a tile server returns.
pub fn read_tile<R: HashReader + ?Sized>(
    reader: &R,
    tile: &Tile,
) -> Result<Vec<u8>, TileReadError<R::Error>> {
    let subtrees = tile.subtrees()?;
    let hashes = reader
        .read_hashes(&subtrees)
        .map_err(TileReadError::Source)?;
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// Encodes an entry bundle: each entry prefixed with its length as a
/// big-endian `uint16`.
pub fn encode_entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TileError> {
    if entries.is_empty() || entries.len() > usize::from(TILE_WIDTH) {
        return Err(TileError::BadEntryCount(entries.len()));
    }
    let mut out = Vec::new();
    for e in entries {
        let e = e.as_ref();
        let len = u16::try_from(e.len()).map_err(|_| TileError::EntryTooLarge(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Parses an entry bundle into its entries; `width` is the number the
/// bundle's path promises.
pub fn parse_entry_bundle(bytes: &[u8], width: u16) -> Result<Vec<&[u8]>, TileError> {
    let mut out = Vec::with_capacity(usize::from(width));
    let mut rest = bytes;
    while !rest.is_empty() {
        if out.len() == usize::from(TILE_WIDTH) {
            return Err(TileError::BadEntryCount(out.len() + 1));
        }
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or(TileError::BadBundle("truncated length prefix"))?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len {
            return Err(TileError::BadBundle("entry runs past the end"));
        }
        let (entry, tail) = tail.split_at(len);
        out.push(entry);
        rest = tail;
    }
    if out.len() != usize::from(width) {
        return Err(TileError::BadEntryCount(out.len()));
    }
    Ok(out)
}

/// Where a [`TileHashReader`] gets tiles from: files, HTTP, a database.
pub trait TileSource {
    /// Why a tile could not be fetched.
    type Error;
    /// Returns the bytes of `tile` (exactly `width × 32`).
    fn read_tile(&self, tile: &Tile) -> Result<Vec<u8>, Self::Error>;
}

/// Why a hash could not be read from tiles.
#[derive(Debug, thiserror::Error)]
pub enum TileReadError<E> {
    /// The tile source failed.
    #[error("reading tile: {0}")]
    Source(#[source] E),
    /// A tile was malformed or outside the tree.
    #[error(transparent)]
    Tile(#[from] TileError),
}

/// Reads a tree's subtree hashes back from its tiles, so proofs can be
/// built (or checked) from a tile server alone.
///
/// A subtree of tree level `8·L + r` (r < 8) is the Merkle tree hash of
/// `2^r` consecutive hashes of one level-`L` tile; `r = 0` reads one hash
/// directly. Each tile is fetched once per call, at the width it has in
/// the tree of `size` leaves.
pub struct TileHashReader<S> {
    source: S,
    size: u64,
}

impl<S: TileSource> TileHashReader<S> {
    /// Reads the tree of `size` leaves from `source`.
    pub fn new(source: S, size: u64) -> Self {
        TileHashReader { source, size }
    }
}

impl<S: TileSource> HashReader for TileHashReader<S> {
    type Error = TileReadError<S::Error>;

    fn read_hashes(&self, subtrees: &[Subtree]) -> Result<Vec<Hash>, Self::Error> {
        let mut cache: HashMap<Tile, Vec<Hash>> = HashMap::new();
        let mut out = Vec::with_capacity(subtrees.len());
        for st in subtrees {
            let not_in_tree = || TileError::NotInTree(format!("holding subtree {st:?}"), self.size);
            let tile_level = st.level / TILE_HEIGHT;
            let r = st.level % TILE_HEIGHT;
            if tile_level > MAX_TILE_LEVEL
                || st.end() > self.size
                || st.index >= (MAX_TREE_SIZE >> st.level)
            {
                return Err(not_in_tree().into());
            }
            let first = st.index << r; // index at tree level 8·tile_level
            let tile_index = first / u64::from(TILE_WIDTH);
            let tile = Tile::at(tile_level, tile_index, self.size).ok_or_else(not_in_tree)?;
            let hashes = match cache.entry(tile) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(v) => {
                    let bytes = self
                        .source
                        .read_tile(&tile)
                        .map_err(TileReadError::Source)?;
                    v.insert(tile.parse_hashes(&bytes)?)
                }
            };
            let at = (first % u64::from(TILE_WIDTH)) as usize;
            let span = hashes.get(at..at + (1usize << r)).ok_or_else(not_in_tree)?;
            out.push(if r == 0 { span[0] } else { tile_root(span) });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::proof::{prove_consistency, prove_inclusion};
    use crate::rs_merkle_oracle::rs_merkle_root;
    use crate::tree::{tree_root, InMemoryTree};

    #[test]
    fn index_encoding() {
        for (n, s) in [
            (0, "000"),
            (7, "007"),
            (999, "999"),
            (1000, "x001/000"),
            (1_234_067, "x001/x234/067"),
            (u64::MAX, "x018/x446/x744/x073/x709/x551/615"),
        ] {
            assert_eq!(encode_index(n), s);
            assert_eq!(decode_index(s), Some(n));
        }
        for bad in [
            "",
            "1",
            "0001",
            "x000/001",
            "001/002",
            "x1/002",
            "xabc/000",
            "x018/x446/x744/x073/x709/x551/616",
            "x000/x000/x000/x000/x000/x000/x001/000",
        ] {
            assert_eq!(decode_index(bad), None, "{bad}");
        }
    }

    #[test]
    fn paths() {
        let t = Tile::new(1, 1_234_067, 37).unwrap();
        assert_eq!(t.path(), "tile/1/x001/x234/067.p/37");
        assert_eq!(t.entries_path(), "tile/entries/x001/x234/067.p/37");
        assert_eq!(Tile::parse_path(&t.path()), Ok(TilePath::Hashes(t)));
        let e = Tile::new(0, 5, 256).unwrap();
        assert_eq!(e.entries_path(), "tile/entries/005");
        assert_eq!(
            Tile::parse_path("tile/entries/005"),
            Ok(TilePath::Entries(e))
        );
        for bad in [
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/07",
            "tile/64/000",
            "tile/01/000",
            "tile/0/00",
            "tiles/0/000",
            "tile/0",
            "tile/0/000/",
            "tile/0/000.p/",
            "tile/entries/000.p/300",
        ] {
            assert!(Tile::parse_path(bad).is_err(), "{bad}");
        }
        assert_eq!(Tile::new(0, 0, 0), Err(TileError::BadWidth(0)));
        assert_eq!(Tile::new(0, 0, 257), Err(TileError::BadWidth(257)));
    }

    #[test]
    fn tile_widths_for_sizes() {
        assert_eq!(Tile::at(0, 0, 0), None);
        assert_eq!(Tile::at(0, 0, 1).map(|t| t.width), Some(1));
        assert_eq!(Tile::at(0, 0, 256).map(|t| t.width), Some(256));
        assert_eq!(Tile::at(0, 1, 256), None);
        assert_eq!(Tile::at(1, 0, 256).map(|t| t.width), Some(1));
        assert_eq!(Tile::at(1, 0, 70_000).map(|t| t.width), Some(256));
        assert_eq!(Tile::at(1, 1, 70_000).map(|t| t.width), Some(17));
        assert_eq!(Tile::at(2, 0, 70_000).map(|t| t.width), Some(1));
        assert_eq!(Tile::at(9, 0, u64::MAX), None);
        let changed = Tile::changed_between(250, 600);
        let paths: Vec<String> = changed.iter().map(Tile::path).collect();
        assert_eq!(
            paths,
            [
                "tile/0/000",
                "tile/0/001",
                "tile/0/002.p/88",
                "tile/1/000.p/2"
            ]
        );
        assert!(Tile::changed_between(5, 5).is_empty());
    }

    #[test]
    fn entry_bundles() {
        let entries: Vec<Vec<u8>> = vec![b"a".to_vec(), vec![], vec![7; 65535]];
        let b = encode_entry_bundle(&entries).unwrap();
        assert_eq!(&b[..3], &[0, 1, b'a']);
        let back = parse_entry_bundle(&b, 3).unwrap();
        assert_eq!(
            back,
            entries.iter().map(|e| e.as_slice()).collect::<Vec<_>>()
        );
        assert_eq!(parse_entry_bundle(&b, 2), Err(TileError::BadEntryCount(3)));
        assert!(parse_entry_bundle(&b[..b.len() - 1], 3).is_err());
        assert!(parse_entry_bundle(&[0], 1).is_err());
        assert_eq!(
            encode_entry_bundle(&[vec![0u8; 65536]]),
            Err(TileError::EntryTooLarge(65536))
        );
        assert_eq!(
            encode_entry_bundle::<Vec<u8>>(&[]),
            Err(TileError::BadEntryCount(0))
        );
        let many = vec![vec![1u8]; 257];
        assert_eq!(
            encode_entry_bundle(&many),
            Err(TileError::BadEntryCount(257))
        );
        let too_many: Vec<u8> = [0u8, 0].repeat(257);
        assert!(parse_entry_bundle(&too_many, 256).is_err());
    }

    /// Serves tiles computed from an in-memory tree.
    struct MemTiles<'a>(&'a InMemoryTree);

    impl TileSource for MemTiles<'_> {
        type Error = String;
        fn read_tile(&self, tile: &Tile) -> Result<Vec<u8>, String> {
            read_tile(self.0, tile).map_err(|e| e.to_string())
        }
    }

    /// Pins `tile_root` (a [`Frontier`] fold since rs_merkle became a test
    /// oracle) on every span `TileHashReader` hashes: 2^r hashes of one
    /// tile, r = 1..=8, at every aligned offset, against the stored
    /// subtree hash and rs_merkle's root.
    #[test]
    fn tile_root_of_every_aligned_span_is_the_subtree_hash() {
        let mut tree = InMemoryTree::new();
        for i in 0..512u32 {
            tree.push(leaf_hash(&i.to_be_bytes()));
        }
        let tile = Tile::new(0, 1, 256).unwrap();
        let hashes = tree.read_hashes(&tile.subtrees().unwrap()).unwrap();
        for r in 1..=8u8 {
            for (k, span) in hashes.chunks(1 << r).enumerate() {
                let st = Subtree {
                    level: r,
                    index: (256 >> r) + k as u64,
                };
                assert_eq!(tile_root(span), tree.subtree(st).unwrap(), "{st:?}");
                assert_eq!(tile_root(span), rs_merkle_root(span), "{st:?}");
            }
        }
    }

    #[test]
    fn proofs_from_tiles_match_proofs_from_store() {
        let mut tree = InMemoryTree::new();
        for i in 0..70_000u32 {
            tree.push(leaf_hash(&i.to_be_bytes()));
        }
        for size in [1u64, 255, 256, 257, 65_535, 65_536, 65_537, 70_000] {
            let tiles = TileHashReader::new(MemTiles(&tree), size);
            assert_eq!(
                tree_root(&tiles, size).unwrap(),
                tree_root(&tree, size).unwrap()
            );
            for index in [0, size / 3, size - 1] {
                assert_eq!(
                    prove_inclusion(&tiles, index, size).unwrap(),
                    prove_inclusion(&tree, index, size).unwrap()
                );
            }
            for old in [1, size / 2, size - 1] {
                assert_eq!(
                    prove_consistency(&tiles, old, size).unwrap(),
                    prove_consistency(&tree, old, size).unwrap()
                );
            }
        }
        // A level-1 tile hash is the root of the level-0 tile's hashes.
        let lvl0 = Tile::new(0, 3, 256).unwrap();
        let h = tree.read_hashes(&lvl0.subtrees().unwrap()).unwrap();
        let up = tree.read_hashes(&[Subtree { level: 8, index: 3 }]).unwrap();
        assert_eq!(tile_root(&h), up[0]);
        assert_eq!(tile_root(&h), rs_merkle_root(&h));
        // Asking beyond the size fails instead of inventing hashes.
        let tiles = TileHashReader::new(MemTiles(&tree), 300);
        assert!(tiles.read_hashes(&[Subtree::leaf(300)]).is_err());
    }
}
