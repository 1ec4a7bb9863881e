//! C2SP signed-note: a text signed by one or more keys.
//!
//! ```text
//! note       = text blank-line 1*signature-line
//! text       = 1*(line)                ; UTF-8, ends in "\n"
//! blank-line = "\n"
//! signature  = "— " key-name " " base64( key-id(4, big-endian) || signature ) "\n"
//! key-name   = 1*(any character except space characters and "+")
//! ```
//!
//! The text is separated from the signatures by the *last* blank line, so a
//! text may contain blank lines of its own. The whole note must be valid
//! UTF-8 with no ASCII control characters other than newline (C2SP
//! signed-note: "Signed notes MUST be valid UTF-8 and MUST NOT contain any
//! ASCII control characters (those below U+0020) other than newline").
//!
//! Parsing checks the grammar and the limits only; [`Note::verify`] then
//! checks signatures against the keys a caller trusts. Signatures from keys
//! the caller does not know are kept, not rejected (C2SP: verifiers "MUST
//! ignore signatures from unknown keys"), so a witness can add its
//! cosignature to a note that already carries others.
//!
//! Keys and their string forms are in [`key`].

pub mod key;

pub use key::{key_id, KeyType, SignerKey, VerifierKey};

use base64::Engine as _;

/// The largest note, in bytes, that [`Note::parse`] accepts.
pub const MAX_NOTE_SIZE: usize = 1_000_000;

/// The most signature lines that [`Note::parse`] accepts.
pub const MAX_NOTE_SIGNATURES: usize = 100;

/// The prefix of every signature line: em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Standard padded base64 that ignores non-zero unused bits in the last
/// character.
const LENIENT_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Why a note could not be parsed, built or verified.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note is larger than [`MAX_NOTE_SIZE`].
    #[error("note is {size} bytes; the limit is {MAX_NOTE_SIZE}")]
    TooLarge {
        /// The size given.
        size: usize,
    },
    /// The note has more than [`MAX_NOTE_SIGNATURES`] signature lines.
    #[error("note has more than {MAX_NOTE_SIGNATURES} signatures")]
    TooManySignatures,
    /// The note is not valid UTF-8.
    #[error("note is not valid UTF-8")]
    NotUtf8,
    /// The note contains an ASCII control character other than newline.
    #[error("note contains the control character U+{0:04X}")]
    ControlCharacter(u32),
    /// The text is empty or does not end in a newline.
    #[error("note text must be non-empty and end in a newline")]
    BadText,
    /// No blank line separates the text from signature lines.
    #[error("note has no blank line followed by signatures")]
    NoSignatureBlock,
    /// A signature line does not follow the grammar.
    #[error("malformed signature line {line}: {reason}")]
    MalformedSignature {
        /// 1-based position among the signature lines.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key name is empty, or contains a space character or `+`.
    #[error("invalid key name {0:?}: names are non-empty, without spaces or '+'")]
    BadKeyName(String),
    /// A signature from a trusted key does not verify. The whole note is
    /// rejected: a known key never signs something that fails to verify.
    #[error("signature by trusted key {name} ({key_id:08x}) does not verify")]
    BadSignature {
        /// The key's name.
        name: String,
        /// The key's ID.
        key_id: u32,
    },
    /// None of the note's signatures is from a trusted key.
    #[error("note is not signed by any trusted key")]
    NoTrustedSignature,
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name, as written on the line.
    pub name: String,
    /// The first four bytes of the decoded signature: the key ID.
    pub key_id: u32,
    /// The rest of the decoded signature; its meaning depends on the key
    /// type (64 bytes of Ed25519 for type 0x01; timestamp and Ed25519
    /// signature for cosignatures).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// Formats the signature line, including its final newline.
    pub fn to_line(&self) -> String {
        let mut blob = Vec::with_capacity(4 + self.signature.len());
        blob.extend_from_slice(&self.key_id.to_be_bytes());
        blob.extend_from_slice(&self.signature);
        format!(
            "{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            base64::engine::general_purpose::STANDARD.encode(blob)
        )
    }
}

/// Something that can check a note signature: an Ed25519 note key, a witness
/// cosignature key, or a caller's own key type.
pub trait NoteVerifier {
    /// The key name signatures must carry.
    fn name(&self) -> &str;
    /// The key ID signatures must carry.
    fn key_id(&self) -> u32;
    /// Whether `signature` (the bytes after the key ID) is valid for `text`.
    fn verify(&self, text: &str, signature: &[u8]) -> bool;
}

