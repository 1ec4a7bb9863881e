//! Publishing to object storage, against a real 3-node Garage cluster on
//! 127.0.0.1 (replication factor 3): the log under load publishes a
//! static tlog-tiles tree that our tile reader and Go's x/mod read back
//! through Garage's website endpoint with the log's root; a Garage node
//! killed mid-ingest loses no acknowledged entry; under
//! `ack = "replicated"` every answer is either a success whose entry the
//! bucket holds or UNAVAILABLE.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::VerifierKey;
use attestlog_core::tree::tree_root;
use attestlog_core::{leaf_hash, Hash};
use attestlog_e2e::garage::{GarageCluster, Publishing};
use attestlog_e2e::load::signed_request;
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::*;
use attestlog_http::tiles::TileFetcher;
use attestlog_proto::v1 as pb;
use attestlog_proto::v1::log_client::LogClient;

const ORIGIN: &str = "bucket.test/log";

/// The longest a test waits for one gRPC answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts the log configured in `dir/log.toml`
/// ([`GarageCluster::write_log_config`]).
fn start_log(dir: &Path) -> anyhow::Result<LogServer> {
    let config = dir.join("log.toml");
    LogServer::start(dir, ORIGIN, &["--config", config.to_str().context("path")?])
}

/// Every test's start: a Garage cluster, and a log directory `log/` with
/// a log key and a `log.toml` publishing to the cluster.
struct Setup {
    /// Holds the cluster's and the log's files; deleted when dropped.
    dir: tempfile::TempDir,
    garage: GarageCluster,
    log_dir: PathBuf,
    /// `log.toml` in `log_dir`.
    config: PathBuf,
    /// The log's verifier key, as text and parsed.
    vkey: String,
    verifier: VerifierKey,
}

impl Setup {
    fn new(publishing: &Publishing<'_>) -> anyhow::Result<Setup> {
        let dir = tempfile::tempdir()?;
        let garage = GarageCluster::start(&dir.path().join("garage"))?;
        let log_dir = dir.path().join("log");
        std::fs::create_dir_all(&log_dir)?;
        let vkey = log_keygen(&log_dir, ORIGIN)?;
        let verifier = VerifierKey::parse(&vkey)?;
        let config = garage.write_log_config(&log_dir, publishing)?;
        Ok(Setup {
            dir,
            garage,
            log_dir,
            config,
            vkey,
            verifier,
        })
    }
}

/// What the submitters saw: acknowledged index → entry bytes, and the
/// status codes of the failures.
#[derive(Default)]
struct Seen {
    acked: BTreeMap<u64, Vec<u8>>,
    failures: Vec<tonic::Code>,
}

