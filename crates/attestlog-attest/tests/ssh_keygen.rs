//! `SSHSIG` signatures and `allowed_signers` files against OpenSSH's own
//! `ssh-keygen` (Debian's openssh-client), run as a separate program:
//! signatures it makes with every software key type attestlog accepts
//! verify here with the fingerprint `ssh-keygen -l` prints; one for
//! another namespace, over other bytes, or by an unaccepted key type is
//! refused; security-key signatures built here (no token on this machine)
//! are accepted by `ssh-keygen -Y verify` and here alike, and one without
//! user presence is refused here; and for every (identity, key) pair of an
//! `allowed_signers` file with each option, `AllowedSigners::allows` agrees
//! with `ssh-keygen -Y verify -I`, and `principals_for` with
//! `ssh-keygen -Y find-principals` (except where that ignores
//! `namespaces=`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use attestlog_attest::ssh::{
    AllowedSigners, SshSignature, SshSignatureError, VerifiedSshSignature, NAMESPACE,
};
use ed25519_dalek::Signer as _;
use ssh_key::public::{KeyData, SkEd25519};
use ssh_key::{Algorithm, HashAlg, LineEnding, SshSig};

/// `ssh-keygen args...` in `dir`, with stdin from `input`: (success,
/// stdout, stderr). Time zone UTC, as attestlog reads `allowed_signers`
/// times.
fn ssh_keygen(dir: &Path, args: &[&str], input: Option<&Path>) -> (bool, String, String) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(args).current_dir(dir).env("TZ", "UTC");
    cmd.stdin(match input {
        Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
        None => Stdio::null(),
    });
    let out = cmd
        .output()
        .expect("ssh-keygen (openssh-client) is installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A key made by `ssh-keygen -t kind [-b bits]` in `dir/name`.
fn keygen(dir: &Path, name: &str, kind: &str, bits: Option<&str>) -> PathBuf {
    let mut args = vec!["-q", "-t", kind, "-N", "", "-C", name, "-f", name];
    if let Some(b) = bits {
        args.extend(["-b", b]);
    }
    let (ok, _, err) = ssh_keygen(dir, &args, None);
    assert!(ok, "ssh-keygen -t {kind}: {err}");
    dir.join(name)
}

/// `ssh-keygen -Y sign -n namespace -f key file`: the armored signature.
fn sign(dir: &Path, key: &Path, namespace: &str, message: &[u8]) -> Vec<u8> {
    let file = dir.join("message");
    std::fs::write(&file, message).unwrap();
    let _ = std::fs::remove_file(dir.join("message.sig"));
    let (ok, _, err) = ssh_keygen(
        dir,
        &[
            "-Y",
            "sign",
            "-n",
            namespace,
            "-f",
            key.to_str().unwrap(),
            "message",
        ],
        None,
    );
    assert!(ok, "ssh-keygen -Y sign: {err}");
    std::fs::read(dir.join("message.sig")).unwrap()
}

/// The `SHA256:...` fingerprint `ssh-keygen -l` prints for a public key.
fn fingerprint(dir: &Path, public: &Path) -> String {
    let (ok, out, err) = ssh_keygen(dir, &["-l", "-f", public.to_str().unwrap()], None);
    assert!(ok, "{err}");
    out.split_whitespace().nth(1).unwrap().to_owned()
}

fn statement() -> Vec<u8> {
    br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"hello.tar.gz","digest":{"sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}}],"predicateType":"https://attestlog.dev/reproducible-build/v1","predicate":{}}"#.to_vec()
}

fn verify(armored: &[u8], message: &[u8]) -> Result<VerifiedSshSignature, SshSignatureError> {
    SshSignature::parse(armored)?.verify(message)
}

#[test]
fn software_keys_of_every_accepted_type_verify() {
    let dir = tempfile::tempdir().unwrap();
    let message = statement();
    for (kind, bits, algorithm) in [
        ("ed25519", None, "ssh-ed25519"),
        ("ecdsa", Some("256"), "ecdsa-sha2-nistp256"),
        ("ecdsa", Some("384"), "ecdsa-sha2-nistp384"),
        ("rsa", Some("3072"), "rsa-sha2-512"),
    ] {
        let name = format!("{kind}{}", bits.unwrap_or(""));
        let key = keygen(dir.path(), &name, kind, bits);
        let sig = sign(dir.path(), &key, NAMESPACE, &message);
        let verified = verify(&sig, &message).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verified.algorithm, algorithm, "{name}");
        assert_eq!(
            verified.fingerprint,
            fingerprint(dir.path(), &key.with_extension("pub")),
            "{name}: the fingerprint ssh-keygen -l prints"
        );
        assert_eq!(verified.security_key, None);

        // Over other bytes: refused here and by ssh-keygen.
        let mut other = message.clone();
        other[10] ^= 1;
        assert!(
            matches!(
                verify(&sig, &other),
                Err(SshSignatureError::BadSignature(_))
            ),
            "{name}"
        );
        std::fs::write(dir.path().join("other"), &other).unwrap();
        std::fs::write(dir.path().join("sig"), &sig).unwrap();
        let (ok, _, _) = ssh_keygen(
            dir.path(),
            &["-Y", "check-novalidate", "-n", NAMESPACE, "-s", "sig"],
            Some(&dir.path().join("other")),
        );
        assert!(!ok, "{name}: ssh-keygen also refuses other bytes");
    }
}

#[test]
fn another_namespace_or_key_type_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let message = statement();
    let key = keygen(dir.path(), "ed", "ed25519", None);
    let git = sign(dir.path(), &key, "git", &message);
    assert_eq!(
        verify(&git, &message).unwrap_err(),
        SshSignatureError::WrongNamespace {
            found: "git".into()
        }
    );
    let p521 = keygen(dir.path(), "p521", "ecdsa", Some("521"));
    let sig = sign(dir.path(), &p521, NAMESPACE, &message);
    assert!(matches!(
        verify(&sig, &message),
        Err(SshSignatureError::UnsupportedAlgorithm(_))
    ));
    let rsa1024 = keygen(dir.path(), "rsa1024", "rsa", Some("1024"));
    let sig = sign(dir.path(), &rsa1024, NAMESPACE, &message);
    assert_eq!(
        verify(&sig, &message).unwrap_err(),
        SshSignatureError::RsaKeySize(1024)
    );
    // Not a signature at all, and one over the size limit.
    assert!(matches!(
        verify(
            b"-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n",
            &message
        ),
        Err(SshSignatureError::Malformed(_))
    ));
    assert!(matches!(
        verify(&vec![b'A'; 100_000], &message),
        Err(SshSignatureError::TooLarge(100_000))
    ));
}