/// A signed note: a text and its signature lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// Starts an unsigned note. The text must be non-empty, end in a
    /// newline, and contain no control characters other than newline.
    pub fn new(text: impl Into<String>) -> Result<Note, NoteError> {
        let text = text.into();
        check_characters(&text)?;
        check_text(&text)?;
        Ok(Note {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note, checking its grammar and limits but no
    /// signature (see [`Note::verify`]).
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge { size: bytes.len() });
        }
        let all = std::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?;
        check_characters(all)?;
        // C2SP: "the text is separated from the signatures by the last
        // blank line".
        let split = all.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
        let (text, sigs) = (&all[..split + 1], &all[split + 2..]);
        check_text(text)?;
        Ok(Note {
            text: text.to_owned(),
            signatures: parse_signature_block(sigs)?,
        })
    }

    /// The note text, including its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// All signature lines, in order, trusted or not.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Appends a signature line. Fails if the note already has
    /// [`MAX_NOTE_SIGNATURES`] signatures or the name is invalid.
    pub fn add_signature(&mut self, signature: NoteSignature) -> Result<(), NoteError> {
        check_key_name(&signature.name)?;
        if self.signatures.len() == MAX_NOTE_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// Removes every signature for which `drop` returns true (for example a
    /// stale cosignature that a witness is about to replace).
    pub fn remove_signatures(&mut self, mut drop: impl FnMut(&NoteSignature) -> bool) {
        self.signatures.retain(|s| !drop(s));
    }

    /// Serializes the note: text, blank line, signature lines.
    ///
    /// A note with no signatures is not a valid signed note; this still
    /// writes the text and the blank line so that callers can see it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.text.len() + 1 + 120 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
        }
        out.into_bytes()
    }

    /// Checks the note's signatures against the trusted `verifiers`.
    ///
    /// Every signature whose name and key ID match a verifier must verify,
    /// or the note is rejected ([`NoteError::BadSignature`]); at least one
    /// must match ([`NoteError::NoTrustedSignature`]). Returns the verified
    /// signatures paired with the index of the verifier that checked each.
    /// Signatures from unknown keys are ignored.
    pub fn verify<'n>(
        &'n self,
        verifiers: &[&dyn NoteVerifier],
    ) -> Result<Vec<(usize, &'n NoteSignature)>, NoteError> {
        let mut verified = Vec::new();
        for sig in &self.signatures {
            let Some(at) = verifiers
                .iter()
                .position(|v| v.key_id() == sig.key_id && v.name() == sig.name)
            else {
                continue;
            };
            if !verifiers[at].verify(&self.text, &sig.signature) {
                return Err(NoteError::BadSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            verified.push((at, sig));
        }
        if verified.is_empty() {
            return Err(NoteError::NoTrustedSignature);
        }
        Ok(verified)
    }
}

/// Parses the signature lines of a note (or of a C2SP tlog-witness 200
/// answer): one or more lines, each ending in a newline, at most
/// [`MAX_NOTE_SIGNATURES`]. Characters are checked by the caller.
pub(crate) fn parse_signature_block(sigs: &str) -> Result<Vec<NoteSignature>, NoteError> {
    if sigs.is_empty() {
        return Err(NoteError::NoSignatureBlock);
    }
    let body = sigs
        .strip_suffix('\n')
        .ok_or(NoteError::MalformedSignature {
            line: 1,
            reason: "signature block does not end in a newline",
        })?;
    let mut signatures = Vec::new();
    for (i, line) in body.split('\n').enumerate() {
        if signatures.len() == MAX_NOTE_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        signatures.push(parse_signature_line(i + 1, line)?);
    }
    Ok(signatures)
}

/// Rejects ASCII control characters other than newline.
pub(crate) fn check_characters(s: &str) -> Result<(), NoteError> {
    match s.chars().find(|&c| c < ' ' && c != '\n') {
        Some(c) => Err(NoteError::ControlCharacter(c as u32)),
        None => Ok(()),
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::BadText);
    }
    Ok(())
}

/// Checks a key name: non-empty, no Unicode space characters, no `+`.
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::BadKeyName(name.to_owned()));
    }
    Ok(())
}

