//! The C2SP tlog-witness `add-checkpoint` wire format: request body,
//! success response (cosignature lines) and the 409 size body.
//!
//! ```text
//! request   = old-line *proof-line "\n" checkpoint-note
//! old-line  = "old " size "\n"            ; decimal, no leading zeros ("0" for zero)
//! proof-line= hash "\n"                   ; standard base64 of 32 bytes, ≤ 63 lines
//! checkpoint-note                        ; a C2SP signed note (attestlog_core::note)
//!
//! response-200 = 1*( "— " key-name " " base64(signature) "\n" )
//! response-409 = size "\n"                ; Content-Type: text/x.tlog.size
//! ```
//!
//! Only the grammar and the limits are checked here; signatures, origins
//! and proofs are checked by [`crate::witness`].

use attestlog_core::proof::{parse_base64_hash, to_base64_lines, MAX_PROOF_HASHES};
use attestlog_core::Hash;

use crate::error::WitnessError;

/// The largest request body accepted: a note of at most 1 MiB plus room
/// for the old size and proof lines.
pub const MAX_REQUEST_SIZE: usize = 1024 * 1024 + 64 * 1024;

/// C2SP tlog-witness: "The client MUST NOT send more than 63 consistency
/// proof lines."
pub const MAX_PROOF_LINES: usize = MAX_PROOF_HASHES;

/// The content type of a 409 body.
pub const CONTENT_TYPE_TLOG_SIZE: &str = "text/x.tlog.size";

/// A parsed `add-checkpoint` request.
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
    /// Parses a request body.
    pub fn parse(body: &[u8]) -> Result<AddCheckpointRequest, WitnessError> {
        let bad = |why: &'static str| WitnessError::MalformedRequest(why.into());
        if body.len() > MAX_REQUEST_SIZE {
            return Err(WitnessError::RequestTooLarge(body.len()));
        }
        let mut rest = body;
        let mut next_line = || -> Result<&[u8], WitnessError> {
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
        // checkpoint encoded as an ASCII decimal with no leading zeroes".
        let old = next_line()?
            .strip_prefix(b"old ")
            .ok_or(bad("the first line is not \"old <size>\""))?;
        let old_size = parse_size(old).ok_or(bad("the old size is not a canonical decimal"))?;
        let mut proof = Vec::new();
        loop {
            let line = next_line()?;
            if line.is_empty() {
                break;
            }
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

    /// Serializes the request body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            format!("old {}\n{}\n", self.old_size, to_base64_lines(&self.proof)).into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }
}

/// Parses a canonical decimal tree size (no sign, no leading zeros).
pub fn parse_size(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) || (s.len() > 1 && s[0] == b'0') {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// The body of a 409 response: the stored size and a newline.
pub fn size_body(size: u64) -> String {
    format!("{size}\n")
}

/// Parses the body of a 409 response.
pub fn parse_size_body(body: &[u8]) -> Option<u64> {
    parse_size(body.strip_suffix(b"\n")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use attestlog_core::leaf_hash;

    fn sample() -> AddCheckpointRequest {
        AddCheckpointRequest {
            old_size: 20,
            proof: vec![leaf_hash(b"a"), leaf_hash(b"b")],
            checkpoint: "o\n30\nAAAA\n\n— o AAAA\n".as_bytes().to_vec(),
        }
    }

    #[test]
    fn round_trip() {
        let r = sample();
        assert_eq!(AddCheckpointRequest::parse(&r.to_bytes()).unwrap(), r);
        let empty = AddCheckpointRequest {
            old_size: 0,
            proof: vec![],
            checkpoint: b"x\n".to_vec(),
        };
        assert!(empty.to_bytes().starts_with(b"old 0\n\nx\n"));
        assert_eq!(
            AddCheckpointRequest::parse(&empty.to_bytes()).unwrap(),
            empty
        );
    }

    #[test]
    fn malformed() {
        let good = String::from_utf8(sample().to_bytes()).unwrap();
        for bad in [
            String::new(),
            "old 1".into(),
            "old 01\n\n".into(),
            "old -1\n\n".into(),
            "old  1\n\n".into(),
            "new 1\n\n".into(),
            "old 18446744073709551616\n\n".into(),
            good.replacen("old 20\n", "old 20\nAAAA\n", 1),
            good.replacen("\n\no\n", "\no\n", 1),
        ] {
            assert!(
                AddCheckpointRequest::parse(bad.as_bytes()).is_err(),
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
        assert!(matches!(
            AddCheckpointRequest::parse(&huge),
            Err(WitnessError::RequestTooLarge(_))
        ));
    }

    #[test]
    fn size_bodies() {
        assert_eq!(size_body(42), "42\n");
        assert_eq!(parse_size_body(b"42\n"), Some(42));
        assert_eq!(parse_size_body(b"42"), None);
        assert_eq!(parse_size_body(b"042\n"), None);
        assert_eq!(parse_size_body(b"0\n"), Some(0));
    }
}
