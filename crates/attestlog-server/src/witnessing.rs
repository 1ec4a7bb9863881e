//! Getting the log's checkpoints cosigned by its witnesses (C2SP
//! tlog-witness, client side), at its own cadence.
//!
//! Every `interval` (default 1 s), if the tree grew since the last round,
//! the log sends `add-checkpoint` to every witness of its policy in
//! parallel, each with its own timeout (default 1 s): `old <size the
//! witness last cosigned>`, a consistency proof from there, and the
//! log-signed checkpoint. A 200 carries the witness's `cosignature/v1`
//! line, which is verified before it is kept; a 409 tells the witness's
//! size, and the request is resent once with a fresh proof; a 422 for our
//! own checkpoint is an alarm (error log and metric), not retried for that
//! checkpoint. A witness that is down, slow or answers garbage only misses
//! its own cosignature; rounds retry witnesses that have not cosigned the
//! current checkpoint.
//!
//! The result is published as the *witnessed* checkpoint: the log-signed
//! note plus every cosignature collected for it. `GetCheckpoint` and
//! `/checkpoint` serve it, and `Submit` can wait for one that includes the
//! entry and meets the policy's quorum.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use attestlog_core::cosignature;
use attestlog_core::note::{Note, NoteSignature, NoteVerifier as _, VerifierKey};
use attestlog_core::proof::prove_consistency;
use attestlog_core::tlog_policy::TlogPolicy;
use attestlog_core::witness_protocol::{
    parse_conflict_size, parse_cosignature_lines, AddCheckpointRequest,
};
use hyper::Method;

use crate::state::{CollectedCosignatures, LogState, Published};

/// Largest response read from a witness.
const MAX_WITNESS_RESPONSE: usize = 64 * 1024;

/// Witnessing settings.
#[derive(Clone, Debug)]
pub struct WitnessingConfig {
    /// The witnesses (with URLs) and the quorum.
    pub policy: TlogPolicy,
    /// Time between rounds.
    pub interval: Duration,
    /// Timeout of one request to one witness.
    pub timeout: Duration,
}

/// A witness of the policy that has a URL to send checkpoints to.
#[derive(Clone)]
struct Target {
    /// Index in [`TlogPolicy::witnesses`].
    index: usize,
    /// Its name in the policy (for logs and metrics).
    name: String,
    /// Its cosignature key.
    key: VerifierKey,
    /// Its submission prefix.
    url: String,
}

/// What one witness answered this round.
enum Outcome {
    Cosigned(NoteSignature, u64),
    /// The witness said it is at another size.
    Conflict(u64),
    /// The witness refused our checkpoint as inconsistent: an alarm.
    Refused(String),
    Failed(String),
}

/// Runs witnessing rounds until `stop` turns true.
pub async fn run(
    state: Arc<LogState>,
    config: WitnessingConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let witnesses: Vec<Target> = config
        .policy
        .witnesses
        .iter()
        .enumerate()
        .filter_map(|(index, w)| {
            Some(Target {
                index,
                name: String::from_utf8_lossy(&w.name).into_owned(),
                key: w.key.clone(),
                url: w.url_str()?.to_owned(),
            })
        })
        .collect();
    if witnesses.is_empty() {
        tracing::warn!("the witness policy names no witness with a URL; nothing to do");
        return;
    }
    // The size each witness last cosigned, as far as we know.
    let mut sizes: HashMap<String, u64> = HashMap::new();
    // For the checkpoint being witnessed: cosignatures so far, and
    // witnesses that refused it.
    let mut round_for: Option<Arc<Published>> = None;
    let mut collected: HashMap<String, NoteSignature> = HashMap::new();
    let mut refused: HashSet<String> = HashSet::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(config.interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        let cur = state.current();
        if round_for.as_ref().is_none_or(|r| r.size != cur.size) {
            round_for = Some(cur.clone());
            collected.clear();
            refused.clear();
        }
        let pending: Vec<&Target> = witnesses
            .iter()
            .filter(|w| !collected.contains_key(&w.name) && !refused.contains(&w.name))
            .collect();
        if pending.is_empty() {
            continue;
        }
        let asks = pending.iter().map(|w| {
            let (state, cur, w) = (state.clone(), cur.clone(), (*w).clone());
            let old = sizes.get(&w.name).copied().unwrap_or(0).min(cur.size);
            let timeout = config.timeout;
            async move {
                let mut outcome = ask(&state, &w, &cur, old, timeout).await;
                if let Outcome::Conflict(theirs) = outcome {
                    if theirs <= cur.size && theirs != old {
                        outcome = ask(&state, &w, &cur, theirs, timeout).await;
                    } else {
                        outcome = Outcome::Refused(format!(
                            "witness is at size {theirs}, which does not extend to our {}",
                            cur.size
                        ));
                    }
                }
                (w.name.clone(), outcome)
            }
        });
        let mut changed = false;
        for (name, outcome) in futures_join_all(asks).await {
            match outcome {
                Outcome::Cosigned(sig, size) => {
                    sizes.insert(name.clone(), size);
                    state.metrics.witness_result(&name, "cosigned");
                    collected.insert(name, sig);
                    changed = true;
                }
                Outcome::Conflict(size) => {
                    sizes.insert(name.clone(), size);
                    state.metrics.witness_result(&name, "conflict");
                }
                Outcome::Refused(why) => {
                    tracing::error!(witness = %name, size = cur.size, reason = %why,
                        "ALARM: a witness refused our checkpoint as inconsistent with what it saw");
                    state.metrics.witness_result(&name, "refused");
                    refused.insert(name);
                }
                Outcome::Failed(why) => {
                    tracing::warn!(witness = %name, reason = %why, "witness did not cosign; will retry");
                    state.metrics.witness_result(&name, "failed");
                }
            }
        }
        if changed {
            publish(&state, &config.policy, &witnesses, &cur, &collected);
        }
    }
}

