//! Submitted certificates: what of them the log reads, and what it keeps.
//!
//! A certificate comes from the submitter, who may not be its owner (under
//! the `open` admission policy anyone may relay anyone's public signature
//! with a copy of the signer's certificate). So (`docs/SPEC.md` §6.6.1):
//!
//! 1. **Read** (`parse_submitted`): at most [`MAX_CERT_USER_IDS`] user
//!    IDs and [`MAX_CERT_SUBKEYS`] subkeys, no user attributes, no
//!    third-party certifications, and per component at most
//!    [`MAX_SELF_SIGNATURES_PER_COMPONENT`] binding signatures and as many
//!    revocations, newest first. This bounds what validating it costs
//!    (every self-signature Sequoia checks is also kept forever in its
//!    process-wide verification cache), whatever the submitter sent.
//! 2. **Keep** ([`stored_view`]): what re-verifying the entry needs — the
//!    primary key with its own signatures and revocations, the user IDs
//!    that carry a valid self-signature, and the subkey that made the
//!    signature. Nothing a third party could have added.
//! 3. **Merge** ([`merge_stored`]): the log's copy of a key is the union of
//!    every stored view it was shown, so a stripped copy (without a later
//!    revocation, or without an old subkey) never replaces a fuller one,
//!    and a revocation, once seen, is never dropped.

use sequoia_openpgp::packet::{Packet, Signature};
use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::serialize::SerializeInto;
use sequoia_openpgp::types::SignatureType;
use sequoia_openpgp::{Cert, Fingerprint, KeyHandle};

use crate::error::AttestError;
use crate::signature_check::chain;

/// The most user IDs of a submitted certificate the log reads.
pub const MAX_CERT_USER_IDS: usize = 16;

/// The most subkeys of a submitted certificate the log reads.
pub const MAX_CERT_SUBKEYS: usize = 16;

/// The most binding signatures (and, separately, revocations) per key or
/// user ID the log reads, newest first.
pub const MAX_SELF_SIGNATURES_PER_COMPONENT: usize = 4;

/// Parses one public certificate (binary or armored), refusing secret key
/// material, and strips it to what the log reads (step 1 of the module
/// doc).
pub(crate) fn parse_submitted(bytes: &[u8]) -> Result<Cert, AttestError> {
    let cert = parse_stored(bytes)?;
    strip(cert).map_err(|e| AttestError::MalformedCertificate { reason: chain(&e) })
}

/// Parses one public certificate (binary or armored), refusing secret key
/// material, without stripping anything: how a copy the log stored (or
/// published) is read back, e.g. by `attestlog-server restore`, which then
/// checks its primary fingerprint.
pub fn parse_stored(bytes: &[u8]) -> Result<Cert, AttestError> {
    let cert = Cert::from_bytes(bytes)
        .map_err(|e| AttestError::MalformedCertificate { reason: chain(&e) })?;
    if cert.is_tsk() {
        return Err(AttestError::MalformedCertificate {
            reason: "it contains secret key material; send the public certificate \
                     (gpg --export, not --export-secret-keys) and consider that key exposed"
                .into(),
        });
    }
    Ok(cert)
}

/// Step 1 of the module doc: structural only, no signature is verified.
fn strip(cert: Cert) -> sequoia_openpgp::Result<Cert> {
    let primary = cert.fingerprint();
    let primary_id = KeyHandle::from(cert.keyid());
    let (mut user_ids, mut subkeys) = (0, 0);
    let cert = cert
        .retain_user_attributes(|_| false)
        .retain_userids(|_| {
            user_ids += 1;
            user_ids <= MAX_CERT_USER_IDS
        })
        .retain_subkeys(|_| {
            subkeys += 1;
            subkeys <= MAX_CERT_SUBKEYS
        });
    // `into_packets` yields each component followed by its signatures,
    // newest first within each kind.
    let by_primary = |sig: &Signature| {
        let issuers = sig.get_issuers();
        issuers.is_empty()
            || issuers
                .iter()
                .any(|h| h.aliases(KeyHandle::from(&primary)) || h.aliases(&primary_id))
    };
    let mut kept = Vec::new();
    let (mut bindings, mut revocations) = (0, 0);
    for packet in cert.into_packets() {
        match packet {
            Packet::Signature(sig) => {
                if !by_primary(&sig) {
                    continue;
                }
                let count = if is_revocation(&sig) {
                    &mut revocations
                } else {
                    &mut bindings
                };
                *count += 1;
                if *count <= MAX_SELF_SIGNATURES_PER_COMPONENT {
                    kept.push(Packet::Signature(sig));
                }
            }
            component => {
                (bindings, revocations) = (0, 0);
                kept.push(component);
            }
        }
    }
    Cert::from_packets(kept.into_iter())
}

fn is_revocation(sig: &Signature) -> bool {
    matches!(
        sig.typ(),
        SignatureType::KeyRevocation
            | SignatureType::SubkeyRevocation
            | SignatureType::CertificationRevocation
    )
}

/// Step 2 of the module doc: the primary key with its validated
/// self-signatures and self-revocations, the user IDs with a valid
/// self-signature, and the subkey `signer` (if it is one), serialized.
/// Signatures are validated by Sequoia (lazily, once per certificate
/// object).
pub fn stored_view(cert: &Cert, signer: &Fingerprint) -> Result<Vec<u8>, AttestError> {
    let primary = cert.primary_key();
    let mut packets: Vec<Packet> = vec![primary.key().clone().into()];
    packets.extend(primary.self_revocations().cloned().map(Packet::from));
    packets.extend(primary.self_signatures().cloned().map(Packet::from));
    for ua in cert.userids() {
        if ua.self_signatures().next().is_none() {
            continue;
        }
        packets.push(ua.userid().clone().into());
        packets.extend(ua.self_revocations().cloned().map(Packet::from));
        packets.extend(ua.self_signatures().cloned().map(Packet::from));
    }
    for ka in cert.keys().subkeys() {
        if &ka.key().fingerprint() != signer {
            continue;
        }
        packets.push(ka.key().clone().into());
        packets.extend(ka.self_revocations().cloned().map(Packet::from));
        packets.extend(ka.self_signatures().cloned().map(Packet::from));
    }
    Cert::from_packets(packets.into_iter())
        .and_then(|c| c.to_vec())
        .map_err(|e| AttestError::MalformedCertificate { reason: chain(&e) })
}

/// Step 3 of the module doc: the union of the log's stored copy of a key
/// and a new stored view of it, serialized; `None` if the union is the
/// stored copy (nothing to write). Both must be the same primary key.
pub fn merge_stored(stored: &[u8], new: &[u8]) -> Result<Option<Vec<u8>>, AttestError> {
    if stored == new {
        return Ok(None);
    }
    let bad =
        |e: sequoia_openpgp::anyhow::Error| AttestError::MalformedCertificate { reason: chain(&e) };
    let old = Cert::from_bytes(stored).map_err(bad)?;
    let merged = old
        .clone()
        .merge_public(Cert::from_bytes(new).map_err(bad)?)
        .map_err(bad)?;
    if merged == old {
        return Ok(None);
    }
    merged.to_vec().map(Some).map_err(bad)
}
