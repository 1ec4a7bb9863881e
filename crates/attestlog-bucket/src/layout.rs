//! Where each object of a published log lives, relative to the bucket's
//! prefix. The names are those of C2SP tlog-tiles, so the bucket read
//! through an HTTP endpoint (the store's website endpoint or a CDN) is a
//! tlog-tiles log; certificates are the one addition.
//!
//! | object | contents | written |
//! |---|---|---|
//! | `checkpoint` | the signed checkpoint note (with any cosignatures) | last, after everything it covers |
//! | `tile/<L>/<N>[.p/<W>]` | hash tile | full tiles once; partial tiles as the tree grows |
//! | `tile/entries/<N>[.p/<W>]` | entry bundle | as hash tiles |
//! | `certificate/<FPR>` | the signer certificate the log stores, by upper-case hex primary-key fingerprint | whenever an entry of that signer is published |

use attestlog_core::tile::{Tile, MAX_BUNDLE_ENTRY_SIZE, TILE_WIDTH};

/// The checkpoint object's name.
pub const CHECKPOINT: &str = "checkpoint";

/// The prefix of certificate objects.
pub const CERTIFICATE_PREFIX: &str = "certificate/";

/// Largest checkpoint object read: a checkpoint with a few dozen
/// cosignatures is under 4 KiB.
pub const MAX_CHECKPOINT_BYTES: u64 = 64 * 1024;

/// Largest hash tile: 256 hashes of 32 bytes.
pub const MAX_HASH_TILE_BYTES: u64 = TILE_WIDTH as u64 * 32;

/// Largest entry bundle: 256 entries, each a u16 length and at most
/// 65,535 bytes.
pub const MAX_ENTRY_BUNDLE_BYTES: u64 = TILE_WIDTH as u64 * (2 + MAX_BUNDLE_ENTRY_SIZE as u64);

/// Largest certificate object read (the log refuses submitted certificates
/// over 64 KiB; merged copies grow with new signatures, never past this).
pub const MAX_CERTIFICATE_BYTES: u64 = 1024 * 1024;

/// The object name of a hash tile.
pub fn hash_tile(tile: &Tile) -> String {
    tile.path()
}

/// The object name of the entry bundle with `tile`'s index and width.
pub fn entry_bundle(tile: &Tile) -> String {
    tile.entries_path()
}

/// The object name of the certificate with this primary-key fingerprint.
pub fn certificate(fingerprint: &[u8]) -> String {
    format!("{CERTIFICATE_PREFIX}{}", hex::encode_upper(fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_tlog_tiles_paths() {
        let full = Tile::new(0, 1234, 256).unwrap();
        let partial = Tile::new(1, 0, 7).unwrap();
        assert_eq!(hash_tile(&full), "tile/0/x001/234");
        assert_eq!(entry_bundle(&full), "tile/entries/x001/234");
        assert_eq!(hash_tile(&partial), "tile/1/000.p/7");
        assert_eq!(certificate(&[0xab, 0x01]), "certificate/AB01");
    }
}
