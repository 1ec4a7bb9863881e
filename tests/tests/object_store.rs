//! Publishing to object storage, against a real 3-node Garage cluster on
//! 127.0.0.1 (replication factor 3): the log under load publishes a
//! static tlog-tiles tree that our tile reader and Go's x/mod read back
//! through Garage's website endpoint with the log's root; a Garage node
//! killed mid-ingest loses no acknowledged entry; under
//! `ack = "replicated"` every answer is either a success whose entry the
//! bucket holds or UNAVAILABLE.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::VerifierKey;
use attestlog_core::tree::tree_root;
use attestlog_core::{leaf_hash, Hash};
use attestlog_e2e::garage::GarageCluster;
use attestlog_e2e::load::signed_request;
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::*;
use attestlog_http::tiles::TileFetcher;
use attestlog_proto::v1 as pb;
use attestlog_proto::v1::log_client::LogClient;

const ORIGIN: &str = "bucket.test/log";

/// Writes the log's configuration: publish to `garage` through `node`'s
/// S3 API with `ack`, credentials in a file beside it.
fn write_config(dir: &Path, garage: &GarageCluster, node: usize, ack: &str) -> anyhow::Result<()> {
    let c = garage.credentials();
    std::fs::write(
        dir.join("s3.toml"),
        format!(
            "access_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
            c.access_key_id, c.secret_access_key
        ),
    )?;
    let b = garage.bucket_config(node);
    std::fs::write(
        dir.join("log.toml"),
        format!(
            "[object_store]\nendpoint = \"{}\"\nbucket = \"{}\"\nregion = \"{}\"\n\
             credentials_file = \"s3.toml\"\ntimeout_ms = 3000\n\n\
             [publish]\nack = \"{ack}\"\nack_timeout_ms = 3000\n\n\
             [admission]\nper_key_per_minute = 0\n\n[batch]\nqueue_limit = 100000\n",
            b.endpoint, b.bucket, b.region
        ),
    )?;
    Ok(())
}

fn start_log(dir: &Path) -> anyhow::Result<LogServer> {
    let config = dir.join("log.toml");
    LogServer::start(dir, ORIGIN, &["--config", config.to_str().context("path")?])
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
                let answer = client.submit(r.clone()).await;
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
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let read = http_get_host(garage.web_addr(node), garage.web_host(), "/checkpoint");
        if let Ok((200, note)) = read {
            let (cp, _) = Checkpoint::open(&note, ORIGIN, verifier)?;
            if cp.size >= size {
                return Ok(cp);
            }
        }
        if Instant::now() > deadline {
            bail!("the bucket did not reach size {size} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
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
    .with_host(&garage.web_host()))
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
    let dir = tempfile::tempdir()?;
    let garage = GarageCluster::start(&dir.path().join("garage"))?;
    let log_dir = dir.path().join("log");
    std::fs::create_dir_all(&log_dir)?;
    let vkey = log_keygen(&log_dir, ORIGIN)?;
    let verifier = VerifierKey::parse(&vkey)?;
    write_config(&log_dir, &garage, 0, "local")?;
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
        &garage.web_host(),
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
    let dir = tempfile::tempdir()?;
    let garage = GarageCluster::start(&dir.path().join("garage"))?;
    let log_dir = dir.path().join("log");
    std::fs::create_dir_all(&log_dir)?;
    let vkey = log_keygen(&log_dir, ORIGIN)?;
    let verifier = VerifierKey::parse(&vkey)?;
    write_config(&log_dir, &garage, 0, "replicated")?;
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
