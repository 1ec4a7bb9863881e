//! C2SP tlog-proof (<https://c2sp.org/tlog-proof>): an offline-verifiable
//! proof that one entry is in a log, under a (cosigned) checkpoint.
//!
//! ```text
//! proof      = magic [extra] index-line *hash-line "\n" checkpoint
//! magic      = "c2sp.org/tlog-proof@v1\n"
//! extra      = "extra " base64 "\n"       ; opaque, unauthenticated, kept as is
//! index-line = "index " decimal "\n"      ; no leading zeros (unless 0)
//! hash-line  = base64(32 bytes) "\n"      ; audit path, leaf's sibling first;
//!                                         ; at most MAX_PROOF_HASHES lines
//! checkpoint = a signed checkpoint note, verbatim, to the end of the text
//! ```
//!
//! Parsing checks the grammar only; verifying the checkpoint against a
//! policy and the audit path against its root is [`crate::quorum`]'s job.

use attestlog_core::proof::{parse_base64_hash, to_base64_lines, MAX_PROOF_HASHES};
use attestlog_core::text::parse_decimal_u64;
use attestlog_core::Hash;
use base64::Engine as _;

use crate::error::ClientError;

/// The first line of a tlog-proof, with its newline.
pub const TLOG_PROOF_MAGIC: &str = "c2sp.org/tlog-proof@v1\n";

/// A parsed tlog-proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque extra data, if present ("Applications MUST NOT implicitly
    /// trust the extra data"); attestlog writes none.
    pub extra: Option<Vec<u8>>,
    /// The entry's index.
    pub index: u64,
    /// The inclusion proof, bottom to top.
    pub audit_path: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

fn bad(reason: &str) -> ClientError {
    ClientError::TlogProof(reason.to_owned())
}

impl TlogProof {
    /// Parses a tlog-proof text.
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, ClientError> {
        let mut rest = bytes
            .strip_prefix(TLOG_PROOF_MAGIC.as_bytes())
            .ok_or_else(|| bad("does not start with c2sp.org/tlog-proof@v1"))?;
        let mut line = || -> Result<&str, ClientError> {
            let at = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| bad("a line does not end in a newline"))?;
            let l = std::str::from_utf8(&rest[..at]).map_err(|_| bad("a line is not UTF-8"))?;
            rest = &rest[at + 1..];
            Ok(l)
        };
        let mut first = line()?;
        let mut extra = None;
        if let Some(e) = first.strip_prefix("extra ") {
            extra = Some(
                base64::engine::general_purpose::STANDARD
                    .decode(e)
                    .map_err(|_| bad("extra is not base64"))?,
            );
            first = line()?;
        }
        let index = first
            .strip_prefix("index ")
            .and_then(|n| parse_decimal_u64(n).ok())
            .ok_or_else(|| bad("expected `index <decimal>` (no leading zeros)"))?;
        let mut audit_path = Vec::new();
        loop {
            let l = line()?;
            if l.is_empty() {
                break;
            }
            if audit_path.len() == MAX_PROOF_HASHES {
                return Err(bad("more than 63 audit path hashes"));
            }
            audit_path.push(
                parse_base64_hash(l).map_err(|_| bad("an audit path line is not a base64 hash"))?,
            );
        }
        Ok(TlogProof {
            extra,
            index,
            audit_path,
            checkpoint: rest.to_vec(),
        })
    }

    /// Serializes the proof; the inverse of [`TlogProof::parse`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = TLOG_PROOF_MAGIC.as_bytes().to_vec();
        if let Some(e) = &self.extra {
            out.extend_from_slice(b"extra ");
            out.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(e)
                    .as_bytes(),
            );
            out.push(b'\n');
        }
        out.extend_from_slice(format!("index {}\n", self.index).as_bytes());
        out.extend_from_slice(to_base64_lines(&self.audit_path).as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&self.checkpoint);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let p = TlogProof {
            extra: Some(b"hi".to_vec()),
            index: 73894,
            audit_path: vec![Hash([7; 32]), Hash([9; 32])],
            checkpoint: b"o\n1\nroot\n\n\xe2\x80\x94 o AAAA\n".to_vec(),
        };
        let bytes = p.to_bytes();
        assert_eq!(TlogProof::parse(&bytes).unwrap(), p);
        let no_extra = TlogProof { extra: None, ..p };
        assert_eq!(TlogProof::parse(&no_extra.to_bytes()).unwrap(), no_extra);
        for bad in [
            &b"c2sp.org/tlog-proof@v2\nindex 1\n\n"[..],
            b"c2sp.org/tlog-proof@v1\nindex 01\n\n",
            b"c2sp.org/tlog-proof@v1\nindex \n\n",
            b"c2sp.org/tlog-proof@v1\nindex 1\nnot-a-hash\n\n",
            b"c2sp.org/tlog-proof@v1\nindex 1",
            b"c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\n",
        ] {
            assert!(
                TlogProof::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