/// Submits `reqs` from `clients` concurrent clients, recording every
/// answer (failures included) in `seen`.
async fn submit_recording(
    endpoint: String,
    reqs: Vec<pb::SubmitRequest>,
    clients: usize,
    seen: Arc<Mutex<Seen>>,
) -> anyhow::Result<()> {
    let channels = load::connect(&endpoint, clients).await?;
    let reqs = Arc::new(reqs);
    let mut tasks = Vec::new();
    for (c, channel) in channels.into_iter().enumerate() {
        let (reqs, seen) = (reqs.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = LogClient::new(channel);
            for r in reqs.iter().skip(c).step_by(clients) {
                // Bounded: a stuck log fails the test instead of hanging it.
                let answer = tokio::time::timeout(CALL_TIMEOUT, client.submit(r.clone()))
                    .await
                    .unwrap_or_else(|_| Err(tonic::Status::deadline_exceeded("no answer")));
                let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
                match answer {
                    Ok(a) => {
                        let a = a.into_inner();
                        s.acked.insert(a.index, a.entry);
                    }
                    Err(status) => s.failures.push(status.code()),
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(())
}

/// Reads the bucket through `node`'s website endpoint until its
/// checkpoint has `size` entries (at most 60 s); returns the checkpoint.
fn wait_for_bucket(
    garage: &GarageCluster,
    node: usize,
    verifier: &VerifierKey,
    size: u64,
) -> anyhow::Result<Checkpoint> {
    poll_until(Duration::from_secs(60), Duration::from_millis(200), || {
        let read = http_get_host(garage.web_addr(node), garage.web_host(), "/checkpoint");
        let Ok((200, note)) = read else {
            return Ok(None);
        };
        let (cp, _) = Checkpoint::open(&note, ORIGIN, verifier)?;
        Ok((cp.size >= size).then_some(cp))
    })
    .with_context(|| format!("the bucket did not reach size {size}"))
}

fn web_tiles(garage: &GarageCluster, node: usize) -> anyhow::Result<TileFetcher> {
    let rt = tokio::runtime::Handle::try_current().ok();
    let handle = match rt {
        Some(h) => h,
        None => bail!("call from a tokio runtime"),
    };
    Ok(TileFetcher::new(
        &format!("http://{}", garage.web_addr(node)),
        handle,
        Duration::from_secs(10),
    )
    .with_host(garage.web_host()))
}

/// Checks the whole bucket through `node`'s website endpoint against the
/// checkpoint `cp`: hash tiles give its root, every entry bundle's entries
/// hash to the leaves, and each acknowledged entry is at its index.
fn check_bucket(
    garage: &GarageCluster,
    node: usize,
    cp: &Checkpoint,
    acked: &BTreeMap<u64, Vec<u8>>,
) -> anyhow::Result<()> {
    let tiles = web_tiles(garage, node)?;
    let root = tree_root(&tiles.tree(cp.size), cp.size)?;
    assert_eq!(root, cp.root, "root from the bucket's hash tiles");
    let mut frontier = attestlog_core::Frontier::new();
    for bundle in 0..cp.size.div_ceil(256) {
        let width = (cp.size - bundle * 256).min(256) as u16;
        for (i, entry) in tiles.entries(bundle, width)?.into_iter().enumerate() {
            let index = bundle * 256 + i as u64;
            if let Some(want) = acked.get(&index) {
                assert_eq!(&entry, want, "acknowledged entry {index} in the bucket");
            }
            frontier.push(leaf_hash(&entry));
        }
    }
    assert_eq!(
        frontier.root(),
        cp.root,
        "root from the bucket's entry bundles"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_under_load_survives_a_garage_node_and_agrees_with_go() -> anyhow::Result<()> {
    let Setup {
        dir: _dir,
        garage,
        log_dir,
        vkey,
        verifier,
        ..
    } = Setup::new(&Publishing::test(0, "local"))?;
    let server = start_log(&log_dir)?;

    let mut keys = vec![
        Maintainer::new("a <a@example.org>"),
        Maintainer::new("b <b@example.org>"),
    ];
    let reqs = load::signed_requests(&mut keys, 1500, "publish");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let load = tokio::spawn(submit_recording(server.endpoint(), reqs, 16, seen.clone()));
    // Kill a Garage node while entries are being published, bring it back.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut garage = tokio::task::spawn_blocking(move || -> anyhow::Result<GarageCluster> {
        let mut g = garage;
        g.kill_node(1)?;
        std::thread::sleep(Duration::from_secs(2));
        g.start_node(1)?;
        Ok(g)
    })
    .await??;
    load.await??;
    let (acked, failures) = {
        let s = seen.lock().unwrap_or_else(|p| p.into_inner());
        (s.acked.clone(), s.failures.clone())
    };
    assert!(
        failures.is_empty(),
        "ack = local: no submission fails: {failures:?}"
    );
    assert_eq!(acked.len(), 1500);

    // The log's own checkpoint; the bucket catches up to it.
    let (status, note) = http_get(server.http, "/checkpoint")?;
    assert_eq!(status, 200);
    let (log_cp, _) = Checkpoint::open(&note, ORIGIN, &verifier)?;
    assert_eq!(log_cp.size, 1500);
    let garage_ref = &mut garage;
    let cp = {
        let g = &*garage_ref;
        let v = verifier.clone();
        tokio::task::block_in_place(|| wait_for_bucket(g, 2, &v, 1500))?
    };
    assert_eq!((cp.size, cp.root), (log_cp.size, log_cp.root));
    tokio::task::block_in_place(|| check_bucket(&garage, 2, &cp, &acked))?;
    // The node that was down serves the same tree.
    tokio::task::block_in_place(|| check_bucket(&garage, 1, &cp, &acked))?;

    // Go's x/mod reads the same tree through Garage's website endpoint.
    let out = go_bucketcheck(
        &format!("http://{}", garage.web_addr(2)),
        garage.web_host(),
        &vkey,
    )?;
    let root_b64 = base64_root(&cp.root);
    assert_eq!(out.trim(), format!("size 1500 root {root_b64}"));

    // /healthz and /metrics report the bucket caught up.
    let (status, health) = http_get(server.http, "/healthz")?;
    let health = String::from_utf8(health)?;
    assert_eq!(status, 200, "{health}");
    assert!(health.contains("bucket: 0 entries behind"), "{health}");
    let (_, metrics) = http_get(server.http, "/metrics")?;
    let metrics = String::from_utf8(metrics)?;
    assert!(
        metrics.contains("attestlog_bucket_tree_size 1500"),
        "{metrics}"
    );
    assert!(
        metrics.contains("attestlog_publish_lag_seconds_count"),
        "{metrics}"
    );
    server.stop()?;
    Ok(())
}

fn base64_root(root: &Hash) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(root.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicated_acks_are_in_the_bucket_or_unavailable() -> anyhow::Result<()> {
    let Setup {
        dir: _dir,
        garage,
        log_dir,
        verifier,
        ..
    } = Setup::new(&Publishing::test(0, "replicated"))?;
    let server = start_log(&log_dir)?;

    let mut m = Maintainer::new("r <r@example.org>");
    let reqs: Vec<pb::SubmitRequest> = (0..1200)
        .map(|i| signed_request(&mut m, &format!("replicated-{i}.tar.gz"), i << 8 | 0x17))
        .collect();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let load = tokio::spawn(submit_recording(server.endpoint(), reqs, 8, seen.clone()));
    // A replica node down, then the node the log writes through: the
    // second outage makes the store fail for the log.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let garage = tokio::task::spawn_blocking(move || -> anyhow::Result<GarageCluster> {
        let mut g = garage;
        g.kill_node(1)?;
        std::thread::sleep(Duration::from_millis(1500));
        g.start_node(1)?;
        g.kill_node(0)?;
        std::thread::sleep(Duration::from_secs(5));
        g.start_node(0)?;
        Ok(g)
    })
    .await??;
    load.await??;
    let (acked, failures) = {
        let s = seen.lock().unwrap_or_else(|p| p.into_inner());
        (s.acked.clone(), s.failures.clone())
    };
    assert!(
        failures.iter().all(|c| *c == tonic::Code::Unavailable),
        "every failure is UNAVAILABLE: {failures:?}"
    );
    assert!(
        !failures.is_empty(),
        "the store outage refused some submissions"
    );
    assert!(!acked.is_empty());
    // Every acknowledged entry is in the bucket, even those acknowledged
    // just before the outage.
    let (_, note) = http_get(server.http, "/checkpoint")?;
    let (log_cp, _) = Checkpoint::open(&note, ORIGIN, &verifier)?;
    let max_acked = *acked.keys().last().context("acked")?;
    assert!(log_cp.size > max_acked);
    let cp = tokio::task::block_in_place(|| wait_for_bucket(&garage, 2, &verifier, log_cp.size))?;
    tokio::task::block_in_place(|| check_bucket(&garage, 2, &cp, &acked))?;
    server.stop()?;
    Ok(())
}

/// Waits (at most 30 s) until the log's `/checkpoint` is cosigned under
/// `policy` for a tree of at least `size`; returns it.
fn wait_cosigned(
    server: &LogServer,
    policy: &attestlog_core::tlog_policy::TlogPolicy,
    size: u64,
) -> anyhow::Result<Checkpoint> {
    poll_until(Duration::from_secs(30), Duration::from_millis(100), || {
        let (status, note) = http_get(server.http, "/checkpoint")?;
        Ok(match policy.verify_checkpoint(&note) {
            Ok((cp, _, _)) if status == 200 && cp.size >= size => Some(cp),
            _ => None,
        })
    })
    .with_context(|| format!("no checkpoint of size {size} cosigned:\n{}", server.log()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_delete_restore_and_the_witness_cosigns_the_continuation() -> anyhow::Result<()> {
    use attestlog_core::note::{KeyType, SignerKey};
    use attestlog_e2e::witness::{Witness, WitnessConfig, WitnessedLog};

    let Setup {
        dir,
        garage: _garage,
        log_dir,
        config,
        vkey,
        verifier,
    } = Setup::new(&Publishing::test(1, "replicated"))?;
    // One witness, required by the policy.
    let wkey = SignerKey::from_seed("w1.test", KeyType::Cosignature, [21; 32])?;
    let mut wconfig = WitnessConfig::new(wkey.clone());
    wconfig.logs = vec![WitnessedLog {
        origin: ORIGIN.to_owned(),
        key: vkey.clone(),
        tiles_url: None,
    }];
    let witness = Witness::start(&dir.path().join("w1"), &wconfig)?;
    let policy_text = format!(
        "log {vkey}\nwitness W1 {} {}\nquorum W1\n",
        wkey.verifier().to_key_string(),
        witness.url()
    );
    let policy_path = log_dir.join("witnesses.policy");
    std::fs::write(&policy_path, &policy_text)?;
    let policy = attestlog_core::tlog_policy::TlogPolicy::parse(policy_text.as_bytes())?;
    let flags = [
        "--config",
        config.to_str().context("path")?,
        "--witness-policy",
        policy_path.to_str().context("path")?,
    ];
    let server = LogServer::start(&log_dir, ORIGIN, &flags)?;

    let mut m = Maintainer::new("restore <restore@example.org>");
    let reqs: Vec<pb::SubmitRequest> = (0..300)
        .map(|i| signed_request(&mut m, &format!("restore-{i}.tar.gz"), i << 8 | 0x33))
        .collect();
    let seen = Arc::new(Mutex::new(Seen::default()));
    submit_recording(server.endpoint(), reqs, 8, seen.clone()).await?;
    let acked = seen.lock().unwrap_or_else(|p| p.into_inner()).acked.clone();
    assert_eq!(
        acked.len(),
        300,
        "ack = replicated with the store up: all acknowledged"
    );
    let cosigned = tokio::task::block_in_place(|| wait_cosigned(&server, &policy, 300))?;

    // The machine is lost: kill -9, and its data directory is gone.
    server.kill();
    std::fs::remove_dir_all(log_dir.join("data"))?;
    let out = std::process::Command::new(bin("attestlog-server"))
        .args(["restore", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(log_dir.join("data"))
        .args(["--log-key", &vkey, "--origin", ORIGIN])
        .stdin(std::process::Stdio::null())
        .output()?;
    assert!(
        out.status.success(),
        "restore failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("restored 300 entries"));

    // Serving again: the same tree, every acknowledged entry in place.
    let server = LogServer::start(&log_dir, ORIGIN, &flags)?;
    let (_, note) = http_get(server.http, "/checkpoint")?;
    let (cp, _) = Checkpoint::open(&note, ORIGIN, &verifier)?;
    assert_eq!((cp.size, cp.root), (cosigned.size, cosigned.root));
    let mut client = LogClient::connect(server.endpoint()).await?;
    let entries = client
        .get_entries(pb::GetEntriesRequest { start: 0, end: 300 })
        .await?
        .into_inner();
    let mut got = Vec::new();
    let mut stream = entries;
    while let Some(e) = stream.message().await? {
        assert_eq!(e.index, got.len() as u64);
        got.push(e.data);
    }
    assert_eq!(got.len(), 300);
    for (index, want) in &acked {
        assert_eq!(&got[*index as usize], want, "entry {index} after restore");
    }
    // It grows from exactly that checkpoint, and the witness, which
    // cosigned size 300 before the loss, cosigns the continuation (it
    // checks a consistency proof from 300).
    let more: Vec<pb::SubmitRequest> = (300..310)
        .map(|i| signed_request(&mut m, &format!("restore-{i}.tar.gz"), i << 8 | 0x33))
        .collect();
    for r in more {
        let a = tokio::time::timeout(CALL_TIMEOUT, client.submit(r))
            .await??
            .into_inner();
        assert!(a.index >= 300 && !a.duplicate);
    }
    let next = tokio::task::block_in_place(|| wait_cosigned(&server, &policy, 310))?;
    assert_eq!(next.size, 310);
    let proof = client
        .get_consistency_proof(pb::GetConsistencyProofRequest {
            old_size: 300,
            new_size: Some(310),
        })
        .await?
        .into_inner();
    let proof: Vec<Hash> = proof
        .hashes
        .iter()
        .filter_map(|h| Hash::from_slice(h))
        .collect();
    attestlog_core::proof::verify_consistency(300, 310, &cosigned.root, &next.root, &proof)?;
    server.stop()?;
    drop(witness);
    Ok(())
}

/// Waits (at most 30 s) until `server` serves a checkpoint of `size`
/// entries; returns it.
fn wait_served(
    server: &LogServer,
    verifier: &VerifierKey,
    size: u64,
) -> anyhow::Result<Checkpoint> {
    poll_until(Duration::from_secs(30), Duration::from_millis(100), || {
        let (status, note) = http_get(server.http, "/checkpoint")?;
        if status != 200 {
            return Ok(None);
        }
        let (cp, _) = Checkpoint::open(&note, ORIGIN, verifier)?;
        Ok((cp.size >= size).then_some(cp))
    })
    .with_context(|| format!("no checkpoint of size {size}:\n{}", server.log()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_follows_serves_proofs_refuses_submit_and_tampering() -> anyhow::Result<()> {
    use attestlog_core::proof::{verify_consistency, verify_inclusion};

    let Setup {
        dir,
        garage,
        log_dir,
        vkey,
        verifier,
        ..
    } = Setup::new(&Publishing::test(0, "replicated"))?;
    let replica_dir = dir.path().join("replica");
    std::fs::create_dir_all(&replica_dir)?;
    // The replica reads through another Garage node.
    garage.write_log_config(&replica_dir, &Publishing::test(2, "local"))?;
    let primary = start_log(&log_dir)?;

    let mut m = Maintainer::new("replica <replica@example.org>");
    let mut reqs: Vec<pb::SubmitRequest> = (0..510)
        .map(|i| signed_request(&mut m, &format!("replica-{i}.tar.gz"), i << 8 | 0x44))
        .collect();
    let later = reqs.split_off(300);
    let seen = Arc::new(Mutex::new(Seen::default()));
    submit_recording(primary.endpoint(), reqs, 8, seen.clone()).await?;

    let config = replica_dir.join("log.toml");
    let replica = LogServer::start(
        &replica_dir,
        ORIGIN,
        &[
            "--config",
            config.to_str().context("path")?,
            "--replica-of-bucket",
            "--primary",
            &primary.endpoint(),
            "--log-key",
            &vkey,
            "--follow-interval-ms",
            "100",
        ],
    )?;
    // It caught up before listening.
    let (_, note) = http_get(replica.http, "/checkpoint")?;
    let (cp, _) = Checkpoint::open(&note, ORIGIN, &verifier)?;
    assert_eq!(cp.size, 300);

    // Submit is refused, naming the primary.
    let mut to_replica = LogClient::connect(replica.endpoint()).await?;
    let refused = to_replica
        .submit(signed_request(&mut m, "not-here.tar.gz", 1))
        .await
        .expect_err("a replica refuses Submit");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(
        refused.message().contains(&primary.endpoint()),
        "{}",
        refused.message()
    );

    // It follows the growing log; its proofs verify against the primary's
    // checkpoints.
    let (first, rest) = {
        let mut l = later;
        let rest = l.split_off(200);
        (l, rest)
    };
    submit_recording(primary.endpoint(), first, 8, seen.clone()).await?;
    let (_, note) = http_get(primary.http, "/checkpoint")?;
    let (at_500, _) = Checkpoint::open(&note, ORIGIN, &verifier)?;
    assert_eq!(at_500.size, 500);
    let followed = tokio::task::block_in_place(|| wait_served(&replica, &verifier, 500))?;
    assert_eq!((followed.size, followed.root), (at_500.size, at_500.root));
    let acked = seen.lock().unwrap_or_else(|p| p.into_inner()).acked.clone();
    for index in [0u64, 255, 256, 299, 300, 499] {
        let p = to_replica
            .get_inclusion_proof(pb::GetInclusionProofRequest {
                tree_size: Some(500),
                leaf: Some(pb::get_inclusion_proof_request::Leaf::Index(index)),
            })
            .await?
            .into_inner();
        let path: Vec<Hash> = p
            .hashes
            .iter()
            .filter_map(|h| Hash::from_slice(h))
            .collect();
        let entry = acked.get(&index).context("acknowledged")?;
        verify_inclusion(&leaf_hash(entry), index, 500, &path, &at_500.root)?;
    }
    let c = to_replica
        .get_consistency_proof(pb::GetConsistencyProofRequest {
            old_size: 300,
            new_size: Some(500),
        })
        .await?
        .into_inner();
    let path: Vec<Hash> = c
        .hashes
        .iter()
        .filter_map(|h| Hash::from_slice(h))
        .collect();
    verify_consistency(300, 500, &cp.root, &at_500.root, &path)?;
    // Certificates and search are served too.
    let found = to_replica
        .search(pb::SearchRequest {
            key: Some(pb::search_request::Key::Sha256(hex_decode(&format!(
                "{:064x}",
                499u64 << 8 | 0x44
            ))?)),
            ..Default::default()
        })
        .await?
        .into_inner();
    let [index] = found.indexes[..] else {
        bail!(
            "one entry has that digest, the replica found {:?}",
            found.indexes
        );
    };
    let entry = acked.get(&index).context("found an acknowledged entry")?;
    assert!(
        entry.windows(18).any(|w| w == b"replica-499.tar.gz"),
        "the entry found is the one with that digest"
    );

    let fingerprint = attestlog_attest::parse_stored(&m.cert)?
        .fingerprint()
        .as_bytes()
        .to_vec();
    let cert = to_replica
        .get_certificate(pb::GetCertificateRequest {
            fingerprint: fingerprint.clone(),
        })
        .await?
        .into_inner();
    let served = attestlog_attest::parse_stored(&cert.data)?;
    assert_eq!(served.fingerprint().as_bytes(), &fingerprint[..]);
    // The HTTP tiles are the primary's.
    for path in ["/tile/0/001.p/244", "/tile/entries/000", "/tile/1/000.p/1"] {
        let (status, from_replica) = http_get(replica.http, path)?;
        let (_, from_primary) = http_get(primary.http, path)?;
        assert_eq!(status, 200, "{path}");
        assert_eq!(from_replica, from_primary, "{path}");
    }

    // Tampering behind its back: the replica is paused, the primary
    // publishes 10 more entries and stops, and one byte of the new entry
    // bundle is changed in the bucket before the replica looks again.
    run(std::process::Command::new("kill").args(["-STOP", &replica.child.id().to_string()]))?;
    submit_recording(primary.endpoint(), rest, 2, seen.clone()).await?;
    let bucket_cp = tokio::task::block_in_place(|| wait_for_bucket(&garage, 1, &verifier, 510))?;
    assert_eq!(bucket_cp.size, 510);
    primary.stop()?;
    let bucket = attestlog_bucket::Bucket::open(&garage.bucket_config(1), &garage.credentials())?;
    let name = "tile/entries/001.p/254";
    let good = bucket
        .get(name, 1 << 24)
        .await?
        .context("the bundle")?
        .bytes;
    let mut bad = good.to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    bucket.put(name, bad.into()).await?;
    run(std::process::Command::new("kill").args(["-CONT", &replica.child.id().to_string()]))?;
    let health = tokio::task::block_in_place(|| {
        poll_until(Duration::from_secs(20), Duration::from_millis(100), || {
            let (_, body) = http_get(replica.http, "/healthz")?;
            let body = String::from_utf8(body)?;
            Ok(body.contains("failing").then_some(body))
        })
        .with_context(|| {
            format!(
                "the replica did not report the tampered bundle:\n{}",
                replica.log()
            )
        })
    })?;
    assert!(health.contains("corrupt"), "{health}");
    let (_, note) = http_get(replica.http, "/checkpoint")?;
    let (still, _) = Checkpoint::open(&note, ORIGIN, &verifier)?;
    assert_eq!(still.size, 500, "the tampered tree is not served");
    let (status, _) = http_get(replica.http, "/tile/entries/001.p/254")?;
    assert_eq!(status, 404, "no tile beyond the verified tree");
    // Once the bucket is repaired, the replica takes the checkpoint.
    bucket.put(name, good).await?;
    let repaired = tokio::task::block_in_place(|| wait_served(&replica, &verifier, 510))?;
    assert_eq!(
        (repaired.size, repaired.root),
        (bucket_cp.size, bucket_cp.root)
    );
    replica.stop()?;
    Ok(())
}

fn hex_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| Ok(u8::from_str_radix(&s[i..i + 2], 16)?))
        .collect()
}
