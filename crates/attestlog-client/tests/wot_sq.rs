//! Web-of-trust verdicts against Debian's `sq-wot`, an independent build
//! of the same engine run as a separate program, on a certification graph
//! made with real `sq` (sequoia's CLI): for every certificate, whether it
//! is fully authenticated from the root must be the same here and there.
//!
//! The graph (keys made in 2020, certifications in 2020–2021):
//! - root certifies `intro` as a trusted introducer (depth 1, amount
//!   120), and intro certifies alice: alice is authenticated through
//!   intro;
//! - root certifies bob directly;
//! - an impostor carries alice's user ID, certified by nobody;
//! - root certifies carol with amount 60: partially, not fully;
//! - root makes `intro2` a trusted introducer for `example.org` only
//!   (regular expression); intro2 certifies erin@example.org (counts) and
//!   dave@other.org (outside the expression: does not);
//! - root certified frank in 2021 with a certification that expired in
//!   2022;
//! - mallory is certified by alice, who is no introducer.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::{Cert, Fingerprint};
use attestlog_client::wot::{NotAuthenticated, WebOfTrust, FULLY};
use attestlog_e2e::sq;

/// A key `name.key` (made 2020-01-01) for `<name@domain>`, and its
/// certificate `name.cert`; returns the user ID.
fn key(dir: &Path, name: &str, domain: &str) -> String {
    let uid = format!("<{name}@{domain}>");
    sq::key(dir, name, &uid, Some("20200101")).unwrap();
    uid
}

/// `certifier` certifies `uid` on `target.cert` (updated in place).
fn certify(dir: &Path, certifier: &str, target: &str, uid: &str, flags: &[&str]) {
    sq::certify(dir, certifier, &format!("{target}.cert"), uid, flags).unwrap();
}

fn read_cert(path: &Path) -> Cert {
    Cert::from_file(path).unwrap()
}

/// `sq-wot --keyring K --trust-root R authenticate UID FPR`: fully
/// authenticated?
fn sq_wot_authenticates(
    keyring: &Path,
    root: &Fingerprint,
    uid: &str,
    target: &Fingerprint,
) -> bool {
    let out = Command::new("sq-wot")
        .arg("--keyring")
        .arg(keyring)
        .args([
            "--trust-root",
            &root.to_hex(),
            "authenticate",
            uid,
            &target.to_hex(),
        ])
        .output()
        .expect("sq-wot is installed");
    match out.status.code() {
        Some(0) => true,
        Some(1) => false,
        other => panic!(
            "sq-wot exited {other:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn verdicts_agree_with_sq_wot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut uids = Vec::new();
    for (name, domain) in [
        ("root", "example.org"),
        ("intro", "example.org"),
        ("alice", "example.org"),
        ("bob", "example.org"),
        ("carol", "example.org"),
        ("intro2", "example.org"),
        ("dave", "other.org"),
        ("erin", "example.org"),
        ("frank", "example.org"),
        ("mallory", "example.org"),
    ] {
        uids.push((name, key(d, name, domain)));
    }
    // The impostor: alice's user ID on another key.
    sq::key(d, "impostor", "<alice@example.org>", Some("20200101")).unwrap();
    uids.push(("impostor", "<alice@example.org>".into()));
    let uid = |n: &str| uids.iter().find(|(m, _)| *m == n).unwrap().1.clone();

    let at = ["--time", "20200102"];
    certify(
        d,
        "root",
        "intro",
        &uid("intro"),
        &[&at[..], &["--depth", "1", "--amount", "120"]].concat(),
    );
    certify(d, "intro", "alice", &uid("alice"), &at);
    certify(d, "root", "bob", &uid("bob"), &at);
    certify(
        d,
        "root",
        "carol",
        &uid("carol"),
        &[&at[..], &["--amount", "60"]].concat(),
    );
    certify(
        d,
        "root",
        "intro2",
        &uid("intro2"),
        &[
            &at[..],
            &[
                "--depth",
                "1",
                "--amount",
                "120",
                "--regex",
                r"<[^>]+[@.]example\.org>$",
            ],
        ]
        .concat(),
    );
    certify(d, "intro2", "dave", &uid("dave"), &at);
    certify(d, "intro2", "erin", &uid("erin"), &at);
    certify(
        d,
        "root",
        "frank",
        &uid("frank"),
        &["--time", "20210101", "--expires", "20220101"],
    );
    certify(d, "alice", "mallory", &uid("mallory"), &at);

    let names: Vec<&str> = uids.iter().map(|(n, _)| *n).collect();
    let mut keyring = Vec::new();
    let mut certs = Vec::new();
    for n in &names {
        let bytes = std::fs::read(d.join(format!("{n}.cert"))).unwrap();
        keyring.extend(&bytes);
        certs.push(read_cert(&d.join(format!("{n}.cert"))));
    }
    let keyring_path: PathBuf = d.join("keyring.pgp");
    std::fs::write(&keyring_path, &keyring).unwrap();
    let fpr = |n: &str| certs[names.iter().position(|m| *m == n).unwrap()].fingerprint();
    let root = fpr("root");

    let wot = WebOfTrust::new(
        certs.clone(),
        std::slice::from_ref(&root),
        SystemTime::now(),
    )
    .unwrap();
    let mut verdicts = Vec::new();
    for n in &names {
        let ours = wot.authenticate(&fpr(n), FULLY);
        let theirs = sq_wot_authenticates(&keyring_path, &root, &uid(n), &fpr(n));
        assert_eq!(ours.is_ok(), theirs, "{n}: ours {ours:?}");
        verdicts.push((*n, ours));
    }
    let verdict = |n: &str| &verdicts.iter().find(|(m, _)| *m == n).unwrap().1;
    // The expected graph, so that agreement is not agreement on nothing.
    for n in ["root", "intro", "alice", "bob", "intro2", "erin"] {
        assert!(verdict(n).is_ok(), "{n}: {:?}", verdict(n));
    }
    for n in ["impostor", "dave", "frank", "mallory"] {
        assert!(
            matches!(verdict(n), Err(NotAuthenticated::NoPath(_))),
            "{n}: {:?}",
            verdict(n)
        );
    }
    assert_eq!(
        verdict("carol").clone().unwrap_err(),
        NotAuthenticated::NotEnough {
            fingerprint: fpr("carol"),
            user_id: uid("carol"),
            best: 60,
            required: FULLY,
        }
    );
    // alice's path: root → intro → alice, with the user IDs certified.
    let alice = verdict("alice").clone().unwrap();
    assert_eq!(alice.user_id, uid("alice"));
    let hops: Vec<(Fingerprint, Option<String>)> = alice.paths[0]
        .hops
        .iter()
        .map(|h| (h.fingerprint.clone(), h.user_id.clone()))
        .collect();
    assert_eq!(
        hops,
        [
            (root.clone(), None),
            (fpr("intro"), Some(uid("intro"))),
            (fpr("alice"), Some(uid("alice"))),
        ]
    );
    // Partial trust is enough when little is asked.
    assert_eq!(wot.authenticate(&fpr("carol"), 60).unwrap().amount, 60);
}
