//! The maintainers file: which maintainers a verifier trusts and how many
//! of them must attest, in one small TOML file next to the tlog-policy
//! (which says which logs and witnesses to trust).
//!
//! ```toml
//! # Certificates of the trusted maintainers: one file, or a directory of
//! # *.asc / *.pgp / *.gpg files. Relative to this file.
//! keyring = "maintainers/"
//! # How many distinct maintainers (distinct primary keys) must have
//! # attested the exact digest.
//! threshold = 2
//! ```
//!
//! With a web of trust, `keyring` holds every certificate the paths may
//! use (maintainers, introducers), and only signers authenticated from
//! the roots count (docs/SPEC.md §9.7):
//!
//! ```toml
//! keyring = "certs.pgp"
//! threshold = 2
//! # Fingerprints you fully trust (your own key), 40 or 64 hex digits.
//! trust_roots = ["8F17777118A33DDA9BA48E62AACB3243630052D9"]
//! # Trust a signer needs: 120 fully (default), 60 partially.
//! trust_amount = 120
//! ```
//!
//! Unknown keys are an error (a misspelt `treshold` must not silently
//! mean 1). The file is at most [`MAX_TRUST_FILE`] bytes.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ClientError;

/// Largest maintainers file read, in bytes.
pub const MAX_TRUST_FILE: u64 = 64 * 1024;

/// A parsed maintainers file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustFile {
    /// The keyring file or directory, resolved against the file's folder.
    pub keyring: PathBuf,
    /// How many distinct maintainers must attest (at least 1).
    pub threshold: usize,
    /// Web-of-trust roots (upper-case hex fingerprints); empty: every
    /// certificate of the keyring is a maintainer.
    pub trust_roots: Vec<String>,
    /// The trust a signer needs from the roots (120 unless given).
    pub trust_amount: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    keyring: PathBuf,
    threshold: usize,
    #[serde(default)]
    trust_roots: Vec<String>,
    trust_amount: Option<usize>,
}

/// The most trust roots a maintainers file may name.
pub const MAX_TRUST_ROOTS: usize = 64;

impl TrustFile {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<TrustFile, ClientError> {
        let meta = std::fs::metadata(path).map_err(|e| ClientError::io(path, e))?;
        if meta.len() > MAX_TRUST_FILE {
            return Err(ClientError::TrustFile {
                path: path.display().to_string(),
                reason: format!(
                    "{} bytes; a maintainers file is at most {MAX_TRUST_FILE}",
                    meta.len()
                ),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| ClientError::io(path, e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        TrustFile::parse(&text, base).map_err(|reason| ClientError::TrustFile {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Parses the TOML text; a relative `keyring` is taken relative to
    /// `base`.
    pub fn parse(text: &str, base: &Path) -> Result<TrustFile, String> {
        let raw: Raw = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        if raw.threshold == 0 {
            return Err("threshold must be at least 1".into());
        }
        if raw.trust_roots.len() > MAX_TRUST_ROOTS {
            return Err(format!("more than {MAX_TRUST_ROOTS} trust_roots"));
        }
        let mut trust_roots = Vec::with_capacity(raw.trust_roots.len());
        for r in &raw.trust_roots {
            if !matches!(r.len(), 40 | 64) || !r.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "trust_roots: {r:?} is not an OpenPGP fingerprint (40 or 64 hex digits)"
                ));
            }
            trust_roots.push(r.to_ascii_uppercase());
        }
        let trust_amount = match (raw.trust_amount, trust_roots.is_empty()) {
            (Some(_), true) => return Err("trust_amount needs trust_roots".into()),
            (Some(0), false) => return Err("trust_amount must be at least 1".into()),
            (Some(a), false) => a,
            (None, _) => 120,
        };
        Ok(TrustFile {
            keyring: base.join(raw.keyring),
            threshold: raw.threshold,
            trust_roots,
            trust_amount,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves_the_keyring() {
        let t = TrustFile::parse(
            "keyring = \"maintainers/\"\nthreshold = 2\n",
            Path::new("/etc/attestlog"),
        )
        .expect("valid");
        assert_eq!(t.keyring, Path::new("/etc/attestlog/maintainers/"));
        assert_eq!(t.threshold, 2);
        let abs = TrustFile::parse("keyring = \"/k.asc\"\nthreshold = 1", Path::new("/x"))
            .expect("valid");
        assert_eq!(abs.keyring, Path::new("/k.asc"));
        assert!(abs.trust_roots.is_empty());
        let wot = TrustFile::parse(
            "keyring = \"certs.pgp\"\nthreshold = 2\ntrust_roots = [\"8f17777118a33dda9ba48e62aacb3243630052d9\"]\ntrust_amount = 60\n",
            Path::new("/x"),
        )
        .expect("valid");
        assert_eq!(
            wot.trust_roots,
            ["8F17777118A33DDA9BA48E62AACB3243630052D9"]
        );
        assert_eq!(wot.trust_amount, 60);
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errs(text in ".{0,200}") {
            let _ = TrustFile::parse(&text, Path::new("/base"));
        }

        #[test]
        fn what_is_written_is_read(
            keyring in "[a-zA-Z0-9_./-]{1,40}",
            threshold in 1usize..100_000,
        ) {
            let text = format!("keyring = \"{keyring}\"\nthreshold = {threshold}\n");
            let t = TrustFile::parse(&text, Path::new("/base")).expect("valid");
            proptest::prop_assert_eq!(t.keyring, Path::new("/base").join(&keyring));
            proptest::prop_assert_eq!(t.threshold, threshold);
        }
    }

    #[test]
    fn rejects_what_could_be_misread() {
        for (text, want) in [
            ("keyring = \"k\"\nthreshold = 0", "at least 1"),
            ("keyring = \"k\"\ntreshold = 2", "unknown field"),
            ("keyring = \"k\"", "missing field `threshold`"),
            ("threshold = 2", "missing field `keyring`"),
            ("keyring = \"k\"\nthreshold = -1", "invalid value"),
            ("keyring = \"k\"\nthreshold = \"2\"", "invalid type"),
            ("keyring = ", "string"),
            ("keyring = \"k\"\nthreshold = 1\ntrust_amount = 60", "needs trust_roots"),
            (
                "keyring = \"k\"\nthreshold = 1\ntrust_roots = [\"ABC\"]",
                "not an OpenPGP fingerprint",
            ),
            (
                "keyring = \"k\"\nthreshold = 1\ntrust_roots = [\"8F17777118A33DDA9BA48E62AACB3243630052D9\"]\ntrust_amount = 0",
                "at least 1",
            ),
        ] {
            let err = TrustFile::parse(text, Path::new(".")).expect_err(text);
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
