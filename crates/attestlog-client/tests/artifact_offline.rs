//! The whole offline decision of `attestlog verify --bundle`, called as an
//! embedder calls it: [`attestlog_client::artifact::verify_offline`], with
//! no CLI, no log and no network.
//!
//! The fixture is a log made in memory: a tree of four entries (trusted
//! maintainers A and B and untrusted U attest digest D; D' is attested by
//! B under another name), a checkpoint signed by the log's key and
//! cosigned by witnesses w1 and w2, and a tlog-policy requiring both. The
//! keyring trusts A, B and C (who attested nothing).
//!
//! What it pins: the decision the CLI makes (covered through the binary
//! by `cli_e2e.rs`) is the library's, whole — threshold met and not met,
//! the witness quorum, tampered proofs, another artifact's bundle, and
//! the maintainers file and keyring loading.

use std::path::Path;

use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::Cert;
use attestlog_attest::Leaf;
use attestlog_client::artifact::{verify_offline, ArtifactCheck};
use attestlog_client::bundle::Bundle;
use attestlog_client::quorum::{Candidate, Maintainers};
use attestlog_client::report::Report;
use attestlog_client::tlog_policy::TlogPolicy;
use attestlog_client::ClientError;
use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::cosignature::cosign;
use attestlog_core::leaf_hash;
use attestlog_core::note::{KeyType, Note, SignerKey};
use attestlog_core::proof::prove_inclusion;
use attestlog_core::rand_core::OsRng;
use attestlog_core::tree::InMemoryTree;
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::statement;

const ORIGIN: &str = "artifact.offline.test/log";
const D: [u8; 32] = [0xd1; 32];
const OTHER: [u8; 32] = [0xd2; 32];

/// The in-memory log, its policy and the verifier's files.
struct Fixture {
    dir: tempfile::TempDir,
    policy: TlogPolicy,
    /// Every entry of the tree, with its proof under the checkpoint.
    candidates: Vec<Candidate>,
    /// The same, under a checkpoint only w1 cosigned.
    one_witness: Vec<Candidate>,
}

/// A leaf for `st` signed by `m`, as the log would have admitted it.
fn leaf(m: &mut Maintainer, st: &[u8]) -> Vec<u8> {
    let cert = Cert::from_bytes(&m.cert).expect("certificate");
    let signer = cert
        .keys()
        .subkeys()
        .next()
        .expect("a signing subkey")
        .key()
        .fingerprint();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    Leaf::new(st.to_vec(), m.sign(st), cert.fingerprint(), signer, now)
        .expect("leaf")
        .encode()
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = SignerKey::generate(ORIGIN, KeyType::Ed25519, &mut OsRng).expect("log key");
    let w1 = SignerKey::generate("w1.test", KeyType::Cosignature, &mut OsRng).expect("w1");
    let w2 = SignerKey::generate("w2.test", KeyType::Cosignature, &mut OsRng).expect("w2");
    let policy = TlogPolicy::parse(
        format!(
            "log {}\nwitness w1 {}\nwitness w2 {}\ngroup both all w1 w2\nquorum both\n",
            log.verifier().to_key_string(),
            w1.verifier().to_key_string(),
            w2.verifier().to_key_string()
        )
        .as_bytes(),
    )
    .expect("policy");

    let mut a = Maintainer::new("A <a@example.org>");
    let mut b = Maintainer::new("B <b@example.org>");
    let c = Maintainer::new("C <c@example.org>");
    let mut u = Maintainer::new("U <u@example.org>");
    let keyring = dir.path().join("maintainers");
    std::fs::create_dir(&keyring).expect("mkdir");
    for (name, m) in [("a.pgp", &a), ("b.pgp", &b), ("c.pgp", &c)] {
        std::fs::write(keyring.join(name), &m.cert).expect("write certificate");
    }
    std::fs::write(
        dir.path().join("trust.toml"),
        "keyring = \"maintainers\"\nthreshold = 2\n",
    )
    .expect("write maintainers file");

    let d = hex::encode(D);
    let entries = [
        (leaf(&mut a, &statement("hello.tar.gz", &d)), a.cert.clone()),
        (leaf(&mut u, &statement("hello.tar.gz", &d)), u.cert.clone()),
        (
            leaf(&mut b, &statement("other.tar.gz", &hex::encode(OTHER))),
            b.cert.clone(),
        ),
        (leaf(&mut b, &statement("hello.tar.gz", &d)), b.cert.clone()),
    ];
    let mut tree = InMemoryTree::new();
    for (l, _) in &entries {
        tree.push(leaf_hash(l));
    }
    let text = Checkpoint::new(ORIGIN, tree.size(), tree.root())
        .to_text()
        .expect("checkpoint text");
    let note = |witnesses: &[&SignerKey]| {
        let mut n = Note::new(text.clone()).expect("note");
        n.add_signature(log.sign(&text).expect("sign"))
            .expect("add");
        for w in witnesses {
            n.add_signature(cosign(w, &text, 1_700_000_000).expect("cosign"))
                .expect("add");
        }
        n.to_bytes()
    };
    let under = |checkpoint: Vec<u8>| -> Vec<Candidate> {
        entries
            .iter()
            .enumerate()
            .map(|(i, (l, cert))| Candidate {
                index: i as u64,
                leaf: l.clone(),
                logged_certificate: Some(cert.clone()),
                audit_path: prove_inclusion(&tree, i as u64, tree.size()).expect("proof"),
                checkpoint: checkpoint.clone(),
            })
            .collect()
    };
    Fixture {
        policy,
        candidates: under(note(&[&w1, &w2])),
        one_witness: under(note(&[&w1])),
        dir,
    }
}