/// An `sk-ssh-ed25519@openssh.com` signature as a FIDO token makes it:
/// the token signs SHA-256(application) || flags || counter ||
/// SHA-256(the SSHSIG signed data).
fn security_key_signature(
    key: &ed25519_dalek::SigningKey,
    message: &[u8],
    flags: u8,
    counter: u32,
) -> (KeyData, Vec<u8>) {
    use sha2::{Digest as _, Sha256};
    let application = "ssh:";
    let public = KeyData::SkEd25519(SkEd25519::new(
        ssh_key::public::Ed25519PublicKey(key.verifying_key().to_bytes()),
        application.to_owned(),
    ));
    let blob = SshSig::signed_data(NAMESPACE, HashAlg::Sha512, message).unwrap();
    let mut signed = Vec::new();
    signed.extend(Sha256::digest(application.as_bytes()));
    signed.push(flags);
    signed.extend(counter.to_be_bytes());
    signed.extend(Sha256::digest(&blob));
    let mut data = key.sign(&signed).to_bytes().to_vec();
    data.push(flags);
    data.extend(counter.to_be_bytes());
    let signature = ssh_key::Signature::new(Algorithm::SkEd25519, data).unwrap();
    let sig = SshSig::new(public.clone(), NAMESPACE, HashAlg::Sha512, signature).unwrap();
    (public, sig.to_pem(LineEnding::LF).unwrap().into_bytes())
}

