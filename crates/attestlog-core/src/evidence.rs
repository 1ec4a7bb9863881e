//! Split-view evidence: two checkpoints signed by one log key that cannot
//! belong to one append-only history, in a self-contained text file that
//! anyone can verify offline with the log's verifier key.
//!
//! A witness writes this file when it catches a log presenting two
//! histories; a client, monitor or auditor checks it with
//! [`Evidence::verify`] (or `attestlog verify-evidence FILE`). Nothing in it
//! needs to be trusted: both checkpoints carry the log's own signature, and
//! the relation between them is recomputed from the file alone.
//!
//! ```text
//! evidence    = magic origin-line key-line kind first second
//! magic       = "attestlog split-view evidence v1\n"
//! origin-line = "origin " origin "\n"          ; the origin of both checkpoints
//! key-line    = "log-key " verifier-key "\n"    ; C2SP note verifier key, type 0x01
//! kind        = same-size / inconsistent
//! same-size   = "kind same-size\n"
//! inconsistent= "kind inconsistent\n"
//!               "prefix-root " hash "\n"        ; root of the first `first.size`
//!                                               ; leaves of the tree of `second`
//!               "proof " count "\n"             ; count ≤ 63, decimal
//!               count*( hash "\n" )             ; RFC 9162 consistency proof from
//!                                               ; (first.size, prefix-root) to
//!                                               ; (second.size, second.root)
//! first       = "checkpoint " length "\n" length*OCTET   ; a signed checkpoint note
//! second      = "checkpoint " length "\n" length*OCTET   ; a signed checkpoint note
//! hash        = 44 characters of standard, padded, canonical base64 (32 bytes)
//! length      = decimal, no leading zeros, ≤ MAX_NOTE_SIZE
//! ```
//!
//! Each note is copied byte for byte as the log (and any witnesses) signed
//! it, so the file re-serializes to exactly the bytes it was parsed from.
//!
//! What the file proves, by kind ([`Evidence::verify`]):
//!
//! * `same-size`: both checkpoints have the same size and different root
//!   hashes. A tree of one size has one root (RFC 9162), so the log signed
//!   two different trees.
//! * `inconsistent`: `first` is smaller than `second`, the proof verifies
//!   as a consistency proof from (`first.size`, `prefix-root`) to
//!   (`second.size`, `second.root`), and `prefix-root` differs from
//!   `first.root`. The proof hashes are bound to `second`'s signed root, so
//!   they show what the first `first.size` leaves of that tree hash to;
//!   since that is not `first`'s signed root, no single append-only
//!   history contains both checkpoints (short of a SHA-256 collision).
//!
//! A consistency proof that merely *fails* to verify proves nothing to a
//! third party (anyone can write a bad proof), so this format never records
//! one as evidence; a witness keeps such checkpoints apart and asks the log
//! for tiles until it has either a valid proof or evidence.

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::hash::Hash;
use crate::note::key::KeyError;
use crate::note::{KeyType, Note, NoteError, NoteVerifier, VerifierKey, MAX_NOTE_SIZE};
use crate::proof::{
    parse_base64_hash, to_base64_lines, verify_consistency, ProofError, MAX_PROOF_HASHES,
};
use crate::text::parse_decimal_u64;

/// The first line of every evidence file, with its newline.
pub const EVIDENCE_MAGIC: &str = "attestlog split-view evidence v1\n";

/// The largest evidence file [`Evidence::parse`] accepts: two notes of
/// [`MAX_NOTE_SIZE`] and 64 KiB for everything else.
pub const MAX_EVIDENCE_SIZE: usize = 2 * MAX_NOTE_SIZE + 64 * 1024;

