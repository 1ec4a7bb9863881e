//! Admission policy: whose signatures the log accepts.
//!
//! * [`AdmissionPolicy::Keyring`]: only certificates in the configured
//!   [`Keyring`]. The submission may omit the certificate (the keyring's is
//!   used); if it includes one, its primary fingerprint must be in the
//!   keyring and the two are merged, so a signer can bring an extended
//!   expiry or a new revocation before the operator reloads.
//! * [`AdmissionPolicy::Open`]: any certificate that passes verification; the
//!   submission must include it. The server is expected to rate-limit per
//!   primary fingerprint (see [`crate::IndexKeys::primary_fingerprint`]).

use std::sync::Arc;

use crate::keyring::Keyring;

/// Whose signatures the log admits.
#[derive(Debug, Clone)]
pub enum AdmissionPolicy {
    /// Any valid certificate, included in the submission.
    Open,
    /// Only the certificates in this keyring.
    Keyring(Arc<Keyring>),
}

impl AdmissionPolicy {
    /// The policy's name as written in configuration: `open` or `keyring`.
    pub fn name(&self) -> &'static str {
        match self {
            AdmissionPolicy::Open => "open",
            AdmissionPolicy::Keyring(_) => "keyring",
        }
    }
}
