//! The `attestlog` CLI end to end, against the real `attestlog-server` on
//! 127.0.0.1 (started by the e2e harness).
//!
//! `quorum_bundles_rollback_monitor`, in steps:
//! 1. start a log; two witness cosignature keys; a tlog-policy requiring
//!    both witnesses; maintainers A (real GnuPG), B, C (in-process
//!    sequoia) trusted, U untrusted;
//! 2. A and B attest digest D of `hello.tar.gz`, C attests another digest
//!    for the same name, U attests D — all submitted with `attestlog submit`;
//! 3. cosign the log's checkpoint with both witnesses (and, separately,
//!    with one): `verify -m 2` passes naming A and B and says C disagrees
//!    (U's entry is not even fetched: the log filters by the keyring's
//!    signers); `-m 3` fails naming C as missing; the checkpoint with 1 of 2
//!    cosignatures fails;
//! 4. `bundle` (without `--keyring`: every entry), stop the log, `verify
//!    --bundle` passes offline and says U is untrusted, and a sweep of
//!    tampered bytes never passes;
//! 5. copy the data directory, restart, submit more, record the newer
//!    checkpoint in a client state dir; stop, restore the old copy,
//!    restart, submit other entries: `verify --state-dir` exits 3 printing
//!    evidence that `verify-evidence` accepts;
//! 6. `monitor --once` reports B's entries as a watched key, resumes from
//!    its position and reports only the new entry on the next run.

use std::path::Path;

use anyhow::Context as _;
use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::Cert;
use attestlog_core::cosignature::cosign;
use attestlog_core::note::{KeyType, Note, SignerKey};
use attestlog_core::rand_core::OsRng;
use attestlog_e2e::cli::{attestlog, p, submit_detached, text};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::{log_keygen, statement, Gpg, LogServer};
use sha2::{Digest as _, Sha256};

const ORIGIN: &str = "cli.e2e.test/log";

/// Submits `st` signed detached with `sig` through the CLI, checking the
/// answer against the log key in `dir/log.vkey`.
fn submit(
    dir: &Path,
    server: &LogServer,
    tag: &str,
    st: &[u8],
    sig: &[u8],
    cert: &[u8],
) -> anyhow::Result<u64> {
    submit_detached(dir, &server.endpoint(), tag, st, sig, cert)
}

/// The log's checkpoint with cosignatures by `witnesses`, written to `out`.
fn cosigned(server: &LogServer, witnesses: &[&SignerKey], out: &Path) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let note = rt.block_on(async {
        let mut c = attestlog_client::grpc::LogClient::connect(&server.endpoint()).await?;
        c.checkpoint().await
    })?;
    let mut n = Note::parse(&note)?;
    for w in witnesses {
        let text = n.text().to_owned();
        n.add_signature(cosign(w, &text, 1_700_000_000)?)?;
    }
    std::fs::write(out, n.to_bytes())?;
    Ok(())
}

fn fingerprint(cert: &[u8]) -> anyhow::Result<String> {
    Ok(Cert::from_bytes(cert)?.fingerprint().to_hex())
}

