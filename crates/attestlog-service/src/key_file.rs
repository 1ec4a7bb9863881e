//! Signer key files: one line, `PRIVATE+KEY+<name>+<id>+<key>` (a C2SP
//! signed-note signer key), readable only by its owner. The log keeps its
//! checkpoint key (Ed25519, 0x01) in one, a witness its cosignature key
//! (cosignature/v1, 0x04).
//!
//! [`generate`] creates the file with mode 0600 and never overwrites one;
//! [`read`] accepts whitespace around the key (an editor's final newline)
//! and [`read_as`] also checks the key's type and name.

use std::io::Write as _;
use std::path::Path;

use attestlog_core::note::{KeyType, SignerKey};
use attestlog_core::rand_core::OsRng;

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// I/O on the file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The contents are not a signer key.
    #[error("{path}: not a signer key: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The name to generate a key for is not a valid key name.
    #[error("{reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// Why it is invalid (the core's message, which quotes the name).
        reason: String,
    },
    /// The key is of another type than the one needed.
    #[error("{path} is not a {expected} key")]
    WrongType {
        /// The file.
        path: String,
        /// The type needed, e.g. `cosignature/v1 (0x04)`.
        expected: &'static str,
    },
    /// The key's name is not the configured one.
    #[error("the key in {path} is named {found:?} but the configuration says name = {expected:?}")]
    WrongName {
        /// The file.
        path: String,
        /// The key's name.
        found: String,
        /// The configured name.
        expected: String,
    },
}

/// How a key type is named in messages.
fn type_name(t: KeyType) -> &'static str {
    match t {
        KeyType::Ed25519 => "Ed25519 (0x01)",
        KeyType::Cosignature => "cosignature/v1 (0x04)",
    }
}

/// Reads a signer key from `path`.
pub fn read(path: &Path) -> Result<SignerKey, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    SignerKey::parse(text.trim()).map_err(|e| KeyFileError::Parse {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Reads a signer key from `path` and checks that it is of `key_type` and
/// named `name`.
pub fn read_as(path: &Path, key_type: KeyType, name: &str) -> Result<SignerKey, KeyFileError> {
    let key = read(path)?;
    if key.key_type() != key_type {
        return Err(KeyFileError::WrongType {
            path: path.display().to_string(),
            expected: type_name(key_type),
        });
    }
    if key.name() != name {
        return Err(KeyFileError::WrongName {
            path: path.display().to_string(),
            found: key.name().to_owned(),
            expected: name.to_owned(),
        });
    }
    Ok(key)
}

/// Generates a key named `name` of `key_type` and writes it to `path`
/// (mode 0600, creating missing parent directories), refusing to
/// overwrite an existing file.
pub fn generate(path: &Path, name: &str, key_type: KeyType) -> Result<SignerKey, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    };
    let key =
        SignerKey::generate(name, key_type, &mut OsRng).map_err(|e| KeyFileError::InvalidName {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io)?;
    writeln!(f, "{}", key.to_key_string()).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins what the log's and the witness's `keygen` both do now: mode
    /// 0600, parent directories created, an existing file never replaced
    /// (its key stays), and the key read back equal.
    #[test]
    fn generate_private_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/w.key");
        let key = generate(&path, "witness.example/w1", KeyType::Cosignature).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(read(&path).unwrap().verifier(), key.verifier());
        let again = generate(&path, "witness.example/w1", KeyType::Cosignature);
        assert!(
            matches!(again, Err(KeyFileError::Io { ref source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists),
            "{again:?}"
        );
        assert_eq!(read(&path).unwrap().verifier(), key.verifier());
        assert!(matches!(
            generate(&dir.path().join("x"), "has space", KeyType::Ed25519),
            Err(KeyFileError::InvalidName { .. })
        ));
    }

    /// Pins the witness's stricter reading, now shared: the type and the
    /// name must be the expected ones; whitespace around the key is fine.
    #[test]
    fn read_as_checks_type_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = generate(&path, "log.example/log", KeyType::Ed25519).unwrap();
        assert_eq!(
            read_as(&path, KeyType::Ed25519, "log.example/log")
                .unwrap()
                .verifier(),
            key.verifier()
        );
        let wrong_type = read_as(&path, KeyType::Cosignature, "log.example/log").unwrap_err();
        assert_eq!(
            wrong_type.to_string(),
            format!("{} is not a cosignature/v1 (0x04) key", path.display())
        );
        let wrong_name = read_as(&path, KeyType::Ed25519, "other").unwrap_err();
        assert!(matches!(wrong_name, KeyFileError::WrongName { .. }));
        assert!(wrong_name.to_string().contains("\"log.example/log\""));

        let padded = dir.path().join("padded");
        std::fs::write(&padded, format!("  {}\r\n\n", key.to_key_string())).unwrap();
        assert_eq!(read(&padded).unwrap().verifier(), key.verifier());
        std::fs::write(&padded, "PRIVATE+KEY+nonsense\n").unwrap();
        assert!(matches!(read(&padded), Err(KeyFileError::Parse { .. })));
        assert!(matches!(
            read(&dir.path().join("missing")),
            Err(KeyFileError::Io { .. })
        ));
    }
}
