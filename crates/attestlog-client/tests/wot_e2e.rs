//! `attestlog verify --certs --trust-root` end to end, against the real
//! `attestlog-server` on 127.0.0.1: maintainers count only if the
//! verifier's web of trust authenticates them.
//!
//! The verifier's own key (`root`, made with `sq`) makes `intro` a trusted
//! introducer (a trust signature of depth 1); intro certifies alice's
//! GnuPG key; root certifies carol partially (amount 60); bob is in the
//! certificates but certified by nobody. All three attest the same
//! digest. With `--trust-root root`: alice counts, with her path through
//! intro; carol does not (60 of 120) unless `--trust-amount 60` (or
//! `trust_amount = 60` in a maintainers file with `trust_roots`); bob
//! does not, except when he is the root himself.

use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::Cert;
use attestlog_e2e::cli::{attestlog, p, submit_detached, text};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::sq;
use attestlog_e2e::{log_keygen, statement, Gpg, LogServer};
use sha2::{Digest as _, Sha256};

const ORIGIN: &str = "wot.e2e.test/log";

#[test]
fn only_authenticated_maintainers_count() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let vkey = log_keygen(dir, ORIGIN)?;
    std::fs::write(dir.join("log.vkey"), &vkey)?;
    let server = LogServer::start(dir, ORIGIN, &["--batch-max-wait-ms", "5"])?;
    let policy = dir.join("log.policy");
    std::fs::write(&policy, format!("log {vkey}\nquorum none\n"))?;

    // The maintainers and their keys.
    let alice = Gpg::new("ed25519", "alice@e2e.test")?;
    let mut bob = Maintainer::new("Bob <bob@e2e.test>");
    let mut carol = Maintainer::new("Carol <carol@e2e.test>");
    std::fs::write(dir.join("alice.cert"), alice.export()?)?;
    std::fs::write(dir.join("bob.cert"), &bob.cert)?;
    std::fs::write(dir.join("carol.cert"), &carol.cert)?;
    // The verifier's web of trust.
    sq::key(dir, "root", "<root@e2e.test>", None)?;
    sq::key(dir, "intro", "<intro@e2e.test>", None)?;
    sq::certify(
        dir,
        "root",
        "intro.cert",
        "<intro@e2e.test>",
        &["--depth", "1", "--amount", "120"],
    )?;
    sq::certify(dir, "intro", "alice.cert", "Test <alice@e2e.test>", &[])?;
    sq::certify(
        dir,
        "root",
        "carol.cert",
        "Carol <carol@e2e.test>",
        &["--amount", "60"],
    )?;
    let mut certs = Vec::new();
    for n in ["root", "intro", "alice", "bob", "carol"] {
        certs.extend(std::fs::read(dir.join(format!("{n}.cert")))?);
    }
    let certs_file = dir.join("certs.pgp");
    std::fs::write(&certs_file, &certs)?;
    let fpr = |n: &str| -> anyhow::Result<String> {
        Ok(Cert::from_file(dir.join(format!("{n}.cert")))?
            .fingerprint()
            .to_hex())
    };
    let root = fpr("root")?;

    // All three attest the same digest.
    let d = hex::encode(Sha256::digest(b"the reproducible artifact"));
    let st = statement("hello.tar.gz", &d);
    submit_detached(
        dir,
        &server.endpoint(),
        "alice-entry",
        &st,
        &alice.detach_sign(&st)?,
        &alice.export()?,
    )?;
    submit_detached(
        dir,
        &server.endpoint(),
        "bob-entry",
        &st,
        &bob.sign(&st),
        &bob.cert.clone(),
    )?;
    submit_detached(
        dir,
        &server.endpoint(),
        "carol-entry",
        &st,
        &carol.sign(&st),
        &carol.cert.clone(),
    )?;

    let verify_from = |root: &str, extra: &[&str]| {
        let digest = format!("sha256:{d}");
        let mut args = vec![
            "verify",
            digest.as_str(),
            "--policy",
            p(&policy),
            "--certs",
            p(&certs_file),
            "--trust-root",
            root,
            "--log",
        ];
        let endpoint = server.endpoint();
        args.push(&endpoint);
        args.extend(extra);
        attestlog(&args)
    };
    let verify = |extra: &[&str]| verify_from(&root, extra);

    // Fully authenticated: alice only, through intro.
    let o = verify(&["--threshold", "1"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("PASS: 1 of the required 1"), "{out}");
    assert!(
        out.contains(&format!("✓ Test <alice@e2e.test> ({})", fpr("alice")?)),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "authenticated: {root} → <intro@e2e.test> ({}) → Test <alice@e2e.test> ({}) (amount 120)",
            fpr("intro")?,
            fpr("alice")?
        )),
        "{out}"
    );
    assert!(
        out.contains("does not authenticate the signer: no path"),
        "bob: {out}"
    );
    assert!(
        out.contains("authenticated to 60 of the 120 required"),
        "carol: {out}"
    );
    // Two are required: fails.
    let o = verify(&["--threshold", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // Partial trust is enough when asked for: alice and carol, not bob.
    let o = verify(&["--threshold", "2", "--trust-amount", "60", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    let counted: Vec<&str> = report["attestations"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["maintainer"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(counted.len(), 2, "{report}");
    assert!(
        counted.contains(&"Carol <carol@e2e.test>") && counted.contains(&"Test <alice@e2e.test>")
    );
    assert!(
        report["attestations"][0]["authenticated_by"].is_string(),
        "{report}"
    );
    // Another root, another verdict: a root is fully trusted itself, so
    // with bob as the root bob counts (alone: he certified nobody).
    let o = verify_from(&fpr("bob")?, &["--threshold", "2"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL: 1 of the required 2"), "{out}");
    assert!(out.contains("✓ Bob <bob@e2e.test>"), "{out}");
    // The same roots and amount from a maintainers file.
    let trust = dir.join("trust.toml");
    std::fs::write(
        &trust,
        format!("keyring = \"certs.pgp\"\nthreshold = 2\ntrust_roots = [\"{root}\"]\ntrust_amount = 60\n"),
    )?;
    let digest = format!("sha256:{d}");
    let o = attestlog(&[
        "verify",
        &digest,
        "--policy",
        p(&policy),
        "--maintainers",
        p(&trust),
        "--log",
        &server.endpoint(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("PASS: 2 of the required 2"), "{out}");
    assert!(!out.contains("✓ Bob"), "{out}");
    // Bad flags are refused with a clear error.
    let o = verify_from("nothex", &[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("not an OpenPGP fingerprint"),
        "{}",
        text(&o)
    );
    let o = verify(&["--trust-amount", "0"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--trust-amount must be at least 1"),
        "{}",
        text(&o)
    );
    // --certs without a root: clap names what is missing.
    let o = attestlog(&[
        "verify",
        &digest,
        "--policy",
        p(&policy),
        "--certs",
        p(&certs_file),
        "--log",
        &server.endpoint(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--trust-root"), "{}", text(&o));
    server.stop()?;
    Ok(())
}