/// Why an evidence file could not be parsed, built or verified.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The file is larger than [`MAX_EVIDENCE_SIZE`].
    #[error("evidence is {0} bytes; the limit is {MAX_EVIDENCE_SIZE}")]
    TooLarge(usize),
    /// The file does not follow the grammar.
    #[error("malformed evidence: {0}")]
    Malformed(&'static str),
    /// The log key line is not a valid Ed25519 (0x01) verifier key.
    #[error("evidence log key: {0}")]
    Key(#[from] KeyError),
    /// The log key is not an Ed25519 note key.
    #[error("evidence log key is not an Ed25519 (0x01) note key")]
    NotALogKey,
    /// The key in the file is not the key the verifier trusts.
    #[error("evidence names log key {in_file}, not the trusted key {trusted}")]
    WrongKey {
        /// The key string in the file.
        in_file: String,
        /// The key string the caller trusts.
        trusted: String,
    },
    /// A checkpoint note is malformed or its log signature does not verify.
    #[error("checkpoint {which}: {source}")]
    Note {
        /// `first` or `second`.
        which: &'static str,
        /// What is wrong with it.
        #[source]
        source: NoteError,
    },
    /// A note's text is not a checkpoint, or has another origin.
    #[error("checkpoint {which}: {source}")]
    Checkpoint {
        /// `first` or `second`.
        which: &'static str,
        /// What is wrong with it.
        #[source]
        source: CheckpointError,
    },
    /// The two checkpoints do not show what the kind claims, so the file
    /// proves no misbehaviour.
    #[error("no misbehaviour proven: {0}")]
    NotProven(String),
}

/// How the two checkpoints contradict each other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Contradiction {
    /// Same tree size, different root hashes.
    SameSize,
    /// `second` is larger, and a consistency proof bound to its root shows
    /// that its first `first.size` leaves hash to `prefix_root`, which is
    /// not `first`'s root.
    Inconsistent {
        /// The root of the first `first.size` leaves of `second`'s tree.
        prefix_root: Hash,
        /// The consistency proof from (`first.size`, `prefix_root`) to
        /// `second`.
        proof: Vec<Hash>,
    },
}

/// A split-view evidence file (see the module documentation for its
/// grammar and meaning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The origin of both checkpoints.
    pub origin: String,
    /// The log's verifier key, as a key string.
    pub log_key: String,
    /// How the checkpoints contradict each other.
    pub contradiction: Contradiction,
    /// The first signed checkpoint note, byte for byte.
    pub first: Vec<u8>,
    /// The second signed checkpoint note, byte for byte.
    pub second: Vec<u8>,
}

/// What a verified evidence file shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proven {
    /// The first checkpoint.
    pub first: Checkpoint,
    /// The second checkpoint.
    pub second: Checkpoint,
}

impl Evidence {
    /// Builds `same-size` evidence from two signed notes. Checks nothing:
    /// call [`Evidence::verify`] on the result.
    pub fn same_size(origin: &str, log_key: &VerifierKey, first: &[u8], second: &[u8]) -> Self {
        Evidence {
            origin: origin.to_owned(),
            log_key: log_key.to_key_string(),
            contradiction: Contradiction::SameSize,
            first: first.to_vec(),
            second: second.to_vec(),
        }
    }

    /// Builds `inconsistent` evidence: `older` is the smaller checkpoint,
    /// `prefix_root` and `proof` come from the tree of `newer`. Checks
    /// nothing: call [`Evidence::verify`] on the result.
    pub fn inconsistent(
        origin: &str,
        log_key: &VerifierKey,
        older: &[u8],
        newer: &[u8],
        prefix_root: Hash,
        proof: Vec<Hash>,
    ) -> Self {
        Evidence {
            origin: origin.to_owned(),
            log_key: log_key.to_key_string(),
            contradiction: Contradiction::Inconsistent { prefix_root, proof },
            first: older.to_vec(),
            second: newer.to_vec(),
        }
    }

