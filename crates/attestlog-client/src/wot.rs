//! Web-of-trust authentication of maintainers: whether a signer's
//! certificate, and which of its user IDs, can be authenticated from the
//! verifier's trust roots through the certifications in a keyring, with
//! Sequoia's web-of-trust engine (`sequoia-wot`: certifications, trust
//! signatures with depth, amount and regular expressions, expiry and
//! revocations, evaluated at one time).
//!
//! In scope: building the network once from a keyring and roots, and
//! authenticating certificates against it with the paths that did it.
//! Out of scope (for now): the `attestlog verify` flags and bundles that
//! will use it (issue #15).

use std::time::SystemTime;

use attestlog_attest::openpgp::packet::UserID;
use attestlog_attest::openpgp::policy::StandardPolicy;
use attestlog_attest::openpgp::{Cert, Fingerprint};
use sequoia_wot::store::CertStore;
use sequoia_wot::{Network, Root, Roots};

/// The amount of trust that fully authenticates a binding (OpenPGP's
/// "fully trusted"; 60 is "partially", 240 "doubly").
pub const FULLY: usize = 120;

/// The most certificates one network is built from.
pub const MAX_CERTS: usize = 100_000;

/// The cryptographic policy certifications are judged by (Sequoia's
/// standard one, at its own reference time).
static POLICY: StandardPolicy<'static> = StandardPolicy::new();

/// Why a web of trust cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum WotError {
    /// More than [`MAX_CERTS`] certificates.
    #[error("{0} certificates are over the limit of {MAX_CERTS}")]
    TooManyCerts(usize),
    /// The engine refused the input.
    #[error("web of trust: {0}")]
    Engine(String),
}

/// One hop of a path: a certificate, and the user ID it was reached by
/// (for the target, the authenticated one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The certificate's fingerprint.
    pub fingerprint: Fingerprint,
    /// Its user ID on this path, if the certification named one.
    pub user_id: Option<String>,
}

/// One path from a root to the target, and the trust it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustPath {
    /// Root first, target last.
    pub hops: Vec<Hop>,
    /// The amount of trust this path contributes.
    pub amount: usize,
}

/// A certificate authenticated for one of its user IDs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// The certificate.
    pub fingerprint: Fingerprint,
    /// The user ID that was authenticated.
    pub user_id: String,
    /// The total trust of the paths (at least the amount asked for).
    pub amount: usize,
    /// The paths.
    pub paths: Vec<TrustPath>,
}

/// Why a certificate is not authenticated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotAuthenticated {
    /// The keyring has no such certificate (or it is not valid now).
    #[error("certificate {0} is not in the keyring, or not valid now")]
    UnknownCertificate(Fingerprint),
    /// No path from a root reaches any of its user IDs.
    #[error("no path from a trust root to any user ID of {0}")]
    NoPath(Fingerprint),
    /// Paths exist but carry too little trust.
    #[error("{user_id} on {fingerprint} is authenticated to {best} of the {required} required")]
    NotEnough {
        /// The certificate.
        fingerprint: Fingerprint,
        /// Its best-authenticated user ID.
        user_id: String,
        /// The trust its paths carry.
        best: usize,
        /// The trust required.
        required: usize,
    },
}

/// A web of trust: certificates, their certifications, and trust roots,
/// evaluated at one time.
pub struct WebOfTrust {
    network: Network<
        CertStore<'static, 'static, sequoia_wot::sequoia_cert_store::store::Certs<'static>>,
    >,
    /// Each certificate's self-signed user IDs valid at the time.
    user_ids: std::collections::HashMap<Fingerprint, Vec<UserID>>,
}

impl WebOfTrust {
    /// Builds the network from `certs` (the keyring, with the
    /// certifications they carry), fully trusting each of `roots`, as of
    /// `at`. Certificates invalid at `at` are left out.
    pub fn new(certs: Vec<Cert>, roots: &[Fingerprint], at: SystemTime) -> Result<Self, WotError> {
        if certs.len() > MAX_CERTS {
            return Err(WotError::TooManyCerts(certs.len()));
        }
        let mut user_ids = std::collections::HashMap::new();
        for cert in &certs {
            if let Ok(valid) = cert.with_policy(&POLICY, at) {
                user_ids.insert(
                    cert.fingerprint(),
                    valid.userids().map(|u| u.userid().clone()).collect(),
                );
            }
        }
        let roots = Roots::new(roots.iter().map(|r| Root::new(r.clone(), FULLY)));
        let network = Network::from_certs(certs, &POLICY, at, roots)
            .map_err(|e| WotError::Engine(e.to_string()))?;
        Ok(WebOfTrust { network, user_ids })
    }

    /// Authenticates `target` for `required` trust: the user ID with the
    /// most trust among those that reach it (in the certificate's order
    /// when tied), with its paths.
    pub fn authenticate(
        &self,
        target: &Fingerprint,
        required: usize,
    ) -> Result<Authenticated, NotAuthenticated> {
        let user_ids = self
            .user_ids
            .get(target)
            .ok_or_else(|| NotAuthenticated::UnknownCertificate(target.clone()))?;
        let mut best: Option<(usize, &UserID, sequoia_wot::Paths)> = None;
        for uid in user_ids {
            let paths = self.network.authenticate(uid, target, required);
            let amount = paths.amount();
            if amount > 0 && best.as_ref().is_none_or(|(b, _, _)| amount > *b) {
                best = Some((amount, uid, paths));
            }
        }
        let Some((amount, uid, paths)) = best else {
            return Err(NotAuthenticated::NoPath(target.clone()));
        };
        let user_id = String::from_utf8_lossy(uid.value()).into_owned();
        if amount < required {
            return Err(NotAuthenticated::NotEnough {
                fingerprint: target.clone(),
                user_id,
                best: amount,
                required,
            });
        }
        Ok(Authenticated {
            fingerprint: target.clone(),
            user_id,
            amount,
            paths: paths.iter().map(|(p, a)| trust_path(p, *a)).collect(),
        })
    }
}

/// A path as hops: each certificate with the user ID the certification
/// into it named (the root has none; the target's is the authenticated
/// one).
fn trust_path(path: &sequoia_wot::Path, amount: usize) -> TrustPath {
    let mut hops: Vec<Hop> = path
        .certificates()
        .map(|c| Hop {
            fingerprint: c.fingerprint(),
            user_id: None,
        })
        .collect();
    for (i, certification) in path.certifications().enumerate() {
        if let (Some(hop), Some(uid)) = (hops.get_mut(i + 1), certification.userid()) {
            hop.user_id = Some(String::from_utf8_lossy(uid.value()).into_owned());
        }
    }
    TrustPath { hops, amount }
}
