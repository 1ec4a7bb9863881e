//! Writes the seed inputs of the fuzz targets that need no OpenPGP tool:
//! signed notes, checkpoints, cosignatures, proofs, tile paths and entry
//! bundles, tlog-witness bodies, split-view evidence, tlog-policies,
//! maintainers files, offline bundles and tlog-proofs, all built with
//! attestlog-core from fixed keys (so they are valid, not just well-formed). `fuzz/seeds.sh` runs it.
//!
//! Usage: `attestlog-fuzz-seedgen CORPUS_DIR VECTORS_DIR CERT_BIN`, where
//! VECTORS_DIR is `crates/attestlog-attest/tests/vectors/gpg-ed25519` and
//! CERT_BIN its `cert.asc` dearmored.

use std::fs;
use std::path::{Path, PathBuf};

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::cosignature;
use attestlog_core::evidence::Evidence;
use attestlog_core::note::{KeyType, Note, NoteSignature, SignerKey};
use attestlog_core::proof;
use attestlog_core::tile;
use attestlog_core::tree::{tree_root, InMemoryTree};
use attestlog_core::witness_protocol::{
    encode_conflict_size, encode_cosignature_lines, AddCheckpointRequest,
};
use attestlog_core::{leaf_hash, Hash};
use base64::Engine as _;

const ORIGIN: &str = "log.example.org/attestlog";
/// 2026-01-01T00:00:00Z, the `now` of the attest targets.
const TIME: u64 = 1_767_225_600;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

struct Out {
    dir: PathBuf,
}

impl Out {
    fn put(&self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.dir.join(target);
        fs::create_dir_all(&dir).expect("create corpus dir");
        fs::write(dir.join(name), bytes).expect("write seed");
    }
}

/// A tree of `n` leaves; leaf 3 is the vector leaf when `n > 3`.
fn tree(n: u64, vector_leaf: &[u8]) -> InMemoryTree {
    let mut t = InMemoryTree::new();
    for i in 0..n {
        if i == 3 {
            t.push(leaf_hash(vector_leaf));
        } else {
            t.push(leaf_hash(format!("entry {i}").as_bytes()));
        }
    }
    t
}

