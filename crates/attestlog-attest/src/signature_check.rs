//! The rules one signature must pass against one certificate.
//!
//! In order (cheap checks first, the public-key operation last):
//!
//! 1. It is a document signature: type binary (0x00) or text (0x01).
//! 2. It has a creation time, at most [`MAX_CLOCK_SKEW`] after `now`.
//! 3. Its hash algorithm is acceptable to the policy **at `now`** (SHA-1 gets
//!    its own error), and so are its critical subpackets and the packet
//!    itself (`Policy::packet`, as Sequoia's own verifier applies it: the
//!    standard policy refuses v3 signatures made after February 2021). A v6
//!    signature made with an algorithm RFC 9580 allows only in v4 (DSA,
//!    ElGamal, legacy EdDSA) is refused.
//! 4. It has not expired by `now`.
//! 5. The certificate contains the key its issuer subpackets name.
//! 6. At the signature's creation time, under the policy at `now`: the
//!    certificate has a valid self-signature, its primary key is alive and
//!    not revoked, the signing key is validly bound, alive, not revoked and
//!    has the signing flag. Hard revocations (key compromised, or no reason
//!    given) count whenever they were made; soft ones (superseded, retired)
//!    only from their own creation time on — this is how Sequoia evaluates
//!    revocation status at a reference time.
//! 7. The signature verifies over the statement bytes (text signatures: after
//!    normalizing every CR LF, lone CR and lone LF to CR LF, RFC 9580 §5.2.1.2).
//!
//! The public-key operation is called directly rather than through
//! `Signature::verify_message`, which would add every data signature to
//! Sequoia's process-wide verification cache: a log sees each signature once,
//! so the cache would only grow.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sequoia_openpgp::cert::amalgamation::key::PrimaryKey;
use sequoia_openpgp::cert::amalgamation::{ValidAmalgamation, ValidateAmalgamation};
use sequoia_openpgp::crypto::hash::Hash as _;
use sequoia_openpgp::packet::key::{PublicParts, UnspecifiedRole};
use sequoia_openpgp::packet::Packet;
use sequoia_openpgp::packet::{Key, Signature};
use sequoia_openpgp::policy::{HashAlgoSecurity, Policy as CryptoPolicy};
use sequoia_openpgp::types::{
    HashAlgorithm, PublicKeyAlgorithm, RevocationStatus, RevocationType, SignatureType,
};
use sequoia_openpgp::{Cert, Fingerprint};

use crate::error::AttestError;

/// How far in the future (by the log's clock) a signature may be dated.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// Checks `sig` over `statement` against `cert`; returns the fingerprint of
/// the key that made it.
pub(crate) fn check(
    crypto_policy: &dyn CryptoPolicy,
    cert: &Cert,
    sig: &Signature,
    statement: &[u8],
    now: SystemTime,
) -> Result<Fingerprint, AttestError> {
    // 1.
    let typ = sig.typ();
    if typ != SignatureType::Binary && typ != SignatureType::Text {
        return Err(AttestError::NotADataSignature {
            signature_type: typ,
        });
    }
    // 2.
    let created = sig
        .signature_creation_time()
        .ok_or(AttestError::MissingCreationTime)?;
    if created > now + MAX_CLOCK_SKEW {
        return Err(AttestError::FutureSignature {
            created: unix(created),
            now: unix(now),
            tolerance_secs: MAX_CLOCK_SKEW.as_secs(),
        });
    }
    // 3. A data signature needs collision resistance.
    if sig.hash_algo() == HashAlgorithm::SHA1 {
        return Err(AttestError::Sha1Signature);
    }
    crypto_policy
        .signature(sig, HashAlgoSecurity::CollisionResistance)
        .map_err(|e| AttestError::SignatureRejectedByPolicy { reason: chain(&e) })?;
    crypto_policy
        .packet(&Packet::Signature(sig.clone()))
        .map_err(|e| AttestError::SignatureRejectedByPolicy { reason: chain(&e) })?;
    // RFC 9580 §9.1: DSA and ElGamal "MUST NOT" be used with v6 keys, nor
    // EdDSALegacy ("MUST NOT be used with version 6 keys"), so no v6
    // signature can be made with them. (Sequoia deprecates the names of the
    // algorithms it only reads.)
    #[allow(deprecated)]
    if sig.version() == 6
        && matches!(
            sig.pk_algo(),
            PublicKeyAlgorithm::DSA
                | PublicKeyAlgorithm::ElGamalEncryptSign
                | PublicKeyAlgorithm::EdDSA
        )
    {
        return Err(AttestError::SignatureRejectedByPolicy {
            reason: format!(
                "a v6 signature cannot use {} (RFC 9580 §9.1)",
                sig.pk_algo()
            ),
        });
    }
    // 4.
    if let Some(expires) = sig.signature_expiration_time() {
        if expires <= now {
            return Err(AttestError::SignatureExpired {
                expired_at: unix(expires),
            });
        }
    }
    // 5.
    let issuers = sig.get_issuers();
    let ka = cert
        .keys()
        .key_handles(issuers.iter())
        .next()
        .ok_or_else(|| AttestError::KeyNotInCertificate {
            issuer: issuers
                .first()
                .cloned()
                .unwrap_or_else(|| sequoia_openpgp::KeyID::wildcard().into()),
            certificate: cert.fingerprint(),
        })?;
    let signer = ka.key().fingerprint();
    // 6.
    let vc =
        cert.with_policy(crypto_policy, created)
            .map_err(|e| AttestError::CertificateInvalid {
                fingerprint: cert.fingerprint(),
                reason: chain(&e),
            })?;
    if vc.alive().is_err() {
        return Err(AttestError::KeyExpired {
            fingerprint: cert.fingerprint(),
        });
    }
    revoked(vc.revocation_status(), &cert.fingerprint())?;
    let vka =
        ka.with_policy(crypto_policy, created)
            .map_err(|e| AttestError::SigningKeyInvalid {
                fingerprint: signer.clone(),
                reason: chain(&e),
            })?;
    if !vka.primary() {
        if vka.alive().is_err() {
            return Err(AttestError::KeyExpired {
                fingerprint: signer.clone(),
            });
        }
        revoked(vka.revocation_status(), &signer)?;
    }
    if !vka.for_signing() {
        return Err(AttestError::NotSigningCapable {
            fingerprint: signer.clone(),
        });
    }
    // 7.
    verify_over(
        sig,
        vka.key().parts_as_public().role_as_unspecified(),
        statement,
    )
    .map_err(|reason| AttestError::BadSignature {
        fingerprint: signer.clone(),
        reason,
    })?;
    Ok(signer)
}

