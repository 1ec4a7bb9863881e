//! Proof decoding and verification: arbitrary bytes as proof text, as
//! concatenated hashes, and as proofs for arbitrary sizes never panic.
#![no_main]
use attestlog_core::proof;
use attestlog_core::Hash;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(p) = proof::parse_base64_lines(text) {
            assert_eq!(proof::to_base64_lines(&p), text);
        }
    }
    if data.len() < 16 {
        return;
    }
    let (head, rest) = data.split_at(16);
    let a = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
    let b = u64::from_le_bytes(head[8..].try_into().expect("8 bytes"));
    if let Ok(p) = proof::parse_concatenated(rest) {
        let h = Hash([1; 32]);
        let _ = proof::verify_inclusion(&h, a, b, &p, &h);
        let _ = proof::verify_consistency(a, b, &h, &h, &p);
    }
});
