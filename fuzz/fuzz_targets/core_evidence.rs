//! Split-view evidence files: parsing never panics and round-trips exactly.
#![no_main]
use attestlog_core::evidence::Evidence;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ev) = Evidence::parse(data) {
        assert_eq!(ev.to_bytes(), data);
    }
});
