//! The `attestlog-server` command line: help that teaches, key generation,
//! and clear errors for bad settings. (Having an integration test here also
//! makes `cargo test` build the binary that the end-to-end tests in
//! `tests/` start.)

use std::process::{Command, Output};

use attestlog_core::note::{KeyType, SignerKey, VerifierKey};

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_attestlog-server"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run attestlog-server")
}

#[test]
fn help_names_every_subcommand() {
    let out = run(server().arg("--help"));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["keygen", "public-key", "serve", "restore", "First run"] {
        assert!(text.contains(word), "--help lacks {word:?}:\n{text}");
    }
    let serve =
        String::from_utf8_lossy(&run(server().args(["serve", "--help"])).stdout).to_string();
    for word in [
        "--config",
        "--origin",
        "--admission",
        "--keyring",
        "SIGTERM",
        "SIGHUP",
    ] {
        assert!(
            serve.contains(word),
            "serve --help lacks {word:?}:\n{serve}"
        );
    }
}

#[test]
fn keygen_writes_a_private_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("keys/log.key");
    let out = run(server()
        .args(["keygen", "--name", "example.org/log", "--out"])
        .arg(&key));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let verifier = VerifierKey::parse(printed.trim()).unwrap();
    assert_eq!(verifier.key_type(), KeyType::Ed25519);
    let signer = SignerKey::parse(std::fs::read_to_string(&key).unwrap().trim()).unwrap();
    assert_eq!(signer.verifier(), verifier);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // public-key prints the same verifier key.
    let out = run(server().arg("public-key").arg(&key));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), printed);
    // Never overwrites.
    let again = run(server()
        .args(["keygen", "--name", "example.org/log", "--out"])
        .arg(&key));
    assert!(!again.status.success());
    assert_eq!(
        SignerKey::parse(std::fs::read_to_string(&key).unwrap().trim())
            .unwrap()
            .verifier(),
        verifier
    );
    // A witness key is a cosignature key.
    let w = dir.path().join("w.key");
    let out = run(server()
        .args([
            "keygen",
            "--kind",
            "witness",
            "--name",
            "w.example",
            "--out",
        ])
        .arg(&w));
    let wv = VerifierKey::parse(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    assert_eq!(wv.key_type(), KeyType::Cosignature);
}

#[test]
fn bad_settings_fail_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(server()
        .args(["serve", "--origin", "has space", "--data-dir"])
        .arg(dir.path()));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("origin"), "{err}");

    let out = run(server()
        .args(["serve", "--origin", "example.org/log", "--key-file"])
        .arg(dir.path().join("missing.key"))
        .arg("--data-dir")
        .arg(dir.path().join("data")));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("attestlog-server keygen"), "{err}");

    let out = run(server().args(["serve", "--admission", "keyring"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("keyring"));

    // A key named differently from the origin is refused.
    let key = dir.path().join("k");
    run(server()
        .args(["keygen", "--name", "other.org/log", "--out"])
        .arg(&key));
    let out = run(server()
        .args([
            "serve",
            "--origin",
            "example.org/log",
            "--grpc-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            "--key-file",
        ])
        .arg(&key)
        .arg("--data-dir")
        .arg(dir.path().join("data2")));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must match"));
}

/// The server's `--policy open|keyring` became `--admission` (it sat beside
/// the client's `verify --policy FILE`). The old flag still sets the
/// admission policy, here `keyring` without a keyring, which the check of
/// the configuration then refuses, and it logs a deprecation warning first.
/// `--help` shows only the new flag.
#[test]
fn deprecated_policy_flag_still_works_and_warns() {
    let out = run(server().args(["serve", "--policy", "keyring"]));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--policy is deprecated") && err.contains("use --admission"),
        "{err}"
    );
    assert!(
        err.contains("admission.policy = \"keyring\" needs admission.keyring"),
        "{err}"
    );
    let help = String::from_utf8_lossy(&run(server().args(["serve", "--help"])).stdout).to_string();
    assert!(!help.contains("--policy"), "{help}");
}

/// `restore`: help that says what it checks and promises, and failures
/// that name the fix and leave no data directory behind. (Restoring from a
/// bucket is tested in tests/restore.rs, and against a real S3 store
/// end to end.)
#[test]
fn restore_explains_itself_and_fails_cleanly() {
    let help =
        String::from_utf8_lossy(&run(server().args(["restore", "--help"])).stdout).to_string();
    for word in [
        "--config",
        "--from-bucket",
        "s3://BUCKET[/PREFIX]",
        "--data-dir",
        "--log-key",
        "must not exist",
        "continues the log from exactly",
        ".restoring",
    ] {
        assert!(
            help.contains(word),
            "restore --help lacks {word:?}:\n{help}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("log.key");
    let out = run(server()
        .args(["keygen", "--name", "example.org/log", "--out"])
        .arg(&key));
    let vkey = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    std::fs::remove_file(&key).unwrap();
    let config = dir.path().join("log.toml");
    let data_dir = dir.path().join("data");

    // No [object_store]: nothing to restore from.
    std::fs::write(&config, "origin = \"example.org/log\"\n").unwrap();
    let out = run(server().arg("restore").arg("--config").arg(&config));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[object_store]"), "{err}");

    // A bucket nobody serves: the restore fails, and data_dir (from the
    // configuration, relative to it) is not created. The verifier key is
    // given, the key file does not exist.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    std::fs::write(
        &config,
        format!(
            "origin = \"example.org/log\"\ndata_dir = \"data\"\n[object_store]\n\
             endpoint = \"http://127.0.0.1:{port}\"\nbucket = \"log\"\ntimeout_ms = 500\n"
        ),
    )
    .unwrap();
    let restore = |extra: &[&str]| {
        run(server()
            .arg("restore")
            .arg("--config")
            .arg(&config)
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", "id")
            .env("AWS_SECRET_ACCESS_KEY", "secret"))
    };
    let out = restore(&["--log-key", &vkey, "--from-bucket", "s3://other/logs/a"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s3://other/logs/a"), "{err}");
    assert!(!data_dir.exists());

    // Without --log-key, the key file is needed.
    let out = restore(&[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--log-key"), "{err}");

    let out = restore(&["--log-key", &vkey, "--from-bucket", "other/logs"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s3://BUCKET"), "{err}");
    let out = restore(&["--log-key", "not a key"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--log-key"), "{err}");
    assert!(!data_dir.exists());
}
