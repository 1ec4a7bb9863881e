//! C2SP tlog-policy files: parsing never panics, and what parses
//! serializes to a policy that parses back to itself.
#![no_main]
use attestlog_core::tlog_policy::TlogPolicy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = TlogPolicy::parse(data) {
        assert_eq!(TlogPolicy::parse(&p.to_bytes()).ok(), Some(p));
    }
});
