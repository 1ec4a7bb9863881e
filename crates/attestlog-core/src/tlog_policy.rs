//! C2SP tlog-policy (<https://c2sp.org/tlog-policy>): which logs and which
//! witnesses a verifier trusts, and how many cosignatures make a checkpoint
//! valid. Parsing, serializing, and evaluating the quorum.
//!
//! ```text
//! policy    = *line
//! line      = *ws [ item *ws ] "\n"          ; the last line may lack "\n"
//!           / *ws "#" *octet "\n"            ; a comment line
//! item      = "log" 1*ws vkey [ 1*ws url ]
//!           / "witness" 1*ws name 1*ws vkey [ 1*ws url ]
//!           / "group" 1*ws name 1*ws threshold 1*( 1*ws name )
//!           / "quorum" 1*ws name             ; exactly one per policy
//! threshold = "all" / "any" / k              ; k decimal, no leading zero, 1 ≤ k ≤ n
//! ws        = %x20 / %x09                    ; space and tab only
//! octet     = %x09 / %x20-7E / %x80-FF       ; no other control characters
//! name      = 1*( %x21-7E / %x80-FF )        ; opaque octets; not "none"
//! vkey      = a C2SP signed-note verifier key (UTF-8): type 0x01 (Ed25519)
//!             for a log, 0x04 (cosignature/v1) for a witness
//! url       = 1*( %x21-7E / %x80-FF )        ; opaque to this crate
//! ```
//!
//! Rules enforced while parsing, each quoted from the specification next to
//! its check: names are defined once, in one namespace shared by witnesses
//! and groups; `none` is predefined and may only be the quorum; a group or
//! the quorum refers only to names defined on earlier lines; a name is a
//! member of one group at most once; no two logs (or two witnesses) share
//! a public key; there is exactly one `quorum` line.
//!
//! A log's key name is its checkpoint origin ("This name MUST correspond to
//! the log's origin line, representing the identity of the log"), so no
//! two `log` lines may name one origin: the specification defines no key
//! rotation, only that "all of the listed logs are accepted", and a
//! policy listing one log's identity under two keys would accept
//! checkpoints of that origin signed by either — a second tree under the
//! same name. A log that rotates its key starts a new origin.
//!
//! Limits are [`MAX_POLICY_SIZE`], [`MAX_POLICY_LOGS`],
//! [`MAX_POLICY_WITNESSES`] and [`MAX_POLICY_GROUPS`] (the specification
//! recommends supporting at least 32 of each).
//!
//! **Choosing a quorum.** A witness cosigns only what is consistent with
//! what it cosigned before, so a split view needs every witness of the
//! quorum to cooperate with the log. With `n` witnesses of which `f` may be
//! dishonest or compromised, require `k > 2n/3` (for example `3` of `4`):
//! then any two quorums share at least one honest witness, and a quorum is
//! still reachable when up to a third of the witnesses are down. A monitor
//! may use a stricter policy than a verifier (for example `all`), to learn
//! early that a witness has stopped cosigning.

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{KeyType, Note, NoteVerifier as _, VerifierKey};
use crate::text::parse_decimal_u64_bytes;

/// Why a policy is invalid, or a checkpoint does not satisfy it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TlogPolicyError {
    /// A line of the policy file is invalid (`line` 0: the file as a whole).
    #[error("policy line {line}: {reason}")]
    Syntax {
        /// 1-based line number, or 0.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint's note or text is invalid, its origin is not a log of
    /// the policy, or the log's signature does not verify.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The valid cosignatures do not satisfy the quorum.
    #[error("the checkpoint does not satisfy the witness policy: {0}")]
    QuorumNotMet(String),
}

/// The largest policy file accepted, in bytes.
pub const MAX_POLICY_SIZE: usize = 1 << 20;
/// The most `log` lines a policy may have.
pub const MAX_POLICY_LOGS: usize = 256;
/// The most `witness` lines a policy may have.
pub const MAX_POLICY_WITNESSES: usize = 256;
/// The most `group` lines a policy may have.
pub const MAX_POLICY_GROUPS: usize = 256;

/// The predefined name that, as the quorum, requires no cosignature.
pub const NONE: &[u8] = b"none";

/// A trusted log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyLog {
    /// The log's Ed25519 (0x01) note key; its name is the log's origin.
    pub key: VerifierKey,
    /// Where to reach the log, if given (opaque octets).
    pub url: Option<Vec<u8>>,
}

