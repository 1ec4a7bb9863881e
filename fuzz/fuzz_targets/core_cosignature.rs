//! Cosignatures: a note with arbitrary signature lines checked against a
//! witness key never panics, and never verifies (the key never signed).
#![no_main]
use attestlog_core::cosignature;
use attestlog_core::note::{KeyType, Note, NoteSignature, SignerKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = SignerKey::from_seed("witness", KeyType::Cosignature, [7; 32]).expect("valid name");
    let verifier = key.verifier();
    let sig = NoteSignature {
        name: "witness".into(),
        key_id: key.key_id(),
        signature: data.to_vec(),
    };
    assert!(cosignature::verify(
        &verifier,
        "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        &sig
    )
    .is_err());
    if let Ok(note) = Note::parse(data) {
        let _ = note.verify(&[&verifier]);
    }
});
