//! `leaf_keys`: the deduplication and index keys recomputed from a logged
//! leaf alone equal the ones the verifier computed when it built the leaf,
//! for version 2 leaves (what the log writes: binary and text signatures,
//! CR LF statements, repeated subjects, container signatures) and version 1
//! leaves (the pinned GnuPG vector, and one built from a text signature).

mod common;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use attestlog_attest::openpgp::cert::prelude::*;
use attestlog_attest::openpgp::crypto::KeyPair;
use attestlog_attest::openpgp::packet::prelude::*;
use attestlog_attest::openpgp::parse::Parse;
use attestlog_attest::openpgp::policy::StandardPolicy;
use attestlog_attest::openpgp::serialize::MarshalInto;
use attestlog_attest::openpgp::types::{KeyFlags, SignatureType};
use attestlog_attest::openpgp::Cert;
use attestlog_attest::{
    leaf_keys, verify_leaf, AdmissionPolicy, AttestError, AttestationInput, Leaf,
    VerifiedAttestation, Verifier, LEAF_VERSION, LEAF_VERSION_1,
};
use common::{atomic_container_signature, digest_of, in_toto};

/// 2025-01-01T00:00:00Z: the key's creation time.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_735_689_600)
}

/// The log's clock: a day later.
fn now() -> SystemTime {
    t0() + Duration::from_secs(86_400)
}

/// A certification-only Ed25519 primary with a signing subkey, and that
/// subkey's key pair.
fn maintainer() -> (Cert, KeyPair) {
    let cert = CertBuilder::new()
        .set_creation_time(t0())
        .add_userid("maintainer <maintainer@example.org>")
        .set_cipher_suite(CipherSuite::Cv25519)
        .set_primary_key_flags(KeyFlags::empty().set_certification())
        .add_signing_subkey()
        .generate()
        .expect("generate cert")
        .0;
    let kp = cert
        .keys()
        .secret()
        .with_policy(&StandardPolicy::new(), t0() + Duration::from_secs(60))
        .for_signing()
        .next()
        .expect("signing subkey")
        .key()
        .clone()
        .into_keypair()
        .expect("keypair");
    (cert, kp)
}

/// A detached signature of `typ` over `data`, made an hour after t0.
fn sign(kp: &mut KeyPair, typ: SignatureType, data: &[u8]) -> Vec<u8> {
    let sig = SignatureBuilder::new(typ)
        .set_signature_creation_time(t0() + Duration::from_secs(3600))
        .expect("creation time")
        .sign_message(kp, data)
        .expect("sign");
    Packet::from(sig).to_vec().expect("serialize")
}

fn verify(cert: &Cert, statement: &[u8], sig: &[u8]) -> VerifiedAttestation {
    let cert = cert.to_vec().expect("serialize cert");
    Verifier::new(AdmissionPolicy::Open)
        .verify(
            &AttestationInput::detached(statement, sig).with_certificate(&cert),
            now(),
        )
        .expect("verifies")
}

/// The recomputed keys of `v`'s leaf are the verifier's.
fn assert_recomputed(v: &VerifiedAttestation) {
    let keys = leaf_keys(v.leaf_bytes()).expect("leaf_keys");
    assert_eq!(keys.dedup_key, v.dedup_key());
    assert_eq!(&keys.index, v.index_keys());
}

/// An in-toto statement naming `names`, each with the digest of its name
/// (a repeated name repeats the digest too).
fn statement_of(names: &[&str], line_end: &str) -> Vec<u8> {
    let subjects: Vec<String> = names
        .iter()
        .map(|n| {
            format!(
                r#"{{"name": "{n}", "digest": {{"sha256": "{}"}}}}"#,
                digest_of(n)
            )
        })
        .collect();
    let text = format!(
        "{{{le}  \"_type\": \"https://in-toto.io/Statement/v1\",{le}  \"subject\": [{}],{le}  \
         \"predicateType\": \"{}\",{le}  \"predicate\": {{\"source\": {{\"uri\": \"git+https://example.org/p.git\", \
         \"revision\": \"0123456789abcdef\"}}, \"builder\": {{\"id\": \"mailto:b@example.org\"}}, \
         \"buildTime\": \"2026-01-31T12:00:00Z\"}}{le}}}{le}",
        subjects.join(", "),
        attestlog_attest::REPRODUCIBLE_BUILD_V1,
        le = line_end,
    );
    text.into_bytes()
}