/// A trusted witness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyWitness {
    /// The name used in groups and the quorum (opaque octets).
    pub name: Vec<u8>,
    /// The witness's cosignature/v1 (0x04) key.
    pub key: VerifierKey,
    /// Where to reach the witness, if given (opaque octets).
    pub url: Option<Vec<u8>>,
}

/// A group member: a witness or an earlier group, by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    /// `TlogPolicy::witnesses[i]`.
    Witness(usize),
    /// `TlogPolicy::groups[i]`, always defined before the group naming it.
    Group(usize),
}

/// A group's threshold as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// Every member.
    All,
    /// At least one member.
    Any,
    /// At least `k` members, `1 ≤ k ≤ n`.
    AtLeast(usize),
}

/// A group of witnesses (and groups) with a threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyGroup {
    /// The group's name.
    pub name: Vec<u8>,
    /// The threshold as written.
    pub threshold: Threshold,
    /// The members, in the order written.
    pub members: Vec<Member>,
}

impl PolicyGroup {
    /// The number of members that must have witnessed a checkpoint.
    pub fn required(&self) -> usize {
        match self.threshold {
            Threshold::All => self.members.len(),
            Threshold::Any => 1,
            Threshold::AtLeast(k) => k,
        }
    }
}

/// The quorum: what must have witnessed a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quorum {
    /// `quorum none`: no cosignature is required.
    None,
    /// One witness or one group.
    Member(Member),
}

/// A parsed tlog-policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogPolicy {
    /// Trusted logs.
    pub logs: Vec<PolicyLog>,
    /// Known witnesses.
    pub witnesses: Vec<PolicyWitness>,
    /// Groups, each referring only to witnesses and earlier groups.
    pub groups: Vec<PolicyGroup>,
    /// The quorum.
    pub quorum: Quorum,
}

fn bad(line: usize, reason: impl Into<String>) -> TlogPolicyError {
    TlogPolicyError::Syntax {
        line,
        reason: reason.into(),
    }
}

/// Splits on runs of spaces and tabs ("sequences of ASCII space and tab
/// characters *only*").
fn fields(line: &[u8]) -> Vec<&[u8]> {
    line.split(|&b| b == b' ' || b == b'\t')
        .filter(|f| !f.is_empty())
        .collect()
}

fn utf8(line: usize, what: &str, bytes: &[u8]) -> Result<String, TlogPolicyError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| bad(line, format!("{what} is not UTF-8")))
}

