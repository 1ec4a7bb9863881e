//! Fast in-process OpenPGP signing with sequoia, for tests and load
//! generation that need thousands of distinct signed attestations (GnuPG
//! takes ~20 ms a signature; this takes ~50 µs).

use std::time::{Duration, SystemTime};

use attestlog_attest::openpgp::cert::prelude::*;
use attestlog_attest::openpgp::crypto::KeyPair;
use attestlog_attest::openpgp::packet::prelude::*;
use attestlog_attest::openpgp::policy::StandardPolicy;
use attestlog_attest::openpgp::serialize::MarshalInto as _;
use attestlog_attest::openpgp::types::{KeyFlags, SignatureType};

/// A maintainer key: an Ed25519 certificate with a signing subkey.
pub struct Maintainer {
    /// The certificate, binary (public parts only).
    pub cert: Vec<u8>,
    keypair: KeyPair,
}

impl Maintainer {
    /// Generates a key for `userid`, created a minute ago.
    pub fn new(userid: &str) -> Maintainer {
        let created = SystemTime::now() - Duration::from_secs(60);
        let (cert, _) = CertBuilder::new()
            .set_creation_time(created)
            .add_userid(userid)
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_primary_key_flags(KeyFlags::empty().set_certification())
            .add_signing_subkey()
            .generate()
            .expect("generate a certificate");
        let p = StandardPolicy::new();
        let keypair = cert
            .keys()
            .secret()
            .with_policy(&p, None)
            .for_signing()
            .next()
            .expect("a signing subkey")
            .key()
            .clone()
            .into_keypair()
            .expect("a keypair");
        Maintainer {
            cert: cert
                .strip_secret_key_material()
                .to_vec()
                .expect("serialize the certificate"),
            keypair,
        }
    }

    /// A detached binary signature over `data`, made now.
    pub fn sign(&mut self, data: &[u8]) -> Vec<u8> {
        let sig = SignatureBuilder::new(SignatureType::Binary)
            .sign_message(&mut self.keypair, data)
            .expect("sign");
        Packet::from(sig).to_vec().expect("serialize the signature")
    }
}
