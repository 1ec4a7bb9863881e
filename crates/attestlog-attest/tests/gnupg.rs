//! Signatures made by real GnuPG verify unchanged: every key type the issue
//! names (RSA-3072, RSA-4096, Ed25519, NIST P-256, a signing subkey) in every
//! default form (detached binary, detached armored, `--sign`, armored
//! `--sign`, `--clearsign`), and a containers/image signature file made with
//! `gpg --sign`.
//!
//! All keys and signatures are made once per test binary (RSA-4096 key
//! generation takes seconds), then the agent is stopped.

mod common;

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use attestlog_attest::openpgp::parse::Parse;
use attestlog_attest::openpgp::{Cert, Fingerprint};
use attestlog_attest::{
    verify_leaf, AdmissionPolicy, AttestationInput, Keyring, Statement, Verifier,
};
use common::{atomic_container_signature, digest_of, in_toto, Gpg};

/// The signing forms, as gpg flags.
const FORMS: [(&str, &[&str], bool); 5] = [
    ("detached", &["--detach-sign"], true),
    ("detached-armored", &["--armor", "--detach-sign"], true),
    ("sign", &["--sign"], false),
    ("sign-armored", &["--armor", "--sign"], false),
    ("clearsign", &["--clearsign"], false),
];

struct Signed {
    key: &'static str,
    form: &'static str,
    detached: bool,
    statement: Vec<u8>,
    output: Vec<u8>,
}

struct Fixtures {
    /// key label → (certificate, primary fingerprint, signing fingerprint)
    keys: Vec<(&'static str, Vec<u8>, String, String)>,
    signed: Vec<Signed>,
    /// `gpg --sign` over an atomic container signature, and its payload.
    container_file: Vec<u8>,
    container_payload: Vec<u8>,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let gpg = Gpg::new();
        let mut keys = Vec::new();
        for (label, algo) in [
            ("ed25519", "ed25519"),
            ("nistp256", "nistp256"),
            ("rsa3072", "rsa3072"),
            ("rsa4096", "rsa4096"),
        ] {
            let fpr = gpg.gen_key(&format!("{label} <{label}@example.org>"), algo);
            keys.push((label, fpr.clone(), fpr));
        }
        let primary = gpg.gen_key("subkey <subkey@example.org>", "ed25519");
        let sub = gpg.add_signing_subkey(&primary, "ed25519");
        keys.push(("ed25519-subkey", primary, sub));

        let mut signed = Vec::new();
        for (label, _, signer) in &keys {
            for (form, flags, detached) in FORMS {
                let statement = in_toto(&format!("pkg-{label}-{form}.tar.gz"));
                let output = gpg.sign(signer, flags, &statement);
                signed.push(Signed {
                    key: label,
                    form,
                    detached,
                    statement,
                    output,
                });
            }
        }
        let container_payload =
            atomic_container_signature("registry.example.org/stagex/core-gcc:14");
        let container_file = gpg.sign(&keys[0].2, &["--sign"], &container_payload);
        let keys = keys
            .into_iter()
            .map(|(label, primary, signer)| (label, gpg.export(&primary), primary, signer))
            .collect();
        Fixtures {
            keys,
            signed,
            container_file,
            container_payload,
        }
    })
}

fn cert_of(key: &str) -> &'static (&'static str, Vec<u8>, String, String) {
    fixtures()
        .keys
        .iter()
        .find(|k| k.0 == key)
        .expect("known key label")
}

fn submission(s: &Signed) -> AttestationInput<'_> {
    let cert = &cert_of(s.key).1;
    let sub = if s.detached {
        AttestationInput::detached(&s.statement, &s.output)
    } else {
        AttestationInput::inline(&s.output)
    };
    sub.with_certificate(cert)
}

fn hex_fpr(fp: &Fingerprint) -> String {
    fp.to_hex()
}

#[test]
fn every_key_type_and_form_verifies_under_open_policy() {
    let verifier = Verifier::new(AdmissionPolicy::Open);
    let now = SystemTime::now();
    for s in &fixtures().signed {
        let what = format!("{} {}", s.key, s.form);
        let v = verifier
            .verify(&submission(s), now)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let (_, _, primary, signer) = cert_of(s.key);
        assert_eq!(&hex_fpr(v.primary_fingerprint()), primary, "{what}");
        assert_eq!(&hex_fpr(v.signing_fingerprint()), signer, "{what}");
        // The logged statement is the signed statement, byte for byte
        // (clearsign: gpg signs the text without the final newline).
        let logged = v.leaf().statement();
        if s.form == "clearsign" {
            assert_eq!(logged, s.statement.strip_suffix(b"\n").unwrap(), "{what}");
        } else {
            assert_eq!(logged, &s.statement[..], "{what}");
        }
        let keys = v.index_keys();
        assert_eq!(keys.subject_sha256.len(), 1);
        assert_eq!(
            keys.subject_names,
            vec![format!("pkg-{}-{}.tar.gz", s.key, s.form)]
        );
        assert_eq!(
            hex::encode(keys.subject_sha256[0]),
            digest_of(&keys.subject_names[0])
        );
        // A client re-verifies the leaf from its bytes and the stored cert.
        let cert = Cert::from_bytes(&cert_of(s.key).1).unwrap();
        let again = verify_leaf(v.leaf_bytes(), &cert).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(again.leaf_bytes(), v.leaf_bytes(), "{what}");
    }
}

