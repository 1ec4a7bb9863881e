//! The reproducible-build quorum check: did at least M distinct trusted
//! maintainers attest this exact digest, in entries provably in a log
//! whose checkpoint the witness policy accepts?
//!
//! The check is the same online and offline; only where the
//! [`Candidate`]s come from differs ([`crate::online`] asks the log,
//! [`crate::bundle`] reads a file). For each candidate, in order:
//!
//! 1. its checkpoint passes the tlog-policy ([`crate::witnessed`]);
//! 2. its audit path leads from the leaf hash to that checkpoint's root;
//! 3. its signer's primary key is in the trusted keyring;
//! 4. the leaf's OpenPGP signature verifies again under the log's rules
//!    ([`attestlog_attest::verify_leaf`], SPEC §6.5.5) against the trusted
//!    certificate (merged with the logged one, which can only add what the
//!    primary key signed);
//! 5. the signed statement names this exact SHA-256 digest.
//!
//! Passing candidates are counted once per primary fingerprint.

use std::collections::BTreeMap;
use std::path::Path;

use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::{Cert, Fingerprint};
use attestlog_attest::{verify_leaf, Keyring, Leaf};
use attestlog_core::proof::verify_inclusion;
use attestlog_core::{leaf_hash, Hash};

use crate::error::ClientError;
use crate::report::{Attestation, Conflict, Rejected, Report, TrustedMaintainer};
use crate::tlog_policy::TlogPolicy;
use crate::trust_file::TrustFile;
use crate::witnessed::verify_checkpoint;

/// One entry to check.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The entry's index in the log.
    pub index: u64,
    /// The canonical leaf bytes.
    pub leaf: Vec<u8>,
    /// The signer certificate as the log stores it, if fetched.
    pub logged_certificate: Option<Vec<u8>>,
    /// The inclusion proof of `index` under `checkpoint`.
    pub audit_path: Vec<Hash>,
    /// The signed (cosigned) checkpoint note the proof is for.
    pub checkpoint: Vec<u8>,
}

/// What the verifier trusts about maintainers.
pub struct Maintainers {
    /// Their certificates (with trust roots: every certificate the web of
    /// trust may use, introducers included).
    pub keyring: Keyring,
    /// How many distinct maintainers must attest (at least 1; a check with
    /// 0 never passes).
    pub threshold: usize,
    /// With trust roots: only signers the web of trust authenticates
    /// count; `None`: every certificate of the keyring counts.
    #[cfg(feature = "wot")]
    pub authentication: Option<Authentication>,
}

impl std::fmt::Debug for Maintainers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Maintainers")
            .field("keyring", &self.keyring)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

/// Counting only the signers a web of trust authenticates.
#[cfg(feature = "wot")]
pub struct Authentication {
    /// The network: the keyring's certificates and the trust roots.
    pub web: crate::wot::WebOfTrust,
    /// The trust a signer needs ([`crate::wot::FULLY`] by default).
    pub amount: usize,
}

impl Maintainers {
    /// Loads the keyring at `keyring` (a file, or a directory of
    /// `*.asc`/`*.pgp`/`*.gpg` files) with `threshold`, which must be at
    /// least 1.
    pub fn load(keyring: &Path, threshold: usize) -> Result<Maintainers, ClientError> {
        if threshold == 0 {
            return Err(ClientError::ZeroThreshold);
        }
        Ok(Maintainers {
            keyring: load_keyring(keyring)?,
            threshold,
            #[cfg(feature = "wot")]
            authentication: None,
        })
    }

    /// Loads the certificates at `certs` (a keyring file or directory)
    /// and counts only signers the web of trust authenticates from
    /// `roots` with at least `amount`, as of now.
    #[cfg(feature = "wot")]
    pub fn with_trust_roots(
        certs: &Path,
        roots: &[Fingerprint],
        amount: usize,
        threshold: usize,
    ) -> Result<Maintainers, ClientError> {
        let mut m = Maintainers::load(certs, threshold)?;
        let all: Vec<Cert> = m
            .keyring
            .fingerprints()
            .iter()
            .filter_map(|fp| m.keyring.get(fp))
            .map(|c| (*c).clone())
            .collect();
        let web = crate::wot::WebOfTrust::new(all, roots, std::time::SystemTime::now())?;
        m.authentication = Some(Authentication { web, amount });
        Ok(m)
    }

