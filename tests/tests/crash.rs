//! Crash safety: `kill -9` the log under concurrent load, many times.
//!
//! Each of 20 rounds starts the real server on the same data directory,
//! runs 64 concurrent gRPC clients submitting distinct signed attestations,
//! and SIGKILLs the server after a pseudo-random 100–500 ms. After every
//! restart (which itself recomputes the root from all stored entries and
//! refuses to start on a mismatch) the test checks, against what it
//! recorded itself:
//! - every acknowledged index returns the identical entry bytes;
//! - the checkpoint size never decreased, and is at least every size a
//!   client was ever acknowledged under;
//! - every checkpoint seen is consistent with the new one (proof checked
//!   here) and signed by the log key.
//!
//! Submissions that failed mid-crash are resubmitted in the next round;
//! if they had been logged, deduplication answers with their first index.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::VerifierKey;
use attestlog_core::proof::verify_consistency;
use attestlog_core::Hash;
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::*;
use attestlog_proto::v1 as pb;
use attestlog_proto::v1::log_client::LogClient;

const ORIGIN: &str = "crash.test/log";
const ROUNDS: u64 = 20;
const CLIENTS: usize = 64;
const PER_CLIENT: usize = 60;

#[derive(Default)]
struct Record {
    /// Acknowledged index → entry bytes.
    acked: BTreeMap<u64, Vec<u8>>,
    /// Largest checkpoint size any answer carried.
    max_acked_size: u64,
    /// Statement numbers acknowledged.
    done: Vec<bool>,
}

fn hash(b: &[u8]) -> Hash {
    Hash::from_slice(b).expect("32 bytes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let verifier = VerifierKey::parse(&log_keygen(dir.path(), ORIGIN)?)?;
    let mut m = Maintainer::new("crash <crash@example.org>");
    let total = CLIENTS * PER_CLIENT;
    let signed: Arc<Vec<pb::SubmitRequest>> = Arc::new(
        (0..total)
            .map(|i| {
                let st = statement(&format!("crash-{i}"), &format!("{:064x}", i + 1));
                pb::SubmitRequest {
                    signature: m.sign(&st),
                    payload: st,
                    certificate: m.cert.clone(),
                    ..Default::default()
                }
            })
            .collect(),
    );
    let record = Arc::new(Mutex::new(Record {
        done: vec![false; total],
        ..Record::default()
    }));
    let mut seen: Vec<Checkpoint> = Vec::new();
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut last_size = 0;

    for round in 0..ROUNDS {
        let server = LogServer::start(dir.path(), ORIGIN, &["--batch-max-wait-ms", "2"])?;
        let mut client = LogClient::connect(server.endpoint()).await?;
        check_after_restart(&mut client, &verifier, &record, &mut seen, &mut last_size).await?;

        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (signed, record, endpoint) = (signed.clone(), record.clone(), server.endpoint());
            tasks.push(tokio::spawn(async move {
                let Ok(mut client) = LogClient::connect(endpoint).await else {
                    return;
                };
                for i in (c * PER_CLIENT)..((c + 1) * PER_CLIENT) {
                    if record.lock().unwrap().done[i] {
                        continue;
                    }
                    let Ok(r) = client.submit(signed[i].clone()).await else {
                        return; // the server died: resubmit next round
                    };
                    let r = r.into_inner();
                    let size = r.checkpoint.as_ref().map_or(0, |c| c.size);
                    let mut rec = record.lock().unwrap();
                    if let Some(prev) = rec.acked.insert(r.index, r.entry.clone()) {
                        assert_eq!(
                            prev, r.entry,
                            "index {} acknowledged with two entries",
                            r.index
                        );
                    }
                    rec.max_acked_size = rec.max_acked_size.max(size);
                    rec.done[i] = true;
                }
            }));
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = 100 + rng % 400;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if round + 1 < ROUNDS {
            server.kill();
        } else {
            // Last round: let everything finish, then stop cleanly.
            for t in tasks.drain(..) {
                t.await?;
            }
            assert!(server.stop()?.success());
        }
        for t in tasks {
            t.await?;
        }
    }
    // A final restart: everything acknowledged is there.
    let server = LogServer::start(dir.path(), ORIGIN, &[])?;
    let mut client = LogClient::connect(server.endpoint()).await?;
    check_after_restart(&mut client, &verifier, &record, &mut seen, &mut last_size).await?;
    let rec = record.lock().unwrap();
    assert!(
        rec.done.iter().all(|d| *d),
        "every statement was eventually acknowledged"
    );
    assert_eq!(last_size, total as u64, "no entry logged twice");
    Ok(())
}

async fn check_after_restart(
    client: &mut LogClient<tonic::transport::Channel>,
    verifier: &VerifierKey,
    record: &Mutex<Record>,
    seen: &mut Vec<Checkpoint>,
    last_size: &mut u64,
) -> anyhow::Result<()> {
    let note = client
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await?
        .into_inner()
        .note;
    let (cp, _) = Checkpoint::open(&note, ORIGIN, verifier)?;
    let (acked, max_acked) = {
        let r = record.lock().unwrap();
        (r.acked.clone(), r.max_acked_size)
    };
    assert!(
        cp.size >= *last_size,
        "checkpoint went back from {} to {}",
        last_size,
        cp.size
    );
    assert!(
        cp.size >= max_acked,
        "an acknowledged size {max_acked} is beyond the restored tree {}",
        cp.size
    );
    *last_size = cp.size;
    // Every acknowledged entry, byte for byte.
    let mut stored: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut start = 0;
    while start < cp.size {
        let end = (start + 1024).min(cp.size);
        let mut stream = client
            .get_entries(pb::GetEntriesRequest { start, end })
            .await?
            .into_inner();
        while let Some(e) = stream.message().await? {
            stored.insert(e.index, e.data);
        }
        start = end;
    }
    for (i, bytes) in &acked {
        assert_eq!(
            stored.get(i),
            Some(bytes),
            "acknowledged entry {i} changed or vanished"
        );
    }
    // Consistent with every checkpoint seen before.
    for old in seen.iter() {
        let p = client
            .get_consistency_proof(pb::GetConsistencyProofRequest {
                old_size: old.size,
                new_size: Some(cp.size),
            })
            .await?
            .into_inner();
        let hashes: Vec<Hash> = p.hashes.iter().map(|h| hash(h)).collect();
        verify_consistency(old.size, cp.size, &old.root, &cp.root, &hashes)?;
    }
    seen.push(cp);
    Ok(())
}
