//! The Garage harness itself ([`attestlog_e2e::garage::GarageCluster`]):
//! three real Garage 2.5.0 nodes on 127.0.0.1, written and read through
//! `attestlog_bucket::Bucket` (S3 API) and the website endpoint, with a
//! node down and after it comes back.
//!
//! 1. Start the cluster.
//! 2. Put `tile/0/000.p/1` through node 0's S3 API; read it back through
//!    node 1's; a missing object reads as absent.
//! 3. Read it anonymously through node 2's website endpoint, with the
//!    bucket as `Host`; another `Host` does not find it.
//! 4. Kill node 1 (SIGKILL) and wait until nodes 0 and 2 see it down; put
//!    a second object through node 0 and read it through node 2
//!    (replication 3: quorum 2 of 3 still reads and writes); node 1's S3
//!    API is gone.
//! 5. Restart node 1; read the second object, written while it was down,
//!    through it.

use std::time::Instant;

use attestlog_bucket::Bucket;
use attestlog_e2e::garage::{GarageCluster, BUCKET, WEB_ROOT_DOMAIN};
use attestlog_e2e::http_get_host;

/// Objects here are tiles: far under this.
const MAX: u64 = 1024 * 1024;

#[test]
fn three_nodes_read_and_write_with_one_down() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    // 1.
    let started = Instant::now();
    let mut cluster = GarageCluster::start(dir.path()).expect("Garage cluster");
    eprintln!("Garage cluster started in {:?}", started.elapsed());
    let configs: Vec<_> = (0..3).map(|node| cluster.bucket_config(node)).collect();
    let credentials = cluster.credentials();
    let bucket = |node: usize| Bucket::open(&configs[node], &credentials).expect("bucket client");

    // 2.
    let first: &[u8] = b"a partial hash tile of width 1, 32 bytes..";
    let (b0, b1, b2) = (bucket(0), bucket(1), bucket(2));
    rt.block_on(b0.put("tile/0/000.p/1", first.to_vec().into()))
        .expect("put through node 0");
    let got = rt
        .block_on(b1.get("tile/0/000.p/1", MAX))
        .expect("get through node 1")
        .expect("the object exists");
    assert_eq!(&got.bytes[..], first);
    assert!(
        rt.block_on(b1.get("tile/0/000.p/2", MAX))
            .expect("get through node 1")
            .is_none(),
        "an object never written was found"
    );

    // 3.
    let web = cluster.web_addr(2);
    let (status, body) =
        http_get_host(web, cluster.web_host(), "/tile/0/000.p/1").expect("website GET");
    assert_eq!(
        (status, body.as_slice()),
        (200, first),
        "website endpoint: {}",
        String::from_utf8_lossy(&body)
    );
    // The other spelling of the same site: <bucket><root_domain>.
    let (status, body) = http_get_host(
        web,
        &format!("{BUCKET}{WEB_ROOT_DOMAIN}"),
        "/tile/0/000.p/1",
    )
    .expect("website GET");
    assert_eq!((status, body.as_slice()), (200, first));
    // A Host naming no bucket finds nothing.
    let (status, _) = http_get_host(web, "nobucket", "/tile/0/000.p/1").expect("website GET");
    assert_eq!(status, 404);

    // 4.
    let killed = Instant::now();
    cluster.kill_node(1).expect("node 1 killed and seen down");
    eprintln!(
        "Garage nodes 0 and 2 saw node 1 down in {:?}",
        killed.elapsed()
    );
    let second: &[u8] = b"the checkpoint, written while node 1 is down";
    rt.block_on(b0.put("checkpoint", second.to_vec().into()))
        .expect("put through node 0 with node 1 down");
    let got = rt
        .block_on(b2.get("checkpoint", MAX))
        .expect("get through node 2 with node 1 down")
        .expect("the object exists");
    assert_eq!(&got.bytes[..], second);
    assert!(
        rt.block_on(b1.get("checkpoint", MAX)).is_err(),
        "node 1's S3 API answered while node 1 was killed"
    );

    // 5.
    let restarted = Instant::now();
    cluster.start_node(1).expect("node 1 restarts");
    eprintln!("Garage node 1 rejoined in {:?}", restarted.elapsed());
    let got = rt
        .block_on(bucket(1).get("checkpoint", MAX))
        .expect("get through node 1 after its restart")
        .expect("the object written while node 1 was down");
    assert_eq!(&got.bytes[..], second);
    let got = rt
        .block_on(b1.get("tile/0/000.p/1", MAX))
        .expect("get through node 1 after its restart")
        .expect("the object written before node 1 was killed");
    assert_eq!(&got.bytes[..], first);
}
