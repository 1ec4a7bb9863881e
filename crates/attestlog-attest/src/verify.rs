//! Verification: the function the log calls before it appends anything, and
//! the re-verification a client or monitor runs on a leaf.
//!
//! [`Verifier::verify`] takes a [`AttestationInput`] and the log's current time and
//! returns a [`VerifiedAttestation`] (the canonical leaf and its index keys)
//! or the [`AttestError`] naming the first rule broken:
//!
//! 1. size limits on every input field;
//! 2. the OpenPGP input form ([`crate::openpgp_input`]);
//! 3. the admission policy picks the certificate for each signature;
//! 4. the signature rules ([`crate::signature_check`]) with Sequoia's
//!    `StandardPolicy` evaluated at `now` — not at the signature's own date,
//!    which the signer chooses; the first signature that passes is the
//!    entry's (one signer per leaf);
//! 5. only then is the statement parsed ([`crate::statement`]): the
//!    containers/image format asks that a payload not be parsed before its
//!    signature is authenticated;
//! 6. the leaf is encoded and checked against [`crate::MAX_ENTRY_SIZE`].
//!
//! Time is always a parameter; [`Verifier::verify_now`] is the one place that
//! reads the system clock.
//!
//! [`leaf_keys`] recomputes an admitted entry's deduplication and index keys
//! from its leaf alone (what rebuilding a log from its entries needs); it
//! shares their construction with admission.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sequoia_openpgp::packet::signature::subpacket::{Subpacket, SubpacketTag, SubpacketValue};
use sequoia_openpgp::packet::{Packet, Signature};
use sequoia_openpgp::policy::StandardPolicy;
use sequoia_openpgp::serialize::MarshalInto;
use sequoia_openpgp::types::SignatureType;
use sequoia_openpgp::{Cert, Fingerprint};
use sha2::{Digest, Sha256};

use crate::admission_policy::AdmissionPolicy;
use crate::cert_cache::CertCache;
use crate::error::AttestError;
use crate::leaf::{Leaf, LEAF_VERSION, LEAF_VERSION_1};
use crate::openpgp_input::{self, SignedInput};
use crate::signature_check::{self, unix};
use crate::statement::Statement;
use crate::{MAX_CERT_SIZE, MAX_PAYLOAD_SIZE, MAX_SIGNATURE_INPUT_SIZE};

/// The bytes of one submitted attestation, borrowed, as the verifier
/// takes them (the log server's owned request is `admission::Submission`).
#[derive(Debug, Clone, Copy)]
pub struct AttestationInput<'a> {
    /// With a detached signature: the statement bytes. Without: the signed
    /// message (`gpg --sign` / `--clearsign` output, binary or armored).
    pub payload: &'a [u8],
    /// The detached signature, binary or armored, if the payload is the bare
    /// statement.
    pub signature: Option<&'a [u8]>,
    /// The signer's certificate (transferable public key), binary or armored.
    pub certificate: Option<&'a [u8]>,
}

impl<'a> AttestationInput<'a> {
    /// A statement with a detached signature.
    pub fn detached(statement: &'a [u8], signature: &'a [u8]) -> Self {
        AttestationInput {
            payload: statement,
            signature: Some(signature),
            certificate: None,
        }
    }

    /// An inline-signed or cleartext-signed message.
    pub fn inline(message: &'a [u8]) -> Self {
        AttestationInput {
            payload: message,
            signature: None,
            certificate: None,
        }
    }

    /// The same submission carrying the signer's certificate.
    pub fn with_certificate(self, certificate: &'a [u8]) -> Self {
        AttestationInput {
            certificate: Some(certificate),
            ..self
        }
    }
}

/// The keys the log indexes an entry under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexKeys {
    /// Every subject's SHA-256 digest, in statement order, without repeats.
    pub subject_sha256: Vec<[u8; 32]>,
    /// The signer's primary-key fingerprint.
    pub primary_fingerprint: Fingerprint,
    /// Every subject's name, in statement order, without repeats.
    pub subject_names: Vec<String>,
}