#[test]
fn signing_subkey_is_recorded_as_signer() {
    let (_, _, primary, sub) = cert_of("ed25519-subkey");
    assert_ne!(primary, sub);
    let verifier = Verifier::new(AdmissionPolicy::Open);
    let s = fixtures()
        .signed
        .iter()
        .find(|s| s.key == "ed25519-subkey" && s.form == "detached")
        .unwrap();
    let v = verifier.verify(&submission(s), SystemTime::now()).unwrap();
    assert_eq!(&hex_fpr(v.signing_fingerprint()), sub);
    assert_eq!(&hex_fpr(&v.index_keys().primary_fingerprint), primary);
}

#[test]
fn container_signature_file_verifies_unchanged() {
    let f = fixtures();
    let verifier = Verifier::new(AdmissionPolicy::Open);
    let sub = AttestationInput::inline(&f.container_file).with_certificate(&f.keys[0].1);
    let v = verifier.verify(&sub, SystemTime::now()).unwrap();
    assert_eq!(v.leaf().statement(), &f.container_payload[..]);
    let Statement::SimpleSigning(s) = v.statement() else {
        panic!("expected a container signature, got {:?}", v.statement());
    };
    let reference = "registry.example.org/stagex/core-gcc:14";
    assert_eq!(s.docker_reference, reference);
    assert_eq!(v.index_keys().subject_names, vec![reference.to_owned()]);
    assert_eq!(
        hex::encode(v.index_keys().subject_sha256[0]),
        digest_of(reference)
    );
}

#[test]
fn one_signature_gives_one_leaf_whatever_the_wrapping() {
    // The same gpg signature, armored or not, inline or extracted, is one
    // canonical leaf.
    let verifier = Verifier::new(AdmissionPolicy::Open);
    let now = SystemTime::now();
    for s in fixtures().signed.iter().filter(|s| s.key == "rsa3072") {
        let v = verifier.verify(&submission(s), now).unwrap();
        let cert = &cert_of(s.key).1;
        let as_detached = AttestationInput::detached(v.leaf().statement(), v.leaf().signature())
            .with_certificate(cert);
        let again = verifier.verify(&as_detached, now).unwrap();
        assert_eq!(again.leaf_bytes(), v.leaf_bytes(), "{}", s.form);
    }
    let armored = fixtures()
        .signed
        .iter()
        .find(|s| s.key == "rsa3072" && s.form == "detached-armored")
        .unwrap();
    let dearmored = attestlog_attest::openpgp::Packet::from_bytes(&armored.output).unwrap();
    let binary = attestlog_attest::openpgp::serialize::MarshalInto::to_vec(&dearmored).unwrap();
    let a = verifier.verify(&submission(armored), now).unwrap();
    let b = verifier
        .verify(
            &AttestationInput::detached(&armored.statement, &binary)
                .with_certificate(&cert_of("rsa3072").1),
            now,
        )
        .unwrap();
    assert_eq!(a.leaf_bytes(), b.leaf_bytes());
}

#[test]
fn keyring_policy_accepts_omitted_certificate_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let ed = cert_of("ed25519");
    std::fs::write(dir.path().join("ed25519.pgp"), &ed.1).unwrap();
    std::fs::write(dir.path().join("README"), "not a key").unwrap();
    let ring = Arc::new(Keyring::load(dir.path()).unwrap());
    assert_eq!(ring.len(), 1);
    let verifier = Verifier::new(AdmissionPolicy::Keyring(ring.clone()));
    let now = SystemTime::now();
    let by = |key: &str| {
        fixtures()
            .signed
            .iter()
            .find(|s| s.key == key && s.form == "detached")
            .unwrap()
    };
    // In the keyring: the certificate may be omitted.
    let ed_sig = by("ed25519");
    verifier
        .verify(
            &AttestationInput::detached(&ed_sig.statement, &ed_sig.output),
            now,
        )
        .unwrap();
    // Not in the keyring, even with its certificate: refused.
    let p256 = by("nistp256");
    let err = verifier.verify(&submission(p256), now).unwrap_err();
    assert!(
        matches!(err, attestlog_attest::AttestError::UnknownSigner { .. }),
        "{err}"
    );
    // Add it (armored this time) and reload without restarting.
    let armored = attestlog_attest::openpgp::serialize::SerializeInto::to_vec(
        &Cert::from_bytes(&cert_of("nistp256").1).unwrap().armored(),
    )
    .unwrap();
    assert!(armored.starts_with(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    std::fs::write(dir.path().join("p256.asc"), armored).unwrap();
    assert_eq!(ring.reload().unwrap(), 2);
    verifier
        .verify(
            &AttestationInput::detached(&p256.statement, &p256.output),
            now,
        )
        .unwrap();
    // A broken file makes reload fail and keeps the old set.
    std::fs::write(dir.path().join("broken.gpg"), b"garbage").unwrap();
    assert!(ring.reload().is_err());
    assert_eq!(ring.len(), 2);
}
