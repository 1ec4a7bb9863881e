//! C2SP tlog-checkpoint: the signed statement of a log's size and root.
//!
//! ```text
//! checkpoint = origin "\n" size "\n" root "\n" *(extension "\n")
//! origin     = 1*(any character but newline)  ; unique log identity, e.g. "example.com/log"
//! size       = "0" / (%x31-39 *DIGIT)         ; decimal, no leading zeros
//! root       = base64(32-byte RFC 9162 root hash), standard alphabet, padded
//! extension  = 1*(any character but newline)  ; opaque, empty lines not allowed
//! ```
//!
//! A checkpoint is the *text* of a signed note ([`crate::note`]); the log's
//! signature and witnesses' cosignatures are the note's signature lines.
//! Parsing is strict: every deviation from the grammar is an error, so that
//! two parties never disagree about what a signed checkpoint says.

use base64::Engine as _;

use crate::hash::Hash;
use crate::note::{Note, NoteError, NoteVerifier};
use crate::text::parse_decimal_u64;
use crate::tree::MAX_TREE_SIZE;

/// The most extension lines [`Checkpoint::parse`] accepts.
pub const MAX_EXTENSION_LINES: usize = 100;

/// Why a checkpoint text could not be parsed or built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text does not end in a newline, or has fewer than three lines.
    #[error("checkpoint must have origin, size and root lines, each ending in a newline")]
    MissingLines,
    /// The origin line is empty.
    #[error("checkpoint origin line is empty")]
    EmptyOrigin,
    /// The size line is not a canonical decimal number.
    #[error("checkpoint size {0:?} is not a decimal number without leading zeros")]
    BadSize(String),
    /// The size is above 2^63.
    #[error("checkpoint size {0} is larger than 2^63")]
    SizeTooLarge(u64),
    /// The root line is not the canonical base64 of 32 bytes.
    #[error("checkpoint root {0:?} is not the base64 of a 32-byte hash")]
    BadRoot(String),
    /// An extension line is empty.
    #[error("checkpoint extension line {0} is empty")]
    EmptyExtension(usize),
    /// More than [`MAX_EXTENSION_LINES`] extension lines.
    #[error("checkpoint has more than {MAX_EXTENSION_LINES} extension lines")]
    TooManyExtensions,
    /// The origin or an extension contains a control character.
    #[error("checkpoint line contains a control character")]
    ControlCharacter,
    /// The origin is not the one expected.
    #[error("checkpoint is for log {got:?}, expected {expected:?}")]
    WrongOrigin {
        /// The origin the caller expects.
        expected: String,
        /// The origin in the checkpoint.
        got: String,
    },
    /// The signed note around the checkpoint is invalid or not trusted.
    #[error(transparent)]
    Note(#[from] NoteError),
}