impl IndexKeys {
    /// The index keys of an entry of `statement` signed under `primary`:
    /// what admission ([`Verifier::verify`]) and [`leaf_keys`] both build.
    fn of(statement: &Statement, primary: Fingerprint) -> IndexKeys {
        let mut index = IndexKeys {
            subject_sha256: Vec::new(),
            primary_fingerprint: primary,
            subject_names: Vec::new(),
        };
        for subject in statement.subjects() {
            if !index.subject_sha256.contains(&subject.sha256) {
                index.subject_sha256.push(subject.sha256);
            }
            if !index.subject_names.contains(&subject.name) {
                index.subject_names.push(subject.name.clone());
            }
        }
        index
    }
}

/// What the log indexed a logged leaf under, recomputed from the leaf
/// alone ([`leaf_keys`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafKeys {
    /// The deduplication key, as [`VerifiedAttestation::dedup_key`] was at
    /// admission.
    pub dedup_key: [u8; 32],
    /// The index keys, as [`VerifiedAttestation::index_keys`] were at
    /// admission.
    pub index: IndexKeys,
}

/// A submission that passed verification, ready to be appended.
#[derive(Debug, Clone)]
pub struct VerifiedAttestation {
    leaf: Leaf,
    leaf_bytes: Vec<u8>,
    statement: Statement,
    certificate: Arc<Cert>,
    index: IndexKeys,
    dedup_key: [u8; 32],
}

impl VerifiedAttestation {
    /// The canonical leaf bytes: what the log appends and hashes.
    pub fn leaf_bytes(&self) -> &[u8] {
        &self.leaf_bytes
    }

    /// The decoded leaf.
    pub fn leaf(&self) -> &Leaf {
        &self.leaf
    }

    /// The RFC 6962 leaf hash of [`Self::leaf_bytes`].
    pub fn leaf_hash(&self) -> attestlog_core::Hash {
        attestlog_core::leaf_hash(&self.leaf_bytes)
    }

    /// The parsed statement.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The certificate the signature was checked against (the log stores it
    /// by [`Self::primary_fingerprint`], outside the leaf).
    pub fn certificate(&self) -> &Arc<Cert> {
        &self.certificate
    }

    /// The signer's primary-key fingerprint.
    pub fn primary_fingerprint(&self) -> &Fingerprint {
        self.leaf.primary_fingerprint()
    }

    /// The fingerprint of the key that made the signature.
    pub fn signing_fingerprint(&self) -> &Fingerprint {
        self.leaf.signing_fingerprint()
    }

    /// The index keys.
    pub fn index_keys(&self) -> &IndexKeys {
        &self.index
    }

    /// What makes two submissions the same entry (`docs/SPEC.md` §6.5.6):
    /// SHA-256 over the statement (text signatures: with LF line endings),
    /// the parts of the signature its signature covers (version, type,
    /// algorithms, hashed subpacket area) and the signer's primary key.
    ///
    /// Neither the unhashed subpacket area nor the signature's MPIs count:
    /// both can be changed without the key (ECDSA's `s` can be negated), so
    /// counting them would let anyone log one signature again and again.
    /// The log's verification time does not count either, so resubmitting a
    /// logged signature finds the first entry.
    pub fn dedup_key(&self) -> [u8; 32] {
        self.dedup_key
    }
}

/// Verifies submissions under an admission policy. `Send + Sync`: share one
/// between threads (`&self` everywhere); it holds the parsed-certificate
/// cache.
#[derive(Debug)]
pub struct Verifier {
    admission: AdmissionPolicy,
    certs: CertCache,
    max_signature_age: Option<Duration>,
}

impl Verifier {
    /// A verifier admitting signers by `admission`, accepting signatures of
    /// any age.
    pub fn new(admission: AdmissionPolicy) -> Verifier {
        Verifier {
            admission,
            certs: CertCache::default(),
            max_signature_age: None,
        }
    }

    /// The same verifier refusing signatures created more than `max_age`
    /// before the log's time ([`AttestError::SignatureTooOld`]): a
    /// signature from a key retired or compromised long ago cannot then be
    /// logged as if it were new. `None` accepts any age.
    pub fn with_max_signature_age(self, max_age: Option<Duration>) -> Verifier {
        Verifier {
            max_signature_age: max_age,
            ..self
        }
    }

    /// The admission policy.
    pub fn admission(&self) -> &AdmissionPolicy {
        &self.admission
    }

