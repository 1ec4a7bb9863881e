//! `restore`: a log published to a bucket (`publish::write_range` and its
//! checkpoint, into an in-memory object store) is rebuilt into a new data
//! directory that `open_log` accepts with the same size and root, and
//! whose entries, search and deduplication indexes and certificates are the
//! original's; and every tampered bucket is refused without writing the
//! data directory.
//!
//! The original logs are built the real way: sequoia-signed attestations
//! admitted by `OpenPgpAdmission` and sequenced by the sequencer. The
//! 65,793-entry log is built from one signed attestation whose leaf is
//! repeated with different verification times (signing and admitting
//! 65,000 attestations would take minutes in a debug build), appended
//! directly to a `MemoryStore`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use attestlog_attest::openpgp::cert::prelude::*;
use attestlog_attest::openpgp::crypto::KeyPair;
use attestlog_attest::openpgp::packet::prelude::*;
use attestlog_attest::openpgp::policy::StandardPolicy;
use attestlog_attest::openpgp::serialize::MarshalInto as _;
use attestlog_attest::openpgp::types::{KeyFlags, SignatureType};
use attestlog_attest::Leaf;
use attestlog_bucket::{layout, Bucket};
use attestlog_core::note::{KeyType, SignerKey};
use attestlog_core::proof::{prove_consistency, verify_consistency};
use attestlog_core::tile::parse_entry_bundle;
use attestlog_core::tree::append_leaves;
use attestlog_core::{leaf_hash, Hash};
use attestlog_server::admission::openpgp::OpenPgpAdmission;
use attestlog_server::admission::{Admission as _, Admitted, Submission};
use attestlog_server::restore::{
    restore, restore_with, staging_dir, RestoreError, RestoreOptions, RestoreReport,
};
use attestlog_server::sequencer::{self, SequencerConfig};
use attestlog_server::state::LogState;
use attestlog_store::{
    AppendBatch, MemoryStore, NewEntry, RocksStore, Store, MAX_ENTRIES_PER_READ,
};
use bytes::Bytes;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStoreExt as _;
use sha2::{Digest as _, Sha256};

const ORIGIN: &str = "restore.test/log";

fn log_key() -> SignerKey {
    SignerKey::from_seed(ORIGIN, KeyType::Ed25519, [7; 32]).unwrap()
}

/// A maintainer key: an Ed25519 certificate with a signing subkey.
struct Maintainer {
    cert: Vec<u8>,
    keypair: KeyPair,
}

impl Maintainer {
    fn new(userid: &str) -> Maintainer {
        let (cert, _) = CertBuilder::new()
            .set_creation_time(SystemTime::now() - Duration::from_secs(60))
            .add_userid(userid)
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_primary_key_flags(KeyFlags::empty().set_certification())
            .add_signing_subkey()
            .generate()
            .unwrap();
        let keypair = cert
            .keys()
            .secret()
            .with_policy(&StandardPolicy::new(), None)
            .for_signing()
            .next()
            .unwrap()
            .key()
            .clone()
            .into_keypair()
            .unwrap();
        Maintainer {
            cert: cert.strip_secret_key_material().to_vec().unwrap(),
            keypair,
        }
    }

    /// A submission of an in-toto statement naming `subjects`.
    fn submission(&mut self, subjects: &[String]) -> Submission {
        let subjects: Vec<String> = subjects
            .iter()
            .map(|n| {
                format!(
                    r#"{{"name": "{n}", "digest": {{"sha256": "{}"}}}}"#,
                    hex::encode(Sha256::digest(n.as_bytes()))
                )
            })
            .collect();
        let statement = format!(
            r#"{{"_type": "https://in-toto.io/Statement/v1", "subject": [{}], "predicateType": "{}", "predicate": {{"source": {{"uri": "git+https://example.org/pkg.git", "revision": "0123456789abcdef"}}, "builder": {{"id": "mailto:builder@example.org"}}, "buildTime": "2026-01-31T12:00:00Z"}}}}"#,
            subjects.join(", "),
            attestlog_attest::REPRODUCIBLE_BUILD_V1
        )
        .into_bytes();
        let sig = SignatureBuilder::new(SignatureType::Binary)
            .sign_message(&mut self.keypair, &statement)
            .unwrap();
        Submission {
            payload: statement,
            signature: Some(Packet::from(sig).to_vec().unwrap()),
            certificate: Some(self.cert.clone()),
        }
    }
}

