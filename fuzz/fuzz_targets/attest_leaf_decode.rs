//! The leaf decoder never panics, and whatever it accepts re-encodes to the
//! same bytes.
#![no_main]

use attestlog_attest::Leaf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(leaf) = Leaf::decode(data) {
        assert_eq!(leaf.encode(), data);
    }
});
