//! One test suite, run against every [`Store`]: the in-memory store and
//! RocksDB (in a temporary directory, including reopening it).

use attestlog_core::proof::{
    prove_consistency, prove_inclusion, verify_consistency, verify_inclusion,
};
use attestlog_core::tree::{append_leaves, tree_root, HashReader as _, InMemoryTree, Subtree};
use attestlog_core::{leaf_hash, Hash};
use attestlog_store::{
    AppendBatch, CachedStore, IndexKey, MemoryStore, NewEntry, RocksStore, Store, StoreError,
};

fn entry(i: u64) -> NewEntry {
    let mut digest = [0u8; 32];
    digest[..8].copy_from_slice(&(i % 7).to_be_bytes());
    NewEntry {
        bytes: format!("entry {i}").into_bytes(),
        dedup_key: leaf_hash(format!("dedup {}", i / 2).as_bytes()),
        index_keys: vec![
            IndexKey::Sha256(digest),
            IndexKey::Signer(vec![0xAB, (i % 3) as u8]),
            IndexKey::SubjectName(format!("pkg-{}", i % 5)),
        ],
    }
}

/// Appends entries `[from, to)` as one batch, returning the new root.
fn append(store: &dyn Store, from: u64, to: u64) -> Hash {
    let entries: Vec<NewEntry> = (from..to).map(entry).collect();
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(&e.bytes)).collect();
    let out = append_leaves(store, from, &leaves).unwrap();
    store
        .append(&AppendBatch {
            old_size: from,
            entries,
            hashes: out.hashes,
            certificates: vec![(vec![0xAB, 1], b"cert".to_vec())],
            checkpoint: format!("checkpoint {to} {}", out.root).into_bytes(),
        })
        .unwrap();
    out.root
}

fn run_suite(store: &dyn Store) {
    assert_eq!(store.state().unwrap(), None);
    let mut roots = vec![Hash::EMPTY_ROOT];
    let mut size = 0;
    // Batches of varied sizes, crossing tile (256) boundaries.
    for batch in [1u64, 2, 3, 250, 1, 300, 7] {
        let root = append(store, size, size + batch);
        roots.resize((size + batch + 1) as usize, Hash::EMPTY_ROOT);
        size += batch;
        roots[size as usize] = root;
        let st = store.state().unwrap().unwrap();
        assert_eq!(st.size, size);
        assert_eq!(
            st.checkpoint,
            format!("checkpoint {size} {root}").into_bytes()
        );
        assert_eq!(tree_root(store, size).unwrap(), root);
    }
    // Entries read back byte for byte.
    let got = store.entries(0, size).unwrap();
    for (i, e) in got.iter().enumerate() {
        assert_eq!(e, &entry(i as u64).bytes);
    }
    assert!(matches!(
        store.entries(size - 1, size + 1),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.entries(0, 5000),
        Err(StoreError::TooMany(5000))
    ));
    // Proofs from stored hashes verify.
    let root = roots[size as usize];
    for index in [0, 1, 255, 256, 300, size - 1] {
        let p = prove_inclusion(store, index, size).unwrap();
        verify_inclusion(&leaf_hash(&entry(index).bytes), index, size, &p, &root).unwrap();
    }
    for old in [1u64, 3, 6, 256, 557] {
        let p = prove_consistency(store, old, size).unwrap();
        verify_consistency(old, size, &roots[old as usize], &root, &p).unwrap();
    }
    // Deduplication lookups and indexes.
    assert_eq!(
        store.index_of_leaf(&leaf_hash(&entry(42).bytes)).unwrap(),
        Some(42)
    );
    assert_eq!(store.index_of_leaf(&leaf_hash(b"never")).unwrap(), None);
    // Entries 42 and 43 share a dedup key: the first index is kept.
    let k = leaf_hash(b"dedup 21");
    assert_eq!(store.index_of_dedup_key(&k).unwrap(), Some(42));
    assert_eq!(
        store.index_of_dedup_key(&leaf_hash(b"never")).unwrap(),
        None
    );
    // The batched lookup answers the same, in order.
    let keys: Vec<Hash> = (0..size / 2 + 3)
        .map(|i| leaf_hash(format!("dedup {i}").as_bytes()))
        .chain([leaf_hash(b"never"), k])
        .collect();
    let one_by_one: Vec<Option<u64>> = keys
        .iter()
        .map(|k| store.index_of_dedup_key(k).unwrap())
        .collect();
    assert_eq!(store.indexes_of_dedup_keys(&keys).unwrap(), one_by_one);
    assert_eq!(one_by_one[21], Some(42));
    // Three keys past the end, and "never".
    assert_eq!(one_by_one.iter().filter(|i| i.is_none()).count(), 4);
    let mut d3 = [0u8; 32];
    d3[..8].copy_from_slice(&3u64.to_be_bytes());
    let hits = store.search(&IndexKey::Sha256(d3), 0, 1000).unwrap();
    let want: Vec<u64> = (0..size).filter(|i| i % 7 == 3).collect();
    assert_eq!(hits, want);
    assert_eq!(
        store.search(&IndexKey::Sha256(d3), 11, 2).unwrap(),
        vec![17, 24]
    );
    let by_name = store
        .search(&IndexKey::SubjectName("pkg-2".into()), 0, 3)
        .unwrap();
    assert_eq!(by_name, vec![2, 7, 12]);
    assert_eq!(
        store
            .search(&IndexKey::Signer(vec![0xAB, 9]), 0, 10)
            .unwrap(),
        vec![]
    );
    assert_eq!(
        store.certificate(&[0xAB, 1]).unwrap(),
        Some(b"cert".to_vec())
    );
    assert_eq!(store.certificate(&[0xAB, 2]).unwrap(), None);
    // A stale append changes nothing.
    let stale = AppendBatch {
        old_size: size - 1,
        entries: vec![entry(9999)],
        hashes: vec![(Subtree::leaf(size - 1), Hash([9; 32]))],
        certificates: vec![],
        checkpoint: b"bad".to_vec(),
    };
    assert!(matches!(
        store.append(&stale),
        Err(StoreError::SizeMismatch { expected, actual }) if expected == size - 1 && actual == size
    ));
    assert!(matches!(
        store.append(&AppendBatch {
            old_size: size,
            ..AppendBatch::default()
        }),
        Err(StoreError::InvalidBatch(_))
    ));
    assert_eq!(store.state().unwrap().unwrap().size, size);
    assert_eq!(tree_root(store, size).unwrap(), root);
    // The root recomputed from entries agrees.
    let mut calls = 0;
    assert_eq!(
        store.recompute_root(size, &mut |_, _| calls += 1).unwrap(),
        root
    );
    assert!(calls > 0);
}