/// A log built the real way, and what was admitted into it.
struct Original {
    state: Arc<LogState>,
    admitted: Vec<Admitted>,
}

/// `size` signed attestations by three maintainers, admitted and
/// sequenced in batches of at most 100. Subject names repeat across
/// entries (`pkg-<i mod 7>`), so searches find several entries.
async fn signed_log(size: usize) -> Original {
    let key = log_key();
    let state = attestlog_server::open_log(Arc::new(MemoryStore::new()), ORIGIN, &key).unwrap();
    let admission = OpenPgpAdmission::open(None);
    let mut maintainers: Vec<Maintainer> = (0..3)
        .map(|i| Maintainer::new(&format!("m{i} <m{i}@example.org>")))
        .collect();
    let mut admitted = Vec::with_capacity(size);
    for i in 0..size {
        let subjects = [format!("pkg-{}.tar.gz", i % 7), format!("unique-{i}.deb")];
        let s = maintainers[i % 3].submission(&subjects);
        let a = admission
            .admit(&s, Instant::now() + Duration::from_secs(30))
            .unwrap();
        admitted.push(a);
    }
    let (handle, thread) = sequencer::start(
        state.clone(),
        key,
        SequencerConfig {
            max_batch: 100,
            ..SequencerConfig::default()
        },
    );
    let waits: Vec<_> = admitted
        .iter()
        .map(|a| handle.submit(a.clone()).unwrap())
        .collect();
    for (i, w) in waits.into_iter().enumerate() {
        let done = w.await.unwrap().unwrap();
        assert_eq!(done.index, i as u64);
        assert!(!done.duplicate);
    }
    drop(handle);
    thread.join().unwrap().unwrap();
    assert_eq!(state.current().size, size as u64);
    Original { state, admitted }
}

/// An in-memory bucket and the object store under it.
fn memory_bucket() -> (Bucket, Arc<InMemory>) {
    let mem = Arc::new(InMemory::new());
    let bucket = Bucket::from_store(mem.clone(), "logs/main", Duration::from_secs(10));
    (bucket, mem)
}

/// Publishes `state`'s whole tree and checkpoint, as the publisher does.
async fn publish(state: &LogState, bucket: &Bucket) {
    let size = state.current().size;
    attestlog_server::publish::write_range(
        state.store.as_ref(),
        bucket,
        0,
        size,
        &state.metrics,
        &mut attestlog_server::publish::WrittenCertificates::default(),
    )
    .await
    .unwrap();
    put_checkpoint(state, bucket).await;
}

/// Writes `state`'s latest checkpoint to the bucket, last, as the
/// publisher does.
async fn put_checkpoint(state: &LogState, bucket: &Bucket) {
    bucket
        .put(
            layout::CHECKPOINT,
            Bytes::from(state.current().note.clone()),
        )
        .await
        .unwrap();
}

/// Restores into a new directory under `dir`, reporting progress at every
/// chunk; returns the data directory, the report and the progress calls.
async fn restore_into(
    bucket: &Bucket,
    dir: &Path,
    bundles_per_chunk: usize,
) -> (PathBuf, RestoreReport, Vec<(u64, u64)>) {
    let data_dir = dir.join("restored");
    let mut calls = Vec::new();
    let options = RestoreOptions {
        bundles_per_chunk,
        progress_every: Duration::ZERO,
    };
    let report = restore_with(
        bucket,
        ORIGIN,
        &log_key().verifier(),
        &data_dir,
        &options,
        |done, total| calls.push((done, total)),
    )
    .await
    .unwrap_or_else(|e| panic!("restore failed: {e}"));
    (data_dir, report, calls)
}

/// Every entry, entry by entry.
fn all_entries(store: &dyn Store, size: u64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < size {
        let end = (at + MAX_ENTRIES_PER_READ).min(size);
        out.extend(store.entries(at, end).unwrap());
        at = end;
    }
    out
}