#[test]
fn quorum_bundles_rollback_monitor() -> anyhow::Result<()> {
    // 1.
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let vkey = log_keygen(dir, ORIGIN)?;
    std::fs::write(dir.join("log.vkey"), &vkey)?;
    let server = LogServer::start(dir, ORIGIN, &["--batch-max-wait-ms", "5"])?;
    let w1 = SignerKey::generate("w1.e2e.test", KeyType::Cosignature, &mut OsRng)?;
    let w2 = SignerKey::generate("w2.e2e.test", KeyType::Cosignature, &mut OsRng)?;
    let policy = dir.join("log.policy");
    std::fs::write(
        &policy,
        format!(
            "# the test log, and both witnesses required\nlog {vkey}\nwitness w1 {}\nwitness w2 {}\ngroup both all w1 w2\nquorum both\n",
            w1.verifier().to_key_string(),
            w2.verifier().to_key_string()
        ),
    )?;
    let policy_none = dir.join("none.policy");
    std::fs::write(&policy_none, format!("log {vkey}\nquorum none\n"))?;

    let a = Gpg::new("ed25519", "alice@e2e.test")?;
    let mut b = Maintainer::new("Bob <bob@e2e.test>");
    let mut c = Maintainer::new("Carol <carol@e2e.test>");
    let mut u = Maintainer::new("Mallory <mallory@e2e.test>");
    let keyring = dir.join("keyring");
    std::fs::create_dir(&keyring)?;
    std::fs::write(keyring.join("alice.pgp"), a.export()?)?;
    std::fs::write(keyring.join("bob.pgp"), &b.cert)?;
    std::fs::write(keyring.join("carol.pgp"), &c.cert)?;
    let b_fp = fingerprint(&b.cert)?;

    // 2.
    let artifact = dir.join("hello.tar.gz");
    std::fs::write(&artifact, b"the reproducible artifact")?;
    let d = hex::encode(Sha256::digest(b"the reproducible artifact"));
    let other = hex::encode(Sha256::digest(b"a different build"));
    let st = statement("hello.tar.gz", &d);
    let st_other = statement("hello.tar.gz", &other);
    submit(
        dir,
        &server,
        "alice",
        &st,
        &a.detach_sign(&st)?,
        &a.export()?,
    )?;
    submit(dir, &server, "bob", &st, &b.sign(&st), &b.cert.clone())?;
    submit(
        dir,
        &server,
        "carol",
        &st_other,
        &c.sign(&st_other),
        &c.cert.clone(),
    )?;
    submit(dir, &server, "mallory", &st, &u.sign(&st), &u.cert.clone())?;
    // `submit --artifact` prints a statement that the log accepts.
    let o = attestlog(&[
        "submit",
        "--artifact",
        p(&artifact),
        "--name",
        "hello.tar.gz",
        "--source",
        "git+https://example.invalid/hello.git",
        "--revision",
        "v1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let made = o.stdout.clone();
    assert!(String::from_utf8_lossy(&made).contains(&d));
    submit(dir, &server, "bob2", &made, &b.sign(&made), &b.cert.clone())?;

    // 3.
    let both = dir.join("both.checkpoint");
    let one = dir.join("one.checkpoint");
    cosigned(&server, &[&w1, &w2], &both)?;
    cosigned(&server, &[&w1], &one)?;
    let endpoint = server.endpoint();
    let verify = |m: &str, cp: &Path| {
        attestlog(&[
            "verify",
            p(&artifact),
            "--policy",
            p(&policy),
            "--keyring",
            p(&keyring),
            "--threshold",
            m,
            "--checkpoint",
            p(cp),
            "--log",
            &endpoint,
        ])
    };
    let o = verify("2", &both);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("PASS: 2 of the required 2"), "{out}");
    assert!(
        out.contains("alice@e2e.test") && out.contains("bob@e2e.test"),
        "{out}"
    );
    // U's entry is not even fetched online: the log filters by the
    // keyring's signers (issue #13, hole 4). The bundle below, written
    // without --keyring, carries it and says why it does not count.
    assert!(!out.contains("not in your trusted keyring"), "{out}");
    assert!(
        out.contains("DIFFERENT digest") && out.contains(&other),
        "{out}"
    );
    let o = verify("3", &both);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL: 2 of the required 3"), "{out}");
    assert!(
        out.contains("no attestation of this digest by Carol <carol@e2e.test>"),
        "{out}"
    );
    // The same two checks with keyring and threshold from a maintainers
    // file (the keyring path relative to the file).
    for (m, code, want) in [
        ("2", 0, "PASS: 2 of the required 2"),
        ("3", 1, "FAIL: 2 of the required 3"),
    ] {
        let trust = dir.join(format!("trust-{m}.toml"));
        let rel = keyring
            .file_name()
            .and_then(|n| n.to_str())
            .context("keyring name")?;
        std::fs::write(&trust, format!("keyring = \"{rel}\"\nthreshold = {m}\n"))?;
        let o = attestlog(&[
            "verify",
            p(&artifact),
            "--policy",
            p(&policy),
            "--maintainers",
            p(&trust),
            "--checkpoint",
            p(&both),
            "--log",
            &endpoint,
        ]);
        assert_eq!(o.status.code(), Some(code), "{}", text(&o));
        assert!(text(&o).contains(want), "{}", text(&o));
    }
    let bad = dir.join("trust-bad.toml");
    std::fs::write(&bad, "keyring = \"k\"\ntreshold = 2\n")?;
    let o = attestlog(&[
        "verify",
        p(&artifact),
        "--policy",
        p(&policy),
        "--maintainers",
        p(&bad),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("unknown field `treshold`"),
        "{}",
        text(&o)
    );

    let o = verify("2", &one);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("does not satisfy the witness policy") && out.contains("w2 (missing)"),
        "{out}"
    );
    // Without any cosigned checkpoint, the log's own fails the policy too.
    let o = attestlog(&[
        "verify",
        &format!("sha256:{d}"),
        "--policy",
        p(&policy),
        "--keyring",
        p(&keyring),
        "--threshold",
        "1",
        "--log",
        &endpoint,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // 4.
    let bundle = dir.join("hello.bundle");
    let o = attestlog(&[
        "bundle",
        p(&artifact),
        "-o",
        p(&bundle),
        "--policy",
        p(&policy),
        "--checkpoint",
        p(&both),
        "--log",
        &endpoint,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = attestlog(&["inspect", p(&bundle)]);
    assert!(
        o.status.success() && text(&o).contains("w2.e2e.test"),
        "{}",
        text(&o)
    );
    server.stop()?;
    let offline = |file: &Path, m: &str| {
        attestlog(&[
            "verify",
            p(&artifact),
            "--bundle",
            p(file),
            "--policy",
            p(&policy),
            "--keyring",
            p(&keyring),
            "--threshold",
            m,
            // A log address that nothing listens on: no network is used.
            "--log",
            "http://127.0.0.1:9",
        ])
    };
    let o = offline(&bundle, "2");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("not in your trusted keyring"),
        "{}",
        text(&o)
    );
    assert_eq!(offline(&bundle, "3").status.code(), Some(1));
    let bytes = std::fs::read(&bundle)?;
    // Certificate lines are informational (trust is the keyring's) and
    // are excluded; every other region is swept.
    let mut skip = vec![false; bytes.len()];
    let mut at = 0;
    for line in bytes.split(|&b| b == b'\n') {
        if line.starts_with(b"certificate ") {
            skip[at + "certificate ".len()..at + line.len()].fill(true);
        }
        at += line.len() + 1;
    }
    let tampered = dir.join("tampered.bundle");
    let positions: Vec<usize> = (0..bytes.len()).filter(|&i| !skip[i]).collect();
    let step = (positions.len() / 150).max(1);
    let mut tried = 0;
    for &i in positions.iter().step_by(step) {
        let mut t = bytes.clone();
        t[i] ^= 0x20;
        std::fs::write(&tampered, &t)?;
        let o = offline(&tampered, "2");
        assert_ne!(
            o.status.code(),
            Some(0),
            "flipping byte {i} still verified: {}",
            text(&o)
        );
        tried += 1;
    }
    assert!(tried >= 100, "swept {tried} positions");

    // 5.
    let data = dir.join("data");
    let old = dir.join("data.old");
    copy_dir(&data, &old)?;
    let server = LogServer::start(dir, ORIGIN, &["--batch-max-wait-ms", "5"])?;
    for i in 0..3 {
        let s = statement(&format!("after-{i}"), &format!("{i:064x}"));
        submit(
            dir,
            &server,
            &format!("after{i}"),
            &s,
            &b.sign(&s),
            &b.cert.clone(),
        )?;
    }
    let state = dir.join("client-state");
    let with_state = |srv: &LogServer, evidence: &Path| {
        attestlog(&[
            "verify",
            &format!("sha256:{d}"),
            "--policy",
            p(&policy_none),
            "--keyring",
            p(&keyring),
            "--threshold",
            "2",
            "--state-dir",
            p(&state),
            "--log",
            &srv.endpoint(),
            "--tiles-url",
            &format!("http://{}", srv.http),
            "--evidence-out",
            p(evidence),
        ])
    };
    let evidence = dir.join("fork.evidence");
    let o = with_state(&server, &evidence);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    server.stop()?;
    std::fs::remove_dir_all(&data)?;
    std::fs::rename(&old, &data)?;
    let server = LogServer::start(dir, ORIGIN, &["--batch-max-wait-ms", "5"])?;
    for i in 0..5 {
        let s = statement(&format!("forked-{i}"), &format!("{:064x}", 100 + i));
        submit(
            dir,
            &server,
            &format!("fork{i}"),
            &s,
            &b.sign(&s),
            &b.cert.clone(),
        )?;
    }
    let o = with_state(&server, &evidence);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("attestlog split-view evidence v1"), "{out}");
    let o = attestlog(&["verify-evidence", p(&evidence), "--policy", p(&policy_none)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("PROVEN"));
    // Tampered evidence proves nothing.
    let mut ev = std::fs::read(&evidence)?;
    let root_line = ev
        .windows(12)
        .position(|w| w == b"prefix-root ")
        .context("prefix-root")?;
    ev[root_line + 14] ^= 0x20;
    std::fs::write(&evidence, &ev)?;
    let o = attestlog(&["verify-evidence", p(&evidence), "--policy", p(&policy_none)]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));

    // 6.
    let mstate = dir.join("monitor-state");
    let monitor = |srv: &LogServer| {
        attestlog(&[
            "monitor",
            "--policy",
            p(&policy_none),
            "--state-dir",
            p(&mstate),
            "--watch-key",
            &b_fp,
            "--watch-name",
            "hello.tar.gz",
            "--once",
            "--json",
            "--log",
            &srv.endpoint(),
        ])
    };
    let o = monitor(&server);
    assert!(o.status.success(), "{}", text(&o));
    let alerts: Vec<serde_json::Value> = o
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(serde_json::from_slice)
        .collect::<Result<_, _>>()?;
    let key_alerts = alerts.iter().filter(|a| a["kind"] == "key").count();
    // The restored log holds bob, bob2 (before the copy) and 5 forked entries.
    assert_eq!(key_alerts, 7, "{}", text(&o));
    assert!(alerts.iter().any(|a| a["kind"] == "name"), "{}", text(&o));
    let s = statement("later", &format!("{:064x}", 999));
    let idx = submit(dir, &server, "later", &s, &b.sign(&s), &b.cert.clone())?;
    let o = monitor(&server);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains(&format!("\"index\":{idx}")), "{out}");
    server.stop()?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}
