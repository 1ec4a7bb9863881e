//! The statement parser (strict JSON, in-toto, atomic container signature)
//! never panics.
#![no_main]

use attestlog_attest::Statement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Statement::parse(data);
});
