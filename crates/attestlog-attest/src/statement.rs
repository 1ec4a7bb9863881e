//! What is signed: an in-toto Statement v1, or a containers/image
//! "atomic container signature" payload.
//!
//! # Recognising the format
//!
//! The statement bytes must be strict JSON (RFC 8259, UTF-8, no BOM, and
//! no duplicate members) whose top level is an object. An object with a
//! `_type` member is an in-toto statement; one with a `critical` member is an
//! atomic container signature ([`crate::simple_signing`]); anything else is
//! rejected with [`AttestError::InvalidStatement`].
//!
//! # in-toto Statement v1
//!
//! ```text
//! {
//!   "_type": "https://in-toto.io/Statement/v1",        exactly this string
//!   "subject": [                                        1..=MAX_SUBJECTS items
//!     { "name": "<string>",                             required by attestlog
//!       "digest": { "<algorithm>": "<string>", ... },   must contain "sha256":
//!       ... }                                           64 lowercase hex digits
//!   ],
//!   "predicateType": "<URI string>",                    required
//!   "predicate": { ... }                                optional object; checked
//! }                                                     only for REPRODUCIBLE_BUILD_V1
//! ```
//!
//! Members not listed are ignored, as the in-toto specification asks
//! ("consumers MUST ignore unrecognized fields"), but they stay in the signed
//! bytes and so in the leaf.

use std::collections::BTreeMap;

use attestlog_core::text::decode_lower_hex_32;
use serde::Deserialize;

use crate::error::AttestError;
use crate::predicate::ReproducibleBuild;
use crate::simple_signing::SimpleSigning;
use crate::{strict_json, MAX_SUBJECTS};

/// The `_type` of an in-toto Statement v1.
pub const IN_TOTO_STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";

/// One artifact a statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The subject's name: a file name for in-toto, the
    /// `critical.identity.docker-reference` for a container signature.
    pub name: String,
    /// The SHA-256 digest of the artifact.
    pub sha256: [u8; 32],
    /// Every digest given for the subject, algorithm → value as written
    /// (includes `sha256`).
    pub digests: BTreeMap<String, String>,
}

/// The predicate of an in-toto statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// attestlog's reproducible-build predicate, validated.
    ReproducibleBuild(ReproducibleBuild),
    /// Any other predicate type, accepted as opaque JSON (or absent).
    Opaque,
}

/// A parsed in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InTotoStatement {
    /// The subjects, in document order.
    pub subjects: Vec<Subject>,
    /// The `predicateType` URI.
    pub predicate_type: String,
    /// The predicate, parsed if its type is known.
    pub predicate: Predicate,
}

/// A parsed statement of either accepted format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// An in-toto Statement v1.
    InToto(InTotoStatement),
    /// A containers/image atomic container signature payload.
    SimpleSigning(SimpleSigning),
}

impl Statement {
    /// Parses and validates statement bytes (the exact bytes that were signed).
    pub fn parse(bytes: &[u8]) -> Result<Statement, AttestError> {
        // Strictness is checked once here; the reads below are plain
        // serde_json over the same bytes (each read costs a parse, and this
        // runs on every submission).
        strict_json::check(bytes).map_err(|reason| AttestError::StatementNotJson { reason })?;
        let probe: FormatProbe =
            serde_json::from_slice(bytes).map_err(|e| AttestError::StatementNotJson {
                reason: e.to_string(),
            })?;
        if probe.type_ {
            parse_in_toto_checked(bytes).map(Statement::InToto)
        } else if probe.critical {
            SimpleSigning::parse_checked(bytes).map(Statement::SimpleSigning)
        } else {
            Err(AttestError::InvalidStatement {
                reason: "the object has neither `_type` (in-toto) nor `critical` \
                         (atomic container signature)"
                    .into(),
            })
        }
    }

    /// The subjects the statement is about (one for a container signature).
    pub fn subjects(&self) -> &[Subject] {
        match self {
            Statement::InToto(s) => &s.subjects,
            Statement::SimpleSigning(s) => std::slice::from_ref(&s.subject),
        }
    }
}

/// Which format a top-level object is, by the members it has, whatever
/// their values (even `null`); the values are skipped, not built. Only an
/// object is accepted (a derived `Deserialize` would also take an array).
#[derive(Default)]
struct FormatProbe {
    type_: bool,
    critical: bool,
}

impl<'de> Deserialize<'de> for FormatProbe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
            type Value = FormatProbe;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<FormatProbe, A::Error> {
                let mut probe = FormatProbe::default();
                while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*name {
                        "_type" => probe.type_ = true,
                        "critical" => probe.critical = true,
                        _ => {}
                    }
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(probe)
            }
        }
        d.deserialize_map(ObjectVisitor)
    }
}