/// Joins futures concurrently (a tiny `join_all`, to avoid a dependency).
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        if let Ok(v) = h.await {
            out.push(v);
        }
    }
    out
}

fn publish(
    state: &LogState,
    policy: &TlogPolicy,
    targets: &[Target],
    cur: &Published,
    collected: &HashMap<String, NoteSignature>,
) {
    let Ok(mut note) = Note::parse(&cur.note) else {
        return;
    };
    let mut names: Vec<&String> = collected.keys().collect();
    names.sort();
    for name in names {
        let _ = note.add_signature(collected[name].clone());
    }
    let cosigners: HashSet<String> = collected.keys().cloned().collect();
    let indexes: Vec<usize> = targets
        .iter()
        .filter(|t| cosigners.contains(&t.name))
        .map(|t| t.index)
        .collect();
    let quorum_met = policy.quorum_met(&indexes);
    state.publish_witnessed(CollectedCosignatures {
        checkpoint: Published {
            size: cur.size,
            root: cur.root,
            note: note.to_bytes(),
        },
        cosigners,
        quorum_met,
    });
}

/// Sends one `add-checkpoint` and interprets the answer.
async fn ask(
    state: &LogState,
    w: &Target,
    cur: &Published,
    old: u64,
    timeout: Duration,
) -> Outcome {
    let base = &w.url;
    let proof = match prove_consistency(state.store.as_ref(), old, cur.size) {
        Ok(p) => p,
        Err(e) => return Outcome::Failed(format!("building the proof: {e}")),
    };
    let body = AddCheckpointRequest {
        old_size: old,
        proof,
        checkpoint: cur.note.clone(),
    }
    .to_bytes();
    let url = format!("{}/add-checkpoint", base.trim_end_matches('/'));
    let resp = match attestlog_http::request(
        Method::POST,
        &url,
        body,
        timeout,
        MAX_WITNESS_RESPONSE,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    interpret(w, cur, resp.status, &resp.body)
}

/// What an answer to `add-checkpoint` for `cur` means; the bodies are read
/// with `attestlog_core::witness_protocol`.
fn interpret(w: &Target, cur: &Published, status: u16, body: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(body);
    match status {
        200 => match find_cosignature(w, cur, body) {
            Some(sig) => Outcome::Cosigned(sig, cur.size),
            None => Outcome::Failed("200 without a valid cosignature from this witness".into()),
        },
        // C2SP tlog-witness: 409 carries the witness's latest size, "in
        // decimal, followed by a newline (U+000A)".
        409 => match parse_conflict_size(body) {
            Ok(n) => Outcome::Conflict(n),
            Err(e) => Outcome::Failed(format!("409 with an unreadable size {:?}: {e}", text)),
        },
        422 => Outcome::Refused(text.trim().to_owned()),
        s => Outcome::Failed(format!("HTTP {s}: {}", text.trim())),
    }
}

/// Finds and verifies this witness's cosignature among the signature lines
/// of a 200 answer (C2SP tlog-witness: "The client MUST ignore any
/// cosignatures from unknown keys").
fn find_cosignature(w: &Target, cur: &Published, body: &[u8]) -> Option<NoteSignature> {
    let note = Note::parse(&cur.note).ok()?;
    parse_cosignature_lines(body).ok()?.into_iter().find(|s| {
        s.name == w.key.name()
            && s.key_id == w.key.key_id()
            && cosignature::verify(&w.key, note.text(), s).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use attestlog_core::checkpoint::Checkpoint;
    use attestlog_core::leaf_hash;
    use attestlog_core::note::{KeyType, SignerKey};
    use attestlog_core::witness_protocol::{encode_conflict_size, encode_cosignature_lines};

    const TIME: u64 = 1_700_000_000;

    /// A log checkpoint of size 20 and a witness `w.test` that knows it.
    fn setup() -> (Target, SignerKey, Published) {
        let log = SignerKey::from_seed("log.test", KeyType::Ed25519, [1; 32]).unwrap();
        let witness = SignerKey::from_seed("w.test", KeyType::Cosignature, [2; 32]).unwrap();
        let root = leaf_hash(b"root");
        let text = Checkpoint::new("log.test", 20, root).to_text().unwrap();
        let mut note = Note::new(text.clone()).unwrap();
        note.add_signature(log.sign(&text).unwrap()).unwrap();
        let target = Target {
            index: 0,
            name: "W".into(),
            key: witness.verifier(),
            url: "http://127.0.0.1:1".into(),
        };
        let cur = Published {
            size: 20,
            root,
            note: note.to_bytes(),
        };
        (target, witness, cur)
    }

    fn text(cur: &Published) -> String {
        Note::parse(&cur.note).unwrap().text().to_owned()
    }

    /// Pins the log side's reading of a 409 body to C2SP tlog-witness's
    /// "in decimal, followed by a newline", the grammar the witness writes
    /// (`witness_protocol::encode_conflict_size`). The former
    /// `trim().parse::<u64>()` also took the refused bodies below; a
    /// witness that answers them now only misses its cosignature this
    /// round.
    #[test]
    fn conflict_bodies_are_read_strictly() {
        let (w, _, cur) = setup();
        for body in [encode_conflict_size(12).into_bytes(), b"12\n".to_vec()] {
            assert!(matches!(
                interpret(&w, &cur, 409, &body),
                Outcome::Conflict(12)
            ));
        }
        // Each of these was read as 12 before; the grammar's other
        // refusals are tested with `witness_protocol`.
        for body in [&b"12 \n"[..], b"+12", b"+12\n", b"12\r\n"] {
            assert!(
                matches!(interpret(&w, &cur, 409, body), Outcome::Failed(_)),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    /// Pins the reading of a 200 body: signature lines only (C2SP
    /// tlog-witness: "a sequence of one or more note signature lines"),
    /// keeping the one by this witness's key that verifies. The former
    /// reading (the body appended to the note and parsed as one note)
    /// also took lines after non-signature text and a blank line.
    #[test]
    fn cosignature_bodies() {
        let (w, key, cur) = setup();
        let ours = cosignature::cosign(&key, &text(&cur), TIME).unwrap();
        let stranger = SignerKey::from_seed("x.test", KeyType::Cosignature, [3; 32]).unwrap();
        let theirs = cosignature::cosign(&stranger, &text(&cur), TIME).unwrap();
        let stale = cosignature::cosign(&key, "log.test\n19\nAAAA\n", TIME).unwrap();

        let body = encode_cosignature_lines(&[theirs.clone(), ours.clone()]);
        match interpret(&w, &cur, 200, body.as_bytes()) {
            Outcome::Cosigned(sig, 20) => assert_eq!(sig, ours),
            _ => panic!("our cosignature among unknown ones is found"),
        }
        for body in [
            encode_cosignature_lines(std::slice::from_ref(&theirs)),
            encode_cosignature_lines(&[stale]),
            format!("garbage\n\n{}", ours.to_line()),
            format!("\n{}", ours.to_line()),
            String::new(),
        ] {
            assert!(
                matches!(
                    interpret(&w, &cur, 200, body.as_bytes()),
                    Outcome::Failed(_)
                ),
                "{body:?}"
            );
        }
        assert!(matches!(
            interpret(&w, &cur, 422, b"split view\n"),
            Outcome::Refused(_)
        ));
        assert!(matches!(interpret(&w, &cur, 500, b""), Outcome::Failed(_)));
    }
}