impl TlogPolicy {
    /// Parses a policy file (see the module documentation).
    pub fn parse(bytes: &[u8]) -> Result<TlogPolicy, TlogPolicyError> {
        if bytes.len() > MAX_POLICY_SIZE {
            return Err(bad(
                0,
                format!("file is larger than {MAX_POLICY_SIZE} bytes"),
            ));
        }
        let mut p = TlogPolicy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: Quorum::None,
        };
        let mut quorum_seen = false;
        let mut log_lines = Vec::new();
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        if bytes.is_empty() {
            return Err(bad(0, "no quorum line (a policy needs exactly one)"));
        }
        for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
            let n = i + 1;
            // C2SP tlog-policy: "The only allowed control characters are
            // tab and newline".
            if raw.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                return Err(bad(
                    n,
                    "control character (only tab and newline are allowed)",
                ));
            }
            let f = fields(raw);
            let Some(keyword) = f.first() else {
                continue; // "Empty lines (whitespace only) ... are ignored"
            };
            if keyword.starts_with(b"#") {
                continue; // "comment lines (lines starting with "#" ...)"
            }
            match *keyword {
                b"log" => p.parse_log(n, &f, &mut log_lines)?,
                b"witness" => p.parse_witness(n, &f)?,
                b"group" => p.parse_group(n, &f)?,
                b"quorum" => {
                    // "A policy file must include exactly one quorum line."
                    if quorum_seen {
                        return Err(bad(n, "a second quorum line (exactly one is allowed)"));
                    }
                    let [_, name] = f[..] else {
                        return Err(bad(n, "expected `quorum <name>`"));
                    };
                    p.quorum = if name == NONE {
                        Quorum::None
                    } else {
                        Quorum::Member(p.lookup(n, name)?)
                    };
                    quorum_seen = true;
                }
                other => {
                    return Err(bad(
                        n,
                        format!(
                            "unknown keyword {:?} (expected log, witness, group or quorum)",
                            String::from_utf8_lossy(other)
                        ),
                    ))
                }
            }
        }
        if !quorum_seen {
            return Err(bad(0, "no quorum line (a policy needs exactly one)"));
        }
        Ok(p)
    }

    /// A `log` line; `lines` holds the line numbers of the logs so far
    /// (for naming both lines of a repeated origin) and gets this one.
    fn parse_log(
        &mut self,
        n: usize,
        f: &[&[u8]],
        lines: &mut Vec<usize>,
    ) -> Result<(), TlogPolicyError> {
        let (vkey, url) = match f {
            [_, k] => (*k, None),
            [_, k, u] => (*k, Some(u.to_vec())),
            _ => return Err(bad(n, "expected `log <vkey> [<url>]`")),
        };
        let key = parse_key(n, vkey, KeyType::Ed25519, "log")?;
        // "Duplicate logs, i.e., multiple log lines with the same public
        // key, are not allowed."
        if self
            .logs
            .iter()
            .any(|l| l.key.verifying_key() == key.verifying_key())
        {
            return Err(bad(n, "duplicate log public key"));
        }
        // "This name MUST correspond to the log's origin line, representing
        // the identity of the log": one origin, one log, one key.
        if let Some(first) = self.logs.iter().position(|l| l.key_name() == key.name()) {
            return Err(bad(
                n,
                format!(
                    "origin {:?} is listed twice (line {} and line {n}) with different keys; \
                     tlog-policy defines no key rotation: keep the one log line whose key you trust",
                    key.name(),
                    lines[first]
                ),
            ));
        }
        if self.logs.len() == MAX_POLICY_LOGS {
            return Err(bad(n, format!("more than {MAX_POLICY_LOGS} logs")));
        }
        self.logs.push(PolicyLog { key, url });
        lines.push(n);
        Ok(())
    }

    fn parse_witness(&mut self, n: usize, f: &[&[u8]]) -> Result<(), TlogPolicyError> {
        let (name, vkey, url) = match f {
            [_, nm, k] => (*nm, *k, None),
            [_, nm, k, u] => (*nm, *k, Some(u.to_vec())),
            _ => return Err(bad(n, "expected `witness <name> <vkey> [<url>]`")),
        };
        self.check_new_name(n, name)?;
        let key = parse_key(n, vkey, KeyType::Cosignature, "witness")?;
        // "Duplicate witnesses, i.e., multiple witness lines with the same
        // public key, are not allowed."
        if self
            .witnesses
            .iter()
            .any(|w| w.key.verifying_key() == key.verifying_key())
        {
            return Err(bad(n, "duplicate witness public key"));
        }
        if self.witnesses.len() == MAX_POLICY_WITNESSES {
            return Err(bad(
                n,
                format!("more than {MAX_POLICY_WITNESSES} witnesses"),
            ));
        }
        self.witnesses.push(PolicyWitness {
            name: name.to_vec(),
            key,
            url,
        });
        Ok(())
    }

    fn parse_group(&mut self, n: usize, f: &[&[u8]]) -> Result<(), TlogPolicyError> {
        let [_, name, threshold, members @ ..] = f else {
            return Err(bad(n, "expected `group <name> <k>|all|any <member>...`"));
        };
        self.check_new_name(n, name)?;
        // "At least one member must be listed (i.e., n >= 1)."
        if members.is_empty() {
            return Err(bad(n, "a group needs at least one member"));
        }
        let mut list = Vec::with_capacity(members.len());
        for m in members {
            // "The special name `none` ... is invalid as a group member."
            if *m == NONE {
                return Err(bad(n, "`none` cannot be a group member"));
            }
            let member = self.lookup(n, m)?;
            // "Each defined name can be listed as a group member at most once."
            if list.contains(&member) {
                return Err(bad(
                    n,
                    format!("member {} listed twice", String::from_utf8_lossy(m)),
                ));
            }
            list.push(member);
        }
        let threshold = match *threshold {
            b"all" => Threshold::All,
            b"any" => Threshold::Any,
            k => {
                let k = parse_decimal(k)
                    .ok_or_else(|| bad(n, "threshold is not `all`, `any` or a decimal number"))?;
                // "it is required that 1 <= k <= n"
                if k == 0 || k > list.len() {
                    return Err(bad(
                        n,
                        format!("threshold {k} is not between 1 and {} members", list.len()),
                    ));
                }
                Threshold::AtLeast(k)
            }
        };
        if self.groups.len() == MAX_POLICY_GROUPS {
            return Err(bad(n, format!("more than {MAX_POLICY_GROUPS} groups")));
        }
        self.groups.push(PolicyGroup {
            name: name.to_vec(),
            threshold,
            members: list,
        });
        Ok(())
    }

    /// "Witnesses and groups share a single namespace."
    fn check_new_name(&self, n: usize, name: &[u8]) -> Result<(), TlogPolicyError> {
        if name == NONE {
            return Err(bad(n, "`none` is predefined and cannot be redefined"));
        }
        if self.find(name).is_some() {
            return Err(bad(
                n,
                format!("name {} is defined twice", String::from_utf8_lossy(name)),
            ));
        }
        Ok(())
    }

    fn find(&self, name: &[u8]) -> Option<Member> {
        if let Some(i) = self.witnesses.iter().position(|w| w.name == name) {
            return Some(Member::Witness(i));
        }
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(Member::Group)
    }

    /// "A line defining a group can only reference names of groups and
    /// witnesses defined on preceding lines."
    fn lookup(&self, n: usize, name: &[u8]) -> Result<Member, TlogPolicyError> {
        self.find(name).ok_or_else(|| {
            bad(
                n,
                format!(
                    "{} is not defined on an earlier line",
                    String::from_utf8_lossy(name)
                ),
            )
        })
    }

    /// Serializes the policy: logs, witnesses, groups in definition order,
    /// then the quorum. [`TlogPolicy::parse`] of the result gives `self` back.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for l in &self.logs {
            out.extend_from_slice(b"log ");
            out.extend_from_slice(l.key.to_key_string().as_bytes());
            push_url(&mut out, &l.url);
        }
        for w in &self.witnesses {
            out.extend_from_slice(b"witness ");
            out.extend_from_slice(&w.name);
            out.push(b' ');
            out.extend_from_slice(w.key.to_key_string().as_bytes());
            push_url(&mut out, &w.url);
        }
        for g in &self.groups {
            out.extend_from_slice(b"group ");
            out.extend_from_slice(&g.name);
            match g.threshold {
                Threshold::All => out.extend_from_slice(b" all"),
                Threshold::Any => out.extend_from_slice(b" any"),
                Threshold::AtLeast(k) => out.extend_from_slice(format!(" {k}").as_bytes()),
            }
            for m in &g.members {
                out.push(b' ');
                out.extend_from_slice(self.member_name(*m));
            }
            out.push(b'\n');
        }
        out.extend_from_slice(b"quorum ");
        match self.quorum {
            Quorum::None => out.extend_from_slice(NONE),
            Quorum::Member(m) => out.extend_from_slice(self.member_name(m)),
        }
        out.push(b'\n');
        out
    }

    /// The name of a member.
    pub fn member_name(&self, m: Member) -> &[u8] {
        match m {
            Member::Witness(i) => &self.witnesses[i].name,
            Member::Group(i) => &self.groups[i].name,
        }
    }

    /// The trusted log whose key name is `origin`, if any.
    pub fn log(&self, origin: &str) -> Option<&PolicyLog> {
        self.logs.iter().find(|l| l.key_name() == origin)
    }

    /// Whether the witnesses in `cosigned` (indexes into
    /// [`TlogPolicy::witnesses`]) satisfy the quorum.
    pub fn quorum_met(&self, cosigned: &[usize]) -> bool {
        let met = self.groups_met(cosigned);
        match self.quorum {
            Quorum::None => true,
            Quorum::Member(m) => member_met(m, cosigned, &met),
        }
    }

    /// Which groups the witnesses in `cosigned` satisfy, by group index.
    fn groups_met(&self, cosigned: &[usize]) -> Vec<bool> {
        let mut met: Vec<bool> = Vec::with_capacity(self.groups.len());
        // Groups refer only to earlier groups, so one pass in order works.
        for g in &self.groups {
            let count = g
                .members
                .iter()
                .filter(|&&m| member_met(m, cosigned, &met))
                .count();
            met.push(count >= g.required());
        }
        met
    }

    /// The quorum rule in words, with what `cosigned` achieves, e.g.
    /// "group main needs 2 of w1 (cosigned), w2 (missing), w3 (missing)".
    pub fn explain(&self, cosigned: &[usize]) -> String {
        let met = self.groups_met(cosigned);
        match self.quorum {
            Quorum::None => "the policy requires no cosignature (quorum none)".into(),
            Quorum::Member(Member::Witness(i)) => format!(
                "the policy requires a cosignature by witness {} ({})",
                lossy(&self.witnesses[i].name),
                if cosigned.contains(&i) {
                    "present"
                } else {
                    "missing"
                }
            ),
            Quorum::Member(Member::Group(i)) => self.explain_group(i, cosigned, &met),
        }
    }

    fn explain_group(&self, i: usize, cosigned: &[usize], met: &[bool]) -> String {
        let g = &self.groups[i];
        let parts: Vec<String> = g
            .members
            .iter()
            .map(|&m| match m {
                Member::Witness(w) => format!(
                    "{} ({})",
                    lossy(&self.witnesses[w].name),
                    if cosigned.contains(&w) {
                        "cosigned"
                    } else {
                        "missing"
                    }
                ),
                Member::Group(sub) => format!("[{}]", self.explain_group(sub, cosigned, met)),
            })
            .collect();
        format!(
            "group {} needs {} of {} ({}): {}",
            lossy(&g.name),
            g.required(),
            g.members.len(),
            if met.get(i).copied().unwrap_or(false) {
                "met"
            } else {
                "not met"
            },
            parts.join(", ")
        )
    }
}