    /// Loads the keyring and threshold that a maintainers file names
    /// ([`crate::trust_file`]).
    pub fn from_trust_file(path: &Path) -> Result<Maintainers, ClientError> {
        let t = TrustFile::load(path)?;
        if t.trust_roots.is_empty() {
            return Maintainers::load(&t.keyring, t.threshold);
        }
        #[cfg(feature = "wot")]
        {
            let roots: Vec<Fingerprint> = t
                .trust_roots
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect();
            Maintainers::with_trust_roots(&t.keyring, &roots, t.trust_amount, t.threshold)
        }
        #[cfg(not(feature = "wot"))]
        Err(ClientError::TrustFile {
            path: path.display().to_string(),
            reason: "trust_roots need the web of trust (feature `wot`)".into(),
        })
    }
}

/// Loads a keyring (a file, or a directory of `*.asc`/`*.pgp`/`*.gpg`
/// files); the error names the path.
pub fn load_keyring(path: &Path) -> Result<Keyring, ClientError> {
    Keyring::load(path).map_err(|source| ClientError::Keyring {
        path: path.display().to_string(),
        source,
    })
}

/// The primary user ID of a certificate, or its fingerprint.
pub fn display_name(cert: &Cert) -> String {
    cert.userids()
        .next()
        .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
        .unwrap_or_else(|| cert.fingerprint().to_hex())
}

/// Runs the check over `candidates` for `digest`.
pub fn evaluate(
    digest: &[u8; 32],
    candidates: &[Candidate],
    policy: &TlogPolicy,
    maintainers: &Maintainers,
    conflicts: Vec<Conflict>,
) -> Report {
    let mut accepted: Vec<Attestation> = Vec::new();
    let mut rejected: Vec<Rejected> = Vec::new();
    let mut checkpoints: BTreeMap<u64, String> = BTreeMap::new();
    for c in candidates {
        match check_one(digest, c, policy, maintainers) {
            Ok((a, size, origin)) => {
                checkpoints.insert(size, origin);
                accepted.push(a);
            }
            Err(r) => rejected.push(r),
        }
    }
    let mut distinct: Vec<String> = accepted.iter().map(|a| a.fingerprint.clone()).collect();
    distinct.sort();
    distinct.dedup();
    // With trust roots the keyring also holds introducers: who is a
    // maintainer is the web of trust's answer per signer, so none is
    // listed as missing.
    #[cfg(feature = "wot")]
    let listed = maintainers.authentication.is_none();
    #[cfg(not(feature = "wot"))]
    let listed = true;
    let missing: Vec<TrustedMaintainer> = maintainers
        .keyring
        .fingerprints()
        .into_iter()
        .filter(|_| listed)
        .filter(|fp| !distinct.contains(&fp.to_hex()))
        .filter_map(|fp| {
            maintainers.keyring.get(&fp).map(|cert| TrustedMaintainer {
                fingerprint: fp.to_hex(),
                name: display_name(&cert),
            })
        })
        .collect();
    Report {
        digest: hex::encode(digest),
        threshold: maintainers.threshold,
        distinct_maintainers: distinct.len(),
        passed: distinct.len() >= maintainers.threshold
            && maintainers.threshold > 0
            && !rejected.iter().any(|r| r.integrity),
        checkpoints: checkpoints
            .into_iter()
            .map(|(size, origin)| format!("{origin} at size {size}"))
            .collect(),
        attestations: accepted,
        rejected,
        missing,
        conflicts,
    }
}

