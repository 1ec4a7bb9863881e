//! Armored and binary OpenPGP input (detached signatures, inline-signed and
//! cleartext messages, certificates) never panics the verifier.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use attestlog_attest::{AdmissionPolicy, AttestationInput, Verifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let verifier = Verifier::new(AdmissionPolicy::Open);
    let (a, b) = rest.split_at(rest.len() / 2);
    let submission = match mode % 3 {
        0 => AttestationInput::inline(rest),
        1 => AttestationInput::detached(b"{}", rest),
        _ => AttestationInput::detached(a, b).with_certificate(a),
    };
    let _ = verifier.verify(&submission, now);
});