/// The restored store answers every read as the original does.
fn assert_same_log(original: &Original, restored: &dyn Store) {
    let store = original.state.store.as_ref();
    let size = original.state.current().size;
    assert_eq!(all_entries(restored, size), all_entries(store, size));
    let mut signers = std::collections::BTreeSet::new();
    for (i, a) in original.admitted.iter().enumerate() {
        let leaf = leaf_hash(&a.entry);
        assert_eq!(restored.index_of_leaf(&leaf).unwrap(), Some(i as u64));
        assert_eq!(
            restored.index_of_dedup_key(&a.dedup_key).unwrap(),
            store.index_of_dedup_key(&a.dedup_key).unwrap()
        );
        assert_eq!(
            restored.index_of_dedup_key(&a.dedup_key).unwrap(),
            Some(i as u64)
        );
        for k in &a.index_keys {
            let want = store.search(k, 0, 10_000).unwrap();
            assert!(want.contains(&(i as u64)));
            assert_eq!(restored.search(k, 0, 10_000).unwrap(), want, "{k:?}");
        }
        signers.insert(a.signer.clone());
    }
    for s in &signers {
        let want = store.certificate(s).unwrap();
        assert!(want.is_some());
        assert_eq!(restored.certificate(s).unwrap(), want);
    }
}

/// Sizes around the entry bundle and hash tile boundaries, with chunks of
/// one bundle (a consistency proof per bundle) and of the default 64.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restores_logs_of_every_shape() {
    for (size, per_chunk) in [(0, 64), (1, 64), (255, 1), (256, 1), (257, 1), (257, 64)] {
        let original = signed_log(size).await;
        let (bucket, _) = memory_bucket();
        publish(&original.state, &bucket).await;
        let dir = tempfile::tempdir().unwrap();
        let (data_dir, report, calls) = restore_into(&bucket, dir.path(), per_chunk).await;
        let want = original.state.current();
        assert_eq!(
            (report.size, report.root),
            (want.size, want.root),
            "size {size}"
        );
        assert_eq!(report.entries, size as u64);
        assert_eq!(report.certificates, size.min(3));
        assert!(report.bytes_read > 0);
        let chunks = (size as u64).div_ceil(256).div_ceil(per_chunk as u64);
        assert_eq!(
            calls.len() as u64,
            chunks,
            "size {size}: one report per chunk"
        );
        assert!(calls.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(calls.iter().all(|&(_, total)| total == size as u64));
        assert!(!staging_dir(&data_dir).unwrap().exists());

        // `serve`'s start-up check accepts it, at exactly the bucket's
        // checkpoint.
        let restored: Arc<dyn Store> = Arc::new(RocksStore::open(&data_dir).unwrap());
        let state = attestlog_server::open_log(restored.clone(), ORIGIN, &log_key()).unwrap();
        let now = state.current();
        assert_eq!((now.size, now.root), (want.size, want.root));
        assert_eq!(now.note, want.note);
        assert_same_log(&original, restored.as_ref());
    }
}

/// The restored directory is a working log: it takes new entries, and its
/// grown tree extends the restored one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_log_continues() {
    let original = signed_log(300).await;
    let (bucket, _) = memory_bucket();
    publish(&original.state, &bucket).await;
    let dir = tempfile::tempdir().unwrap();
    // An empty data directory may exist; a stale staging directory is
    // replaced.
    let data_dir = dir.path().join("restored");
    std::fs::create_dir(&data_dir).unwrap();
    let staging = staging_dir(&data_dir).unwrap();
    std::fs::create_dir(&staging).unwrap();
    std::fs::write(staging.join("junk"), b"left by a crash").unwrap();
    let report = restore(&bucket, ORIGIN, &log_key().verifier(), &data_dir, |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.size, 300);
    assert!(!staging.exists());

    let store: Arc<dyn Store> = Arc::new(RocksStore::open(&data_dir).unwrap());
    let state = attestlog_server::open_log(store.clone(), ORIGIN, &log_key()).unwrap();
    let (handle, thread) = sequencer::start(state.clone(), log_key(), SequencerConfig::default());
    let extra = OpenPgpAdmission::open(None)
        .admit(
            &Maintainer::new("late <late@example.org>").submission(&["late.tar.gz".into()]),
            Instant::now() + Duration::from_secs(30),
        )
        .unwrap();
    let first_again = original.admitted[0].clone();
    let late = handle.submit(extra).unwrap().await.unwrap().unwrap();
    let dup = handle.submit(first_again).unwrap().await.unwrap().unwrap();
    drop(handle);
    thread.join().unwrap().unwrap();
    assert_eq!((late.index, late.duplicate), (300, false));
    assert_eq!(
        (dup.index, dup.duplicate),
        (0, true),
        "deduplicated against restored entries"
    );
    let proof = prove_consistency(store.as_ref(), 300, 301).unwrap();
    verify_consistency(300, 301, &report.root, &state.current().root, &proof).unwrap();
}