#[test]
fn security_key_signatures_need_user_presence() {
    let dir = tempfile::tempdir().unwrap();
    let message = statement();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let (public, touched) = security_key_signature(&key, &message, 0x01, 42);
    let verified = verify(&touched, &message).unwrap();
    assert_eq!(verified.algorithm, "sk-ssh-ed25519@openssh.com");
    let sk = verified.security_key.unwrap();
    assert!(sk.user_present() && !sk.user_verified());
    assert_eq!(sk.counter, 42);

    // ssh-keygen accepts the same signature from an allowed signer.
    let public_line = ssh_key::PublicKey::from(public.clone())
        .to_openssh()
        .unwrap();
    std::fs::write(
        dir.path().join("allowed"),
        format!("token@example.org {public_line}\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("message"), &message).unwrap();
    std::fs::write(dir.path().join("sig"), &touched).unwrap();
    let args = [
        "-Y",
        "verify",
        "-f",
        "allowed",
        "-I",
        "token@example.org",
        "-n",
        NAMESPACE,
        "-s",
        "sig",
    ];
    let (ok, _, err) = ssh_keygen(dir.path(), &args, Some(&dir.path().join("message")));
    assert!(
        ok,
        "ssh-keygen -Y verify of the security-key signature: {err}"
    );

    // Not touched: refused here, with the flags.
    let (_, untouched) = security_key_signature(&key, &message, 0x00, 43);
    assert_eq!(
        verify(&untouched, &message).unwrap_err(),
        SshSignatureError::UserPresenceMissing { flags: 0 }
    );
    // ssh-keygen accepts it unless the allowed_signers line says
    // otherwise: the difference docs/SPEC.md §6.10 states.
    std::fs::write(dir.path().join("sig"), &untouched).unwrap();
    let (ok, _, err) = ssh_keygen(dir.path(), &args, Some(&dir.path().join("message")));
    assert!(ok, "ssh-keygen -Y verify without user presence: {err}");
    // Touched and PIN-verified: accepted, both flags seen.
    let (_, verified_pin) = security_key_signature(&key, &message, 0x05, 44);
    let sk = verify(&verified_pin, &message)
        .unwrap()
        .security_key
        .unwrap();
    assert!(sk.user_present() && sk.user_verified());
    // Flags changed after signing break the signature: the token signed
    // them.
    let sig = SshSig::from_pem(&touched).unwrap();
    let mut data = sig.signature_bytes().to_vec();
    let flags_at = data.len() - 5;
    data[flags_at] = 0x05;
    let forged = SshSig::new(
        sig.public_key().clone(),
        NAMESPACE,
        HashAlg::Sha512,
        ssh_key::Signature::new(Algorithm::SkEd25519, data).unwrap(),
    )
    .unwrap()
    .to_pem(LineEnding::LF)
    .unwrap();
    assert!(matches!(
        verify(forged.as_bytes(), &message),
        Err(SshSignatureError::BadSignature(_))
    ));
}

/// Seconds since the epoch now.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn allowed_signers_agree_with_ssh_keygen() {
    let dir = tempfile::tempdir().unwrap();
    let message = statement();
    std::fs::write(dir.path().join("message"), &message).unwrap();
    let names = ["alice", "bob", "carol", "dave", "erin", "frank"];
    let keys: Vec<PathBuf> = names
        .iter()
        .map(|n| keygen(dir.path(), n, "ed25519", None))
        .collect();
    let public = |i: usize| {
        std::fs::read_to_string(keys[i].with_extension("pub"))
            .unwrap()
            .trim()
            .to_owned()
    };
    let text = format!(
        "# maintainers\n\
         alice@example.org,alice@debian.org namespaces=\"attestlog,git\" {}\n\
         bob@example.org valid-before=\"20200101\" {}\n\
         carol@example.org namespaces=\"git\" {}\n\
         *@builders.example.org,!mallory@builders.example.org {}\n\
         \"erin@example.org\" cert-authority {}\n\
         frank@example.org valid-after=\"20200101Z\",valid-before=\"29991231235959\" {}\n",
        public(0),
        public(1),
        public(2),
        public(3),
        public(4),
        public(5),
    );
    std::fs::write(dir.path().join("allowed"), &text).unwrap();
    let allowed = AllowedSigners::parse(&text).unwrap();
    assert_eq!(allowed.entries.len(), 6);
    let identities = [
        "alice@example.org",
        "alice@debian.org",
        "bob@example.org",
        "carol@example.org",
        "dave@builders.example.org",
        "mallory@builders.example.org",
        "erin@example.org",
        "frank@example.org",
        "nobody@example.org",
    ];
    let mut checked = 0;
    for (k, key) in keys.iter().enumerate() {
        let sig = sign(dir.path(), key, NAMESPACE, &message);
        std::fs::write(dir.path().join("sig"), &sig).unwrap();
        let parsed = SshSignature::parse(&sig).unwrap();
        let signer = parsed.verify(&message).unwrap().key;
        for identity in identities {
            let (theirs, _, _) = ssh_keygen(
                dir.path(),
                &[
                    "-Y", "verify", "-f", "allowed", "-I", identity, "-n", NAMESPACE, "-s", "sig",
                ],
                Some(&dir.path().join("message")),
            );
            let ours = allowed.allows(identity, &signer, NAMESPACE, now());
            assert_eq!(ours, theirs, "key {} as {identity}", names[k]);
            checked += usize::from(ours);
        }
        let (found, out, _) = ssh_keygen(
            dir.path(),
            &[
                "-Y",
                "find-principals",
                "-f",
                "allowed",
                "-n",
                NAMESPACE,
                "-s",
                "sig",
            ],
            None,
        );
        let theirs: Vec<String> = if found {
            out.lines()
                .flat_map(|l| l.split(','))
                .map(str::to_owned)
                .collect()
        } else {
            Vec::new()
        };
        let ours: Vec<String> = allowed
            .principals_for(&signer, NAMESPACE, now())
            .into_iter()
            .map(str::to_owned)
            .collect();
        if names[k] == "carol" {
            // `ssh-keygen -Y find-principals` ignores `namespaces=`;
            // attestlog does not: a key limited to `git` signs as nobody
            // in the attestlog namespace.
            assert_eq!(theirs, ["carol@example.org"]);
            assert!(ours.is_empty(), "{ours:?}");
        } else {
            assert_eq!(ours, theirs, "find-principals for key {}", names[k]);
        }
    }
    // alice twice, dave, frank: the test saw both verdicts.
    assert_eq!(checked, 4);
}

#[test]
fn malformed_allowed_signers_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "k", "ed25519", None);
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let public = public.trim();
    for (text, line) in [
        (format!("\n\na@x unknown-option {public}\n"), 3),
        (format!("a@x valid-before=\"2020\" {public}\n"), 1),
        (format!("# c\na@x namespaces=\"git {public}\n"), 2),
        ("a@x ssh-ed25519 AAAAnotbase64!\n".to_owned(), 1),
        (format!("a@x,,b@x {public}\n"), 1),
        ("lonely\n".to_owned(), 1),
    ] {
        match AllowedSigners::parse(&text) {
            Err(attestlog_attest::ssh::AllowedSignersError::Line { line: l, .. }) => {
                assert_eq!(l, line, "{text:?}")
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
}
