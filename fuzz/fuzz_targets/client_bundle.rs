//! Offline bundles and tlog-proofs: parsing never panics and round-trips
//! exactly.
#![no_main]
use attestlog_client::bundle::Bundle;
use attestlog_client::tlog_proof::TlogProof;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = Bundle::parse(data) {
        assert_eq!(b.to_bytes(), data);
    }
    if let Ok(p) = TlogProof::parse(data) {
        assert_eq!(TlogProof::parse(&p.to_bytes()).ok(), Some(p));
    }
});