fn check_one(
    digest: &[u8; 32],
    c: &Candidate,
    policy: &TlogPolicy,
    maintainers: &Maintainers,
) -> Result<(Attestation, u64, String), Rejected> {
    let keyring = &maintainers.keyring;
    let fail = |integrity: bool| {
        move |signer: Option<String>, reason: String| Rejected {
            index: c.index,
            signer,
            reason,
            integrity,
        }
    };
    let (reject, broken) = (fail(false), fail(true));
    let leaf = Leaf::decode(&c.leaf).map_err(|e| {
        broken(
            None,
            format!("the entry is not a valid attestlog leaf: {e}"),
        )
    })?;
    let fp: Fingerprint = leaf.primary_fingerprint().clone();
    let signer_text = |name: Option<String>| match name {
        Some(n) => format!("{n} ({})", fp.to_hex()),
        None => fp.to_hex(),
    };
    let logged: Option<Cert> = c
        .logged_certificate
        .as_deref()
        .and_then(|b| Cert::from_bytes(b).ok())
        .filter(|cert| cert.fingerprint() == fp);
    let logged_name = logged.as_ref().map(display_name);
    let cp = verify_checkpoint(policy, &c.checkpoint).map_err(|e| {
        broken(
            Some(signer_text(logged_name.clone())),
            format!("its checkpoint is not acceptable: {e}"),
        )
    })?;
    verify_inclusion(
        &leaf_hash(&c.leaf),
        c.index,
        cp.checkpoint.size,
        &c.audit_path,
        &cp.checkpoint.root,
    )
    .map_err(|e| {
        broken(
            Some(signer_text(logged_name.clone())),
            format!(
                "its inclusion proof does not lead to the root of the checkpoint of size {}: {e}",
                cp.checkpoint.size
            ),
        )
    })?;
    let Some(trusted) = keyring.get(&fp) else {
        return Err(reject(
            Some(signer_text(logged_name)),
            "the signer is not in your trusted keyring, so this attestation does not count".into(),
        ));
    };
    #[cfg_attr(not(feature = "wot"), allow(unused_mut))]
    let mut name = display_name(&trusted);
    #[cfg_attr(not(feature = "wot"), allow(unused_mut))]
    let mut authenticated_by = None;
    #[cfg(feature = "wot")]
    if let Some(auth) = &maintainers.authentication {
        match auth.web.authenticate(&fp, auth.amount) {
            Ok(a) => {
                name = a.user_id.clone();
                authenticated_by = Some(describe_paths(&a));
            }
            Err(e) => {
                return Err(reject(
                    Some(signer_text(Some(name))),
                    format!("your web of trust does not authenticate the signer: {e}"),
                ))
            }
        }
    }
    let cert = match logged {
        Some(l) => (*trusted)
            .clone()
            .merge_public(l)
            .unwrap_or((*trusted).clone()),
        None => (*trusted).clone(),
    };
    let verified = verify_leaf(&c.leaf, &cert).map_err(|e| {
        reject(
            Some(signer_text(Some(name.clone()))),
            format!("the signature does not verify against your trusted certificate: {e}"),
        )
    })?;
    let subjects = verified.statement().subjects();
    let Some(subject) = subjects.iter().find(|s| s.sha256 == *digest) else {
        return Err(reject(
            Some(signer_text(Some(name))),
            "the signed statement does not name this digest".into(),
        ));
    };
    Ok((
        Attestation {
            index: c.index,
            fingerprint: fp.to_hex(),
            maintainer: name,
            subject: subject.name.clone(),
            verified_at: leaf.verified_at(),
            authenticated_by,
        },
        cp.checkpoint.size,
        cp.checkpoint.origin,
    ))
}

/// The paths of an authentication in words: per path, each hop as its
/// user ID (or fingerprint) joined by `→`, and the path's amount.
#[cfg(feature = "wot")]
fn describe_paths(a: &crate::wot::Authenticated) -> String {
    a.paths
        .iter()
        .map(|p| {
            let hops: Vec<String> = p
                .hops
                .iter()
                .map(|h| match &h.user_id {
                    Some(u) => format!("{u} ({})", h.fingerprint.to_hex()),
                    None => h.fingerprint.to_hex(),
                })
                .collect();
            format!("{} (amount {})", hops.join(" → "), p.amount)
        })
        .collect::<Vec<_>>()
        .join("; ")
}
