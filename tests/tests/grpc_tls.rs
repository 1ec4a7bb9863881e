//! gRPC over TLS (issue #13, hole 9): the real `attestlog-server` serving
//! its gRPC port with a certificate made by the real `openssl`, and the
//! real `attestlog` CLI talking to it with an `https://` URL.
//!
//! 1. `attestlog submit` and `attestlog verify` over https://, trusting the
//!    log's CA with `--log-ca`, succeed;
//! 2. without `--log-ca` (the certificate is not issued by a CA the system
//!    trusts) the connection is refused, saying why;
//! 3. a plain http:// client on the TLS port gets no answer it can use, and
//!    the log keeps serving.
//!
//! On a0c9f2b there was no TLS: `--tls-cert` did not exist and `https://`
//! URLs failed to connect.

use std::process::Command;

use attestlog_e2e::cli::{attestlog, p, text};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::{log_keygen, run, statement, LogServer};

const ORIGIN: &str = "tls.test/log";

#[test]
fn grpc_over_tls() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    // A private CA, and a certificate for 127.0.0.1 it issued.
    let path = |name: &str| dir.join(name);
    let (ca, ca_key) = (path("ca.pem"), path("ca-key.pem"));
    let (cert, key, csr) = (path("tls-cert.pem"), path("tls-key.pem"), path("tls.csr"));
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-days",
            "1",
            "-subj",
            "/CN=attestlog test CA",
        ])
        .args(ec)
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-keyout", p(&ca_key), "-out", p(&ca)]))?;
    run(Command::new("openssl")
        .args(["req", "-subj", "/CN=attestlog test log"])
        .args(ec)
        .args(["-keyout", p(&key), "-out", p(&csr)]))?;
    let ext = path("leaf.ext");
    std::fs::write(
        &ext,
        "basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )?;
    run(Command::new("openssl").args([
        "x509",
        "-req",
        "-days",
        "1",
        "-in",
        p(&csr),
        "-CA",
        p(&ca),
        "-CAkey",
        p(&ca_key),
        "-CAcreateserial",
        "-extfile",
        p(&ext),
        "-out",
        p(&cert),
    ]))?;
    let vkey = log_keygen(dir, ORIGIN)?;
    let server = LogServer::start(dir, ORIGIN, &["--tls-cert", p(&cert), "--tls-key", p(&key)])?;
    let https = format!("https://127.0.0.1:{}", server.grpc.port());

    // 1.
    let mut m = Maintainer::new("TLS <tls@example.org>");
    let digest = "7e".repeat(32);
    let st = statement("tls.tar.gz", &digest);
    let (stf, sigf, certf) = (dir.join("st.json"), dir.join("st.sig"), dir.join("m.pgp"));
    std::fs::write(&stf, &st)?;
    std::fs::write(&sigf, m.sign(&st))?;
    std::fs::write(&certf, &m.cert)?;
    let submit = |extra: &[&str]| {
        let mut args = vec![
            "submit",
            p(&stf),
            "--signature",
            p(&sigf),
            "--certificate",
            p(&certf),
            "--log-key",
            &vkey,
            "--log",
            &https,
        ];
        args.extend_from_slice(extra);
        attestlog(&args)
    };
    let o = submit(&["--log-ca", p(&ca)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let policy = dir.join("log.policy");
    std::fs::write(&policy, format!("log {vkey}\nquorum none\n"))?;
    let keyring = dir.join("keyring");
    std::fs::create_dir(&keyring)?;
    std::fs::write(keyring.join("m.pgp"), &m.cert)?;
    let o = attestlog(&[
        "verify",
        &format!("sha256:{digest}"),
        "--policy",
        p(&policy),
        "--keyring",
        p(&keyring),
        "--log",
        &https,
        "--log-ca",
        p(&ca),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // 2.
    let o = submit(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_lowercase();
    assert!(
        err.contains("certificate") && err.contains("cannot connect"),
        "{}",
        text(&o)
    );

    // 3.
    let o = attestlog(&[
        "verify",
        &format!("sha256:{digest}"),
        "--policy",
        p(&policy),
        "--keyring",
        p(&keyring),
        "--log",
        &server.endpoint(),
    ]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let o = submit(&["--log-ca", p(&ca)]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "the log still serves: {}",
        text(&o)
    );
    Ok(())
}
