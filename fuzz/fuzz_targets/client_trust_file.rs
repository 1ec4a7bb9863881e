//! Maintainers files (TOML: keyring and threshold): parsing never panics,
//! and what parses has a threshold of at least 1 and a keyring under the
//! base directory or absolute.
#![no_main]
use std::path::Path;

use attestlog_client::trust_file::TrustFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = TrustFile::parse(text, Path::new("/base")) {
        assert!(t.threshold >= 1);
        assert!(t.keyring.is_absolute());
    }
});