    /// Verifies `submission` as of `now` (the log's clock).
    pub fn verify(
        &self,
        submission: &AttestationInput<'_>,
        now: SystemTime,
    ) -> Result<VerifiedAttestation, AttestError> {
        self.verify_within(submission, now, None)
    }

    /// [`Verifier::verify`], giving up with [`AttestError::BudgetExceeded`]
    /// once `deadline` has passed. The deadline is checked between steps
    /// (before each packet of a message, before each signature check), so
    /// one check already started runs to its end: every step is bounded by
    /// the input limits (`docs/SPEC.md` §6.9).
    pub fn verify_within(
        &self,
        submission: &AttestationInput<'_>,
        now: SystemTime,
        deadline: Option<Instant>,
    ) -> Result<VerifiedAttestation, AttestError> {
        let out_of_time = || deadline.is_some_and(|d| Instant::now() >= d);
        check_time(now)?;
        limit("payload", submission.payload.len(), MAX_PAYLOAD_SIZE)?;
        if let Some(sig) = submission.signature {
            limit("signature", sig.len(), MAX_SIGNATURE_INPUT_SIZE)?;
        }
        if let Some(cert) = submission.certificate {
            limit("certificate", cert.len(), MAX_CERT_SIZE)?;
        }
        let input = match submission.signature {
            Some(sig) => openpgp_input::detached(submission.payload, sig)?,
            None => openpgp_input::inline(submission.payload, deadline)?,
        };
        let submitted = submission
            .certificate
            .map(|bytes| self.certs.parse(bytes))
            .transpose()?;
        let crypto_policy = StandardPolicy::at(now);
        let mut first_error = None;
        for sig in &input.signatures {
            if let Err(e) = self.check_age(sig, now) {
                first_error.get_or_insert(e);
                continue;
            }
            let candidates = match self.certificates_for(sig, submitted.as_ref()) {
                Ok(c) => c,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            for cert in candidates {
                if out_of_time() {
                    return Err(AttestError::BudgetExceeded);
                }
                match signature_check::check(&crypto_policy, &cert, sig, &input.statement, now) {
                    Ok(signer) => {
                        return finish(&input, sig, cert, signer, unix(now), LEAF_VERSION)
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        let first = first_error.ok_or(AttestError::NoSignature)?;
        if input.signatures.len() == 1 {
            Err(first)
        } else {
            Err(AttestError::NoGoodSignature {
                count: input.signatures.len(),
                first: Box::new(first),
            })
        }
    }

    /// [`Verifier::verify`] at the system clock's current time.
    pub fn verify_now(
        &self,
        submission: &AttestationInput<'_>,
    ) -> Result<VerifiedAttestation, AttestError> {
        self.verify(submission, SystemTime::now())
    }

    /// Refuses `sig` if it is older than the configured maximum age.
    fn check_age(&self, sig: &Signature, now: SystemTime) -> Result<(), AttestError> {
        let (Some(max_age), Some(created)) =
            (self.max_signature_age, sig.signature_creation_time())
        else {
            return Ok(());
        };
        if now.duration_since(created).is_ok_and(|age| age > max_age) {
            return Err(AttestError::SignatureTooOld {
                created: unix(created),
                now: unix(now),
                max_age_secs: max_age.as_secs(),
            });
        }
        Ok(())
    }

    /// The certificates to check `sig` against, by the admission policy
    /// (more than one only when keyring key IDs collide).
    fn certificates_for(
        &self,
        sig: &Signature,
        submitted: Option<&Arc<Cert>>,
    ) -> Result<Vec<Arc<Cert>>, AttestError> {
        match (&self.admission, submitted) {
            (AdmissionPolicy::Open, Some(cert)) => Ok(vec![cert.clone()]),
            (AdmissionPolicy::Open, None) => Err(AttestError::CertificateRequired),
            (AdmissionPolicy::Keyring(ring), Some(cert)) => {
                let known =
                    ring.get(&cert.fingerprint())
                        .ok_or_else(|| AttestError::UnknownSigner {
                            issuer: cert.fingerprint().into(),
                        })?;
                // Same primary key, so the merge cannot fail; keep the
                // keyring's copy if it somehow does.
                Ok(vec![Arc::new(
                    Cert::clone(&known)
                        .merge_public(Cert::clone(cert))
                        .unwrap_or_else(|_| Cert::clone(&known)),
                )])
            }
            (AdmissionPolicy::Keyring(ring), None) => {
                let issuers = sig.get_issuers();
                let found = ring.lookup(&issuers);
                if found.is_empty() {
                    return Err(AttestError::UnknownSigner {
                        issuer: issuers
                            .first()
                            .cloned()
                            .unwrap_or_else(|| sequoia_openpgp::KeyID::wildcard().into()),
                    });
                }
                Ok(found)
            }
        }
    }
}

/// Re-verifies a logged leaf against the certificate the log stored for it,
/// as of the leaf's own verification time, and checks that the leaf is the
/// canonical encoding of the result. What a client or monitor runs.
pub fn verify_leaf(
    leaf_bytes: &[u8],
    certificate: &Cert,
) -> Result<VerifiedAttestation, AttestError> {
    verify_leaf_shared(leaf_bytes, &Arc::new(certificate.clone()))
}

/// [`verify_leaf`] with a shared certificate: what a monitor re-verifying
/// many entries of one signer uses, to skip copying the certificate into
/// each result.
pub fn verify_leaf_shared(
    leaf_bytes: &[u8],
    certificate: &Arc<Cert>,
) -> Result<VerifiedAttestation, AttestError> {
    let leaf = Leaf::decode(leaf_bytes)?;
    if &certificate.fingerprint() != leaf.primary_fingerprint() {
        return Err(AttestError::LeafNotCanonical {
            reason: format!(
                "the certificate is {}, the leaf names {}",
                certificate.fingerprint(),
                leaf.primary_fingerprint()
            ),
        });
    }
    let now = UNIX_EPOCH + Duration::from_secs(leaf.verified_at());
    check_time(now)?;
    let input = openpgp_input::detached(leaf.statement(), leaf.signature())?;
    let [sig] = input.signatures.as_slice() else {
        return Err(AttestError::LeafNotCanonical {
            reason: "the signature field holds more than one signature".into(),
        });
    };
    let crypto_policy = StandardPolicy::at(now);
    let signer = signature_check::check(&crypto_policy, certificate, sig, &input.statement, now)?;
    let verified = finish(
        &input,
        sig,
        Arc::clone(certificate),
        signer,
        leaf.verified_at(),
        leaf.version(),
    )?;
    if verified.leaf_bytes != leaf_bytes {
        return Err(AttestError::LeafNotCanonical {
            reason: "re-encoding the verified leaf gives different bytes".into(),
        });
    }
    Ok(verified)
}

/// Recomputes, from logged leaf bytes alone, what the log indexed the entry
/// under when it admitted it: its deduplication key and index keys, equal
/// to [`VerifiedAttestation::dedup_key`] and
/// [`VerifiedAttestation::index_keys`] of the verification that built the
/// leaf (version 1 or 2). What rebuilding a log's indexes from its entries
/// (`attestlog-server restore`) uses.
///
/// A leaf holds everything both are computed from: the statement and the
/// signature packet as the verifier stored them (for version 2, with LF
/// line endings and the canonical unhashed area, neither of which the
/// deduplication key reads) and the primary fingerprint. The signature is
/// parsed, not verified: the leaf's place in a signed tree is what vouches
/// for it here; [`verify_leaf`] re-verifies.
pub fn leaf_keys(leaf_bytes: &[u8]) -> Result<LeafKeys, AttestError> {
    let leaf = Leaf::decode(leaf_bytes)?;
    let input = openpgp_input::detached(leaf.statement(), leaf.signature())?;
    let [sig] = input.signatures.as_slice() else {
        return Err(AttestError::LeafNotCanonical {
            reason: "the signature field holds more than one signature".into(),
        });
    };
    let statement = Statement::parse(leaf.statement())?;
    let dedup_key = dedup_key(leaf.statement(), sig, leaf.primary_fingerprint()).map_err(|e| {
        AttestError::MalformedSignature {
            reason: signature_check::chain(&e),
        }
    })?;
    Ok(LeafKeys {
        dedup_key,
        index: IndexKeys::of(&statement, leaf.primary_fingerprint().clone()),
    })
}

/// Parses the statement and builds the leaf of `version` once the signature
/// passed.
fn finish(
    input: &SignedInput,
    sig: &Signature,
    cert: Arc<Cert>,
    signer: Fingerprint,
    verified_at: u64,
    version: u8,
) -> Result<VerifiedAttestation, AttestError> {
    let malformed = |e: sequoia_openpgp::anyhow::Error| AttestError::MalformedSignature {
        reason: signature_check::chain(&e),
    };
    let (statement_bytes, sig) = if version == LEAF_VERSION_1 {
        (input.statement.clone(), sig.clone())
    } else {
        let statement = if sig.typ() == SignatureType::Text {
            lf_line_endings(&input.statement)
        } else {
            input.statement.clone()
        };
        (
            statement,
            canonical_signature(sig, &signer).map_err(malformed)?,
        )
    };
    let statement = Statement::parse(&statement_bytes)?;
    let signature = Packet::from(sig.clone()).to_vec().map_err(malformed)?;
    let dedup_key = dedup_key(&statement_bytes, &sig, &cert.fingerprint()).map_err(malformed)?;
    let leaf = Leaf::with_version(
        version,
        statement_bytes,
        signature,
        cert.fingerprint(),
        signer,
        verified_at,
    )?;
    let index = IndexKeys::of(&statement, cert.fingerprint());
    Ok(VerifiedAttestation {
        leaf_bytes: leaf.encode(),
        leaf,
        statement,
        certificate: cert,
        index,
        dedup_key,
    })
}

/// The signature as a version 2 leaf stores it (`crate::leaf`): its
/// unhashed area replaced by one Issuer Fingerprint subpacket naming
/// `signer`, or emptied if the hashed area already names it.
fn canonical_signature(
    sig: &Signature,
    signer: &Fingerprint,
) -> sequoia_openpgp::Result<Signature> {
    let mut sig = sig.clone();
    let named = sig
        .hashed_area()
        .iter()
        .any(|sp| matches!(sp.value(), SubpacketValue::IssuerFingerprint(fp) if fp == signer));
    let area = sig.unhashed_area_mut();
    area.clear();
    if !named {
        area.add(Subpacket::new(
            SubpacketValue::IssuerFingerprint(signer.clone()),
            false,
        )?)?;
    }
    debug_assert!(sig
        .unhashed_area()
        .iter()
        .all(|sp| sp.tag() == SubpacketTag::IssuerFingerprint));
    Ok(sig)
}

/// `text` with every line ending (CR LF, lone CR, lone LF) written as LF:
/// a text signature covers the text with CR LF line endings whatever the
/// submitted ones were (RFC 9580 §5.2.1.2), so they must not tell two
/// entries apart.
fn lf_line_endings(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        if b == b'\r' {
            if bytes.peek() == Some(&b'\n') {
                bytes.next();
            }
            out.push(b'\n');
        } else {
            out.push(b);
        }
    }
    out
}

/// See [`VerifiedAttestation::dedup_key`].
fn dedup_key(
    statement: &[u8],
    sig: &Signature,
    primary: &Fingerprint,
) -> sequoia_openpgp::Result<[u8; 32]> {
    let hashed_area = sig.hashed_area().to_vec()?;
    let mut h = Sha256::new();
    h.update(b"attestlog/dedup/v2\n");
    h.update([
        sig.version(),
        u8::from(sig.typ()),
        u8::from(sig.pk_algo()),
        u8::from(sig.hash_algo()),
    ]);
    for part in [statement, &hashed_area[..], primary.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    Ok(h.finalize().into())
}

fn limit(field: &'static str, size: usize, max: usize) -> Result<(), AttestError> {
    if size > max {
        return Err(AttestError::InputTooLarge { field, size, max });
    }
    Ok(())
}

/// OpenPGP timestamps are u32 seconds.
fn check_time(now: SystemTime) -> Result<(), AttestError> {
    match now.duration_since(UNIX_EPOCH) {
        Ok(d) if d.as_secs() <= u64::from(u32::MAX) => Ok(()),
        _ => Err(AttestError::TimeOutOfRange(now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings() {
        assert_eq!(lf_line_endings(b"a\r\nb\rc\nd\r\r\n"), b"a\nb\nc\nd\n\n");
        assert_eq!(lf_line_endings(b""), b"");
        assert_eq!(lf_line_endings(b"\r"), b"\n");
    }

    #[test]
    fn shareable_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Verifier>();
        send_sync::<VerifiedAttestation>();
    }
}