fn signed(log: &SignerKey, witnesses: &[&SignerKey], cp: &Checkpoint) -> Vec<u8> {
    let text = cp.to_text().expect("checkpoint text");
    let mut note = Note::new(text.clone()).expect("note");
    note.add_signature(log.sign(&text).expect("sign"))
        .expect("add");
    for w in witnesses {
        note.add_signature(cosignature::cosign(w, &text, TIME).expect("cosign"))
            .expect("add");
    }
    note.to_bytes()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, corpus, vectors, cert_bin] = &args[..] else {
        panic!("usage: attestlog-fuzz-seedgen CORPUS_DIR VECTORS_DIR CERT_BIN");
    };
    let out = Out {
        dir: PathBuf::from(corpus),
    };
    let vectors = Path::new(vectors);
    let leaf = hex::decode(
        fs::read_to_string(vectors.join("leaf.hex"))
            .expect("leaf.hex")
            .trim(),
    )
    .expect("leaf hex");
    let cert = fs::read(cert_bin).expect("cert");

    // attest_leaf_decode: the vector leaves (v2 where the vectors have it).
    out.put("attest_leaf_decode", "leaf", &leaf);
    if let Ok(v2) = fs::read_to_string(vectors.join("leaf-v2.hex")) {
        out.put(
            "attest_leaf_decode",
            "leaf-v2",
            &hex::decode(v2.trim()).expect("leaf-v2 hex"),
        );
    }

    let log = SignerKey::from_seed(ORIGIN, KeyType::Ed25519, [1; 32]).expect("log key");
    // The witness key of the core_cosignature target.
    let w1 = SignerKey::from_seed("witness", KeyType::Cosignature, [7; 32]).expect("key");
    let w2 = SignerKey::from_seed("w2.example.net", KeyType::Cosignature, [8; 32]).expect("key");

    let t7 = tree(7, &leaf);
    let t12 = tree(12, &leaf);
    let cp0 = Checkpoint::new(ORIGIN, 0, Hash::EMPTY_ROOT);
    let cp7 = Checkpoint::new(ORIGIN, 7, t7.root());
    let cp12 = Checkpoint::new(ORIGIN, 12, t12.root());
    let mut cp_ext = cp12.clone();
    cp_ext.extensions = vec!["— an extension line".into()];

    // core_checkpoint: checkpoint texts.
    for (name, cp) in [("size0", &cp0), ("size7", &cp7), ("ext", &cp_ext)] {
        out.put(
            "core_checkpoint",
            name,
            cp.to_text().expect("text").as_bytes(),
        );
    }

    // core_note: signed notes (log only; log and two witnesses; extension).
    let note7 = signed(&log, &[], &cp7);
    let note12 = signed(&log, &[&w1, &w2], &cp12);
    out.put("core_note", "log-signed", &note7);
    out.put("core_note", "cosigned", &note12);
    out.put("core_note", "ext", &signed(&log, &[&w1], &cp_ext));

    // core_cosignature: the input is both a cosignature's bytes and a note
    // checked against the witness key.
    let text12 = cp12.to_text().expect("text");
    let cosig: NoteSignature = cosignature::cosign(&w1, &text12, TIME).expect("cosign");
    out.put("core_cosignature", "cosignature-bytes", &cosig.signature);
    out.put("core_cosignature", "cosigned-note", &note12);

    // core_proof: base64 proof lines, and 16-byte (a, b) + concatenated
    // hashes of real inclusion and consistency proofs.
    let incl = proof::prove_inclusion(&t12, 3, 12).expect("inclusion");
    let cons = proof::prove_consistency(&t12, 7, 12).expect("consistency");
    out.put(
        "core_proof",
        "inclusion-lines",
        proof::to_base64_lines(&incl).as_bytes(),
    );
    for (name, a, b, p) in [
        ("inclusion-3-12", 3u64, 12u64, &incl),
        ("consistency-7-12", 7, 12, &cons),
    ] {
        let mut bytes = a.to_le_bytes().to_vec();
        bytes.extend_from_slice(&b.to_le_bytes());
        for h in p.iter() {
            bytes.extend_from_slice(h.as_bytes());
        }
        out.put("core_proof", name, &bytes);
    }

    // core_tile_path: paths, and width byte + entry bundle.
    for (i, path) in [
        "tile/0/000",
        "tile/1/x001/234.p/17",
        "tile/entries/x123/067",
        "tile/entries/000.p/5",
    ]
    .iter()
    .enumerate()
    {
        out.put("core_tile_path", &format!("path{i}"), path.as_bytes());
    }
    let entries: Vec<Vec<u8>> = vec![leaf.clone(), b"entry 1".to_vec(), Vec::new()];
    let mut bundle = vec![2u8]; // width 3
    bundle.extend(tile::encode_entry_bundle(&entries).expect("bundle"));
    out.put("core_tile_path", "entry-bundle", &bundle);

    // core_witness_request: add-checkpoint bodies (from 0, and 7 -> 12
    // with its proof), a 409 body and a 200 body.
    for (name, old, p) in [("from-0", 0u64, Vec::new()), ("from-7", 7, cons.clone())] {
        let req = AddCheckpointRequest {
            old_size: old,
            proof: p,
            checkpoint: note12.clone(),
        };
        out.put("core_witness_request", name, &req.to_bytes());
    }
    out.put(
        "core_witness_request",
        "conflict",
        encode_conflict_size(7).as_bytes(),
    );
    out.put(
        "core_witness_request",
        "cosignatures",
        encode_cosignature_lines(std::slice::from_ref(&cosig)).as_bytes(),
    );

    // core_evidence: both kinds.
    let vk = log.verifier();
    // A history that differs from `tree` from leaf 0 on.
    let mut fork = InMemoryTree::new();
    for i in 0..13 {
        fork.push(leaf_hash(format!("forked entry {i}").as_bytes()));
    }
    let cp12_fork = Checkpoint::new(ORIGIN, 12, tree(11, &leaf).root());
    let same = Evidence::same_size(ORIGIN, &vk, &note12, &signed(&log, &[], &cp12_fork));
    out.put("core_evidence", "same-size", &same.to_bytes());
    let cp13 = Checkpoint::new(ORIGIN, 13, fork.root());
    let incons = Evidence::inconsistent(
        ORIGIN,
        &vk,
        &note7,
        &signed(&log, &[], &cp13),
        tree_root(&fork, 7).expect("prefix root"),
        proof::prove_consistency(&fork, 7, 13).expect("consistency"),
    );
    out.put("core_evidence", "inconsistent", &incons.to_bytes());

    // core_tlog_policy: C2SP tlog-policy files.
    let policy = format!(
        "# a log and two witnesses, both required\n\
         log {} https://log.example.org/\n\
         witness w1 {} https://w1.example.net/add-checkpoint\n\
         witness w2 {}\n\
         group both all w1 w2\n\
         quorum both\n",
        vk.to_key_string(),
        w1.verifier().to_key_string(),
        w2.verifier().to_key_string(),
    );
    out.put("core_tlog_policy", "two-witnesses", policy.as_bytes());
    out.put(
        "core_tlog_policy",
        "no-quorum",
        format!("log {}\nquorum none\n", vk.to_key_string()).as_bytes(),
    );

    // client_trust_file: maintainers files.
    out.put(
        "client_trust_file",
        "dir",
        b"# trusted maintainers\nkeyring = \"maintainers/\"\nthreshold = 2\n",
    );
    out.put(
        "client_trust_file",
        "file",
        b"keyring = \"/etc/attestlog/keyring.pgp\"\nthreshold = 1\n",
    );

    // client_bundle: a tlog-proof for the vector leaf, and a bundle of it.
    let mut tlog_proof = b"c2sp.org/tlog-proof@v1\nindex 3\n".to_vec();
    tlog_proof.extend_from_slice(proof::to_base64_lines(&incl).as_bytes());
    tlog_proof.push(b'\n');
    tlog_proof.extend_from_slice(&note12);
    out.put("client_bundle", "tlog-proof", &tlog_proof);
    let digest = "ab".repeat(32);
    let mut b = format!("attestlog bundle v1\ndigest sha256:{digest}\nentries 1\n").into_bytes();
    b.extend_from_slice(format!("entry {}\n", b64(&leaf)).as_bytes());
    b.extend_from_slice(format!("certificate {}\n", b64(&cert)).as_bytes());
    b.extend_from_slice(format!("proof {}\n", tlog_proof.len()).as_bytes());
    b.extend_from_slice(&tlog_proof);
    out.put("client_bundle", "bundle", &b);
}
