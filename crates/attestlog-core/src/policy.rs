//! C2SP tlog-policy: which logs and witnesses a verifier trusts, and how
//! many cosignatures a checkpoint needs.
//!
//! ```text
//! policy   = *( line "\n" )
//! line     = "" / comment / log / witness / group / quorum
//! comment  = "#" *any
//! log      = "log" SP vkey [ SP url ]
//! witness  = "witness" SP name SP vkey [ SP url ]
//! group    = "group" SP name SP ( "all" / "any" / k ) 1*( SP name )
//! quorum   = "quorum" SP name                 ; exactly once; "none" = no witness needed
//! vkey     = a signed-note verifier key (name+hexid+base64): Ed25519 (0x01)
//!            for logs, cosignature/v1 (0x04) or Ed25519 for witnesses
//! ```
//!
//! Witnesses and groups share one namespace, `none` is predefined, and a
//! name must be defined before a group or the quorum uses it (so policies
//! cannot loop). `k` is 1 to the number of members.
//!
//! [`Policy::quorum_met`] tells whether a set of witnesses whose
//! cosignatures verified satisfies the quorum; [`Policy::verify_checkpoint`]
//! does the whole check on a signed checkpoint note.

use std::collections::{HashMap, HashSet};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{KeyType, Note, NoteVerifier, VerifierKey};

/// The largest policy file accepted.
pub const MAX_POLICY_SIZE: usize = 64 * 1024;

/// Why a policy could not be parsed or a checkpoint failed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A line does not follow the grammar.
    #[error("policy line {line}: {reason}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The file is larger than [`MAX_POLICY_SIZE`].
    #[error("policy is {0} bytes; the limit is {MAX_POLICY_SIZE}")]
    TooLarge(usize),
    /// No `quorum` line.
    #[error("policy has no quorum line")]
    NoQuorum,
    /// No `log` line.
    #[error("policy names no log")]
    NoLog,
    /// The checkpoint's log is not one of the policy's logs, or its
    /// signature does not verify.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// Not enough valid cosignatures.
    #[error("quorum {quorum:?} not met: valid cosignatures from {got:?}")]
    QuorumNotMet {
        /// The quorum's name.
        quorum: String,
        /// Witnesses whose cosignatures verified.
        got: Vec<String>,
    },
}

/// A log the policy trusts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyLog {
    /// Its checkpoint key (the key name is the origin).
    pub key: VerifierKey,
    /// Its URL, if given.
    pub url: Option<String>,
}

/// A witness the policy knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyWitness {
    /// Its name in this policy.
    pub name: String,
    /// Its cosignature key.
    pub key: VerifierKey,
    /// Its submission URL, if given.
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Witness(usize),
    Group { k: usize, members: Vec<String> },
    None,
}

/// A parsed tlog-policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The trusted logs.
    pub logs: Vec<PolicyLog>,
    /// The known witnesses, in file order.
    pub witnesses: Vec<PolicyWitness>,
    nodes: HashMap<String, Node>,
    quorum: String,
}

