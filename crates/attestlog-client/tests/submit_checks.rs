//! `attestlog submit` checks the log's answer, and a tlog-policy naming one
//! origin twice is refused (issue #13, items 9 and 12), through the real
//! `attestlog` binary against the real `attestlog-server` on 127.0.0.1.
//!
//! `submit_checks_the_answer_against_the_log_key`, in steps:
//! 1. start a log; maintainer B signs a statement (detached);
//! 2. `submit` with neither `--log-key` nor `--policy` refuses before
//!    sending anything, saying which flag to give, and writes no proof;
//! 3. `submit --log-key K'`, K' another key with the log's origin: the log
//!    answers, but its checkpoint is not signed by K', so `submit` exits 1
//!    saying so and writes no proof file;
//! 4. `submit --log-key K` (the log's key, as text and as a file) and
//!    `submit --policy P` (a policy trusting the log) succeed and write a
//!    tlog-proof under a checkpoint signed by K;
//! 5. `submit --policy P'`, a policy trusting only another log, exits 1.
//!
//! The checks of tampered answers (another statement, a bad proof, a
//! checkpoint signed by another key) are unit tests of
//! `attestlog_client::submit::check_answer`: the real log does not tamper.
//!
//! Shown to fail on a0c9f2b: step 2 succeeded (exit 0), printing "logged
//! at index 0; proof written to …" with no key to check the answer
//! against (`--log-key` and `--policy` did not exist).
//!
//! `a_policy_with_two_keys_for_one_origin_is_refused`: `verify --policy`
//! and `submit --policy` with a policy listing the log's origin on two
//! `log` lines (the real key first, another second) exit 2 naming the
//! origin and both lines. Shown to fail on a0c9f2b: the policy parsed,
//! and `verify` passed (exit 0, "PASS: 1 of the required 1") with the
//! first line's key.

use std::path::{Path, PathBuf};
use std::process::Output;

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::{KeyType, SignerKey, VerifierKey};
use attestlog_core::rand_core::OsRng;
use attestlog_e2e::cli::{attestlog, p, text};
use attestlog_e2e::load::{signed_request, submit_all};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::{log_keygen, statement, Gpg, LogServer};

const ORIGIN: &str = "submit.checks.test/log";

/// A statement for `name`, signed detached by `m`, written to `dir`;
/// returns the statement, signature and certificate files.
fn signed_files(dir: &Path, m: &mut Maintainer, name: &str) -> [PathBuf; 3] {
    let st = statement(name, &format!("{:064x}", name.len()));
    let files = [
        dir.join(format!("{name}.json")),
        dir.join(format!("{name}.sig")),
        dir.join(format!("{name}.cert")),
    ];
    std::fs::write(&files[0], &st).expect("write statement");
    std::fs::write(&files[1], m.sign(&st)).expect("write signature");
    std::fs::write(&files[2], &m.cert).expect("write certificate");
    files
}

fn submit(server: &LogServer, files: &[PathBuf; 3], trust: &[&str]) -> Output {
    let mut args = vec![
        "submit",
        p(&files[0]),
        "--signature",
        p(&files[1]),
        "--certificate",
        p(&files[2]),
    ];
    args.extend_from_slice(trust);
    let endpoint = server.endpoint();
    args.extend_from_slice(&["--log", &endpoint]);
    attestlog(&args)
}

fn proof_of(files: &[PathBuf; 3]) -> PathBuf {
    let mut p = files[0].clone().into_os_string();
    p.push(".tlog-proof");
    PathBuf::from(p)
}

/// Another Ed25519 log key with the same origin as the real one.
fn impostor_key() -> String {
    SignerKey::generate(ORIGIN, KeyType::Ed25519, &mut OsRng)
        .expect("generate a key")
        .verifier()
        .to_key_string()
}

