//! Tile paths and entry bundles: parsing never panics, and parsed paths
//! format back to the same string.
#![no_main]
use attestlog_core::tile::{self, Tile, TilePath};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(path) = std::str::from_utf8(data) {
        match Tile::parse_path(path) {
            Ok(TilePath::Hashes(t)) => assert_eq!(t.path(), path),
            Ok(TilePath::Entries(t)) => assert_eq!(t.entries_path(), path),
            Err(_) => {}
        }
    }
    if let Some((&w, rest)) = data.split_first() {
        if let Ok(entries) = tile::parse_entry_bundle(rest, u16::from(w) + 1) {
            assert_eq!(tile::encode_entry_bundle(&entries).as_deref(), Ok(rest));
        }
    }
});
