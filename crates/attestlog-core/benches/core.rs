//! Benchmarks of the pure core: leaf hashing, the Merkle frontier (the
//! monitor's and the start-up check's per-leaf cost), proof generation and
//! verification, signed-note and cosignature verification.
//!
//! Run: `cargo bench -p attestlog-core --bench core`. Figures are recorded
//! in BENCHMARKS.md. Raw SHA-256 of the same bytes is measured alongside as
//! the baseline that leaf hashing is compared against.

use std::hint::black_box;
use std::time::Duration;

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::cosignature;
use attestlog_core::note::{KeyType, Note, SignerKey};
use attestlog_core::proof::{
    prove_consistency, prove_inclusion, verify_consistency, verify_inclusion,
};
use attestlog_core::tile::tile_root;
use attestlog_core::tree::{tree_root, InMemoryTree};
use attestlog_core::{leaf_hash, Frontier, Hash};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sha2::{Digest, Sha256};

const TREE_SIZE: u64 = 1 << 20;

fn build_tree() -> InMemoryTree {
    let mut t = InMemoryTree::new();
    for i in 0..TREE_SIZE {
        t.push(leaf_hash(&i.to_be_bytes()));
    }
    t
}

fn hashing(c: &mut Criterion) {
    let entry = vec![0x5a; 1024];
    let mut g = c.benchmark_group("hash");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sha256_1KiB_baseline", |b| {
        b.iter(|| Sha256::digest(black_box(&entry)))
    });
    g.bench_function("leaf_hash_1KiB", |b| {
        b.iter(|| leaf_hash(black_box(&entry)))
    });
    g.finish();
}

fn frontier(c: &mut Criterion) {
    let leaves: Vec<Hash> = (0..1024u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let mut g = c.benchmark_group("frontier");
    g.throughput(Throughput::Elements(leaves.len() as u64));
    g.bench_function("push_1024_leaves_and_root", |b| {
        b.iter(|| {
            let f: Frontier = black_box(&leaves).iter().copied().collect();
            f.root()
        })
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("tile_root_256", |b| {
        b.iter(|| tile_root(black_box(&leaves[..256])))
    });
    g.finish();
}

fn proofs(c: &mut Criterion) {
    let t = build_tree();
    let size = TREE_SIZE - 12_345;
    let root = tree_root(&t, size).unwrap();
    let old = size / 3 + 7;
    let old_root = tree_root(&t, old).unwrap();
    let index: u64 = 987_654;
    let leaf = leaf_hash(&index.to_be_bytes());
    let inclusion = prove_inclusion(&t, index, size).unwrap();
    let consistency = prove_consistency(&t, old, size).unwrap();

    let mut g = c.benchmark_group("proof_2^20");
    g.throughput(Throughput::Elements(1));
    g.bench_function("prove_inclusion", |b| {
        b.iter(|| prove_inclusion(&t, black_box(index), size).unwrap())
    });
    g.bench_function("verify_inclusion", |b| {
        b.iter(|| verify_inclusion(black_box(&leaf), index, size, &inclusion, &root).unwrap())
    });
    g.bench_function("prove_consistency", |b| {
        b.iter(|| prove_consistency(&t, black_box(old), size).unwrap())
    });
    g.bench_function("verify_consistency", |b| {
        b.iter(|| verify_consistency(old, size, black_box(&old_root), &root, &consistency).unwrap())
    });
    g.finish();
}

fn notes(c: &mut Criterion) {
    let log = SignerKey::from_seed("example.com/log", KeyType::Ed25519, [1; 32]).unwrap();
    let witness = SignerKey::from_seed("witness.example", KeyType::Cosignature, [2; 32]).unwrap();
    let text = Checkpoint::new("example.com/log", 123_456_789, Hash([7; 32]))
        .to_text()
        .unwrap();
    let mut note = Note::new(text.clone()).unwrap();
    note.add_signature(log.sign(&text).unwrap()).unwrap();
    let cosig = cosignature::cosign(&witness, &text, 1_700_000_000).unwrap();
    note.add_signature(cosig.clone()).unwrap();
    let bytes = note.to_bytes();
    let (lv, wv) = (log.verifier(), witness.verifier());

    let mut g = c.benchmark_group("note");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_and_verify_checkpoint", |b| {
        b.iter(|| {
            let n = Note::parse(black_box(&bytes)).unwrap();
            n.verify(&[&lv]).unwrap().len()
        })
    });
    g.bench_function("verify_cosignature", |b| {
        b.iter(|| cosignature::verify(&wv, black_box(&text), &cosig).unwrap())
    });
    g.bench_function("sign_checkpoint", |b| {
        b.iter(|| log.sign(black_box(&text)).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = hashing, frontier, proofs, notes
}
criterion_main!(benches);