    /// Parses an evidence file, checking the grammar and limits but no
    /// signature or proof (see [`Evidence::verify`]).
    pub fn parse(bytes: &[u8]) -> Result<Evidence, EvidenceError> {
        if bytes.len() > MAX_EVIDENCE_SIZE {
            return Err(EvidenceError::TooLarge(bytes.len()));
        }
        let mut r = Reader { rest: bytes };
        if r.line()? != EVIDENCE_MAGIC.trim_end_matches('\n') {
            return Err(EvidenceError::Malformed("missing the evidence v1 header"));
        }
        let origin = r.field("origin ")?;
        if origin.is_empty() {
            return Err(EvidenceError::Malformed("empty origin"));
        }
        let log_key = r.field("log-key ")?;
        let contradiction = match r.field("kind ")? {
            "same-size" => Contradiction::SameSize,
            "inconsistent" => {
                let prefix_root = parse_base64_hash(r.field("prefix-root ")?)
                    .map_err(|_| EvidenceError::Malformed("prefix-root is not a base64 hash"))?;
                let count = parse_decimal(r.field("proof ")?)?;
                if count > MAX_PROOF_HASHES as u64 {
                    return Err(EvidenceError::Malformed("proof has more than 63 hashes"));
                }
                let mut proof = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    proof.push(
                        parse_base64_hash(r.line()?)
                            .map_err(|_| EvidenceError::Malformed("proof line is not a hash"))?,
                    );
                }
                Contradiction::Inconsistent { prefix_root, proof }
            }
            _ => return Err(EvidenceError::Malformed("unknown kind")),
        };
        let first = r.note()?.to_vec();
        let second = r.note()?.to_vec();
        if !r.rest.is_empty() {
            return Err(EvidenceError::Malformed(
                "trailing data after the second note",
            ));
        }
        Ok(Evidence {
            origin: origin.to_owned(),
            log_key: log_key.to_owned(),
            contradiction,
            first,
            second,
        })
    }

    /// Serializes the file; the inverse of [`Evidence::parse`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.first.len() + self.second.len());
        out.extend_from_slice(EVIDENCE_MAGIC.as_bytes());
        out.extend_from_slice(
            format!("origin {}\nlog-key {}\n", self.origin, self.log_key).as_bytes(),
        );
        match &self.contradiction {
            Contradiction::SameSize => out.extend_from_slice(b"kind same-size\n"),
            Contradiction::Inconsistent { prefix_root, proof } => {
                out.extend_from_slice(b"kind inconsistent\n");
                out.extend_from_slice(b"prefix-root ");
                out.extend_from_slice(to_base64_lines(&[*prefix_root]).as_bytes());
                out.extend_from_slice(format!("proof {}\n", proof.len()).as_bytes());
                out.extend_from_slice(to_base64_lines(proof).as_bytes());
            }
        }
        for note in [&self.first, &self.second] {
            out.extend_from_slice(format!("checkpoint {}\n", note.len()).as_bytes());
            out.extend_from_slice(note);
        }
        out
    }

    /// Verifies the evidence against the log key the caller trusts.
    ///
    /// Succeeds only if misbehaviour is proven: the file names the trusted
    /// key, both notes carry a valid signature by it, both checkpoints have
    /// the file's origin, and they contradict each other as the kind says.
    pub fn verify(&self, trusted: &VerifierKey) -> Result<Proven, EvidenceError> {
        if trusted.key_type() != KeyType::Ed25519 {
            return Err(EvidenceError::NotALogKey);
        }
        let in_file = VerifierKey::parse(&self.log_key)?;
        if in_file != *trusted {
            return Err(EvidenceError::WrongKey {
                in_file: self.log_key.clone(),
                trusted: trusted.to_key_string(),
            });
        }
        let first = open(&self.first, &self.origin, trusted, "first")?;
        let second = open(&self.second, &self.origin, trusted, "second")?;
        match &self.contradiction {
            Contradiction::SameSize => {
                if first.size != second.size {
                    return Err(EvidenceError::NotProven(format!(
                        "sizes differ ({} and {})",
                        first.size, second.size
                    )));
                }
                if first.root == second.root {
                    return Err(EvidenceError::NotProven(
                        "both checkpoints have the same root hash".into(),
                    ));
                }
            }
            Contradiction::Inconsistent { prefix_root, proof } => {
                if first.size >= second.size {
                    return Err(EvidenceError::NotProven(format!(
                        "the first checkpoint (size {}) is not smaller than the second (size {})",
                        first.size, second.size
                    )));
                }
                verify_consistency(first.size, second.size, prefix_root, &second.root, proof)
                    .map_err(|e: ProofError| {
                        EvidenceError::NotProven(format!(
                            "the proof is not bound to the second checkpoint: {e}"
                        ))
                    })?;
                if *prefix_root == first.root {
                    return Err(EvidenceError::NotProven(
                        "the second tree's prefix has the first checkpoint's root: consistent"
                            .into(),
                    ));
                }
            }
        }
        Ok(Proven { first, second })
    }
}