fn parse_signature_line(line_no: usize, line: &str) -> Result<NoteSignature, NoteError> {
    let bad = |reason| NoteError::MalformedSignature {
        line: line_no,
        reason,
    };
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or(bad("does not start with an em dash and a space"))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or(bad("no space between key name and signature"))?;
    check_key_name(name)?;
    // Go's note package decodes signatures without checking the unused
    // bits of the last base64 character; so do we, or a line appended by
    // anyone (even from a key nobody trusts) could make us reject a note
    // that other verifiers accept. Serializing re-encodes canonically.
    let blob = LENIENT_BASE64
        .decode(b64)
        .map_err(|_| bad("signature is not standard base64"))?;
    if blob.len() < 5 {
        return Err(bad("signature is shorter than a key ID and one byte"));
    }
    let key_id = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id,
        signature: blob[4..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, seed: u8) -> SignerKey {
        SignerKey::from_seed(name, KeyType::Ed25519, [seed; 32]).unwrap()
    }

    #[test]
    fn sign_serialize_parse_verify() {
        let k = key("example.com/log", 1);
        let mut note = Note::new("hello\n\nworld\n").unwrap();
        note.add_signature(k.sign(note.text()).unwrap()).unwrap();
        let bytes = note.to_bytes();
        let parsed = Note::parse(&bytes).unwrap();
        assert_eq!(parsed, note);
        assert_eq!(parsed.text(), "hello\n\nworld\n");
        let v = k.verifier();
        let ok = parsed.verify(&[&v]).unwrap();
        assert_eq!(ok.len(), 1);
    }

    #[test]
    fn unknown_signatures_are_kept_and_ignored() {
        let (a, b) = (key("a", 1), key("b", 2));
        let mut note = Note::new("t\n").unwrap();
        note.add_signature(a.sign(note.text()).unwrap()).unwrap();
        note.add_signature(b.sign(note.text()).unwrap()).unwrap();
        let parsed = Note::parse(&note.to_bytes()).unwrap();
        assert_eq!(parsed.signatures().len(), 2);
        let vb = b.verifier();
        let ok = parsed.verify(&[&vb]).unwrap();
        assert_eq!(ok[0].1.name, "b");
        let other = key("c", 3).verifier();
        assert_eq!(parsed.verify(&[&other]), Err(NoteError::NoTrustedSignature));
    }

    #[test]
    fn tampered_text_or_signature_is_rejected() {
        let k = key("a", 1);
        let mut note = Note::new("size 1\n").unwrap();
        note.add_signature(k.sign(note.text()).unwrap()).unwrap();
        let v = k.verifier();
        let bytes = note.to_bytes();
        let mut tampered = bytes.clone();
        tampered[5] = b'2';
        let parsed = Note::parse(&tampered).unwrap();
        assert!(matches!(
            parsed.verify(&[&v]),
            Err(NoteError::BadSignature { .. })
        ));
        let mut sigbad = Note::parse(&bytes).unwrap();
        sigbad.signatures[0].signature[0] ^= 1;
        assert!(matches!(
            sigbad.verify(&[&v]),
            Err(NoteError::BadSignature { .. })
        ));
    }

    #[test]
    fn grammar_errors() {
        let k = key("a", 1);
        let line = k.sign("t\n").unwrap().to_line();
        assert!(Note::parse(format!("t\n\n{line}").as_bytes()).is_ok());
        assert_eq!(
            Note::parse(b"t\n").unwrap_err(),
            NoteError::NoSignatureBlock
        );
        assert_eq!(
            Note::parse(b"t\n\n").unwrap_err(),
            NoteError::NoSignatureBlock
        );
        assert_eq!(Note::new("").unwrap_err(), NoteError::BadText);
        assert_eq!(Note::new("no newline").unwrap_err(), NoteError::BadText);
        assert!(matches!(
            Note::parse(format!("t\n\n{}", line.trim_end()).as_bytes()),
            Err(NoteError::MalformedSignature { .. })
        ));
        assert_eq!(
            Note::parse(format!("t\n\n{line}\n").as_bytes()).unwrap_err(),
            NoteError::NoSignatureBlock
        );
        assert_eq!(
            Note::parse(format!("t\r\n\n{line}").as_bytes()).unwrap_err(),
            NoteError::ControlCharacter(0x0d)
        );
        assert_eq!(Note::parse(b"t\n\n\xff").unwrap_err(), NoteError::NotUtf8);
        assert!(matches!(
            Note::parse("t\n\n- a AAAAAAA=\n".as_bytes()),
            Err(NoteError::MalformedSignature { .. })
        ));
        assert!(matches!(
            Note::parse("t\n\n\u{2014} a AAAA\n".as_bytes()),
            Err(NoteError::MalformedSignature { .. })
        ));
        assert!(matches!(
            Note::parse("t\n\n\u{2014} a+b AAAAAAA=\n".as_bytes()),
            Err(NoteError::BadKeyName(_))
        ));
    }

    #[test]
    fn signature_base64_with_unused_bits_set_is_read_like_go() {
        // "AAAACQECAx==" and "AAAACQECAw==" decode to the same six bytes.
        let a = Note::parse("t\n\n\u{2014} k AAAACQECAx==\n".as_bytes()).unwrap();
        let b = Note::parse("t\n\n\u{2014} k AAAACQECAw==\n".as_bytes()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_bytes(), "t\n\n\u{2014} k AAAACQECAw==\n".as_bytes());
    }

    #[test]
    fn limits() {
        let big = format!("{}\n\n\u{2014} a AAAAAAA=\n", "x".repeat(MAX_NOTE_SIZE));
        assert!(matches!(
            Note::parse(big.as_bytes()),
            Err(NoteError::TooLarge { .. })
        ));
        let line = "\u{2014} a AAAAAAA=\n";
        assert!(Note::parse(format!("t\n\n{}", line.repeat(100)).as_bytes()).is_ok());
        assert_eq!(
            Note::parse(format!("t\n\n{}", line.repeat(101)).as_bytes()).unwrap_err(),
            NoteError::TooManySignatures
        );
    }
}