/// The wire shape of an in-toto statement; unknown members are ignored.
#[derive(Deserialize)]
struct RawStatement {
    #[serde(rename = "_type")]
    type_: String,
    subject: Vec<RawSubject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    #[serde(default)]
    predicate: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawSubject {
    name: String,
    digest: BTreeMap<String, String>,
}

/// Parses an in-toto statement from bytes already checked by
/// [`strict_json::check`].
fn parse_in_toto_checked(bytes: &[u8]) -> Result<InTotoStatement, AttestError> {
    let invalid = |reason: String| AttestError::InvalidStatement { reason };
    let raw: RawStatement = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    // in-toto Statement v1: "_type ... MUST be set to https://in-toto.io/Statement/v1".
    if raw.type_ != IN_TOTO_STATEMENT_V1 {
        return Err(invalid(format!(
            "`_type` is {:?}, expected {IN_TOTO_STATEMENT_V1:?}",
            raw.type_
        )));
    }
    if raw.predicate_type.is_empty() {
        return Err(invalid("`predicateType` is empty".into()));
    }
    if raw.subject.is_empty() {
        return Err(AttestError::NoSubjects);
    }
    if raw.subject.len() > MAX_SUBJECTS {
        return Err(AttestError::TooManySubjects {
            count: raw.subject.len(),
            max: MAX_SUBJECTS,
        });
    }
    let subjects = raw
        .subject
        .into_iter()
        .map(|s| subject(s.name, s.digest))
        .collect::<Result<Vec<_>, _>>()?;
    let predicate = if raw.predicate_type == crate::predicate::REPRODUCIBLE_BUILD_V1 {
        let value = raw.predicate.ok_or_else(|| AttestError::InvalidPredicate {
            reason: "`predicate` is missing".into(),
        })?;
        Predicate::ReproducibleBuild(ReproducibleBuild::from_value(value)?)
    } else {
        match raw.predicate {
            None | Some(serde_json::Value::Object(_)) => Predicate::Opaque,
            Some(_) => return Err(invalid("`predicate` is not an object".into())),
        }
    };
    Ok(InTotoStatement {
        subjects,
        predicate_type: raw.predicate_type,
        predicate,
    })
}

/// Builds a subject, requiring a well-formed `sha256` digest.
pub(crate) fn subject(
    name: String,
    digests: BTreeMap<String, String>,
) -> Result<Subject, AttestError> {
    let value = digests
        .get("sha256")
        .ok_or_else(|| AttestError::MissingSha256 { name: name.clone() })?;
    let sha256 = parse_sha256_hex(value).ok_or_else(|| AttestError::MalformedDigest {
        name: name.clone(),
        value: value.clone(),
    })?;
    Ok(Subject {
        name,
        sha256,
        digests,
    })
}

/// Parses exactly 64 lowercase hex digits.
pub(crate) fn parse_sha256_hex(value: &str) -> Option<[u8; 32]> {
    decode_lower_hex_32(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn doc(subjects: &str) -> String {
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":{subjects},
               "predicateType":"https://example.com/p","predicate":{{"x":1}}}}"#
        )
    }

    #[test]
    fn parses_opaque_predicate() {
        let s = Statement::parse(
            doc(&format!(
                r#"[{{"name":"a","digest":{{"sha256":"{D}","sha512":"00"}}}}]"#
            ))
            .as_bytes(),
        )
        .unwrap();
        let Statement::InToto(st) = &s else { panic!() };
        assert_eq!(st.predicate, Predicate::Opaque);
        assert_eq!(s.subjects()[0].name, "a");
        assert_eq!(hex::encode(s.subjects()[0].sha256), D);
        assert_eq!(s.subjects()[0].digests.len(), 2);
    }

    #[test]
    fn rejects_each_schema_violation() {
        let no_sha = doc(r#"[{"name":"a","digest":{"sha512":"00"}}]"#);
        assert!(matches!(
            Statement::parse(no_sha.as_bytes()),
            Err(AttestError::MissingSha256 { .. })
        ));
        let upper = doc(&format!(
            r#"[{{"name":"a","digest":{{"sha256":"{}"}}}}]"#,
            D.to_uppercase()
        ));
        assert!(matches!(
            Statement::parse(upper.as_bytes()),
            Err(AttestError::MalformedDigest { .. })
        ));
        assert!(matches!(
            Statement::parse(doc("[]").as_bytes()),
            Err(AttestError::NoSubjects)
        ));
        let many = format!(
            "[{}]",
            vec![format!(r#"{{"name":"a","digest":{{"sha256":"{D}"}}}}"#); MAX_SUBJECTS + 1]
                .join(",")
        );
        assert!(matches!(
            Statement::parse(doc(&many).as_bytes()),
            Err(AttestError::TooManySubjects { .. })
        ));
        let no_name = doc(&format!(r#"[{{"digest":{{"sha256":"{D}"}}}}]"#));
        assert!(matches!(
            Statement::parse(no_name.as_bytes()),
            Err(AttestError::InvalidStatement { .. })
        ));
        let wrong_type = doc("[]").replace("Statement/v1", "Statement/v0.1");
        assert!(matches!(
            Statement::parse(wrong_type.as_bytes()),
            Err(AttestError::InvalidStatement { .. })
        ));
        assert!(matches!(
            Statement::parse(b"[1]"),
            Err(AttestError::StatementNotJson { .. })
        ));
        assert!(matches!(
            Statement::parse(b"{\"a\":1}"),
            Err(AttestError::InvalidStatement { .. })
        ));
        // A member names the format by being there, even as `null`.
        match Statement::parse(br#"{"_type":null,"subject":[]}"#) {
            Err(AttestError::InvalidStatement { reason }) => {
                assert!(reason.contains("null"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let dup = doc(&format!(
            r#"[{{"name":"a","digest":{{"sha256":"{D}","sha256":"{D}"}}}}]"#
        ));
        assert!(matches!(
            Statement::parse(dup.as_bytes()),
            Err(AttestError::StatementNotJson { .. })
        ));
    }
}