/// A parsed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The RFC 9162 root hash of the first `size` leaves.
    pub root: Hash,
    /// Extension lines, without their newlines.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Checkpoint {
        Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Parses checkpoint text (a note's text, with its final newline).
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingLines)?;
        if body.chars().any(|c| c < ' ' && c != '\n') {
            return Err(CheckpointError::ControlCharacter);
        }
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::MissingLines);
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(size)?;
        let root = parse_root(root)?;
        let mut extensions = Vec::new();
        for (i, line) in lines.enumerate() {
            if line.is_empty() {
                return Err(CheckpointError::EmptyExtension(i + 1));
            }
            if extensions.len() == MAX_EXTENSION_LINES {
                return Err(CheckpointError::TooManyExtensions);
            }
            extensions.push(line.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The checkpoint text, ending in a newline. Checks the same rules as
    /// [`Checkpoint::parse`], so that what we sign we could also read.
    pub fn to_text(&self) -> Result<String, CheckpointError> {
        let root = base64::engine::general_purpose::STANDARD.encode(self.root.0);
        let mut text = format!("{}\n{}\n{}\n", self.origin, self.size, root);
        for e in &self.extensions {
            text.push_str(e);
            text.push('\n');
        }
        let check = Checkpoint::parse(&text)?;
        if check != *self {
            // Only reachable through newlines inside origin or extensions.
            return Err(CheckpointError::ControlCharacter);
        }
        Ok(text)
    }

    /// Parses a signed checkpoint note, verifies it against the log's key
    /// (and any other required verifiers), and checks the origin.
    ///
    /// Returns the checkpoint and the parsed note, whose other signatures
    /// (for example witness cosignatures) the caller may go on to check.
    pub fn open(
        note_bytes: &[u8],
        origin: &str,
        log_key: &dyn NoteVerifier,
    ) -> Result<(Checkpoint, Note), CheckpointError> {
        let note = Note::parse(note_bytes)?;
        let cp = Checkpoint::parse(note.text())?;
        if cp.origin != origin {
            return Err(CheckpointError::WrongOrigin {
                expected: origin.to_owned(),
                got: cp.origin,
            });
        }
        note.verify(&[log_key])?;
        Ok((cp, note))
    }
}

fn parse_size(s: &str) -> Result<u64, CheckpointError> {
    let size = parse_decimal_u64(s).map_err(|_| CheckpointError::BadSize(s.to_owned()))?;
    if size > MAX_TREE_SIZE {
        return Err(CheckpointError::SizeTooLarge(size));
    }
    Ok(size)
}

fn parse_root(s: &str) -> Result<Hash, CheckpointError> {
    let bad = || CheckpointError::BadRoot(s.to_owned());
    if s.len() != 44 {
        return Err(bad());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| bad())?;
    // The base64 engine rejects non-zero trailing bits, so a 32-byte result
    // from 44 characters is the canonical encoding.
    Hash::from_slice(&bytes).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::note::{KeyType, SignerKey};

    fn sample() -> Checkpoint {
        Checkpoint {
            origin: "example.com/log".into(),
            size: 12345,
            root: leaf_hash(b"root"),
            extensions: vec!["— extension with spaces".into()],
        }
    }

    #[test]
    fn round_trip() {
        let cp = sample();
        let text = cp.to_text().unwrap();
        assert_eq!(Checkpoint::parse(&text).unwrap(), cp);
        let plain = Checkpoint::new("o", 0, Hash::EMPTY_ROOT);
        assert_eq!(
            plain.to_text().unwrap(),
            "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        );
    }

    #[test]
    fn strictness() {
        let good = sample().to_text().unwrap();
        let lines: Vec<&str> = good.lines().collect();
        let with = |i: usize, v: &str| {
            let mut l = lines.clone();
            l[i] = v;
            format!("{}\n", l.join("\n"))
        };
        assert_eq!(
            Checkpoint::parse(&with(0, "")),
            Err(CheckpointError::EmptyOrigin)
        );
        for bad in ["012", "", "+1", "1 ", "-1", "0x10", "18446744073709551616"] {
            assert!(matches!(
                Checkpoint::parse(&with(1, bad)),
                Err(CheckpointError::BadSize(_))
            ));
        }
        assert_eq!(
            Checkpoint::parse(&with(1, "9223372036854775809")),
            Err(CheckpointError::SizeTooLarge(9223372036854775809))
        );
        let root = lines[2];
        for bad in [
            &root[..43],
            "AAAA",
            &format!("{root}="),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=",
        ] {
            assert!(
                matches!(
                    Checkpoint::parse(&with(2, bad)),
                    Err(CheckpointError::BadRoot(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            Checkpoint::parse(&format!("{good}\n")),
            Err(CheckpointError::EmptyExtension(2))
        );
        assert_eq!(
            Checkpoint::parse(good.trim_end()),
            Err(CheckpointError::MissingLines)
        );
        assert_eq!(
            Checkpoint::parse("o\n1\n"),
            Err(CheckpointError::MissingLines)
        );
        assert_eq!(
            Checkpoint::parse(&with(0, "o\tx")),
            Err(CheckpointError::ControlCharacter)
        );
        let mut nl = sample();
        nl.origin = "a\nb".into();
        assert!(nl.to_text().is_err());
    }

    #[test]
    fn open_checks_origin_and_signature() {
        let k = SignerKey::from_seed("example.com/log", KeyType::Ed25519, [3; 32]).unwrap();
        let text = sample().to_text().unwrap();
        let mut note = Note::new(text).unwrap();
        note.add_signature(k.sign(note.text()).unwrap()).unwrap();
        let bytes = note.to_bytes();
        let v = k.verifier();
        let (cp, _) = Checkpoint::open(&bytes, "example.com/log", &v).unwrap();
        assert_eq!(cp, sample());
        assert!(matches!(
            Checkpoint::open(&bytes, "other", &v),
            Err(CheckpointError::WrongOrigin { .. })
        ));
        let other = SignerKey::from_seed("example.com/log", KeyType::Ed25519, [4; 32])
            .unwrap()
            .verifier();
        assert!(matches!(
            Checkpoint::open(&bytes, "example.com/log", &other),
            Err(CheckpointError::Note(NoteError::NoTrustedSignature))
        ));
    }
}
