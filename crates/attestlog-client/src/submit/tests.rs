//! [`check_answer`] on an honest answer and on each kind of tampered one.
//! Answers are built the way the log builds them: real OpenPGP signatures
//! (sequoia), leaves from the same verifier, an RFC 9162 tree, a signed
//! C2SP checkpoint.

use super::*;
use attestlog_core::note::{KeyType, Note, SignerKey};
use attestlog_core::proof::prove_inclusion;
use attestlog_core::rand_core::OsRng;
use attestlog_core::tree::InMemoryTree;
use attestlog_core::Hash;
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::statement;

const ORIGIN: &str = "submit.unit.test/log";

/// The index of the submitter's entry in the test tree.
const MINE: usize = 3;

struct Fixture {
    log: SignerKey,
    alice: Maintainer,
    statement: Vec<u8>,
    signature: Vec<u8>,
    leaves: Vec<Vec<u8>>,
}

fn leaf(m: &Maintainer, st: &[u8], sig: &[u8]) -> Vec<u8> {
    Verifier::new(AdmissionPolicy::Open)
        .verify_now(&AttestationInput::detached(st, sig).with_certificate(&m.cert))
        .expect("a valid submission")
        .leaf_bytes()
        .to_vec()
}

fn fixture() -> Fixture {
    let log = SignerKey::generate(ORIGIN, KeyType::Ed25519, &mut OsRng).expect("log key");
    let mut alice = Maintainer::new("Alice <alice@unit.test>");
    let mut bob = Maintainer::new("Bob <bob@unit.test>");
    let mut leaves = Vec::new();
    for i in 0..7u8 {
        let st = statement(&format!("other-{i}"), &format!("{i:064x}"));
        let sig = bob.sign(&st);
        leaves.push(leaf(&bob, &st, &sig));
    }
    let st = statement("mine.tar.gz", &format!("{:064x}", 0xaa));
    let sig = alice.sign(&st);
    leaves[MINE] = leaf(&alice, &st, &sig);
    Fixture {
        log,
        alice,
        statement: st,
        signature: sig,
        leaves,
    }
}

fn signed_checkpoint(key: &SignerKey, size: u64, root: Hash) -> Vec<u8> {
    let text = Checkpoint::new(ORIGIN, size, root).to_text().expect("text");
    let mut note = Note::new(text).expect("note");
    let sig = key.sign(note.text()).expect("sign");
    note.add_signature(sig).expect("signature line");
    note.to_bytes()
}

/// The answer an honest log signing with `key` gives for `leaves[index]`.
fn answer(leaves: &[Vec<u8>], index: usize, key: &SignerKey) -> Submitted {
    let mut tree = InMemoryTree::new();
    for l in leaves {
        tree.push(leaf_hash(l));
    }
    let size = leaves.len() as u64;
    Submitted {
        index: index as u64,
        entry: leaves[index].clone(),
        leaf_hash: leaf_hash(&leaves[index]),
        checkpoint: signed_checkpoint(key, size, tree.root()),
        audit_path: prove_inclusion(&tree, index as u64, size).expect("proof"),
        duplicate: false,
    }
}

impl Fixture {
    fn sent(&self) -> Sent<'_> {
        Sent {
            payload: &self.statement,
            signature: Some(&self.signature),
        }
    }

    fn check(&self, a: &Submitted) -> Result<CheckedAnswer, ClientError> {
        check_answer(
            a,
            self.sent(),
            &self.alice.cert,
            Trust::LogKey(&self.log.verifier()),
        )
    }
}

#[track_caller]
fn assert_unproven(r: Result<CheckedAnswer, ClientError>, want: &str) {
    match r {
        Err(ClientError::UnprovenSubmission { reason }) => {
            assert!(reason.contains(want), "got {reason:?}, want {want:?}")
        }
        Err(e) => panic!("got {e}, want UnprovenSubmission containing {want:?}"),
        Ok(c) => panic!("accepted at index {}, want {want:?}", c.answer.index),
    }
}

#[test]
fn an_honest_answer_passes_under_the_key_and_the_policy() {
    let f = fixture();
    let a = answer(&f.leaves, MINE, &f.log);
    let ok = f.check(&a).expect("honest answer");
    assert_eq!(ok.checkpoint.size, 7);
    let policy = TlogPolicy::parse(
        format!("log {}\nquorum none\n", f.log.verifier().to_key_string()).as_bytes(),
    )
    .expect("policy");
    for quorum in [false, true] {
        check_answer(
            &a,
            f.sent(),
            &f.alice.cert,
            Trust::TlogPolicy {
                policy: &policy,
                quorum,
            },
        )
        .expect("honest answer under the policy");
    }
}