impl Policy {
    /// Parses a policy file.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        if text.len() > MAX_POLICY_SIZE {
            return Err(PolicyError::TooLarge(text.len()));
        }
        let mut logs = Vec::new();
        let mut witnesses: Vec<PolicyWitness> = Vec::new();
        let mut nodes: HashMap<String, Node> = HashMap::new();
        nodes.insert("none".into(), Node::None);
        let mut quorum = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let bad = |reason: String| PolicyError::Syntax { line, reason };
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = trimmed.split_whitespace().collect();
            let key = |s: &str| VerifierKey::parse(s).map_err(|e| bad(format!("bad key: {e}")));
            match words.as_slice() {
                ["log", vkey, rest @ ..] if rest.len() <= 1 => {
                    let k = key(vkey)?;
                    if k.key_type() != KeyType::Ed25519 {
                        return Err(bad("a log key must be an Ed25519 (0x01) key".into()));
                    }
                    logs.push(PolicyLog {
                        key: k,
                        url: rest.first().map(|u| (*u).to_owned()),
                    });
                }
                ["witness", name, vkey, rest @ ..] if rest.len() <= 1 => {
                    if nodes.contains_key(*name) {
                        return Err(bad(format!("name {name:?} is already defined")));
                    }
                    nodes.insert((*name).to_owned(), Node::Witness(witnesses.len()));
                    witnesses.push(PolicyWitness {
                        name: (*name).to_owned(),
                        key: key(vkey)?,
                        url: rest.first().map(|u| (*u).to_owned()),
                    });
                }
                ["group", name, k, members @ ..] if !members.is_empty() => {
                    if nodes.contains_key(*name) {
                        return Err(bad(format!("name {name:?} is already defined")));
                    }
                    let mut seen = HashSet::new();
                    for m in members {
                        if !nodes.contains_key(*m) || *m == "none" {
                            return Err(bad(format!("group member {m:?} is not defined above")));
                        }
                        if !seen.insert(*m) {
                            return Err(bad(format!("group member {m:?} is listed twice")));
                        }
                    }
                    let k = match *k {
                        "all" => members.len(),
                        "any" => 1,
                        n => match n.parse::<usize>() {
                            Ok(n) if (1..=members.len()).contains(&n) => n,
                            _ => {
                                return Err(bad(format!(
                                    "threshold {n:?} must be all, any, or 1 to {}",
                                    members.len()
                                )))
                            }
                        },
                    };
                    nodes.insert(
                        (*name).to_owned(),
                        Node::Group {
                            k,
                            members: members.iter().map(|m| (*m).to_owned()).collect(),
                        },
                    );
                }
                ["quorum", name] => {
                    if quorum.is_some() {
                        return Err(bad("a second quorum line".into()));
                    }
                    if !nodes.contains_key(*name) {
                        return Err(bad(format!("quorum {name:?} is not defined above")));
                    }
                    quorum = Some((*name).to_owned());
                }
                _ => return Err(bad(format!("cannot read {trimmed:?}"))),
            }
        }
        let quorum = quorum.ok_or(PolicyError::NoQuorum)?;
        if logs.is_empty() {
            return Err(PolicyError::NoLog);
        }
        Ok(Policy {
            logs,
            witnesses,
            nodes,
            quorum,
        })
    }

    /// The quorum's name.
    pub fn quorum(&self) -> &str {
        &self.quorum
    }

    /// Whether witnesses `cosigned` (names) satisfy the quorum.
    pub fn quorum_met(&self, cosigned: &HashSet<String>) -> bool {
        self.satisfied(&self.quorum, cosigned)
    }

    fn satisfied(&self, name: &str, cosigned: &HashSet<String>) -> bool {
        match self.nodes.get(name) {
            Some(Node::None) => true,
            Some(Node::Witness(_)) => cosigned.contains(name),
            Some(Node::Group { k, members }) => {
                members
                    .iter()
                    .filter(|m| self.satisfied(m, cosigned))
                    .count()
                    >= *k
            }
            None => false,
        }
    }

    /// The witnesses whose cosignatures on `note` verify.
    pub fn valid_cosigners(&self, note: &Note) -> HashSet<String> {
        let mut out = HashSet::new();
        for w in &self.witnesses {
            let ok = note.signatures().iter().any(|s| {
                s.name == w.key.name()
                    && s.key_id == w.key.key_id()
                    && w.key.verify(note.text(), &s.signature)
            });
            if ok {
                out.insert(w.name.clone());
            }
        }
        out
    }

    /// Verifies a signed checkpoint: signed by one of the policy's logs
    /// (origin = the log key's name) and cosigned to the quorum. Returns the
    /// checkpoint, the note, and which witnesses cosigned.
    pub fn verify_checkpoint(
        &self,
        note_bytes: &[u8],
    ) -> Result<(Checkpoint, Note, HashSet<String>), PolicyError> {
        let note = Note::parse(note_bytes).map_err(CheckpointError::from)?;
        let cp = Checkpoint::parse(note.text())?;
        let log = self
            .logs
            .iter()
            .find(|l| l.key.name() == cp.origin)
            .ok_or_else(|| CheckpointError::WrongOrigin {
                expected: self
                    .logs
                    .iter()
                    .map(|l| l.key.name().to_owned())
                    .collect::<Vec<_>>()
                    .join(" or "),
                got: cp.origin.clone(),
            })?;
        note.verify(&[&log.key]).map_err(CheckpointError::from)?;
        let cosigned = self.valid_cosigners(&note);
        if !self.quorum_met(&cosigned) {
            let mut got: Vec<String> = cosigned.into_iter().collect();
            got.sort();
            return Err(PolicyError::QuorumNotMet {
                quorum: self.quorum.clone(),
                got,
            });
        }
        Ok((cp, note, cosigned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::cosign;
    use crate::note::SignerKey;
    use crate::Hash;

    fn keys() -> (SignerKey, Vec<SignerKey>) {
        let log = SignerKey::from_seed("example.org/log", KeyType::Ed25519, [1; 32]).unwrap();
        let ws = (0..3)
            .map(|i| {
                SignerKey::from_seed(&format!("w{i}.example"), KeyType::Cosignature, [10 + i; 32])
                    .unwrap()
            })
            .collect();
        (log, ws)
    }

    fn policy_text(log: &SignerKey, ws: &[SignerKey], k: &str) -> String {
        let mut t = format!(
            "# test\nlog {} http://127.0.0.1:1\n\n",
            log.verifier().to_key_string()
        );
        for (i, w) in ws.iter().enumerate() {
            t.push_str(&format!(
                "witness W{i} {} http://127.0.0.1:{}\n",
                w.verifier().to_key_string(),
                2 + i
            ));
        }
        t.push_str(&format!("group G {k} W0 W1 W2\nquorum G\n"));
        t
    }

    #[test]
    fn quorum_two_of_three() {
        let (log, ws) = keys();
        let p = Policy::parse(&policy_text(&log, &ws, "2")).unwrap();
        assert_eq!(p.witnesses.len(), 3);
        assert_eq!(p.witnesses[1].url.as_deref(), Some("http://127.0.0.1:3"));
        let text = Checkpoint::new("example.org/log", 5, Hash([3; 32]))
            .to_text()
            .unwrap();
        let mut note = Note::new(text.clone()).unwrap();
        note.add_signature(log.sign(&text).unwrap()).unwrap();
        note.add_signature(cosign(&ws[0], &text, 100).unwrap())
            .unwrap();
        assert!(matches!(
            p.verify_checkpoint(&note.to_bytes()),
            Err(PolicyError::QuorumNotMet { .. })
        ));
        note.add_signature(cosign(&ws[2], &text, 100).unwrap())
            .unwrap();
        let (_, _, who) = p.verify_checkpoint(&note.to_bytes()).unwrap();
        assert_eq!(who.len(), 2);
        // A cosignature on another checkpoint does not count.
        let mut forged = note.clone();
        forged.remove_signatures(|s| s.name == "w2.example");
        let other = Checkpoint::new("example.org/log", 6, Hash([3; 32]))
            .to_text()
            .unwrap();
        forged
            .add_signature(cosign(&ws[2], &other, 100).unwrap())
            .unwrap();
        assert!(p.verify_checkpoint(&forged.to_bytes()).is_err());
    }

    #[test]
    fn thresholds_and_none() {
        let (log, ws) = keys();
        let all = Policy::parse(&policy_text(&log, &ws, "all")).unwrap();
        let any = Policy::parse(&policy_text(&log, &ws, "any")).unwrap();
        let one: HashSet<String> = ["W1".to_owned()].into();
        assert!(!all.quorum_met(&one));
        assert!(any.quorum_met(&one));
        let none = Policy::parse(&format!(
            "log {}\nquorum none\n",
            log.verifier().to_key_string()
        ))
        .unwrap();
        assert!(none.quorum_met(&HashSet::new()));
    }

    #[test]
    fn syntax_errors() {
        let (log, ws) = keys();
        let good = policy_text(&log, &ws, "2");
        assert!(Policy::parse(&good.replace("group G 2", "group G 4")).is_err());
        assert!(Policy::parse(&good.replace("group G 2", "group G 0")).is_err());
        assert!(Policy::parse(&good.replace("W0 W1 W2", "W0 W1 W9")).is_err());
        assert!(Policy::parse(&good.replace("W0 W1 W2", "W0 W1 W1")).is_err());
        assert_eq!(
            Policy::parse(&good.replace("quorum G\n", "")),
            Err(PolicyError::NoQuorum)
        );
        assert!(Policy::parse(&format!("{good}quorum G\n")).is_err());
        assert!(Policy::parse(&good.replace("witness W1", "witness W0")).is_err());
        assert!(Policy::parse(&good.replace("quorum G", "quorum H")).is_err());
        assert!(Policy::parse(&format!("{good}frobnicate\n")).is_err());
        let no_log: String = good
            .lines()
            .filter(|l| !l.starts_with("log"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(Policy::parse(&no_log), Err(PolicyError::NoLog));
        // A witness key is not a log key.
        assert!(Policy::parse(&format!(
            "log {}\nquorum none\n",
            ws[0].verifier().to_key_string()
        ))
        .is_err());
    }
}
