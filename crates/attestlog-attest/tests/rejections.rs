//! The rejection matrix: every bad case yields its own error, and each has a
//! twin that differs in the one property under test and is accepted.
//!
//! Keys are built with Sequoia's `CertBuilder` at explicit creation times;
//! the SHA-1 signature comes from real GnuPG (`--digest-algo SHA1`).

mod common;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use attestlog_attest::openpgp::cert::prelude::*;
use attestlog_attest::openpgp::crypto::KeyPair;
use attestlog_attest::openpgp::packet::prelude::*;
use attestlog_attest::openpgp::policy::StandardPolicy;
use attestlog_attest::openpgp::serialize::stream::{Encryptor, LiteralWriter, Message, Signer};
use attestlog_attest::openpgp::serialize::MarshalInto;
use attestlog_attest::openpgp::types::{KeyFlags, ReasonForRevocation, SignatureType};
use attestlog_attest::openpgp::Cert;
use attestlog_attest::{
    AdmissionPolicy, AttestError, AttestationInput, Keyring, VerifiedAttestation, Verifier,
    MAX_CERT_SIZE, MAX_SUBJECTS,
};
use common::{in_toto, Gpg};

const DAY: Duration = Duration::from_secs(86_400);

/// 2025-01-01T00:00:00Z: every key in this file is created then.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_735_689_600)
}

/// The log's clock for these tests: thirty days after the keys were made.
fn now() -> SystemTime {
    t0() + 30 * DAY
}

/// A certification-only Ed25519 primary with a signing subkey and an
/// authentication subkey, created at t0.
fn cert(validity: Option<Duration>) -> Cert {
    CertBuilder::new()
        .set_creation_time(t0())
        .add_userid("maintainer <maintainer@example.org>")
        .set_cipher_suite(CipherSuite::Cv25519)
        .set_primary_key_flags(KeyFlags::empty().set_certification())
        .add_signing_subkey()
        .add_authentication_subkey()
        .set_validity_period(validity)
        .generate()
        .expect("generate cert")
        .0
}

fn keypair(cert: &Cert, signing: bool) -> KeyPair {
    let p = StandardPolicy::new();
    let valid = cert
        .keys()
        .secret()
        .with_policy(&p, t0() + Duration::from_secs(60));
    let ka = if signing {
        valid.for_signing().next()
    } else {
        valid.for_authentication().next()
    };
    ka.expect("subkey")
        .key()
        .clone()
        .into_keypair()
        .expect("keypair")
}

fn primary_keypair(cert: &Cert) -> KeyPair {
    cert.primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .expect("secret primary")
        .into_keypair()
        .expect("keypair")
}

/// A detached binary signature by `kp` at `at`.
fn sign_at(kp: &mut KeyPair, at: SystemTime, data: &[u8]) -> Vec<u8> {
    let sig = SignatureBuilder::new(SignatureType::Binary)
        .set_signature_creation_time(at)
        .expect("creation time")
        .sign_message(kp, data)
        .expect("sign");
    Packet::from(sig).to_vec().expect("serialize")
}

fn public(cert: &Cert) -> Vec<u8> {
    cert.to_vec().expect("serialize cert")
}

fn revoke(cert: &Cert, at: SystemTime, reason: ReasonForRevocation) -> Cert {
    let rev = CertRevocationBuilder::new()
        .set_signature_creation_time(at)
        .expect("time")
        .set_reason_for_revocation(reason, b"test")
        .expect("reason")
        .build(&mut primary_keypair(cert), cert, None)
        .expect("revocation");
    cert.clone().insert_packets(rev).expect("insert").0
}

fn open() -> Verifier {
    Verifier::new(AdmissionPolicy::Open)
}

fn verify_detached(
    cert: &Cert,
    statement: &[u8],
    sig: &[u8],
    at: SystemTime,
) -> Result<VerifiedAttestation, AttestError> {
    open().verify(
        &AttestationInput::detached(statement, sig).with_certificate(&public(cert)),
        at,
    )
}

