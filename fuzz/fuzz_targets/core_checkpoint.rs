//! Checkpoint texts: parsing never panics and round-trips exactly.
#![no_main]
use attestlog_core::checkpoint::Checkpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = Checkpoint::parse(text) {
            assert_eq!(cp.to_text().as_deref(), Ok(text));
        }
    }
});