impl PolicyLog {
    /// The log's key name, which is its origin.
    pub fn key_name(&self) -> &str {
        crate::note::NoteVerifier::name(&self.key)
    }

    /// The URL as text, if it is UTF-8.
    pub fn url_str(&self) -> Option<&str> {
        self.url
            .as_deref()
            .and_then(|u| std::str::from_utf8(u).ok())
    }
}

impl PolicyWitness {
    /// The URL as text, if it is UTF-8.
    pub fn url_str(&self) -> Option<&str> {
        self.url
            .as_deref()
            .and_then(|u| std::str::from_utf8(u).ok())
    }
}

fn member_met(m: Member, cosigned: &[usize], met: &[bool]) -> bool {
    match m {
        Member::Witness(i) => cosigned.contains(&i),
        Member::Group(i) => met.get(i).copied().unwrap_or(false),
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn push_url(out: &mut Vec<u8>, url: &Option<Vec<u8>>) {
    if let Some(u) = url {
        out.push(b' ');
        out.extend_from_slice(u);
    }
    out.push(b'\n');
}

fn parse_key(
    n: usize,
    vkey: &[u8],
    want: KeyType,
    role: &str,
) -> Result<VerifierKey, TlogPolicyError> {
    let text = utf8(n, "the verifier key", vkey)?;
    let key = VerifierKey::parse(&text).map_err(|e| bad(n, format!("{role} key: {e}")))?;
    // "Log and witness keys must use a signature type appropriate [to
    // their] respective function"
    if key.key_type() != want {
        return Err(bad(
            n,
            format!(
                "{role} key has type 0x{:02x}; a {role} key must be 0x{:02x}",
                key.key_type().byte(),
                want.byte()
            ),
        ));
    }
    Ok(key)
}

fn parse_decimal(s: &[u8]) -> Option<usize> {
    usize::try_from(parse_decimal_u64_bytes(s).ok()?).ok()
}

#[cfg(test)]
mod tests;

impl TlogPolicy {
    /// The witnesses (indexes into [`TlogPolicy::witnesses`]) whose
    /// cosignatures on `note` verify.
    pub fn valid_cosigners(&self, note: &Note) -> Vec<usize> {
        self.witnesses
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                note.signatures().iter().any(|s| {
                    s.name == w.key.name()
                        && s.key_id == w.key.key_id()
                        && w.key.verify(note.text(), &s.signature)
                })
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Verifies a signed checkpoint note: signed by one of the policy's
    /// logs (the origin is the log key's name) and cosigned to the quorum.
    /// Returns the checkpoint, the note and the cosigning witnesses.
    pub fn verify_checkpoint(
        &self,
        note_bytes: &[u8],
    ) -> Result<(Checkpoint, Note, Vec<usize>), TlogPolicyError> {
        let note = Note::parse(note_bytes).map_err(CheckpointError::from)?;
        let cp = Checkpoint::parse(note.text())?;
        let log = self
            .log(&cp.origin)
            .ok_or_else(|| CheckpointError::WrongOrigin {
                expected: self
                    .logs
                    .iter()
                    .map(|l| l.key_name().to_owned())
                    .collect::<Vec<_>>()
                    .join(" or "),
                got: cp.origin.clone(),
            })?;
        note.verify(&[&log.key]).map_err(CheckpointError::from)?;
        let cosigners = self.valid_cosigners(&note);
        if !self.quorum_met(&cosigners) {
            return Err(TlogPolicyError::QuorumNotMet(self.explain(&cosigners)));
        }
        Ok((cp, note, cosigners))
    }
}
