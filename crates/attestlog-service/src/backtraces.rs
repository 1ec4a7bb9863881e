//! Backtraces for panics only, not for every error value.
//!
//! `RUST_BACKTRACE=1` (set by many shells and CI systems) also makes
//! `std::backtrace::Backtrace::capture`, and so `anyhow`, capture a full
//! backtrace for every error created. sequoia-openpgp creates and drops
//! such errors on its normal parsing paths, which then cost the log ~11 %
//! of its CPU at peak ingest (BENCHMARKS.md, "Backtraces").
//! `RUST_LIB_BACKTRACE` takes precedence for those captures and leaves
//! panic messages alone.

use std::ffi::OsStr;

/// The variable that governs error backtraces apart from panics.
const LIB_BACKTRACE: &str = "RUST_LIB_BACKTRACE";

/// Turns error backtraces off (`RUST_LIB_BACKTRACE=0`) unless the
/// environment chose for them: panics keep theirs under `RUST_BACKTRACE`.
/// Call it first in `main`, before any other thread starts (the
/// environment is not safe to change while others read it).
pub fn errors_without_backtraces() {
    if let Some(value) = lib_backtrace_to_set(std::env::var_os(LIB_BACKTRACE).as_deref()) {
        std::env::set_var(LIB_BACKTRACE, value);
    }
}

/// The value to give `RUST_LIB_BACKTRACE`, given its current one: `"0"`
/// when it is unset, nothing when the operator set it.
fn lib_backtrace_to_set(current: Option<&OsStr>) -> Option<&'static str> {
    match current {
        None => Some("0"),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unset_variable_is_set() {
        assert_eq!(lib_backtrace_to_set(None), Some("0"));
        assert_eq!(lib_backtrace_to_set(Some(OsStr::new("1"))), None);
        assert_eq!(lib_backtrace_to_set(Some(OsStr::new("0"))), None);
        assert_eq!(lib_backtrace_to_set(Some(OsStr::new(""))), None);
    }
}