#[test]
fn expired_key() {
    let c = cert(Some(DAY));
    let stmt = in_toto("expired.tar.gz");
    let mut kp = keypair(&c, true);
    let late = sign_at(&mut kp, t0() + 2 * DAY, &stmt);
    let err = verify_detached(&c, &stmt, &late, now()).unwrap_err();
    assert!(matches!(err, AttestError::KeyExpired { .. }), "{err}");
    // Twin: signed while the key was alive, verified after it expired.
    let early = sign_at(&mut kp, t0() + DAY / 2, &stmt);
    verify_detached(&c, &stmt, &early, now()).unwrap();
}

#[test]
fn hard_revocation_after_signing_is_retroactive() {
    let c = cert(None);
    let stmt = in_toto("revoked.tar.gz");
    let sig = sign_at(&mut keypair(&c, true), t0() + DAY, &stmt);
    let revoked = revoke(&c, t0() + 2 * DAY, ReasonForRevocation::KeyCompromised);
    let err = verify_detached(&revoked, &stmt, &sig, now()).unwrap_err();
    assert!(
        matches!(err, AttestError::KeyRevoked { hard: true, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("compromised"), "{err}");
    // Twin: the same signature against the unrevoked certificate.
    verify_detached(&c, &stmt, &sig, now()).unwrap();
}

#[test]
fn soft_revocation_applies_only_after_its_time() {
    let c = cert(None);
    let stmt = in_toto("superseded.tar.gz");
    let mut kp = keypair(&c, true);
    let before = sign_at(&mut kp, t0() + DAY, &stmt);
    let after = sign_at(&mut kp, t0() + 3 * DAY, &stmt);
    let revoked = revoke(&c, t0() + 2 * DAY, ReasonForRevocation::KeySuperseded);
    verify_detached(&revoked, &stmt, &before, now()).unwrap();
    let err = verify_detached(&revoked, &stmt, &after, now()).unwrap_err();
    assert!(
        matches!(err, AttestError::KeyRevoked { hard: false, .. }),
        "{err}"
    );
}

#[test]
fn sha1_signature_from_gnupg() {
    let gpg = Gpg::new();
    let fpr = gpg.gen_key("sha1 <sha1@example.org>", "ed25519");
    let cert = gpg.export(&fpr);
    let stmt = in_toto("sha1.tar.gz");
    let sha1 = gpg.sign(&fpr, &["--digest-algo", "SHA1", "--detach-sign"], &stmt);
    let sha256 = gpg.sign(&fpr, &["--digest-algo", "SHA256", "--detach-sign"], &stmt);
    drop(gpg);
    let v = open();
    let sub = |sig| AttestationInput::detached(&stmt, sig).with_certificate(&cert);
    let err = v.verify(&sub(&sha1), SystemTime::now()).unwrap_err();
    assert!(matches!(err, AttestError::Sha1Signature), "{err}");
    assert!(err.to_string().contains("re-sign with SHA-256"), "{err}");
    v.verify(&sub(&sha256), SystemTime::now()).unwrap();
}

#[test]
fn future_dated_signature() {
    let c = cert(None);
    let stmt = in_toto("future.tar.gz");
    let mut kp = keypair(&c, true);
    let far = sign_at(&mut kp, now() + Duration::from_secs(301), &stmt);
    let err = verify_detached(&c, &stmt, &far, now()).unwrap_err();
    assert!(matches!(err, AttestError::FutureSignature { .. }), "{err}");
    // Twin: within the five minutes of tolerated clock skew.
    let near = sign_at(&mut kp, now() + Duration::from_secs(299), &stmt);
    verify_detached(&c, &stmt, &near, now()).unwrap();
}

#[test]
fn unknown_key_under_keyring_policy() {
    let known = cert(None);
    let stranger = cert(None);
    let ring = Arc::new(Keyring::from_certs([known.clone()]));
    let v = Verifier::new(AdmissionPolicy::Keyring(ring));
    let stmt = in_toto("keyring.tar.gz");
    let by_stranger = sign_at(&mut keypair(&stranger, true), t0() + DAY, &stmt);
    let err = v
        .verify(&AttestationInput::detached(&stmt, &by_stranger), now())
        .unwrap_err();
    assert!(matches!(err, AttestError::UnknownSigner { .. }), "{err}");
    let stranger_cert = public(&stranger);
    let with_cert =
        AttestationInput::detached(&stmt, &by_stranger).with_certificate(&stranger_cert);
    let err = v.verify(&with_cert, now()).unwrap_err();
    assert!(matches!(err, AttestError::UnknownSigner { .. }), "{err}");
    // Twin: the known signer, certificate omitted.
    let by_known = sign_at(&mut keypair(&known, true), t0() + DAY, &stmt);
    v.verify(&AttestationInput::detached(&stmt, &by_known), now())
        .unwrap();
    // Open policy needs the certificate.
    let err = open()
        .verify(&AttestationInput::detached(&stmt, &by_known), now())
        .unwrap_err();
    assert!(matches!(err, AttestError::CertificateRequired), "{err}");
}

#[test]
fn tampered_statement_or_signature() {
    let c = cert(None);
    let stmt = in_toto("tamper.tar.gz");
    let sig = sign_at(&mut keypair(&c, true), t0() + DAY, &stmt);
    verify_detached(&c, &stmt, &sig, now()).unwrap();
    for i in [0, stmt.len() / 2, stmt.len() - 1] {
        let mut bad = stmt.clone();
        bad[i] ^= 0x01;
        let err = verify_detached(&c, &bad, &sig, now()).unwrap_err();
        assert!(
            matches!(err, AttestError::BadSignature { .. }),
            "byte {i}: {err}"
        );
    }
    // The last byte of the signature's MPI.
    let mut bad_sig = sig.clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 0x01;
    let err = verify_detached(&c, &stmt, &bad_sig, now()).unwrap_err();
    assert!(matches!(err, AttestError::BadSignature { .. }), "{err}");
}

#[test]
fn non_signing_subkey() {
    let c = cert(None);
    let stmt = in_toto("auth.tar.gz");
    let sig = sign_at(&mut keypair(&c, false), t0() + DAY, &stmt);
    let err = verify_detached(&c, &stmt, &sig, now()).unwrap_err();
    assert!(
        matches!(err, AttestError::NotSigningCapable { .. }),
        "{err}"
    );
    // The certification-only primary key is not signing-capable either.
    let sig = sign_at(&mut primary_keypair(&c), t0() + DAY, &stmt);
    let err = verify_detached(&c, &stmt, &sig, now()).unwrap_err();
    assert!(
        matches!(err, AttestError::NotSigningCapable { .. }),
        "{err}"
    );
}

#[test]
fn certificate_without_the_signing_key() {
    let signer = cert(None);
    let other = cert(None);
    let stmt = in_toto("wrong-cert.tar.gz");
    let sig = sign_at(&mut keypair(&signer, true), t0() + DAY, &stmt);
    let err = verify_detached(&other, &stmt, &sig, now()).unwrap_err();
    assert!(
        matches!(err, AttestError::KeyNotInCertificate { .. }),
        "{err}"
    );
}

#[test]
fn signature_before_the_key_existed() {
    let c = cert(None);
    let stmt = in_toto("backdated.tar.gz");
    let sig = sign_at(&mut keypair(&c, true), t0() - DAY, &stmt);
    let err = verify_detached(&c, &stmt, &sig, now()).unwrap_err();
    assert!(
        matches!(err, AttestError::CertificateInvalid { .. }),
        "{err}"
    );
}

#[test]
fn expired_signature() {
    let c = cert(None);
    let stmt = in_toto("sig-expiry.tar.gz");
    let sig = SignatureBuilder::new(SignatureType::Binary)
        .set_signature_creation_time(t0() + DAY)
        .unwrap()
        .set_signature_validity_period(Duration::from_secs(3600))
        .unwrap()
        .sign_message(&mut keypair(&c, true), &stmt)
        .unwrap();
    let sig = Packet::from(sig).to_vec().unwrap();
    let err = verify_detached(&c, &stmt, &sig, now()).unwrap_err();
    assert!(matches!(err, AttestError::SignatureExpired { .. }), "{err}");
    verify_detached(&c, &stmt, &sig, t0() + DAY + Duration::from_secs(60)).unwrap();
}

#[test]
fn not_a_document_signature() {
    let c = cert(None);
    // A self-signature of the certificate, sent as a "detached signature".
    let selfsig = c
        .userids()
        .next()
        .unwrap()
        .self_signatures()
        .next()
        .unwrap()
        .clone();
    let sig = Packet::from(selfsig).to_vec().unwrap();
    let err = verify_detached(&c, b"{}", &sig, now()).unwrap_err();
    assert!(
        matches!(err, AttestError::NotADataSignature { .. }),
        "{err}"
    );
}

/// An inline-signed message: one `Signer` layer per keypair, outermost first.
fn inline_message(layers: Vec<KeyPair>, at: SystemTime, data: &[u8]) -> Vec<u8> {
    let mut sink = Vec::new();
    let mut m = Message::new(&mut sink);
    for kp in layers {
        m = Signer::new(m, kp)
            .unwrap()
            .creation_time(at)
            .build()
            .unwrap();
    }
    let mut w = LiteralWriter::new(m).build().unwrap();
    w.write_all(data).unwrap();
    w.finalize().unwrap();
    sink
}

#[test]
fn more_than_one_signature_layer() {
    let c = cert(None);
    let stmt = in_toto("nested.tar.gz");
    let cert_bytes = public(&c);
    let at = t0() + DAY;
    let one = inline_message(vec![keypair(&c, true)], at, &stmt);
    open()
        .verify(
            &AttestationInput::inline(&one).with_certificate(&cert_bytes),
            now(),
        )
        .unwrap();
    let two = inline_message(vec![keypair(&c, true), keypair(&c, true)], at, &stmt);
    let err = open()
        .verify(
            &AttestationInput::inline(&two).with_certificate(&cert_bytes),
            now(),
        )
        .unwrap_err();
    assert!(matches!(err, AttestError::NestedSignatures), "{err}");
}

#[test]
fn messages_without_a_good_signature() {
    let c = cert(None);
    let cert_bytes = public(&c);
    let stmt = in_toto("unsigned.tar.gz");
    // Literal data only.
    let unsigned = inline_message(vec![], t0(), &stmt);
    let err = open()
        .verify(
            &AttestationInput::inline(&unsigned).with_certificate(&cert_bytes),
            now(),
        )
        .unwrap_err();
    assert!(matches!(err, AttestError::NoSignature), "{err}");
    // A message passed where a detached signature belongs.
    let err = open()
        .verify(
            &AttestationInput::detached(&stmt, &unsigned).with_certificate(&cert_bytes),
            now(),
        )
        .unwrap_err();
    assert!(
        matches!(err, AttestError::MalformedSignature { .. }),
        "{err}"
    );
    // Two signatures, neither good.
    let mut kp = keypair(&c, true);
    let mut both = sign_at(&mut kp, t0() + DAY, b"something else");
    both.extend(sign_at(&mut kp, t0() + DAY, b"and another"));
    let err = open()
        .verify(
            &AttestationInput::detached(&stmt, &both).with_certificate(&cert_bytes),
            now(),
        )
        .unwrap_err();
    assert!(
        matches!(err, AttestError::NoGoodSignature { count: 2, .. }),
        "{err}"
    );
    // Twin: a bad one and a good one; the good one is logged.
    let good = sign_at(&mut kp, t0() + 2 * DAY, &stmt);
    let mut mixed = sign_at(&mut kp, t0() + DAY, b"something else");
    mixed.extend(&good);
    let v = open()
        .verify(
            &AttestationInput::detached(&stmt, &mixed).with_certificate(&cert_bytes),
            now(),
        )
        .unwrap();
    assert_eq!(v.leaf().signature(), &good[..]);
    // Encrypted messages are refused.
    let mut sink = Vec::new();
    let m = Encryptor::with_passwords(Message::new(&mut sink), Some("pw"))
        .build()
        .unwrap();
    let mut w = LiteralWriter::new(m).build().unwrap();
    w.write_all(&stmt).unwrap();
    w.finalize().unwrap();
    let err = open()
        .verify(
            &AttestationInput::inline(&sink).with_certificate(&cert_bytes),
            now(),
        )
        .unwrap_err();
    assert!(matches!(err, AttestError::EncryptedMessage), "{err}");
}

#[test]
fn statements_that_are_not_valid() {
    let c = cert(None);
    let mut kp = keypair(&c, true);
    let check = |stmt: &[u8], kp: &mut KeyPair| {
        let sig = sign_at(kp, t0() + DAY, stmt);
        verify_detached(&c, stmt, &sig, now()).unwrap_err()
    };
    let err = check(b"not json at all", &mut kp);
    assert!(matches!(err, AttestError::StatementNotJson { .. }), "{err}");
    let wrong_type = String::from_utf8(in_toto("x"))
        .unwrap()
        .replace("Statement/v1", "Statement/v2");
    let err = check(wrong_type.as_bytes(), &mut kp);
    assert!(matches!(err, AttestError::InvalidStatement { .. }), "{err}");
    let no_sha = String::from_utf8(in_toto("x"))
        .unwrap()
        .replace("\"sha256\"", "\"sha512\"");
    let err = check(no_sha.as_bytes(), &mut kp);
    assert!(matches!(err, AttestError::MissingSha256 { .. }), "{err}");
    let subjects = (0..=MAX_SUBJECTS)
        .map(|i| {
            format!(
                r#"{{"name":"f{i}","digest":{{"sha256":"{}"}}}}"#,
                common::digest_of(&i.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    let many = format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{subjects}],"predicateType":"https://example.com/p"}}"#
    );
    let err = check(many.as_bytes(), &mut kp);
    assert!(matches!(err, AttestError::TooManySubjects { .. }), "{err}");
}

#[test]
fn size_limits() {
    let c = cert(None);
    let stmt = in_toto("big.tar.gz");
    let sig = sign_at(&mut keypair(&c, true), t0() + DAY, &stmt);
    let huge_cert = vec![0u8; MAX_CERT_SIZE + 1];
    let err = open()
        .verify(
            &AttestationInput::detached(&stmt, &sig).with_certificate(&huge_cert),
            now(),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            AttestError::InputTooLarge {
                field: "certificate",
                ..
            }
        ),
        "{err}"
    );
    // A statement that fits in a payload but not in a leaf.
    let pad = " ".repeat(65_400);
    let big = String::from_utf8(stmt.clone())
        .unwrap()
        .replacen('{', &format!("{{{pad}"), 1);
    let sig = sign_at(&mut keypair(&c, true), t0() + DAY, big.as_bytes());
    let err = verify_detached(&c, big.as_bytes(), &sig, now()).unwrap_err();
    assert!(matches!(err, AttestError::EntryTooLarge { .. }), "{err}");
}

#[test]
fn secret_keys_are_refused() {
    let c = cert(None);
    let stmt = in_toto("tsk.tar.gz");
    let sig = sign_at(&mut keypair(&c, true), t0() + DAY, &stmt);
    let tsk = c.as_tsk().to_vec().unwrap();
    let err = open()
        .verify(
            &AttestationInput::detached(&stmt, &sig).with_certificate(&tsk),
            now(),
        )
        .unwrap_err();
    assert!(
        matches!(err, AttestError::MalformedCertificate { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("secret key material"), "{err}");
}
