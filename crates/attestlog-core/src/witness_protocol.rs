//! The C2SP tlog-witness wire format (<https://c2sp.org/tlog-witness>): the
//! `add-checkpoint` request body, the 409 size body and the cosignature
//! lines of a 200 answer. Both sides use it: the witness parses requests
//! and writes answers, the log writes requests and parses answers.
//!
//! ```text
//! request      = old-line *proof-line "\n" checkpoint-note
//! old-line     = "old " decimal "\n"      ; crate::text: no leading zeros
//! proof-line   = hash "\n"                ; standard base64 of 32 bytes, ≤ 63 lines
//! checkpoint-note                         ; a C2SP signed note (crate::note), not parsed here
//!
//! response-200 = 1*signature-line         ; "— " name " " base64(...) "\n" (crate::note)
//! response-409 = decimal "\n"             ; Content-Type: text/x.tlog.size
//! ```
//!
//! Only the bytes are read and written here: no HTTP (statuses and headers
//! stay with the callers), no signature, origin or proof checks (the
//! witness's rules, and the log's check of the cosignature it asked for).

use crate::note::MAX_NOTE_SIZE;
use crate::note::{check_characters, parse_signature_block, NoteError, NoteSignature};
use crate::proof::{parse_base64_hash, to_base64_lines, MAX_PROOF_HASHES};
use crate::text::parse_decimal_u64_bytes;
use crate::Hash;

/// The largest request body accepted: a note of at most 1 MiB plus room
/// for the old size and proof lines.
pub const MAX_REQUEST_SIZE: usize = 1024 * 1024 + 64 * 1024;

/// C2SP tlog-witness: "The client MUST NOT send more than 63 consistency
/// proof lines."
pub const MAX_PROOF_LINES: usize = MAX_PROOF_HASHES;

/// The content type of a 409 body (C2SP tlog-witness: "The response MUST
/// have a `Content-Type` of `text/x.tlog.size`.").
pub const CONTENT_TYPE_TLOG_SIZE: &str = "text/x.tlog.size";

/// Why a tlog-witness body does not follow the wire format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WitnessProtocolError {
    /// The request body is larger than [`MAX_REQUEST_SIZE`].
    #[error("request body of {0} bytes is over the limit of {MAX_REQUEST_SIZE}")]
    RequestTooLarge(usize),
    /// The request body does not follow the grammar; says where.
    #[error("malformed add-checkpoint request: {0}")]
    MalformedRequest(&'static str),
    /// A 409 body is not a canonical decimal and one newline.
    #[error("malformed 409 body: {0}")]
    MalformedConflictSize(&'static str),
    /// A 200 body is not a sequence of note signature lines.
    #[error("malformed cosignature lines: {0}")]
    MalformedCosignatures(#[source] NoteError),
}

/// An `add-checkpoint` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// The size of the checkpoint the client believes the witness holds.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, byte for byte.
    pub checkpoint: Vec<u8>,
}

impl AddCheckpointRequest {
    /// Parses a request body: the grammar and the limits only.
    pub fn parse(body: &[u8]) -> Result<AddCheckpointRequest, WitnessProtocolError> {
        let bad = WitnessProtocolError::MalformedRequest;
        if body.len() > MAX_REQUEST_SIZE {
            return Err(WitnessProtocolError::RequestTooLarge(body.len()));
        }
        let mut rest = body;
        // C2SP tlog-witness: "Each line MUST terminate in a newline
        // character (U+000A)."
        let mut next_line = || -> Result<&[u8], WitnessProtocolError> {
            let at = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or(bad("a line does not end in a newline"))?;
            let line = &rest[..at];
            rest = &rest[at + 1..];
            Ok(line)
        };
        // C2SP tlog-witness: "The old size line MUST consist of the string
        // `old`, a single space (0x20), and the tree size of the previous
        // checkpoint encoded as an ASCII decimal with no leading zeroes
        // (unless the size is zero, in which case the encoding MUST be `0`)."
        let old = next_line()?
            .strip_prefix(b"old ")
            .ok_or(bad("the first line is not \"old <size>\""))?;
        let old_size = parse_decimal_u64_bytes(old)
            .map_err(|_| bad("the old size is not a canonical decimal"))?;
        let mut proof = Vec::new();
        loop {
            let line = next_line()?;
            if line.is_empty() {
                break;
            }
            // C2SP tlog-witness: "Each consistency proof line MUST encode a
            // single hash in base64. The client MUST NOT send more than 63
            // consistency proof lines."
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad("more than 63 consistency proof lines"));
            }
            let text = std::str::from_utf8(line).map_err(|_| bad("proof line is not ASCII"))?;
            proof
                .push(parse_base64_hash(text).map_err(|_| bad("proof line is not a base64 hash"))?);
        }
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            checkpoint: rest.to_vec(),
        })
    }

    /// Serializes the request body. Limits are not checked: a caller (a
    /// test) may write a request that [`AddCheckpointRequest::parse`]
    /// refuses.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            format!("old {}\n{}\n", self.old_size, to_base64_lines(&self.proof)).into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }
}