/// Published in several rounds, as the running publisher does, with one
/// memory of written certificates: each of the three signers'
/// certificates is written in the first round only, every round writes
/// exactly the tiles and bundles that changed plus the checkpoint, and
/// the bucket restores to the same log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_write_each_certificate_once() {
    let original = signed_log(300).await;
    let state = &original.state;
    let (bucket, _) = memory_bucket();
    let mut certs = attestlog_server::publish::WrittenCertificates::default();
    let mut written = Vec::new();
    for (old, new) in [(0u64, 2u64), (2, 150), (150, 256), (256, 300)] {
        let before = state.metrics.objects_written.get();
        attestlog_server::publish::write_range(
            state.store.as_ref(),
            &bucket,
            old,
            new,
            &state.metrics,
            &mut certs,
        )
        .await
        .unwrap();
        written.push(state.metrics.objects_written.get() - before);
    }
    let changed = |old, new| {
        let tiles = attestlog_core::tile::Tile::changed_between(old, new);
        // A level-0 tile has its entry bundle beside it.
        (tiles.len() + tiles.iter().filter(|t| t.level == 0).count()) as u64
    };
    assert_eq!(
        written,
        [
            changed(0, 2) + 2,
            changed(2, 150) + 1,
            changed(150, 256),
            changed(256, 300)
        ],
        "certificates of m0 and m1 in the first round, m2's in the second, none after"
    );
    put_checkpoint(state, &bucket).await;
    let dir = tempfile::tempdir().unwrap();
    let (data_dir, report, _) = restore_into(&bucket, dir.path(), 1).await;
    assert_eq!(report.size, 300);
    let restored = RocksStore::open(&data_dir).unwrap();
    assert_same_log(&original, &restored);
}

/// Over 65,536 entries: tiles of levels 0, 1 and 2, partial at each; one
/// leaf repeated with different verification times, chunks of 16 bundles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restores_over_65536_entries() {
    const SIZE: u64 = 65_536 + 257;
    let key = log_key();
    let mut m = Maintainer::new("bulk <bulk@example.org>");
    let a = OpenPgpAdmission::open(None)
        .admit(
            &m.submission(&["bulk.tar.gz".into(), "bulk.deb".into()]),
            Instant::now() + Duration::from_secs(30),
        )
        .unwrap();
    let leaf = Leaf::decode(&a.entry).unwrap();
    let store = Arc::new(MemoryStore::new());
    let mut size = 0u64;
    let mut root = Hash::EMPTY_ROOT;
    while size < SIZE {
        let n = (SIZE - size).min(4096);
        let entries: Vec<NewEntry> = (size..size + n)
            .map(|i| NewEntry {
                bytes: Leaf::new(
                    leaf.statement().to_vec(),
                    leaf.signature().to_vec(),
                    leaf.primary_fingerprint().clone(),
                    leaf.signing_fingerprint().clone(),
                    leaf.verified_at() + i,
                )
                .unwrap()
                .encode(),
                dedup_key: a.dedup_key,
                index_keys: a.index_keys.clone(),
            })
            .collect();
        let hashes: Vec<Hash> = entries.iter().map(|e| leaf_hash(&e.bytes)).collect();
        let appended = append_leaves(store.as_ref(), size, &hashes).unwrap();
        root = appended.root;
        store
            .append(&AppendBatch {
                old_size: size,
                entries,
                hashes: appended.hashes,
                certificates: if size == 0 {
                    vec![a.certificate.clone().unwrap()]
                } else {
                    vec![]
                },
                checkpoint: sequencer::sign_checkpoint(&key, ORIGIN, size + n, root),
            })
            .unwrap();
        size += n;
    }
    let state = attestlog_server::open_log(store.clone(), ORIGIN, &key).unwrap();
    let (bucket, _) = memory_bucket();
    publish(&state, &bucket).await;
    for tile in ["tile/0/257.p/1", "tile/1/001.p/1", "tile/2/000.p/1"] {
        assert!(bucket.get(tile, 1 << 20).await.unwrap().is_some(), "{tile}");
    }

    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (data_dir, report, calls) = restore_into(&bucket, dir.path(), 16).await;
    eprintln!("restored {SIZE} entries in {:?}", started.elapsed());
    assert_eq!((report.size, report.root), (SIZE, root));
    assert_eq!(report.certificates, 1);
    assert_eq!(calls.len(), 17, "258 bundles in chunks of 16");
    assert_eq!(calls.last(), Some(&(SIZE, SIZE)));

    let restored = Arc::new(RocksStore::open(&data_dir).unwrap());
    let reopened = attestlog_server::open_log(restored.clone(), ORIGIN, &key).unwrap();
    assert_eq!(reopened.current().root, root);
    assert_eq!(restored.index_of_dedup_key(&a.dedup_key).unwrap(), Some(0));
    for k in &a.index_keys {
        for from in [0, 65_000] {
            assert_eq!(
                restored.search(k, from, 1000).unwrap(),
                store.search(k, from, 1000).unwrap()
            );
        }
    }
    assert_eq!(
        restored.certificate(&a.signer).unwrap(),
        store.certificate(&a.signer).unwrap()
    );
    let last = SIZE - 1;
    assert_eq!(
        restored.entries(last, SIZE).unwrap(),
        store.entries(last, SIZE).unwrap()
    );
}