fn open(
    note: &[u8],
    origin: &str,
    key: &VerifierKey,
    which: &'static str,
) -> Result<Checkpoint, EvidenceError> {
    let parsed = Note::parse(note).map_err(|source| EvidenceError::Note { which, source })?;
    let cp = Checkpoint::parse(parsed.text())
        .map_err(|source| EvidenceError::Checkpoint { which, source })?;
    if cp.origin != origin {
        return Err(EvidenceError::Checkpoint {
            which,
            source: CheckpointError::WrongOrigin {
                expected: origin.to_owned(),
                got: cp.origin,
            },
        });
    }
    parsed
        .verify(&[key as &dyn NoteVerifier])
        .map_err(|source| EvidenceError::Note { which, source })?;
    Ok(cp)
}

fn parse_decimal(s: &str) -> Result<u64, EvidenceError> {
    parse_decimal_u64(s)
        .map_err(|_| EvidenceError::Malformed("not a decimal number without leading zeros"))
}

/// A cursor over the file's bytes.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// The next line, without its newline; it must be UTF-8 without
    /// control characters.
    fn line(&mut self) -> Result<&'a str, EvidenceError> {
        let at = self
            .rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(EvidenceError::Malformed("line does not end in a newline"))?;
        let (line, tail) = self.rest.split_at(at);
        self.rest = &tail[1..];
        let line =
            std::str::from_utf8(line).map_err(|_| EvidenceError::Malformed("line is not UTF-8"))?;
        if line.chars().any(char::is_control) {
            return Err(EvidenceError::Malformed("control character in a line"));
        }
        Ok(line)
    }

    /// The value of a line `prefix value`.
    fn field(&mut self, prefix: &'static str) -> Result<&'a str, EvidenceError> {
        self.line()?
            .strip_prefix(prefix)
            .ok_or(EvidenceError::Malformed(
                "a line does not start with its expected field name",
            ))
    }

    /// A length-prefixed note.
    fn note(&mut self) -> Result<&'a [u8], EvidenceError> {
        let len = parse_decimal(self.field("checkpoint ")?)?;
        if len > MAX_NOTE_SIZE as u64 {
            return Err(EvidenceError::Malformed(
                "note is larger than MAX_NOTE_SIZE",
            ));
        }
        let len = len as usize;
        if self.rest.len() < len {
            return Err(EvidenceError::Malformed(
                "note runs past the end of the file",
            ));
        }
        let (note, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::note::SignerKey;
    use crate::proof::prove_consistency;
    use crate::tree::{tree_root, InMemoryTree};
    use proptest::prelude::*;

    const ORIGIN: &str = "example.com/log";

    fn log_key() -> SignerKey {
        SignerKey::from_seed(ORIGIN, KeyType::Ed25519, [5; 32]).unwrap()
    }

    fn signed(key: &SignerKey, size: u64, root: Hash) -> Vec<u8> {
        let text = Checkpoint::new(ORIGIN, size, root).to_text().unwrap();
        let mut note = Note::new(text).unwrap();
        note.add_signature(key.sign(note.text()).unwrap()).unwrap();
        note.to_bytes()
    }

    fn tree(prefix: &str, n: u64) -> InMemoryTree {
        let mut t = InMemoryTree::new();
        for i in 0..n {
            t.push(leaf_hash(format!("{prefix}{i}").as_bytes()));
        }
        t
    }

    /// Two trees sharing `shared` leaves, then diverging.
    fn forked(shared: u64, a: u64, b: u64) -> (InMemoryTree, InMemoryTree) {
        let (mut ta, mut tb) = (tree("s", shared), tree("s", shared));
        for i in 0..a {
            ta.push(leaf_hash(format!("a{i}").as_bytes()));
        }
        for i in 0..b {
            tb.push(leaf_hash(format!("b{i}").as_bytes()));
        }
        (ta, tb)
    }

    fn inconsistent_for(older: &InMemoryTree, newer: &InMemoryTree) -> Evidence {
        let k = log_key();
        let (m, n) = (older.size(), newer.size());
        let prefix = tree_root(newer, m).unwrap();
        let proof = prove_consistency(newer, m, n).unwrap();
        Evidence::inconsistent(
            ORIGIN,
            &k.verifier(),
            &signed(&k, m, older.root()),
            &signed(&k, n, newer.root()),
            prefix,
            proof,
        )
    }

    #[test]
    fn same_size_round_trips_and_verifies() {
        let k = log_key();
        let (a, b) = forked(3, 2, 2);
        let ev = Evidence::same_size(
            ORIGIN,
            &k.verifier(),
            &signed(&k, 5, a.root()),
            &signed(&k, 5, b.root()),
        );
        let bytes = ev.to_bytes();
        let parsed = Evidence::parse(&bytes).unwrap();
        assert_eq!(parsed, ev);
        assert_eq!(parsed.to_bytes(), bytes);
        let proven = parsed.verify(&k.verifier()).unwrap();
        assert_eq!(proven.first.size, 5);
        assert!(bytes.starts_with(EVIDENCE_MAGIC.as_bytes()));
    }

    #[test]
    fn inconsistent_round_trips_and_verifies() {
        for (shared, a, b) in [(0, 1, 3), (1, 1, 2), (4, 3, 9), (7, 1, 300), (8, 0, 1)] {
            let (ta, tb) = forked(shared, a, b);
            let ev = inconsistent_for(&ta, &tb);
            let parsed = Evidence::parse(&ev.to_bytes()).unwrap();
            assert_eq!(parsed, ev);
            let r = parsed.verify(&log_key().verifier());
            if a == 0 {
                // `ta` is a prefix of `tb`: consistent, nothing proven.
                assert!(matches!(r, Err(EvidenceError::NotProven(_))), "{r:?}");
            } else {
                r.unwrap_or_else(|e| panic!("{shared} {a} {b}: {e}"));
            }
        }
    }

    #[test]
    fn consistent_or_tampered_evidence_proves_nothing() {
        let k = log_key();
        let v = k.verifier();
        // Two checkpoints of one history.
        let t = tree("x", 20);
        let small = tree("x", 12);
        let ev = inconsistent_for(&small, &t);
        assert!(matches!(ev.verify(&v), Err(EvidenceError::NotProven(_))));
        // Same-size evidence with equal roots, or different sizes.
        let same = Evidence::same_size(
            ORIGIN,
            &v,
            &signed(&k, 20, t.root()),
            &signed(&k, 20, t.root()),
        );
        assert!(matches!(same.verify(&v), Err(EvidenceError::NotProven(_))));
        let sizes = Evidence::same_size(
            ORIGIN,
            &v,
            &signed(&k, 12, small.root()),
            &signed(&k, 20, t.root()),
        );
        assert!(matches!(sizes.verify(&v), Err(EvidenceError::NotProven(_))));
        // A real split, tampered: the proof, the prefix root, a signature,
        // the key, the order.
        let (ta, tb) = forked(4, 3, 9);
        let good = inconsistent_for(&ta, &tb);
        assert!(good.verify(&v).is_ok());
        let mut bad = good.clone();
        if let Contradiction::Inconsistent { proof, .. } = &mut bad.contradiction {
            proof[0].0[0] ^= 1;
        }
        assert!(matches!(bad.verify(&v), Err(EvidenceError::NotProven(_))));
        let mut bad = good.clone();
        if let Contradiction::Inconsistent { prefix_root, .. } = &mut bad.contradiction {
            *prefix_root = ta.root();
        }
        assert!(matches!(bad.verify(&v), Err(EvidenceError::NotProven(_))));
        let mut bad = good.clone();
        let last = bad.second.len() - 5;
        bad.second[last] ^= 1;
        assert!(matches!(
            bad.verify(&v),
            Err(EvidenceError::Note {
                which: "second",
                ..
            })
        ));
        let mut bad = good.clone();
        std::mem::swap(&mut bad.first, &mut bad.second);
        assert!(matches!(bad.verify(&v), Err(EvidenceError::NotProven(_))));
        let other = SignerKey::from_seed(ORIGIN, KeyType::Ed25519, [6; 32]).unwrap();
        assert!(matches!(
            good.verify(&other.verifier()),
            Err(EvidenceError::WrongKey { .. })
        ));
        // Notes signed by another key under the file's key line.
        let forged = Evidence::same_size(
            ORIGIN,
            &v,
            &signed(&other, 5, ta.root()),
            &signed(&other, 5, tb.root()),
        );
        assert!(matches!(forged.verify(&v), Err(EvidenceError::Note { .. })));
        // Another origin.
        let mut bad = good;
        bad.origin = "other".into();
        assert!(matches!(
            bad.verify(&v),
            Err(EvidenceError::Checkpoint { .. })
        ));
    }

    #[test]
    fn grammar_errors() {
        let k = log_key();
        let (a, b) = forked(3, 2, 2);
        let good = Evidence::same_size(
            ORIGIN,
            &k.verifier(),
            &signed(&k, 5, a.root()),
            &signed(&k, 5, b.root()),
        )
        .to_bytes();
        let text = String::from_utf8(good.clone()).unwrap();
        let bad_inputs: Vec<Vec<u8>> = vec![
            Vec::new(),
            good[..good.len() - 1].to_vec(),
            [good.as_slice(), b"x"].concat(),
            text.replacen("v1", "v2", 1).into_bytes(),
            text.replacen("kind same-size", "kind other", 1)
                .into_bytes(),
            text.replacen("log-key ", "log-key", 1).into_bytes(),
            text.replacen("checkpoint ", "checkpoint 0", 1).into_bytes(),
            text.replacen("origin example.com/log", "origin ", 1)
                .into_bytes(),
            text.replacen(
                "kind same-size\n",
                "kind inconsistent\nprefix-root AAAA\nproof 0\n",
                1,
            )
            .into_bytes(),
        ];
        for bad in bad_inputs {
            assert!(
                Evidence::parse(&bad).is_err(),
                "{}",
                String::from_utf8_lossy(&bad)
            );
        }
        let huge = vec![b'a'; MAX_EVIDENCE_SIZE + 1];
        assert_eq!(
            Evidence::parse(&huge),
            Err(EvidenceError::TooLarge(MAX_EVIDENCE_SIZE + 1))
        );
        let too_long = text.replacen(
            "kind same-size\n",
            &format!(
                "kind inconsistent\nprefix-root {}proof 64\n",
                to_base64_lines(&[Hash::EMPTY_ROOT])
            ),
            1,
        );
        assert!(Evidence::parse(too_long.as_bytes()).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any fork of any shape is proven, and any prefix of one history
        /// is not.
        #[test]
        fn forks_are_proven(shared in 0u64..40, a in 0u64..40, b in 1u64..40) {
            let (ta, tb) = forked(shared, a, b);
            let (older, newer) = if ta.size() < tb.size() { (&ta, &tb) } else { (&tb, &ta) };
            let v = log_key().verifier();
            if older.size() == newer.size() {
                let k = log_key();
                let ev = Evidence::same_size(ORIGIN, &v, &signed(&k, older.size(), older.root()), &signed(&k, newer.size(), newer.root()));
                prop_assert_eq!(ev.verify(&v).is_ok(), a > 0 || b > 0);
            } else {
                let ev = inconsistent_for(older, newer);
                let diverged = older.size() > shared;
                prop_assert_eq!(ev.verify(&v).is_ok(), diverged);
            }
        }

        /// Parsing arbitrary bytes never panics, and what parses
        /// re-serializes to the same bytes.
        #[test]
        fn parse_is_total_and_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(ev) = Evidence::parse(&bytes) {
                prop_assert_eq!(ev.to_bytes(), bytes);
            }
        }

        /// Mutating one byte of valid evidence never panics; if it still
        /// parses and verifies, it still proves a split.
        #[test]
        fn mutations_never_forge(at in 0usize..2000, bit in 0u8..8) {
            let k = log_key();
            let (ta, tb) = forked(4, 3, 9);
            let mut bytes = inconsistent_for(&ta, &tb).to_bytes();
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
            if let Ok(ev) = Evidence::parse(&bytes) {
                if let Ok(p) = ev.verify(&k.verifier()) {
                    prop_assert!(p.first.size != p.second.size || p.first.root != p.second.root);
                }
            }
        }
    }
}