#[test]
fn a_checkpoint_signed_by_another_key_fails() {
    let f = fixture();
    // Same origin, another key: what a log keeping a second tree would use.
    let impostor = SignerKey::generate(ORIGIN, KeyType::Ed25519, &mut OsRng).expect("key");
    let a = answer(&f.leaves, MINE, &impostor);
    assert_unproven(f.check(&a), "not signed by the log key you trust");
    // A policy that trusts another log, or a quorum that is not there.
    let elsewhere =
        SignerKey::generate("elsewhere.test/log", KeyType::Ed25519, &mut OsRng).expect("key");
    let policy = TlogPolicy::parse(
        format!(
            "log {}\nquorum none\n",
            elsewhere.verifier().to_key_string()
        )
        .as_bytes(),
    )
    .expect("policy");
    let honest = answer(&f.leaves, MINE, &f.log);
    let trust = Trust::TlogPolicy {
        policy: &policy,
        quorum: false,
    };
    assert_unproven(
        check_answer(&honest, f.sent(), &f.alice.cert, trust),
        "trusts no log with origin",
    );
    let w = SignerKey::generate("w.test", KeyType::Cosignature, &mut OsRng).expect("key");
    let policy = TlogPolicy::parse(
        format!(
            "log {}\nwitness w {}\nquorum w\n",
            f.log.verifier().to_key_string(),
            w.verifier().to_key_string()
        )
        .as_bytes(),
    )
    .expect("policy");
    let quorum = Trust::TlogPolicy {
        policy: &policy,
        quorum: true,
    };
    assert_unproven(
        check_answer(&honest, f.sent(), &f.alice.cert, quorum),
        "witness policy",
    );
}

#[test]
fn a_tampered_proof_fails() {
    let f = fixture();
    let honest = answer(&f.leaves, MINE, &f.log);
    for i in 0..honest.audit_path.len() {
        for bit in [0, 7, 255] {
            let mut a = honest.clone();
            a.audit_path[i].0[bit / 8] ^= 1 << (bit % 8);
            assert_unproven(f.check(&a), "inclusion proof");
        }
    }
    let mut a = honest.clone();
    a.audit_path.pop();
    assert_unproven(f.check(&a), "inclusion proof");
    let mut a = honest.clone();
    a.audit_path.push(a.audit_path[0]);
    assert_unproven(f.check(&a), "inclusion proof");
    // The right path at the wrong index, and an index outside the tree.
    let mut a = honest.clone();
    a.index = 2;
    assert_unproven(f.check(&a), "inclusion proof");
    let mut a = honest.clone();
    a.index = 7;
    assert_unproven(f.check(&a), "not in the checkpoint's tree");
}

#[test]
fn a_leaf_with_another_statement_fails() {
    let mut f = fixture();
    // Another entry of the same signer, properly proven: a log answering
    // with an older entry instead of logging this one.
    let older = statement("older.tar.gz", &format!("{:064x}", 0xbb));
    let sig = f.alice.sign(&older);
    let mut leaves = f.leaves.clone();
    leaves[MINE] = leaf(&f.alice, &older, &sig);
    assert_unproven(f.check(&answer(&leaves, MINE, &f.log)), "another statement");
    // The same statement under another signature by the same key.
    let again = f.alice.sign(&f.statement);
    let statement = f.statement.clone();
    leaves[MINE] = leaf(&f.alice, &statement, &again);
    assert_unproven(f.check(&answer(&leaves, MINE, &f.log)), "another signature");
    // Another signer's entry.
    let bobs = answer(&f.leaves, 0, &f.log);
    assert_unproven(f.check(&bobs), "not by the submitted certificate");
    // Bytes that are no leaf at all, hashed and proven consistently.
    let mut leaves = f.leaves.clone();
    leaves[MINE] = b"not a leaf".to_vec();
    assert_unproven(f.check(&answer(&leaves, MINE, &f.log)), "not a valid leaf");
}

#[test]
fn a_leaf_hash_that_is_not_the_entrys_fails() {
    let f = fixture();
    let mut a = answer(&f.leaves, MINE, &f.log);
    a.leaf_hash = leaf_hash(&f.leaves[0]);
    assert_unproven(f.check(&a), "leaf hash");
    // The entry flipped after hashing: hash, leaf and proof disagree.
    let mut a = answer(&f.leaves, MINE, &f.log);
    let last = a.entry.len() - 1;
    a.entry[last] ^= 1;
    assert_unproven(f.check(&a), "leaf hash");
}
