//! attestlog's in-toto predicate for reproducible builds.
//!
//! A maintainer who rebuilt an artifact from source and got the same bytes
//! says so with this predicate; several independent maintainers logging the
//! same subject digest is the evidence a reproducible distribution wants.
//!
//! ```text
//! predicateType: REPRODUCIBLE_BUILD_V1
//! predicate: {
//!   "source":    { "uri": "<non-empty string>",        e.g. git+https://host/repo
//!                  "revision": "<non-empty string>" }, e.g. a commit id or tag
//!   "builder":   { "id": "<non-empty string>" },        who built it: a URI, an e-mail
//!   "buildTime": "<RFC 3339 date-time>"                 e.g. 2026-01-31T12:00:00Z
//! }
//! ```
//!
//! Other members are ignored (in-toto forward compatibility). Strings are at
//! most [`MAX_PREDICATE_STRING`] bytes each.

use serde::Deserialize;

use crate::error::AttestError;

/// The `predicateType` of attestlog's reproducible-build predicate, version 1.
pub const REPRODUCIBLE_BUILD_V1: &str =
    "https://example.invalid/attestlog/predicate/reproducible-build/v1";

/// The longest accepted string in the predicate, in bytes.
pub const MAX_PREDICATE_STRING: usize = 4096;

/// A validated reproducible-build predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReproducibleBuild {
    /// Where the source came from (`source.uri`).
    pub source_uri: String,
    /// Which revision of it was built (`source.revision`).
    pub source_revision: String,
    /// Who built it (`builder.id`).
    pub builder_id: String,
    /// When it was built (`buildTime`), RFC 3339 as written.
    pub build_time: String,
}

#[derive(Deserialize)]
struct RawPredicate {
    source: RawSource,
    builder: RawBuilder,
    #[serde(rename = "buildTime")]
    build_time: String,
}

#[derive(Deserialize)]
struct RawSource {
    uri: String,
    revision: String,
}

#[derive(Deserialize)]
struct RawBuilder {
    id: String,
}

impl ReproducibleBuild {
    /// Validates a predicate that was already parsed as strict JSON.
    pub(crate) fn from_value(value: serde_json::Value) -> Result<ReproducibleBuild, AttestError> {
        let invalid = |reason: String| AttestError::InvalidPredicate { reason };
        let raw: RawPredicate =
            serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        for (field, v) in [
            ("source.uri", &raw.source.uri),
            ("source.revision", &raw.source.revision),
            ("builder.id", &raw.builder.id),
        ] {
            if v.is_empty() {
                return Err(invalid(format!("`{field}` is empty")));
            }
            if v.len() > MAX_PREDICATE_STRING {
                return Err(invalid(format!(
                    "`{field}` is longer than {MAX_PREDICATE_STRING} bytes"
                )));
            }
        }
        if !is_rfc3339(&raw.build_time) {
            return Err(invalid(format!(
                "`buildTime` {:?} is not an RFC 3339 date-time such as 2026-01-31T12:00:00Z",
                raw.build_time
            )));
        }
        Ok(ReproducibleBuild {
            source_uri: raw.source.uri,
            source_revision: raw.source.revision,
            builder_id: raw.builder.id,
            build_time: raw.build_time,
        })
    }
}

/// RFC 3339 `date-time`:
/// `YYYY-MM-DD "T" hh:mm:ss [ "." 1*DIGIT ] ( "Z" / ("+" / "-") hh:mm )`,
/// with `T`/`Z` in either case, fields in range (second 60 for leap seconds,
/// day checked against the month, ignoring leap years beyond February 29).
pub(crate) fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter()
            .try_fold(0u32, |acc, d| Some(acc * 10 + u32::from(d - b'0')))
    };
    let sep = |i: usize, c: u8| b.get(i).is_some_and(|x| x.eq_ignore_ascii_case(&c));
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return false;
    };
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days || hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut i = 19;
    if sep(i, b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            sep(i + 3, b':')
                && i + 6 == b.len()
                && num(i + 1..i + 3).is_some_and(|h| h <= 23)
                && num(i + 4..i + 6).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        for ok in [
            "2026-01-31T12:00:00Z",
            "2024-02-29t23:59:60.123z",
            "2026-12-01T00:00:00+05:30",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2026-01-31 12:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-31T12:00:00",
            "2026-01-31T12:00:00.Z",
            "2026-01-31T12:00:00+0530",
            "2026-01-31T12:00:00Zjunk",
            "２026-01-31T12:00:00Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn predicate_fields() {
        let good = serde_json::json!({
            "source": {"uri": "git+https://example.org/r", "revision": "abc"},
            "builder": {"id": "mailto:me@example.org"},
            "buildTime": "2026-01-31T12:00:00Z",
            "extra": true
        });
        let p = ReproducibleBuild::from_value(good.clone()).unwrap();
        assert_eq!(p.source_revision, "abc");
        let mut empty = good.clone();
        empty["builder"]["id"] = "".into();
        assert!(matches!(
            ReproducibleBuild::from_value(empty),
            Err(AttestError::InvalidPredicate { .. })
        ));
        let mut time = good;
        time["buildTime"] = "yesterday".into();
        assert!(matches!(
            ReproducibleBuild::from_value(time),
            Err(AttestError::InvalidPredicate { .. })
        ));
    }
}
