//! C2SP tlog-witness bodies: add-checkpoint requests and 409 sizes parse
//! without panicking and round-trip exactly; cosignature lines re-parse.
#![no_main]
use attestlog_core::witness_protocol::{
    encode_conflict_size, encode_cosignature_lines, parse_conflict_size, parse_cosignature_lines,
    AddCheckpointRequest,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = AddCheckpointRequest::parse(data) {
        assert_eq!(r.to_bytes(), data);
    }
    if let Ok(n) = parse_conflict_size(data) {
        assert_eq!(encode_conflict_size(n).as_bytes(), data);
    }
    if let Ok(sigs) = parse_cosignature_lines(data) {
        let again = encode_cosignature_lines(&sigs);
        assert_eq!(parse_cosignature_lines(again.as_bytes()), Ok(sigs));
    }
});