#[test]
fn submit_checks_the_answer_against_the_log_key() -> anyhow::Result<()> {
    // 1.
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let vkey = log_keygen(dir, ORIGIN)?;
    let server = LogServer::start(dir, ORIGIN, &["--batch-max-wait-ms", "5"])?;
    let mut b = Maintainer::new("Bob <bob@submit.test>");
    let first = signed_files(dir, &mut b, "first.tar.gz");

    // 2.
    let o = submit(&server, &first, &[]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("--log-key") && out.contains("--policy"),
        "{out}"
    );
    assert!(!proof_of(&first).exists(), "{out}");

    // 3.
    let other = impostor_key();
    let o = submit(&server, &first, &["--log-key", &other]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("not signed by the log key you trust"), "{out}");
    assert!(!proof_of(&first).exists(), "{out}");

    // 4.
    let o = submit(&server, &first, &["--log-key", &vkey]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    // Step 3 logged it (the log had answered); now it is proven.
    assert!(out.contains("already logged at index 0"), "{out}");
    let proof = std::fs::read(proof_of(&first))?;
    assert!(proof.starts_with(b"c2sp.org/tlog-proof@v1\nindex 0\n"));
    let note_at = proof
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("end of the audit path")
        + 2;
    Checkpoint::open(&proof[note_at..], ORIGIN, &VerifierKey::parse(&vkey)?)?;

    let key_file = dir.join("log.vkey");
    std::fs::write(&key_file, format!("{vkey}\n"))?;
    let second = signed_files(dir, &mut b, "second.tar.gz");
    let o = submit(&server, &second, &["--log-key", p(&key_file)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("logged at index 1"), "{}", text(&o));
    assert!(proof_of(&second).exists());

    let policy = dir.join("log.policy");
    std::fs::write(&policy, format!("log {vkey}\nquorum none\n"))?;
    let third = signed_files(dir, &mut b, "third.tar.gz");
    let o = submit(&server, &third, &["--policy", p(&policy)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(proof_of(&third).exists());

    // 5.
    let elsewhere = dir.join("elsewhere.policy");
    let other_log = SignerKey::generate("other.test/log", KeyType::Ed25519, &mut OsRng)?
        .verifier()
        .to_key_string();
    std::fs::write(&elsewhere, format!("log {other_log}\nquorum none\n"))?;
    let fourth = signed_files(dir, &mut b, "fourth.tar.gz");
    let o = submit(&server, &fourth, &["--policy", p(&elsewhere)]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("trusts no log with origin"), "{out}");
    assert!(!proof_of(&fourth).exists(), "{out}");
    server.stop()?;
    Ok(())
}

/// Without `--certificate` (a log admitting by keyring holds it), with a
/// message inline-signed by the real GnuPG (`gpg --clearsign`) and with a
/// detached signature: `submit` checks the answer against the certificate
/// the log gives for the entry's signer, and succeeds.
#[test]
fn submit_checks_with_the_logs_certificate_and_inline_signatures() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let vkey = log_keygen(dir, ORIGIN)?;
    let alice = Gpg::new("ed25519", "alice@submit.test")?;
    let keyring = dir.join("alice.pgp");
    std::fs::write(&keyring, alice.export()?)?;
    let server = LogServer::start(
        dir,
        ORIGIN,
        &[
            "--batch-max-wait-ms",
            "5",
            "--policy",
            "keyring",
            "--keyring",
            p(&keyring),
        ],
    )?;
    let st = dir.join("inline.json");
    std::fs::write(&st, statement("inline.tar.gz", &format!("{:064x}", 0x11)))?;
    let signed = dir.join("inline.json.asc");
    alice.cmd(&["--clearsign", "-o", p(&signed), p(&st)])?;
    let o = attestlog(&[
        "submit",
        p(&signed),
        "--log-key",
        &vkey,
        "--log",
        &server.endpoint(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("logged at index 0"), "{}", text(&o));
    assert!(dir.join("inline.json.asc.tlog-proof").exists());

    let st = dir.join("detached.json");
    std::fs::write(&st, statement("detached.tar.gz", &format!("{:064x}", 0x12)))?;
    let sig = dir.join("detached.json.sig");
    std::fs::write(&sig, alice.detach_sign(&std::fs::read(&st)?)?)?;
    let o = attestlog(&[
        "submit",
        p(&st),
        "--signature",
        p(&sig),
        "--log-key",
        &vkey,
        "--log",
        &server.endpoint(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("logged at index 1"), "{}", text(&o));
    server.stop()?;
    Ok(())
}

#[test]
fn a_policy_with_two_keys_for_one_origin_is_refused() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let vkey = log_keygen(dir, ORIGIN)?;
    let server = LogServer::start(dir, ORIGIN, &["--batch-max-wait-ms", "5"])?;
    let mut b = Maintainer::new("Bob <bob@policy.test>");
    let files = signed_files(dir, &mut b, "rotated.tar.gz");
    // Logged over gRPC, so that `verify` has an entry to find.
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(submit_all(
        server.endpoint(),
        vec![signed_request(&mut b, "rotated.tar.gz", 0x77)],
        1,
        1,
        None,
    ))?;

    let two = dir.join("two-keys.policy");
    std::fs::write(
        &two,
        format!(
            "# the log's key, and a second key for the same origin\nlog {vkey}\nlog {}\nquorum none\n",
            impostor_key()
        ),
    )?;
    let digest = format!("sha256:{:064x}", 0x77);
    let o = attestlog(&[
        "verify",
        &digest,
        "--policy",
        p(&two),
        "--keyring",
        p(&files[2]),
        "--log",
        &server.endpoint(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains(&format!("origin {ORIGIN:?}"))
            && out.contains("line 3")
            && out.contains("line 2"),
        "{out}"
    );
    let o = submit(&server, &files, &["--policy", p(&two)]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains(&format!("origin {ORIGIN:?}")), "{out}");
    server.stop()?;
    Ok(())
}