/// The object `name` of the bucket under `mem`.
fn object(name: &str) -> ObjectPath {
    ObjectPath::from(format!("logs/main/{name}"))
}

async fn read(mem: &InMemory, name: &str) -> Vec<u8> {
    mem.get(&object(name))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

async fn write(mem: &InMemory, name: &str, bytes: Vec<u8>) {
    mem.put(&object(name), bytes.into()).await.unwrap();
}

async fn flip_last_byte(mem: &InMemory, name: &str) {
    let mut b = read(mem, name).await;
    let last = b.len() - 1;
    b[last] ^= 1;
    write(mem, name, b).await;
}

/// The level-0 hash tile of a bundle's entries.
fn tile_of(bundle: &[u8], width: u16) -> Vec<u8> {
    parse_entry_bundle(bundle, width)
        .unwrap()
        .iter()
        .flat_map(|e| leaf_hash(e).0)
        .collect()
}

/// Every tampered bucket is refused, naming what is wrong, and leaves
/// neither the data directory nor the staging directory behind. The log
/// has 300 entries: bundles `000` and `001.p/44`, tiles `0/000`,
/// `0/001.p/44` and `1/000.p/1`; chunks of one bundle, so the first chunk
/// is checked by a consistency proof.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_buckets_are_refused() {
    let original = signed_log(300).await;
    let signer = |i: usize| original.admitted[i].signer.clone();
    let other = SignerKey::from_seed(ORIGIN, KeyType::Ed25519, [8; 32]).unwrap();
    let cp = original.state.current();

    for case in [
        "bundle byte",
        "bundle byte and its tile",
        "level-0 tile",
        "proof tile",
        "upper tile",
        "missing bundle",
        "checkpoint by another key",
        "checkpoint of another root",
        "checkpoint of another origin",
        "no checkpoint",
        "missing certificate",
        "another key's certificate",
        "not a certificate",
    ] {
        let (bucket, mem) = memory_bucket();
        publish(&original.state, &bucket).await;
        match case {
            "bundle byte" => flip_last_byte(&mem, "tile/entries/000").await,
            "bundle byte and its tile" => {
                flip_last_byte(&mem, "tile/entries/000").await;
                let bundle = read(&mem, "tile/entries/000").await;
                write(&mem, "tile/0/000", tile_of(&bundle, 256)).await;
            }
            "level-0 tile" => flip_last_byte(&mem, "tile/0/000").await,
            "proof tile" => flip_last_byte(&mem, "tile/0/001.p/44").await,
            "upper tile" => flip_last_byte(&mem, "tile/1/000.p/1").await,
            "missing bundle" => mem.delete(&object("tile/entries/001.p/44")).await.unwrap(),
            "checkpoint by another key" => {
                let note = sequencer::sign_checkpoint(&other, ORIGIN, cp.size, cp.root);
                write(&mem, layout::CHECKPOINT, note).await;
            }
            "checkpoint of another root" => {
                let note = sequencer::sign_checkpoint(&log_key(), ORIGIN, cp.size, leaf_hash(b"x"));
                write(&mem, layout::CHECKPOINT, note).await;
            }
            "checkpoint of another origin" => {
                let key =
                    SignerKey::from_seed("other.test/log", KeyType::Ed25519, [7; 32]).unwrap();
                let note = sequencer::sign_checkpoint(&key, "other.test/log", cp.size, cp.root);
                write(&mem, layout::CHECKPOINT, note).await;
            }
            "no checkpoint" => mem.delete(&object(layout::CHECKPOINT)).await.unwrap(),
            "missing certificate" => mem
                .delete(&object(&layout::certificate(&signer(2))))
                .await
                .unwrap(),
            "another key's certificate" => {
                let cert = read(&mem, &layout::certificate(&signer(0))).await;
                write(&mem, &layout::certificate(&signer(1)), cert).await;
            }
            "not a certificate" => {
                write(
                    &mem,
                    &layout::certificate(&signer(1)),
                    b"not a cert".to_vec(),
                )
                .await
            }
            _ => unreachable!(),
        }
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("restored");
        let err = restore_with(
            &bucket,
            ORIGIN,
            &log_key().verifier(),
            &data_dir,
            &RestoreOptions {
                bundles_per_chunk: 1,
                ..RestoreOptions::default()
            },
            |_, _| {},
        )
        .await
        .expect_err(case);
        let msg = err.to_string();
        let fpr = |i: usize| hex::encode_upper(signer(i));
        let expected = match case {
            "bundle byte" | "level-0 tile" => matches!(
                &err, RestoreError::Corrupt { object, .. } if object == "tile/0/000"),
            "bundle byte and its tile" | "proof tile" => {
                // The first chunk (256 entries) no longer proves
                // consistent with the checkpoint.
                matches!(err, RestoreError::NotConsistent { size: 256, .. })
            }
            "upper tile" => matches!(
                &err, RestoreError::Corrupt { object, .. } if object == "tile/1/000.p/1"),
            "missing bundle" => {
                matches!(&err, RestoreError::Missing(name) if name == "tile/entries/001.p/44")
            }
            "checkpoint by another key" | "checkpoint of another origin" => {
                matches!(err, RestoreError::Checkpoint(_))
            }
            "checkpoint of another root" => {
                matches!(err, RestoreError::NotConsistent { size: 256, .. })
            }
            "no checkpoint" => matches!(err, RestoreError::NoCheckpoint(_)),
            "missing certificate" => matches!(
                &err,
                RestoreError::MissingCertificate { fingerprint, entry: 2 } if *fingerprint == fpr(2)
            ),
            "another key's certificate" | "not a certificate" => matches!(
                &err, RestoreError::Corrupt { object, .. } if *object == format!("certificate/{}", fpr(1))),
            _ => unreachable!(),
        };
        assert!(expected, "{case}: {msg}");
        assert!(!data_dir.exists(), "{case}: the data directory was written");
        assert!(
            !staging_dir(&data_dir).unwrap().exists(),
            "{case}: the staging directory was left"
        );
    }
}