#[test]
fn memory_store() {
    run_suite(&MemoryStore::new());
}

#[test]
fn cached_store_with_any_budget() {
    // 0 bytes caches nothing once a hash exists; 100 bytes forces levels
    // to be dropped as the tree grows; 1 MiB caches every level.
    for budget in [0, 100, 1 << 10, 1 << 20] {
        let store = CachedStore::new(MemoryStore::new(), budget).unwrap();
        run_suite(&store);
        if budget == 1 << 20 {
            assert_eq!(store.min_cached_level(), 0);
        } else {
            assert!(store.min_cached_level() > 0, "budget {budget}");
        }
    }
}

/// Pins `Store::recompute_root` (the start-up check; its running root is
/// the core's `Frontier` since the store's own copy was removed) at sizes
/// 0, around powers of two and across a `MAX_ENTRIES_PER_READ` page, on the
/// memory and RocksDB stores, against the roots of an `InMemoryTree` (its
/// own level-by-level push, not the frontier's).
#[test]
fn recompute_root_matches_the_tree_at_edge_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let rocks = RocksStore::open(dir.path()).unwrap();
    let memory = MemoryStore::new();
    let total = 1100u64;
    append(&memory, 0, total);
    append(&rocks, 0, total);
    let mut tree = InMemoryTree::new();
    for i in 0..total {
        tree.push(leaf_hash(&entry(i).bytes));
    }
    let mut sizes: Vec<u64> = (0..=17).collect();
    for k in 5..=10 {
        sizes.extend([(1u64 << k) - 1, 1 << k, (1 << k) + 1]);
    }
    sizes.push(total);
    for size in sizes {
        let want = tree_root(&tree, size).unwrap();
        for store in [&memory as &dyn Store, &rocks] {
            let mut last = (0, 0);
            let got = store.recompute_root(size, &mut |done, of| last = (done, of));
            assert_eq!(got.unwrap(), want, "size {size}");
            if size > 0 {
                assert_eq!(last, (size, size));
            }
        }
    }
}

/// Every complete subtree of a tree of `size` leaves.
fn all_subtrees(size: u64) -> Vec<Subtree> {
    (0..64u8)
        .take_while(|&l| size >> l > 0)
        .flat_map(|level| (0..size >> level).map(move |index| Subtree { level, index }))
        .collect()
}

