//! Known-answer vector: a statement signed on the command line with
//! `gpg --detach-sign` (GnuPG 2.2.40, Ed25519, old-format signature packet),
//! verified as of a fixed time, gives exactly the pinned leaf and leaf hash.
//! `docs/SPEC.md` walks through this leaf byte by byte.
//!
//! Files in `tests/vectors/gpg-ed25519/`: `cert.asc` (`gpg --armor
//! --export`), `statement.json`, `statement.json.sig` (`gpg --detach-sign`),
//! `leaf-v2.hex` and `leaf-v2-hash.hex` (the expected results: a version 2
//! leaf, whose signature's unhashed area is canonical), and `leaf.hex` and
//! `leaf-hash.hex` (the version 1 leaf the log wrote before, which must
//! still re-verify). Set `ATTESTLOG_WRITE_VECTORS=1` to rewrite the expected
//! version 2 results after a deliberate format change.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use attestlog_attest::openpgp::parse::Parse;
use attestlog_attest::openpgp::Cert;
use attestlog_attest::{
    verify_leaf, AdmissionPolicy, AttestationInput, Leaf, Verifier, LEAF_VERSION, LEAF_VERSION_1,
};

/// The signature's creation time plus one minute.
const VERIFIED_AT: u64 = 1_795_649_366 + 60;

fn vector(name: &str) -> PathBuf {
    // The runtime value first: a test binary reused from a target directory
    // shared with another checkout has that checkout's path compiled in.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("tests/vectors/gpg-ed25519")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(vector(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn gpg_detached_signature_gives_the_pinned_leaf() {
    let statement = read("statement.json");
    let sig = read("statement.json.sig");
    let cert = read("cert.asc");
    let v = Verifier::new(AdmissionPolicy::Open)
        .verify(
            &AttestationInput::detached(&statement, &sig).with_certificate(&cert),
            UNIX_EPOCH + Duration::from_secs(VERIFIED_AT),
        )
        .expect("the vector verifies");
    let leaf_hex = hex::encode(v.leaf_bytes());
    let hash_hex = hex::encode(v.leaf_hash().as_bytes());
    if std::env::var_os("ATTESTLOG_WRITE_VECTORS").is_some() {
        std::fs::write(vector("leaf-v2.hex"), format!("{leaf_hex}\n")).unwrap();
        std::fs::write(vector("leaf-v2-hash.hex"), format!("{hash_hex}\n")).unwrap();
    }
    let want_leaf = String::from_utf8(read("leaf-v2.hex")).unwrap();
    let want_hash = String::from_utf8(read("leaf-v2-hash.hex")).unwrap();
    assert_eq!(leaf_hex, want_leaf.trim());
    assert_eq!(hash_hex, want_hash.trim());
    assert_eq!(
        v.primary_fingerprint().to_hex(),
        "27BFE56D404C2D2080D4EEE934B128209619B0DE"
    );

    // The leaf re-verifies on its own, and tampered twins do not: a flipped
    // statement byte, signature byte or fingerprint byte. (The time field is
    // the log's own claim, not signed: changing it by a second still
    // re-verifies; the Merkle tree is what commits to it.)
    let cert = Cert::from_bytes(&cert).unwrap();
    let v1 = hex::decode(String::from_utf8(read("leaf.hex")).unwrap().trim()).unwrap();
    let v2 = hex::decode(want_leaf.trim()).unwrap();
    for (bytes, version) in [(v2, LEAF_VERSION), (v1.clone(), LEAF_VERSION_1)] {
        verify_leaf(&bytes, &cert).expect("leaf re-verifies");
        let leaf = Leaf::decode(&bytes).unwrap();
        assert_eq!(leaf.version(), version);
        assert_eq!(leaf.statement(), &statement[..]);
        let sig_end = 3 + statement.len() + 2 + leaf.signature().len();
        for i in [3, sig_end - 1, sig_end + 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(
                verify_leaf(&bad, &cert).is_err(),
                "v{version}: flipped byte {i}"
            );
        }
        if version == LEAF_VERSION_1 {
            // Relabelled 2, it is not canonical: gpg's unhashed Issuer
            // subpacket is not what version 2 stores.
            let mut relabelled = bytes.clone();
            relabelled[0] = LEAF_VERSION;
            assert!(matches!(
                verify_leaf(&relabelled, &cert),
                Err(attestlog_attest::AttestError::LeafNotCanonical { .. })
            ));
        }
    }
    assert_eq!(
        hex::encode(attestlog_core::leaf_hash(&v1).as_bytes()),
        String::from_utf8(read("leaf-hash.hex")).unwrap().trim()
    );
}
