//! The log's signing key file: one line, `PRIVATE+KEY+<origin>+<id>+<key>`
//! (a C2SP signed-note signer key), readable only by its owner.

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

/// Generates a key named `name` of `key_type` and writes it to `path`
/// (mode 0600), refusing to overwrite an existing file.
pub fn generate(path: &Path, name: &str, key_type: KeyType) -> Result<SignerKey, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    };
    let key = SignerKey::generate(name, key_type, &mut OsRng).map_err(|e| KeyFileError::Parse {
        path: path.display().to_string(),
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
