//! Property tests: formats round-trip, and proofs verify for random trees.

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::cosignature;
use attestlog_core::note::{KeyType, Note, SignerKey, VerifierKey};
use attestlog_core::proof::{
    parse_base64_lines, prove_consistency, prove_inclusion, to_base64_lines, verify_consistency,
    verify_inclusion,
};
use attestlog_core::tile::{
    decode_index, encode_entry_bundle, encode_index, parse_entry_bundle, Tile, TilePath,
};
use attestlog_core::tree::{tree_root, InMemoryTree};
use attestlog_core::{leaf_hash, Hash};
use proptest::prelude::*;

fn arb_hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

/// Note text lines without control characters.
fn arb_line() -> impl Strategy<Value = String> {
    "[^\\x00-\\x1f]{1,40}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn proofs_verify_in_random_trees(size in 1u64..2000, a in any::<u64>(), b in any::<u64>()) {
        let mut t = InMemoryTree::new();
        for i in 0..size {
            t.push(leaf_hash(&i.to_le_bytes()));
        }
        let index = a % size;
        let root = tree_root(&t, size).unwrap();
        let proof = prove_inclusion(&t, index, size).unwrap();
        prop_assert!(verify_inclusion(&leaf_hash(&index.to_le_bytes()), index, size, &proof, &root).is_ok());
        let old = b % (size + 1);
        let old_root = tree_root(&t, old).unwrap();
        let cproof = prove_consistency(&t, old, size).unwrap();
        prop_assert!(verify_consistency(old, size, &old_root, &root, &cproof).is_ok());
        prop_assert_eq!(parse_base64_lines(&to_base64_lines(&cproof)).unwrap(), cproof);
    }

    #[test]
    fn checkpoints_round_trip(
        origin in arb_line(),
        size in 0u64..=(1 << 63),
        root in arb_hash(),
        extensions in proptest::collection::vec(arb_line(), 0..4),
    ) {
        let cp = Checkpoint { origin, size, root, extensions };
        let text = cp.to_text().unwrap();
        prop_assert_eq!(Checkpoint::parse(&text).unwrap(), cp);
    }

    #[test]
    fn signed_notes_round_trip_and_verify(
        lines in proptest::collection::vec(arb_line(), 1..5),
        seeds in proptest::collection::vec(any::<[u8; 32]>(), 1..4),
        name in "[a-z0-9./-]{1,20}",
        timestamp in 0u64..(1 << 63),
    ) {
        let text = format!("{}\n", lines.join("\n"));
        let mut note = Note::new(text.clone()).unwrap();
        let keys: Vec<SignerKey> = seeds
            .iter()
            .enumerate()
            .map(|(i, s)| SignerKey::from_seed(&format!("{name}{i}"), KeyType::Ed25519, *s).unwrap())
            .collect();
        for k in &keys {
            note.add_signature(k.sign(&text).unwrap()).unwrap();
        }
        let witness = SignerKey::from_seed(&name, KeyType::Cosignature, seeds[0]).unwrap();
        note.add_signature(cosignature::cosign(&witness, &text, timestamp).unwrap()).unwrap();
        let parsed = Note::parse(&note.to_bytes()).unwrap();
        prop_assert_eq!(&parsed, &note);
        for k in &keys {
            let v = VerifierKey::parse(&k.verifier().to_key_string()).unwrap();
            prop_assert_eq!(parsed.verify(&[&v]).unwrap().len(), 1);
        }
        let wv = witness.verifier();
        let sig = &parsed.verify(&[&wv]).unwrap()[0].1;
        prop_assert_eq!(cosignature::verify(&wv, &text, sig).unwrap(), timestamp);
    }

    #[test]
    fn tile_paths_round_trip(level in 0u8..=63, index in any::<u64>(), width in 1u16..=256) {
        let t = Tile::new(level, index, width).unwrap();
        prop_assert_eq!(Tile::parse_path(&t.path()).unwrap(), TilePath::Hashes(t));
        let e = Tile::new(0, index, width).unwrap();
        prop_assert_eq!(Tile::parse_path(&e.entries_path()).unwrap(), TilePath::Entries(e));
        prop_assert_eq!(decode_index(&encode_index(index)), Some(index));
    }

    #[test]
    fn entry_bundles_round_trip(entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..=256)) {
        let b = encode_entry_bundle(&entries).unwrap();
        let back = parse_entry_bundle(&b, entries.len() as u16).unwrap();
        prop_assert_eq!(back, entries.iter().map(|e| e.as_slice()).collect::<Vec<_>>());
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Note::parse(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Checkpoint::parse(s);
            let _ = Tile::parse_path(s);
            let _ = parse_base64_lines(s);
            let _ = VerifierKey::parse(s);
            let _ = SignerKey::parse(s);
        }
        let _ = parse_entry_bundle(&bytes, 3);
    }
}