#[test]
fn cached_store_filled_from_rocks_serves_what_rocks_holds() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = RocksStore::open(dir.path()).unwrap();
        for (from, to) in [(0, 1), (1, 300), (300, 301), (301, 700)] {
            append(&store, from, to);
        }
    }
    for budget in [0u64, 64 * 32, 1 << 20] {
        let cached = CachedStore::new(RocksStore::open(dir.path()).unwrap(), budget).unwrap();
        let size = cached.state().unwrap().unwrap().size;
        let all = all_subtrees(size);
        assert_eq!(
            cached.read_hashes(&all).unwrap(),
            cached.inner().read_hashes(&all).unwrap(),
            "budget {budget}"
        );
        for (index, at) in [(0, 1), (5, 700), (699, 700), (256, 513)] {
            assert_eq!(
                prove_inclusion(&cached, index, at).unwrap(),
                prove_inclusion(cached.inner(), index, at).unwrap()
            );
        }
        // An incomplete subtree is not made up.
        assert!(cached
            .read_hashes(&[Subtree { level: 9, index: 1 }])
            .is_err());
        // Appends through the cache land in it and on disk alike.
        append(&cached, size, size + 33);
        let all = all_subtrees(size + 33);
        assert_eq!(
            cached.read_hashes(&all).unwrap(),
            cached.inner().read_hashes(&all).unwrap()
        );
        drop(cached);
        let reopened = RocksStore::open(dir.path()).unwrap();
        assert_eq!(reopened.state().unwrap().unwrap().size, size + 33);
    }
}

#[test]
fn rocks_store_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let root;
    let size;
    {
        let store = RocksStore::open(dir.path()).unwrap();
        run_suite(&store);
        let st = store.state().unwrap().unwrap();
        size = st.size;
        root = tree_root(&store, size).unwrap();
    }
    let store = RocksStore::open(dir.path()).unwrap();
    let st = store.state().unwrap().unwrap();
    assert_eq!(st.size, size);
    assert_eq!(tree_root(&store, size).unwrap(), root);
    assert_eq!(store.recompute_root(size, &mut |_, _| {}).unwrap(), root);
    // A range of hashes equals its point reads, and stops at the tree.
    let tile = store.hash_range(0, 256, 256).unwrap();
    let points = store
        .read_hashes(&(256..512).map(Subtree::leaf).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(tile, points);
    assert!(matches!(
        store.hash_range(0, size - 1, 2),
        Err(StoreError::NotFound(_))
    ));
    // Appending continues where it stopped.
    append(&store, size, size + 1);
    assert_eq!(store.state().unwrap().unwrap().size, size + 1);
}

#[test]
fn reload_after_every_append_crossing_a_tile() {
    let dir = tempfile::tempdir().unwrap();
    let mut prev_root = Hash::EMPTY_ROOT;
    for size in 0..258u64 {
        let store = RocksStore::open(dir.path()).unwrap();
        let have = store.state().unwrap().map_or(0, |s| s.size);
        assert_eq!(have, size);
        if size > 0 {
            assert_eq!(tree_root(&store, size).unwrap(), prev_root);
        }
        prev_root = append(&store, size, size + 1);
    }
}

#[test]
fn rocks_tiles_agree_with_memory_above_tile_level_one() {
    // 70,000 leaves: tree level 8 (tile level 1) has 273 hashes, so two
    // level-1 tiles, one partial; batches end inside and on tile edges.
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryStore::new();
    let batches = [
        (0, 1),
        (1, 4000),
        (4000, 65_536),
        (65_536, 65_537),
        (65_537, 70_000),
    ];
    {
        let rocks = RocksStore::open(dir.path()).unwrap();
        for (from, to) in batches {
            assert_eq!(append(&rocks, from, to), append(&memory, from, to));
        }
    }
    let rocks = RocksStore::open(dir.path()).unwrap();
    let all = all_subtrees(70_000);
    assert_eq!(
        rocks.read_hashes(&all).unwrap(),
        memory.read_hashes(&all).unwrap()
    );
    for (index, size) in [
        (0, 70_000),
        (65_535, 65_537),
        (69_999, 70_000),
        (300, 65_536),
    ] {
        assert_eq!(
            prove_inclusion(&rocks, index, size).unwrap(),
            prove_inclusion(&memory, index, size).unwrap()
        );
    }
    assert_eq!(
        prove_consistency(&rocks, 65_537, 70_000).unwrap(),
        prove_consistency(&memory, 65_537, 70_000).unwrap()
    );
    // A level-8 subtree that is not complete yet is not there.
    assert!(matches!(
        rocks.read_hashes(&[Subtree {
            level: 8,
            index: 273
        }]),
        Err(StoreError::NotFound(_))
    ));
}
