//! Verifications per second per key type: the ceiling for the log's ingest
//! rate. Each iteration verifies a different signature over a different
//! statement (the verifier bypasses Sequoia's signature cache anyway, see
//! `signature_check`), with the certificate included in the submission as
//! under the `open` policy (its parse is cached, as in the server).
//!
//! Run: `cargo bench -p attestlog-attest --bench verify`

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use attestlog_attest::openpgp::cert::prelude::*;
use attestlog_attest::openpgp::packet::prelude::*;
use attestlog_attest::openpgp::policy::StandardPolicy;
use attestlog_attest::openpgp::serialize::MarshalInto;
use attestlog_attest::openpgp::types::{KeyFlags, SignatureType};
use attestlog_attest::{AdmissionPolicy, AttestationInput, Verifier};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

struct Corpus {
    cert: Vec<u8>,
    /// (statement, detached signature), all distinct.
    signed: Vec<(Vec<u8>, Vec<u8>)>,
}

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_735_689_600)
}

fn corpus(suite: CipherSuite, count: usize) -> Corpus {
    let (cert, _) = CertBuilder::new()
        .set_creation_time(t0())
        .add_userid("bench <bench@example.org>")
        .set_cipher_suite(suite)
        .set_primary_key_flags(KeyFlags::empty().set_certification())
        .add_signing_subkey()
        .generate()
        .expect("generate");
    let p = StandardPolicy::new();
    let mut kp = cert
        .keys()
        .secret()
        .with_policy(&p, t0() + Duration::from_secs(60))
        .for_signing()
        .next()
        .expect("signing subkey")
        .key()
        .clone()
        .into_keypair()
        .expect("keypair");
    let signed = (0..count)
        .map(|i| {
            let statement = format!(
                r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"pkg-{i}.tar.gz","digest":{{"sha256":"{:064x}"}}}}],"predicateType":"https://example.org/opaque","predicate":{{"n":{i}}}}}"#,
                i
            )
            .into_bytes();
            let sig = SignatureBuilder::new(SignatureType::Binary)
                .set_signature_creation_time(t0() + Duration::from_secs(3600 + i as u64))
                .expect("time")
                .sign_message(&mut kp, &statement)
                .expect("sign");
            (statement, Packet::from(sig).to_vec().expect("serialize"))
        })
        .collect();
    Corpus {
        cert: cert.to_vec().expect("cert"),
        signed,
    }
}

fn bench(c: &mut Criterion) {
    let now = t0() + Duration::from_secs(30 * 86_400);
    let mut group = c.benchmark_group("verify");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    for (name, suite, count) in [
        ("ed25519", CipherSuite::Cv25519, 512),
        ("p256", CipherSuite::P256, 512),
        ("rsa4096", CipherSuite::RSA4k, 128),
    ] {
        let corpus = corpus(suite, count);
        let verifier = Verifier::new(AdmissionPolicy::Open);
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                let (statement, sig) = &corpus.signed[i % corpus.signed.len()];
                i += 1;
                let sub = AttestationInput::detached(statement, sig).with_certificate(&corpus.cert);
                black_box(verifier.verify(&sub, now).expect("verifies"));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