/// A data directory with anything in it is never touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_data_directory_is_refused() {
    let original = signed_log(3).await;
    let (bucket, _) = memory_bucket();
    publish(&original.state, &bucket).await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("log");
    std::fs::create_dir(&data_dir).unwrap();
    std::fs::write(data_dir.join("CURRENT"), b"an old store").unwrap();
    let verifier = log_key().verifier();
    let restoring = restore(&bucket, ORIGIN, &verifier, &data_dir, |_, _| {});
    // The restore can run on a spawned task.
    fn send<T: Send>(t: T) -> T {
        t
    }
    let err = send(restoring).await.unwrap_err();
    assert!(matches!(err, RestoreError::DataDirInUse(_)), "{err}");
    assert_eq!(
        std::fs::read(data_dir.join("CURRENT")).unwrap(),
        b"an old store"
    );
    assert_eq!(std::fs::read_dir(&data_dir).unwrap().count(), 1);
    assert!(!staging_dir(&data_dir).unwrap().exists());
    // A file in its place is refused the same way.
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let err = restore(&bucket, ORIGIN, &log_key().verifier(), &file, |_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(err, RestoreError::DataDirInUse(_)), "{err}");
    // A verifier key of another name is refused before anything is read.
    let stranger = SignerKey::from_seed("x.test/log", KeyType::Ed25519, [1; 32]).unwrap();
    let err = restore(
        &bucket,
        ORIGIN,
        &stranger.verifier(),
        &dir.path().join("new"),
        |_, _| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, RestoreError::LogKey(_)), "{err}");
}
