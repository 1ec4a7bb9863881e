//! C2SP tlog-policy files: parsing never panics, and what parses
//! serializes to a policy that parses back to itself.
#![no_main]
use attestlog_client::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Policy::parse(data) {
        assert_eq!(Policy::parse(&p.to_bytes()).ok(), Some(p));
    }
});
