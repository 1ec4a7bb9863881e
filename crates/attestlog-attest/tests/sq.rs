//! Signatures made by Debian's `sq` (Sequoia's command-line tool) verify
//! unchanged: detached (armored and binary), inline and cleartext, made with
//! the signing subkey `sq key generate` creates by default, for Cv25519 and
//! RSA-4096 keys.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use attestlog_attest::{AdmissionPolicy, AttestationInput, Verifier};
use common::{in_toto, require_tool, run};

struct SqKey {
    key: std::path::PathBuf,
    cert: Vec<u8>,
}

fn generate(dir: &Path, name: &str, suite: &str) -> SqKey {
    let sq = require_tool("sq", "sq");
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.cert"));
    run(
        Command::new(&sq)
            .args(["key", "generate", "--cipher-suite", suite, "--userid"])
            .arg(format!("<{name}@example.org>"))
            .arg("--export")
            .arg(&key),
        None,
    );
    run(
        Command::new(&sq)
            .args(["key", "extract-cert", "--output"])
            .arg(&cert)
            .arg(&key),
        None,
    );
    SqKey {
        key,
        cert: std::fs::read(&cert).expect("read cert"),
    }
}

fn sign(dir: &Path, key: &SqKey, flags: &[&str], data: &[u8]) -> Vec<u8> {
    let sq = require_tool("sq", "sq");
    let input = dir.join("statement.json");
    let output = dir.join("signed.out");
    std::fs::write(&input, data).expect("write statement");
    let _ = std::fs::remove_file(&output);
    run(
        Command::new(&sq)
            .arg("sign")
            .args(flags)
            .arg("--signer-key")
            .arg(&key.key)
            .arg("--output")
            .arg(&output)
            .arg(&input),
        None,
    );
    std::fs::read(&output).expect("read signature")
}

#[test]
fn sq_signatures_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let verifier = Verifier::new(AdmissionPolicy::Open);
    for suite in ["cv25519", "rsa4k"] {
        let key = generate(dir.path(), suite, suite);
        for (form, flags, detached) in [
            ("detached-armored", &["--detached"][..], true),
            ("detached-binary", &["--detached", "--binary"][..], true),
            ("inline", &[][..], false),
            ("inline-binary", &["--binary"][..], false),
            ("cleartext", &["--cleartext-signature"][..], false),
        ] {
            let statement = in_toto(&format!("sq-{suite}-{form}.tar.gz"));
            let out = sign(dir.path(), &key, flags, &statement);
            let sub = if detached {
                AttestationInput::detached(&statement, &out)
            } else {
                AttestationInput::inline(&out)
            };
            let v = verifier
                .verify(&sub.with_certificate(&key.cert), SystemTime::now())
                .unwrap_or_else(|e| panic!("sq {suite} {form}: {e}"));
            // sq signs with the signing subkey, not the certification-only primary.
            assert_ne!(
                v.signing_fingerprint(),
                v.primary_fingerprint(),
                "{suite} {form}"
            );
            assert_eq!(
                v.index_keys().subject_names,
                vec![format!("sq-{suite}-{form}.tar.gz")]
            );
        }
    }
}