fn revoked(status: RevocationStatus<'_>, fingerprint: &Fingerprint) -> Result<(), AttestError> {
    let RevocationStatus::Revoked(revocations) = status else {
        // `CouldBe` are third-party revocations we cannot authenticate.
        return Ok(());
    };
    let first = revocations.first().and_then(|r| r.reason_for_revocation());
    // RFC 9580 §5.2.3.31: a revocation without a reason is treated as hard.
    let hard = revocations.iter().any(|r| {
        r.reason_for_revocation()
            .is_none_or(|(code, _)| code.revocation_type() == RevocationType::Hard)
    });
    let reason = match first {
        Some((code, message)) if !message.is_empty() => {
            format!("{code}: {}", String::from_utf8_lossy(message))
        }
        Some((code, _)) => code.to_string(),
        None => "no reason given".to_owned(),
    };
    Err(AttestError::KeyRevoked {
        fingerprint: fingerprint.clone(),
        reason,
        hard,
    })
}

/// The cryptographic check: hash the statement as the signature type says,
/// then verify the signature's MPIs with `key`.
fn verify_over(
    sig: &Signature,
    key: &Key<PublicParts, UnspecifiedRole>,
    statement: &[u8],
) -> Result<(), String> {
    // RFC 9580 §5.2.3: only v6 keys make v6 signatures (and v4 keys v4).
    if (sig.version() == 6) != (key.version() == 6) {
        return Err(format!(
            "a v{} signature cannot come from a v{} key",
            sig.version(),
            key.version()
        ));
    }
    if let Some(salt) = sig.salt() {
        let want = sig.hash_algo().salt_size().map_err(|e| chain(&e))?;
        if salt.len() != want {
            return Err(format!("salt is {} bytes, expected {want}", salt.len()));
        }
    }
    if sig
        .signature_creation_time()
        .is_some_and(|t| t < key.creation_time())
    {
        return Err("the signature predates the key".into());
    }
    let mut ctx = sig
        .hash_algo()
        .context()
        .map_err(|e| chain(&e))?
        .for_signature(sig.version());
    if let Some(salt) = sig.salt() {
        ctx.update(salt);
    }
    if sig.typ() == SignatureType::Text {
        hash_text(&mut ctx, statement);
    } else {
        ctx.update(statement);
    }
    sig.hash(&mut ctx).map_err(|e| chain(&e))?;
    let digest = ctx.into_digest().map_err(|e| chain(&e))?;
    if digest.get(..2) != Some(&sig.digest_prefix()[..]) {
        return Err("digest prefix mismatch".into());
    }
    key.verify(sig.mpis(), sig.hash_algo(), &digest)
        .map_err(|e| chain(&e))
}

/// Hashes `text` with every line ending (CR LF, lone CR, lone LF) as CR LF.
fn hash_text(ctx: &mut sequoia_openpgp::crypto::hash::Context, text: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\r' | b'\n' => {
                ctx.update(&text[start..i]);
                ctx.update(b"\r\n");
                i += if text[i] == b'\r' && text.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            _ => i += 1,
        }
    }
    ctx.update(&text[start..]);
}

/// Seconds since the Unix epoch, 0 before it.
pub(crate) fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// An error and its causes on one line (anyhow's alternate form, which is
/// how Sequoia's errors carry their context).
pub(crate) fn chain(e: &impl std::fmt::Display) -> String {
    format!("{e:#}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(f: impl FnOnce(&mut sequoia_openpgp::crypto::hash::Context)) -> Vec<u8> {
        let mut ctx = HashAlgorithm::SHA256.context().unwrap().for_digest();
        f(&mut ctx);
        ctx.into_digest().unwrap()
    }

    #[test]
    fn text_normalization() {
        let want = digest(|c| c.update(b"a\r\nb\r\nc\r\n\r\nd"));
        for input in [
            &b"a\nb\r\nc\r\r\nd"[..],
            b"a\rb\nc\n\nd",
            b"a\r\nb\r\nc\r\n\r\nd",
        ] {
            assert_eq!(digest(|c| hash_text(c, input)), want, "{input:?}");
        }
    }
}