#[test]
fn version_2_leaves_give_the_verifiers_keys() {
    let (cert, mut kp) = maintainer();

    let plain = in_toto("pkg.tar.gz");
    let v = verify(&cert, &plain, &sign(&mut kp, SignatureType::Binary, &plain));
    assert_eq!(v.leaf().version(), LEAF_VERSION);
    assert_recomputed(&v);

    // Repeated subjects, and two names with one digest: the index keeps
    // each once, in statement order.
    let many = statement_of(&["a.tar.gz", "b.tar.gz", "a.tar.gz", "c.deb"], "\n");
    let v = verify(&cert, &many, &sign(&mut kp, SignatureType::Binary, &many));
    assert_eq!(v.index_keys().subject_names.len(), 3);
    assert_recomputed(&v);

    // A text signature over CR LF lines: the leaf stores LF lines and the
    // canonical unhashed area, and the keys still come out the same.
    let crlf = statement_of(&["text.tar.gz"], "\r\n");
    let v = verify(&cert, &crlf, &sign(&mut kp, SignatureType::Text, &crlf));
    assert_ne!(v.leaf().statement(), &crlf[..]);
    assert_recomputed(&v);

    let container = atomic_container_signature("registry.example.org/app:1");
    let v = verify(
        &cert,
        &container,
        &sign(&mut kp, SignatureType::Binary, &container),
    );
    assert_recomputed(&v);
}

#[test]
fn version_1_leaves_give_the_verifiers_keys() {
    // The version 1 leaf GnuPG's signature became before version 2
    // (tests/vectors/gpg-ed25519, see known_answer.rs).
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("tests/vectors/gpg-ed25519");
    let read = |name: &str| std::fs::read(dir.join(name)).expect("vector");
    let cert = Cert::from_bytes(&read("cert.asc")).expect("cert");
    for name in ["leaf.hex", "leaf-v2.hex"] {
        let bytes = hex::decode(String::from_utf8(read(name)).unwrap().trim()).unwrap();
        let v = verify_leaf(&bytes, &cert).expect("re-verifies");
        assert_recomputed(&v);
    }

    // A version 1 leaf of a text signature over CR LF lines: statement and
    // signature as submitted. Its keys are the re-verifier's, and its
    // deduplication key differs from the version 2 leaf's of the same
    // submission (version 1 kept the CR LF statement).
    let (cert, mut kp) = maintainer();
    let crlf = statement_of(&["old.tar.gz", "old.deb"], "\r\n");
    let sig = sign(&mut kp, SignatureType::Text, &crlf);
    let v2 = verify(&cert, &crlf, &sig);
    let leaf = Leaf::with_version(
        LEAF_VERSION_1,
        crlf.clone(),
        sig,
        v2.primary_fingerprint().clone(),
        v2.signing_fingerprint().clone(),
        v2.leaf().verified_at(),
    )
    .expect("leaf");
    let v1 = verify_leaf(&leaf.encode(), &cert).expect("the version 1 leaf re-verifies");
    assert_eq!(v1.leaf().version(), LEAF_VERSION_1);
    assert_recomputed(&v1);
    assert_ne!(v1.dedup_key(), v2.dedup_key());
    assert_eq!(v1.index_keys(), v2.index_keys());
}

#[test]
fn what_is_not_a_leaf_is_refused() {
    assert!(matches!(
        leaf_keys(b"\x02not a leaf"),
        Err(AttestError::LeafTruncated { .. })
    ));
    let (cert, mut kp) = maintainer();
    let stmt = in_toto("x.tar.gz");
    let v = verify(&cert, &stmt, &sign(&mut kp, SignatureType::Binary, &stmt));
    let leaf = v.leaf();
    // A statement that is not one the log accepts.
    let not_json = Leaf::new(
        b"not json".to_vec(),
        leaf.signature().to_vec(),
        leaf.primary_fingerprint().clone(),
        leaf.signing_fingerprint().clone(),
        leaf.verified_at(),
    )
    .unwrap();
    assert!(leaf_keys(&not_json.encode()).is_err());
    // A framed signature field whose body is not a signature.
    let garbage = Leaf::new(
        stmt.clone(),
        vec![0xC2, 3, 0xFF, 0xFF, 0xFF],
        leaf.primary_fingerprint().clone(),
        leaf.signing_fingerprint().clone(),
        leaf.verified_at(),
    )
    .unwrap();
    assert!(leaf_keys(&garbage.encode()).is_err());
}
