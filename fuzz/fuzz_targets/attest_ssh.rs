//! The SSH parsers never panic: an armored `SSHSIG` signature, parsed and
//! verified over a fixed message, and an `allowed_signers` file.
#![no_main]

use attestlog_attest::ssh::{AllowedSigners, SshSignature};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sig) = SshSignature::parse(data) {
        let _ = sig.verify(b"statement");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(allowed) = AllowedSigners::parse(text) {
            if let Ok(sig) = SshSignature::parse(data) {
                let _ = allowed.principals_for(sig.public_key(), "attestlog", 0);
            }
        }
    }
});