impl Fixture {
    /// The bundle for D of `candidates`, written and read back as a file is.
    fn bundle(candidates: &[Candidate]) -> Bundle {
        let bytes = Bundle::from_candidates(&D, candidates).to_bytes();
        Bundle::parse(&bytes).expect("a bundle reads back")
    }

    fn maintainers(&self, threshold: usize) -> Maintainers {
        Maintainers::load(&self.dir.path().join("maintainers"), threshold).expect("keyring")
    }

    fn verify(&self, maintainers: &Maintainers, bundle: &Bundle) -> Result<Report, ClientError> {
        let check = ArtifactCheck {
            digest: D,
            policy: &self.policy,
            maintainers,
        };
        verify_offline(&check, bundle)
    }
}

fn names(report: &Report) -> Vec<&str> {
    report
        .attestations
        .iter()
        .map(|a| a.maintainer.as_str())
        .collect()
}

#[test]
fn passes_at_the_threshold_and_fails_above_it() {
    let f = fixture();
    let bundle = Fixture::bundle(&f.candidates);

    let two = f.verify(&f.maintainers(2), &bundle).expect("checked");
    assert!(two.passed, "{two}");
    assert_eq!(two.distinct_maintainers, 2);
    assert_eq!(names(&two), ["A <a@example.org>", "B <b@example.org>"]);
    // U's entry does not count, but is no integrity failure; B's entry for
    // another digest does not count either.
    assert_eq!(two.rejected.len(), 2, "{two}");
    assert!(two.rejected.iter().all(|r| !r.integrity), "{two}");
    assert_eq!(two.missing.len(), 1);
    assert_eq!(two.missing[0].name, "C <c@example.org>");
    assert_eq!(two.checkpoints, [format!("{ORIGIN} at size 4")]);

    let three = f.verify(&f.maintainers(3), &bundle).expect("checked");
    assert!(!three.passed, "{three}");
    assert_eq!(three.distinct_maintainers, 2);
    assert!(three.to_string().starts_with("FAIL: 2 of the required 3"));

    // The maintainers file says threshold 2: the same verdict as above.
    let from_file =
        Maintainers::from_trust_file(&f.dir.path().join("trust.toml")).expect("maintainers file");
    assert_eq!(from_file.threshold, 2);
    assert_eq!(f.verify(&from_file, &bundle).expect("checked"), two);
}

#[test]
fn a_checkpoint_short_of_the_witness_quorum_fails_whatever_the_threshold() {
    let f = fixture();
    let report = f
        .verify(&f.maintainers(1), &Fixture::bundle(&f.one_witness))
        .expect("checked");
    assert!(!report.passed, "{report}");
    assert_eq!(report.distinct_maintainers, 0);
    assert_eq!(report.rejected.len(), 4);
    assert!(report.rejected.iter().all(|r| r.integrity), "{report}");
}

#[test]
fn a_tampered_audit_path_fails_the_whole_check() {
    let f = fixture();
    let mut candidates = f.candidates.clone();
    // A's entry, which alone would meet a threshold of 1.
    candidates[0].audit_path[0].0[0] ^= 1;
    let report = f
        .verify(&f.maintainers(1), &Fixture::bundle(&candidates))
        .expect("checked");
    assert!(!report.passed, "{report}");
    assert_eq!(report.distinct_maintainers, 1, "B still counts");
    let broken: Vec<u64> = report
        .rejected
        .iter()
        .filter(|r| r.integrity)
        .map(|r| r.index)
        .collect();
    assert_eq!(broken, [0]);
}

#[test]
fn what_cannot_be_checked_is_an_error() {
    let f = fixture();
    let mut other = Fixture::bundle(&f.candidates);
    other.digest = OTHER;
    let err = f
        .verify(&f.maintainers(1), &other)
        .expect_err("another digest");
    assert!(matches!(err, ClientError::WrongBundle { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "the bundle is for sha256:{}, not for sha256:{}",
            hex::encode(OTHER),
            hex::encode(D)
        )
    );

    let keyring = f.dir.path().join("maintainers");
    let zero = Maintainers::load(&keyring, 0).expect_err("threshold 0");
    assert!(matches!(zero, ClientError::ZeroThreshold), "{zero:?}");
    let missing = Path::new("/nonexistent/attestlog-keyring");
    let err = Maintainers::load(missing, 1).expect_err("no keyring");
    assert_eq!(err.to_string(), format!("keyring {}", missing.display()));
    assert!(std::error::Error::source(&err).is_some());
}
