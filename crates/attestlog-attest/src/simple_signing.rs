//! The containers/image "atomic container signature" payload (simple
//! signing), as published by registries and distributions next to images
//! as `<algo>=<digest>/signature-N` files (an OpenPGP signed message whose
//! literal data is this JSON).
//!
//! ```text
//! {                                                   exactly these two members
//!   "critical": {                                     exactly these three members
//!     "type": "atomic container signature",           exactly this string
//!     "image":    { "docker-manifest-digest": "sha256:<64 lowercase hex>" },
//!     "identity": { "docker-reference": "<non-empty string>" }
//!   },
//!   "optional": {                                     any members; these two checked:
//!     "creator":   "<string>",                        if present
//!     "timestamp": <integer, fits in i64>             if present
//!   }
//! }
//! ```
//!
//! The subject logged is the manifest digest, named by the docker reference.
//! A digest with another algorithm (e.g. `sha512:`) is rejected with
//! [`AttestError::MissingSha256`]: the log indexes by sha256.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::AttestError;
use crate::statement::{subject, Subject};
use crate::strict_json;

/// The only accepted `critical.type`.
pub const ATOMIC_CONTAINER_SIGNATURE: &str = "atomic container signature";

/// A validated atomic container signature payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleSigning {
    /// The subject: name = docker reference, sha256 = manifest digest.
    pub subject: Subject,
    /// `critical.identity.docker-reference`.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`, as written (`sha256:...`).
    pub manifest_digest: String,
    /// `optional.creator`, if present.
    pub creator: Option<String>,
    /// `optional.timestamp` (Unix seconds), if present.
    pub timestamp: Option<i64>,
}

// containers/image atomic-signature.md: "The top-level value of the JSON
// document MUST be a JSON object with exactly two members, `critical` and
// `optional`, each a JSON object."
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTop {
    critical: RawCritical,
    optional: serde_json::Map<String, serde_json::Value>,
}

// "consumers MUST reject the signature if the `critical` object, or _any_ of
// its subobjects, contain _any_ member or data value which is unrecognized".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCritical {
    #[serde(rename = "type")]
    type_: String,
    image: RawImage,
    identity: RawIdentity,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

impl SimpleSigning {
    /// Parses and validates a payload.
    pub fn parse(bytes: &[u8]) -> Result<SimpleSigning, AttestError> {
        strict_json::check(bytes).map_err(|reason| AttestError::InvalidSimpleSigning { reason })?;
        SimpleSigning::parse_checked(bytes)
    }

    /// [`SimpleSigning::parse`] of bytes already checked by
    /// [`strict_json::check`].
    pub(crate) fn parse_checked(bytes: &[u8]) -> Result<SimpleSigning, AttestError> {
        let invalid = |reason: String| AttestError::InvalidSimpleSigning { reason };
        let raw: RawTop = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        // "This MUST be a string with a string value exactly equal to
        // `atomic container signature`".
        if raw.critical.type_ != ATOMIC_CONTAINER_SIGNATURE {
            return Err(invalid(format!(
                "`critical.type` is {:?}, expected {ATOMIC_CONTAINER_SIGNATURE:?}",
                raw.critical.type_
            )));
        }
        let reference = raw.critical.identity.docker_reference;
        if reference.is_empty() {
            return Err(invalid(
                "`critical.identity.docker-reference` is empty".into(),
            ));
        }
        let digest = raw.critical.image.docker_manifest_digest;
        let Some((algorithm, encoded)) = digest.split_once(':') else {
            return Err(invalid(format!(
                "`docker-manifest-digest` {digest:?} is not `<algorithm>:<hex>`"
            )));
        };
        if algorithm.is_empty() || encoded.is_empty() {
            return Err(invalid(format!(
                "`docker-manifest-digest` {digest:?} is not `<algorithm>:<hex>`"
            )));
        }
        let digests = BTreeMap::from([(algorithm.to_owned(), encoded.to_owned())]);
        let subject = subject(reference.clone(), digests)?;
        let creator = match raw.optional.get("creator") {
            None => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(invalid("`optional.creator` is not a string".into())),
        };
        let timestamp = match raw.optional.get("timestamp") {
            None => None,
            Some(v) => Some(v.as_i64().ok_or_else(|| {
                invalid("`optional.timestamp` is not an integer in the 64-bit range".into())
            })?),
        };
        Ok(SimpleSigning {
            subject,
            docker_reference: reference,
            manifest_digest: digest,
            creator,
            timestamp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "817a12c32a39bbe394944ba49de563e085f1d3c5266eb8e9723256bc4448680e";

    fn payload(critical_extra: &str, digest: &str) -> String {
        format!(
            r#"{{"critical":{{"type":"atomic container signature",
                "image":{{"docker-manifest-digest":"{digest}"}},
                "identity":{{"docker-reference":"docker.io/library/busybox:latest"}}{critical_extra}}},
               "optional":{{"creator":"skopeo 1.9","timestamp":1483228800,"other":[1]}}}}"#
        )
    }

    #[test]
    fn parses_example() {
        let s = SimpleSigning::parse(payload("", &format!("sha256:{D}")).as_bytes()).unwrap();
        assert_eq!(hex::encode(s.subject.sha256), D);
        assert_eq!(s.subject.name, "docker.io/library/busybox:latest");
        assert_eq!(s.timestamp, Some(1483228800));
        assert_eq!(s.creator.as_deref(), Some("skopeo 1.9"));
    }

    #[test]
    fn rejects_unknown_critical_members_and_other_algorithms() {
        let extra = payload(r#","x":1"#, &format!("sha256:{D}"));
        assert!(matches!(
            SimpleSigning::parse(extra.as_bytes()),
            Err(AttestError::InvalidSimpleSigning { .. })
        ));
        let sha512 = payload("", "sha512:00");
        assert!(matches!(
            SimpleSigning::parse(sha512.as_bytes()),
            Err(AttestError::MissingSha256 { .. })
        ));
        let bare = payload("", D);
        assert!(matches!(
            SimpleSigning::parse(bare.as_bytes()),
            Err(AttestError::InvalidSimpleSigning { .. })
        ));
        let no_optional = format!(
            r#"{{"critical":{{"type":"atomic container signature","image":{{"docker-manifest-digest":"sha256:{D}"}},"identity":{{"docker-reference":"r"}}}}}}"#
        );
        assert!(matches!(
            SimpleSigning::parse(no_optional.as_bytes()),
            Err(AttestError::InvalidSimpleSigning { .. })
        ));
    }
}
