//! The outcome of a quorum check, in data (for `--json`) and in words.

use std::fmt;

use serde::Serialize;

/// A maintainer's attestation that counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attestation {
    /// The entry's index.
    pub index: u64,
    /// The signer's primary-key fingerprint (hex).
    pub fingerprint: String,
    /// The signer's user ID from the trusted keyring.
    pub maintainer: String,
    /// The subject name the statement gives this digest.
    pub subject: String,
    /// When the log verified the signature (seconds since 1970).
    pub verified_at: u64,
    /// With trust roots: how the web of trust authenticated the signer
    /// (root first, `→` between hops, the amount last).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authenticated_by: Option<String>,
}

/// An entry that did not count, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The entry's index.
    pub index: u64,
    /// Who signed it, if known.
    pub signer: Option<String>,
    /// Why it does not count.
    pub reason: String,
    /// Whether the entry failed an integrity check (malformed leaf,
    /// unacceptable checkpoint, inclusion proof): such a failure fails the
    /// whole check, since the log or the bundle is then not what it claims.
    pub integrity: bool,
}

/// A trusted maintainer who did not attest this digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustedMaintainer {
    /// Primary fingerprint (hex).
    pub fingerprint: String,
    /// User ID.
    pub name: String,
}

/// A trusted maintainer's entry for the same subject name with another
/// digest: a reproducibility disagreement. Never counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The entry's index.
    pub index: u64,
    /// Who signed it.
    pub signer: String,
    /// The subject name.
    pub subject: String,
    /// The other digest (hex).
    pub digest: String,
}

/// The result of [`crate::quorum::evaluate`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The artifact's SHA-256 (hex).
    pub digest: String,
    /// Required distinct maintainers.
    pub threshold: usize,
    /// Distinct trusted maintainers whose attestation verified.
    pub distinct_maintainers: usize,
    /// Whether the threshold is met and no entry failed an integrity check.
    pub passed: bool,
    /// The checkpoints the counted entries were proven under.
    pub checkpoints: Vec<String>,
    /// Attestations that counted.
    pub attestations: Vec<Attestation>,
    /// Entries that did not count.
    pub rejected: Vec<Rejected>,
    /// Trusted maintainers who did not attest this digest.
    pub missing: Vec<TrustedMaintainer>,
    /// Trusted maintainers' entries naming another digest for the same name.
    pub conflicts: Vec<Conflict>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed { "PASS" } else { "FAIL" };
        writeln!(
            f,
            "{verdict}: {} of the required {} trusted maintainers attested sha256:{}",
            self.distinct_maintainers, self.threshold, self.digest
        )?;
        for c in &self.checkpoints {
            writeln!(f, "  proven in the log under checkpoint {c}")?;
        }
        for a in &self.attestations {
            writeln!(
                f,
                "  ✓ {} ({}) attested {:?} in entry {}",
                a.maintainer, a.fingerprint, a.subject, a.index
            )?;
            if let Some(path) = &a.authenticated_by {
                writeln!(f, "    authenticated: {path}")?;
            }
        }
        for r in &self.rejected {
            writeln!(
                f,
                "  ✗ entry {} by {} {}: {}",
                r.index,
                r.signer.as_deref().unwrap_or("an unknown signer"),
                if r.integrity {
                    "FAILS INTEGRITY CHECKS"
                } else {
                    "does not count"
                },
                r.reason
            )?;
        }
        for c in &self.conflicts {
            writeln!(
                f,
                "  ! {} attested a DIFFERENT digest sha256:{} for {:?} in entry {} (does not count)",
                c.signer, c.digest, c.subject, c.index
            )?;
        }
        for m in &self.missing {
            writeln!(
                f,
                "  - no attestation of this digest by {} ({})",
                m.name, m.fingerprint
            )?;
        }
        if self.attestations.is_empty() && self.rejected.is_empty() {
            writeln!(f, "  the log holds no entry for this digest")?;
        }
        Ok(())
    }
}