/// The body of a 409 answer: the witness's size and a newline.
pub fn encode_conflict_size(size: u64) -> String {
    format!("{size}\n")
}

/// Parses the body of a 409 answer.
///
/// C2SP tlog-witness: "The response body MUST consist of the tree size of
/// the latest cosigned checkpoint in decimal, followed by a newline
/// (U+000A)." Read strictly, as the old size line: a canonical decimal
/// ([`crate::text`]) and exactly one newline; no sign, no spaces, no `\r`.
pub fn parse_conflict_size(body: &[u8]) -> Result<u64, WitnessProtocolError> {
    let bad = WitnessProtocolError::MalformedConflictSize;
    let digits = body
        .strip_suffix(b"\n")
        .ok_or(bad("the size is not followed by a newline"))?;
    parse_decimal_u64_bytes(digits).map_err(|_| bad("the size is not a canonical decimal"))
}

/// The body of a 200 answer: the cosignature lines.
pub fn encode_cosignature_lines(signatures: &[NoteSignature]) -> String {
    signatures.iter().map(NoteSignature::to_line).collect()
}

/// Parses the body of a 200 answer into its signature lines, checking none
/// of them (the caller keeps those from keys it trusts and verifies them).
///
/// C2SP tlog-witness: "The response body MUST be a sequence of one or more
/// note signature lines, each starting with the `—` character (U+2014) and
/// ending with a newline character (U+000A)." The lines follow the signed
/// note grammar and limits ([`crate::note`]): UTF-8 without control
/// characters, at most [`crate::note::MAX_NOTE_SIGNATURES`] lines, at most
/// [`MAX_NOTE_SIZE`] bytes.
pub fn parse_cosignature_lines(body: &[u8]) -> Result<Vec<NoteSignature>, WitnessProtocolError> {
    let bad = WitnessProtocolError::MalformedCosignatures;
    if body.len() > MAX_NOTE_SIZE {
        return Err(bad(NoteError::TooLarge { size: body.len() }));
    }
    let text = std::str::from_utf8(body).map_err(|_| bad(NoteError::NotUtf8))?;
    check_characters(text).map_err(bad)?;
    parse_signature_block(text).map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf_hash;
    use crate::note::{KeyType, SignerKey, MAX_NOTE_SIGNATURES};
    use proptest::prelude::*;

    fn sample() -> AddCheckpointRequest {
        AddCheckpointRequest {
            old_size: 20,
            proof: vec![leaf_hash(b"a"), leaf_hash(b"b")],
            checkpoint: "o\n30\nAAAA\n\n— o AAAA\n".as_bytes().to_vec(),
        }
    }

    #[test]
    fn request_round_trip() {
        let r = sample();
        assert_eq!(AddCheckpointRequest::parse(&r.to_bytes()).unwrap(), r);
        let empty = AddCheckpointRequest {
            old_size: 0,
            proof: vec![],
            checkpoint: b"x\n".to_vec(),
        };
        assert_eq!(empty.to_bytes(), b"old 0\n\nx\n");
        assert_eq!(
            AddCheckpointRequest::parse(&empty.to_bytes()).unwrap(),
            empty
        );
    }

    #[test]
    fn malformed_requests() {
        let good = String::from_utf8(sample().to_bytes()).unwrap();
        for bad in [
            String::new(),
            "old 1".into(),
            "old 01\n\n".into(),
            "old -1\n\n".into(),
            "old +1\n\n".into(),
            "old  1\n\n".into(),
            "old 1 \n\n".into(),
            "old 1\r\n\n".into(),
            "Old 1\n\n".into(),
            "new 1\n\n".into(),
            "old 18446744073709551616\n\n".into(),
            good.replacen("old 20\n", "old 20\nAAAA\n", 1),
            good.replacen("\n\no\n", "\no\n", 1),
        ] {
            assert!(
                matches!(
                    AddCheckpointRequest::parse(bad.as_bytes()),
                    Err(WitnessProtocolError::MalformedRequest(_))
                ),
                "{bad:?}"
            );
        }
        let line = to_base64_lines(&[leaf_hash(b"x")]);
        let max = format!("old 1\n{}\nn\n", line.repeat(63));
        assert_eq!(
            AddCheckpointRequest::parse(max.as_bytes())
                .unwrap()
                .proof
                .len(),
            63
        );
        let over = format!("old 1\n{}\nn\n", line.repeat(64));
        assert!(AddCheckpointRequest::parse(over.as_bytes()).is_err());
        let huge = vec![b'a'; MAX_REQUEST_SIZE + 1];
        assert_eq!(
            AddCheckpointRequest::parse(&huge),
            Err(WitnessProtocolError::RequestTooLarge(MAX_REQUEST_SIZE + 1))
        );
    }

    /// Pins the 409 body grammar that both the witness (writing) and the
    /// log (reading) follow: before this module the log read it with
    /// `trim().parse()`, which also took `12 \n`, `+12`, ` 12` and `12`.
    #[test]
    fn conflict_sizes() {
        assert_eq!(encode_conflict_size(42), "42\n");
        for (body, size) in [(&b"42\n"[..], 42), (b"0\n", 0), (b"12\n", 12)] {
            assert_eq!(parse_conflict_size(body), Ok(size));
        }
        for body in [
            &b""[..],
            b"\n",
            b"12",
            b"12 \n",
            b" 12\n",
            b"+12\n",
            b"+12",
            b"-1\n",
            b"012\n",
            b"12\r\n",
            b"12\n\n",
            b"\n12\n",
            b"18446744073709551616\n",
        ] {
            assert!(
                matches!(
                    parse_conflict_size(body),
                    Err(WitnessProtocolError::MalformedConflictSize(_))
                ),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn cosignature_lines() {
        let k = SignerKey::from_seed("w.example", KeyType::Ed25519, [1; 32]).unwrap();
        let sigs = vec![k.sign("a\n").unwrap(), k.sign("b\n").unwrap()];
        let body = encode_cosignature_lines(&sigs);
        assert_eq!(body, format!("{}{}", sigs[0].to_line(), sigs[1].to_line()));
        assert_eq!(parse_cosignature_lines(body.as_bytes()).unwrap(), sigs);
        let line = sigs[0].to_line();
        for bad in [
            String::new(),
            "\n".into(),
            line.trim_end().to_owned(),
            format!("garbage\n\n{line}"),
            format!("\n{line}"),
            format!("{line}\n"),
            format!("{line}\r\n"),
            line.replace('—', "-"),
            line.repeat(MAX_NOTE_SIGNATURES + 1),
        ] {
            assert!(
                matches!(
                    parse_cosignature_lines(bad.as_bytes()),
                    Err(WitnessProtocolError::MalformedCosignatures(_))
                ),
                "{bad:?}"
            );
        }
        assert!(parse_cosignature_lines(line.repeat(MAX_NOTE_SIGNATURES).as_bytes()).is_ok());
    }

    fn arb_hash() -> impl Strategy<Value = Hash> {
        any::<[u8; 32]>().prop_map(Hash)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn requests_round_trip(
            old_size in any::<u64>(),
            proof in proptest::collection::vec(arb_hash(), 0..=MAX_PROOF_LINES),
            checkpoint in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let r = AddCheckpointRequest { old_size, proof, checkpoint };
            prop_assert_eq!(AddCheckpointRequest::parse(&r.to_bytes()).unwrap(), r);
        }

        #[test]
        fn conflict_sizes_round_trip(size in any::<u64>()) {
            prop_assert_eq!(parse_conflict_size(encode_conflict_size(size).as_bytes()), Ok(size));
        }

        /// Whatever parses re-serializes to the same bytes: one spelling
        /// per request and per size (inputs near the grammar, so that
        /// some parse).
        #[test]
        fn parsed_bodies_are_canonical(
            request in "old [0-9+ -]{0,3}\n([A-Za-z0-9+/=]{43,45}\n){0,2}\n?[a-z\n]{0,8}",
            size in "[0-9+ \r\n]{0,5}",
        ) {
            if let Ok(r) = AddCheckpointRequest::parse(request.as_bytes()) {
                prop_assert_eq!(r.to_bytes(), request.as_bytes());
            }
            if let Ok(n) = parse_conflict_size(size.as_bytes()) {
                prop_assert_eq!(encode_conflict_size(n), size);
            }
        }

        #[test]
        fn cosignature_lines_round_trip(seeds in proptest::collection::vec(any::<u8>(), 1..5)) {
            let sigs: Vec<NoteSignature> = seeds
                .iter()
                .map(|&s| {
                    let k = SignerKey::from_seed(&format!("w{s}"), KeyType::Cosignature, [s; 32]).unwrap();
                    crate::cosignature::cosign(&k, "o\n1\nAAAA\n", u64::from(s)).unwrap()
                })
                .collect();
            let body = encode_cosignature_lines(&sigs);
            prop_assert_eq!(parse_cosignature_lines(body.as_bytes()).unwrap(), sigs);
        }
    }
}
