//! The inline-message walker (inline-signed and cleartext-signed OpenPGP
//! messages, binary or armored, possibly compressed: `docs/SPEC.md` 6.3.2
//! and 6.3.3) never panics, through the verifier's public entry point.
//!
//! `attest_openpgp_input` reaches the walker only for one input in three
//! (its first byte picks the form); here every input is a message, and the
//! seed corpus holds GnuPG's inline, armored, uncompressed and cleartext
//! forms, so the fuzzer mutates real packet sequences.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use attestlog_attest::{AdmissionPolicy, AttestationInput, Verifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // 2026-01-01T00:00:00Z, after the seeds' signatures (2025-12-15).
    let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let _ = Verifier::new(AdmissionPolicy::Open).verify(&AttestationInput::inline(data), now);
});
