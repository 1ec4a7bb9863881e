//! The leaf decoder never panics, and whatever it accepts re-encodes to the
//! same bytes. What restore and read replicas recompute from a leaf read
//! out of a bucket (`leaf_keys`: its signature packet parsed, dedup and
//! index keys) never panics either, and succeeds only on leaves the
//! decoder accepts.
#![no_main]

use attestlog_attest::Leaf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = Leaf::decode(data);
    if let Ok(leaf) = &decoded {
        assert_eq!(leaf.encode(), data);
    }
    if let Ok(keys) = attestlog_attest::leaf_keys(data) {
        let leaf = decoded.expect("leaf_keys accepts only decodable leaves");
        assert_eq!(&keys.index.primary_fingerprint, leaf.primary_fingerprint());
    }
});
