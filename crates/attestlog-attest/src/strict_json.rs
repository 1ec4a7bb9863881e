//! Strict JSON: RFC 8259 text with no duplicate object member names.
//!
//! Signed statements are read by many programs; a document with a repeated
//! member (`{"subject": [..], "subject": [..]}`) means different things to
//! parsers that keep the first and parsers that keep the last occurrence.
//! The containers/image format says so explicitly: consumers "SHOULD parse it
//! very strictly, refusing any signature which [...] can be interpreted
//! ambiguously (e.g. a duplicated member in a JSON object)". attestlog
//! applies the same rule to in-toto statements.
//!
//! Grammar accepted: exactly one JSON value (RFC 8259), optionally surrounded
//! by whitespace, UTF-8 without a byte-order mark, nesting depth at most 128
//! (serde_json's limit), and within every object each member name (after
//! unescaping) at most once.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// Checks that `bytes` are strict JSON, or returns the parser's reason.
/// Callers check once, then read the bytes with `serde_json` as often as
/// they need (every read is a parse, and statements are read on every
/// submission).
pub(crate) fn check(bytes: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<NoDuplicateMembers>(bytes)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A value that only checks, while being deserialized, that no object in it
/// repeats a member name.
struct NoDuplicateMembers;

impl<'de> de::Deserialize<'de> for NoDuplicateMembers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckVisitor)
    }
}

struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = NoDuplicateMembers;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicateMembers)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicateMembers)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicateMembers)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicateMembers)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicateMembers)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicateMembers)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoDuplicateMembers>()?.is_some() {}
        Ok(NoDuplicateMembers)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if seen.contains(&name) {
                return Err(de::Error::custom(format!("duplicate member {name:?}")));
            }
            seen.insert(name);
            map.next_value::<NoDuplicateMembers>()?;
        }
        Ok(NoDuplicateMembers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_documents() {
        check(br#" {"a": [1, {"b": null}], "c": "d"} "#).unwrap();
        check(b"[1, 2.5, true, \"x\"]").unwrap();
    }

    #[test]
    fn rejects_duplicate_members_at_any_depth() {
        let top = check(br#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(top.contains("duplicate member \"a\""), "{top}");
        let deep = check(br#"{"x": [{"b": 1, "b": 1}]}"#).unwrap_err();
        assert!(deep.contains("duplicate"), "{deep}");
        // Escapes are compared after unescaping.
        let esc = check(br#"{"a": 1, "\u0061": 2}"#).unwrap_err();
        assert!(esc.contains("duplicate"), "{esc}");
    }

    #[test]
    fn rejects_trailing_data_and_bom() {
        assert!(check(b"{} {}").is_err());
        assert!(check(b"\xef\xbb\xbf{}").is_err());
    }
}
