//! The log getting its checkpoints cosigned by real `attestlog-witness`
//! processes, with a policy of 2 of 5 where three witnesses misbehave: one
//! is down (closed port), one answers garbage, one hangs past the timeout.
//!
//! 1. start two witnesses (they know the log's key), write a C2SP
//!    tlog-policy naming all five, start the log with it;
//! 2. `Submit` with `wait_for_witnesses`: the answer's checkpoint meets the
//!    quorum under `TlogPolicy::verify_checkpoint`, and the proof is against it;
//! 3. `/checkpoint` and `GetCheckpoint` serve the cosigned note;
//! 4. more entries: the witnessed checkpoint moves on; the bad witnesses
//!    are counted as failures in `/metrics`, and never stall submissions.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use attestlog_core::note::{KeyType, SignerKey};
use attestlog_core::proof::verify_inclusion;
use attestlog_core::tlog_policy::TlogPolicy;
use attestlog_core::{leaf_hash, Hash};
use attestlog_e2e::cli::{attestlog, p};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::witness::{Witness, WitnessConfig, WitnessedLog};
use attestlog_e2e::*;
use attestlog_proto::v1 as pb;
use attestlog_proto::v1::log_client::LogClient;
use sha2::Digest as _;

const ORIGIN: &str = "witnessed.test/log";

fn start_witness(
    dir: &Path,
    name: &str,
    seed: u8,
    log_vkey: &str,
) -> anyhow::Result<(Witness, SignerKey)> {
    start_witness_with(dir, name, seed, log_vkey, "127.0.0.1:0", &[], None)
}

/// Starts a witness of the log listening on `listen`, gossiping with
/// `peers`, reading the log's tiles from `tiles_url`.
fn start_witness_with(
    dir: &Path,
    name: &str,
    seed: u8,
    log_vkey: &str,
    listen: &str,
    peers: &[String],
    tiles_url: Option<&str>,
) -> anyhow::Result<(Witness, SignerKey)> {
    let key = SignerKey::from_seed(name, KeyType::Cosignature, [seed; 32])?;
    let mut config = WitnessConfig::new(key.clone());
    config.listen = listen.to_owned();
    config.peers = peers.to_vec();
    config.logs = vec![WitnessedLog {
        origin: ORIGIN.to_owned(),
        key: log_vkey.to_owned(),
        tiles_url: tiles_url.map(str::to_owned),
    }];
    Ok((Witness::start(dir, &config)?, key))
}

/// A fake witness: answers every request with `reply` after `delay`.
fn fake_witness(reply: &'static [u8], delay: Duration) -> anyhow::Result<String> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", l.local_addr()?);
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                let _ = s.read(&mut buf);
                std::thread::sleep(delay);
                let _ = s.write_all(reply);
            });
        }
    });
    Ok(url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosigned_checkpoints_despite_bad_witnesses() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let log_vkey = log_keygen(dir.path(), ORIGIN)?;
    let (w1, k1) = start_witness(&dir.path().join("w1"), "w1.test", 11, &log_vkey)?;
    let (w2, k2) = start_witness(&dir.path().join("w2"), "w2.test", 12, &log_vkey)?;
    let down = {
        let l = TcpListener::bind("127.0.0.1:0")?;
        format!("http://{}", l.local_addr()?)
    };
    let garbage = fake_witness(
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\ngarbage",
        Duration::ZERO,
    )?;
    let slow = fake_witness(
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        Duration::from_secs(5),
    )?;
    let k3 = SignerKey::from_seed("w3.test", KeyType::Cosignature, [13; 32])?;
    let k4 = SignerKey::from_seed("w4.test", KeyType::Cosignature, [14; 32])?;
    let k5 = SignerKey::from_seed("w5.test", KeyType::Cosignature, [15; 32])?;
    let policy_text = format!(
        "log {log_vkey}\nwitness W1 {} {}\nwitness W2 {} {}\nwitness W3 {} {down}\nwitness W4 {} {garbage}\nwitness W5 {} {slow}\ngroup all-witnesses 2 W1 W2 W3 W4 W5\nquorum all-witnesses\n",
        k1.verifier().to_key_string(), w1.url(),
        k2.verifier().to_key_string(), w2.url(),
        k3.verifier().to_key_string(),
        k4.verifier().to_key_string(),
        k5.verifier().to_key_string(),
    );
    let policy_path = dir.path().join("witnesses.policy");
    std::fs::write(&policy_path, &policy_text)?;
    let policy = TlogPolicy::parse(policy_text.as_bytes())?;
    let server = LogServer::start(
        dir.path(),
        ORIGIN,
        &[
            "--witness-policy",
            policy_path.to_str().unwrap_or_default(),
            "--batch-max-wait-ms",
            "5",
        ],
    )?;
    let mut client = LogClient::connect(server.endpoint()).await?;
    let mut m = Maintainer::new("m <m@example.org>");

    let mut submit = |i: u32, wait: bool| {
        let st = statement(&format!("w-{i}"), &format!("{:064x}", i + 1));
        pb::SubmitRequest {
            signature: m.sign(&st),
            payload: st,
            certificate: m.cert.clone(),
            wait_for_witnesses: wait,
        }
    };
    for round in 0..3u32 {
        // A few entries without waiting: answered at once, even though three
        // witnesses are broken.
        for i in 0..5 {
            let r = client
                .submit(submit(round * 10 + i, false))
                .await?
                .into_inner();
            assert!(r.checkpoint.is_some());
        }
        let r = client
            .submit(submit(round * 10 + 9, true))
            .await?
            .into_inner();
        let note = r.checkpoint.as_ref().expect("checkpoint").note.clone();
        let (cp, _, who) = policy.verify_checkpoint(&note)?;
        assert!(
            who.contains(&0) && who.contains(&1),
            "W1 and W2 cosigned: {who:?}"
        );
        assert!(cp.size > r.index);
        let proof: Vec<Hash> = r
            .inclusion_proof
            .iter()
            .filter_map(|h| Hash::from_slice(h))
            .collect();
        verify_inclusion(&leaf_hash(&r.entry), r.index, cp.size, &proof, &cp.root)?;
    }
    // The served checkpoint is cosigned.
    let (status, note) = http_get(server.http, "/checkpoint")?;
    assert_eq!(status, 200);
    policy.verify_checkpoint(&note)?;
    let got = client
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await?
        .into_inner();
    policy.verify_checkpoint(&got.note)?;
    // The broken witnesses were tried and counted as failures.
    let (_, metrics) = http_get(server.http, "/metrics")?;
    let metrics = String::from_utf8(metrics)?;
    for w in ["W3", "W4", "W5"] {
        assert!(
            metrics.contains(&format!("witness=\"{w}\",result=\"failed\"")),
            "no failure counted for {w}:\n{metrics}"
        );
    }
    assert!(
        metrics.contains("witness=\"W1\",result=\"cosigned\""),
        "{metrics}"
    );
    drop((w1, w2));
    Ok(())
}

/// Without a witness policy, asking to wait is a clear error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_needs_a_policy() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    log_keygen(dir.path(), ORIGIN)?;
    let server = LogServer::start(dir.path(), ORIGIN, &[])?;
    let mut client = LogClient::connect(server.endpoint()).await?;
    let mut m = Maintainer::new("m <m@example.org>");
    let st = statement("x", &format!("{:064x}", 1));
    let err = client
        .submit(pb::SubmitRequest {
            signature: m.sign(&st),
            payload: st,
            certificate: m.cert.clone(),
            wait_for_witnesses: true,
        })
        .await
        .expect_err("no policy");
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    Ok(())
}

/// A split view, end to end with real binaries: two log servers share a
/// prefix and the log key, then each logs different entries (same size,
/// different roots). Log A is witnessed by W1 only, log B by W2 only; the
/// witnesses gossip. Within 5 seconds both hold split-view evidence that
/// `attestlog verify-evidence` accepts, both refuse to cosign the log any
/// more, and a client requiring 2 of 3 witnesses gets a cosigned checkpoint
/// from neither branch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_view_between_two_logs_is_caught() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let a_dir = dir.path().join("a");
    let b_dir = dir.path().join("b");
    std::fs::create_dir_all(&a_dir)?;
    let log_vkey = log_keygen(&a_dir, ORIGIN)?;
    let mut m = Maintainer::new("m <m@example.org>");
    let mut req = |tag: &str, i: u32| {
        let st = statement(&format!("{tag}-{i}"), &format!("{:064x}", i + 1));
        pb::SubmitRequest {
            signature: m.sign(&st),
            payload: st,
            certificate: m.cert.clone(),
            ..Default::default()
        }
    };
    // 1. A shared prefix of 5 entries, then a copy of the whole directory.
    {
        let a = LogServer::start(&a_dir, ORIGIN, &["--batch-max-wait-ms", "1"])?;
        let mut c = LogClient::connect(a.endpoint()).await?;
        for i in 0..5 {
            c.submit(req("shared", i)).await?;
        }
        assert!(a.stop()?.success());
    }
    let status = Command::new("cp")
        .arg("-a")
        .arg(&a_dir)
        .arg(&b_dir)
        .status()?;
    anyhow::ensure!(status.success(), "cp -a failed");

    // 2. Two witnesses that gossip, each reading tiles from "its" log.
    let (p1, p2) = (free_port()?, free_port()?);
    let (a_http, b_http) = (free_port()?, free_port()?);
    let (w1, k1) = start_witness_with(
        &dir.path().join("w1"),
        "w1.test",
        21,
        &log_vkey,
        &format!("127.0.0.1:{p1}"),
        &[format!("http://127.0.0.1:{p2}")],
        Some(&format!("http://127.0.0.1:{a_http}")),
    )?;
    let (w2, k2) = start_witness_with(
        &dir.path().join("w2"),
        "w2.test",
        22,
        &log_vkey,
        &format!("127.0.0.1:{p2}"),
        &[format!("http://127.0.0.1:{p1}")],
        Some(&format!("http://127.0.0.1:{b_http}")),
    )?;
    let k3 = SignerKey::from_seed("w3.test", KeyType::Cosignature, [23; 32])?;
    let policy_for = |w: &Witness, k: &SignerKey, name: &str| {
        format!(
            "log {log_vkey}\nwitness {name} {} {}\nquorum {name}\n",
            k.verifier().to_key_string(),
            w.url()
        )
    };
    std::fs::write(dir.path().join("a.policy"), policy_for(&w1, &k1, "W1"))?;
    std::fs::write(dir.path().join("b.policy"), policy_for(&w2, &k2, "W2"))?;
    let client_policy = format!(
        "log {log_vkey}\nwitness W1 {}\nwitness W2 {}\nwitness W3 {}\ngroup g 2 W1 W2 W3\nquorum g\n",
        k1.verifier().to_key_string(), k2.verifier().to_key_string(), k3.verifier().to_key_string()
    );
    let client_policy_path = dir.path().join("client.policy");
    std::fs::write(&client_policy_path, &client_policy)?;
    let client_policy = TlogPolicy::parse(client_policy.as_bytes())?;

    // 3. Both logs run with the same key; each logs two different entries.
    let a = LogServer::start(
        &a_dir,
        ORIGIN,
        &[
            "--batch-max-wait-ms",
            "1",
            "--http-listen",
            &format!("127.0.0.1:{a_http}"),
            "--witness-policy",
            dir.path().join("a.policy").to_str().unwrap_or_default(),
        ],
    )?;
    let b = LogServer::start(
        &b_dir,
        ORIGIN,
        &[
            "--batch-max-wait-ms",
            "1",
            "--http-listen",
            &format!("127.0.0.1:{b_http}"),
            "--witness-policy",
            dir.path().join("b.policy").to_str().unwrap_or_default(),
        ],
    )?;
    let mut ca = LogClient::connect(a.endpoint()).await?;
    let mut cb = LogClient::connect(b.endpoint()).await?;
    for i in 0..2 {
        ca.submit(req("branch-a", i)).await?;
        cb.submit(req("branch-b", i)).await?;
    }
    let (na, nb) = (
        ca.get_checkpoint(pb::GetCheckpointRequest {})
            .await?
            .into_inner(),
        cb.get_checkpoint(pb::GetCheckpointRequest {})
            .await?
            .into_inner(),
    );
    assert_eq!((na.size, nb.size), (7, 7));
    assert_ne!(na.root, nb.root, "a split view: same size, different roots");

    // 4. Evidence on both witnesses within 5 seconds.
    let id: String = {
        use std::fmt::Write as _;
        let d = sha2::Sha256::digest(ORIGIN.as_bytes());
        let mut s = String::new();
        for b in d {
            let _ = write!(s, "{b:02x}");
        }
        s
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut evidence = Vec::new();
    for w in [&w1, &w2] {
        loop {
            let (status, body) = http_get(w.addr, &format!("/evidence/{id}"))?;
            if status == 200 {
                evidence.push(body);
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "no evidence on {} within 5 s",
                w.url()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // 5. The evidence proves misbehaviour to anyone with the log key.
    for (i, e) in evidence.iter().enumerate() {
        let path = dir.path().join(format!("evidence-{i}"));
        std::fs::write(&path, e)?;
        let out = attestlog(&["verify-evidence", p(&path), "--log-key", &log_vkey]);
        assert!(
            out.status.success(),
            "verify-evidence: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // 6. Neither branch gets a checkpoint that a 2-of-3 client accepts.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for c in [&mut ca, &mut cb] {
        c.submit(req("after", 9)).await.ok();
    }
    // Both witnesses now refuse the log's new checkpoints (an alarm on the
    // log side), so no branch ever collects a second cosignature.
    for (log, name) in [(&a, "W1"), (&b, "W2")] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, metrics) = http_get(log.http, "/metrics")?;
            if String::from_utf8_lossy(&metrics)
                .contains(&format!("witness=\"{name}\",result=\"refused\""))
            {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{name} did not refuse the log after the split view"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    for c in [&mut ca, &mut cb] {
        let note = c
            .get_checkpoint(pb::GetCheckpointRequest {})
            .await?
            .into_inner()
            .note;
        assert!(
            client_policy.verify_checkpoint(&note).is_err(),
            "a branch met the 2-of-3 quorum"
        );
    }
    drop((a, b, w1, w2));
    Ok(())
}

/// A log that restarts no longer knows what its witness cosigned, asks it
/// with `old 0`, and resumes from the real witness's 409 body (read with
/// `attestlog_core::witness_protocol::parse_conflict_size`, the grammar
/// the witness writes). Pins that the strict 409 reading accepts
/// `attestlog-witness`'s answer: were it refused, the restarted log would
/// never be cosigned and step 3's wait would end in an error.
///
/// 1. a witness W1 and a log whose policy requires W1; an entry is
///    cosigned (W1 now holds the log's size);
/// 2. the log stops and starts again on the same data;
/// 3. a new entry is cosigned by W1 again, and W1 has answered a 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_log_resumes_from_the_witness_409() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let log_vkey = log_keygen(dir.path(), ORIGIN)?;
    let (w1, k1) = start_witness(&dir.path().join("w1"), "w1.test", 31, &log_vkey)?;
    let policy_text = format!(
        "log {log_vkey}\nwitness W1 {} {}\nquorum W1\n",
        k1.verifier().to_key_string(),
        w1.url()
    );
    let policy_path = dir.path().join("w1.policy");
    std::fs::write(&policy_path, &policy_text)?;
    let policy = TlogPolicy::parse(policy_text.as_bytes())?;
    let flags = [
        "--witness-policy",
        policy_path.to_str().unwrap_or_default(),
        "--batch-max-wait-ms",
        "1",
    ];
    let mut m = Maintainer::new("m <m@example.org>");
    let mut submit = |i: u32| {
        let st = statement(&format!("restart-{i}"), &format!("{:064x}", i + 1));
        pb::SubmitRequest {
            signature: m.sign(&st),
            payload: st,
            certificate: m.cert.clone(),
            wait_for_witnesses: true,
        }
    };
    // 1.
    let log = LogServer::start(dir.path(), ORIGIN, &flags)?;
    let mut client = LogClient::connect(log.endpoint()).await?;
    let r = client.submit(submit(0)).await?.into_inner();
    policy.verify_checkpoint(&r.checkpoint.expect("checkpoint").note)?;
    // 2.
    anyhow::ensure!(log.stop()?.success(), "the log did not stop cleanly");
    let log = LogServer::start(dir.path(), ORIGIN, &flags)?;
    let mut client = LogClient::connect(log.endpoint()).await?;
    // 3.
    let r = client.submit(submit(1)).await?.into_inner();
    let (cp, _, who) = policy.verify_checkpoint(&r.checkpoint.expect("checkpoint").note)?;
    assert_eq!((cp.size, who), (2, vec![0]));
    let addr = w1.addr;
    let (_, metrics) = http_get(addr, "/metrics")?;
    let metrics = String::from_utf8(metrics)?;
    assert!(
        metrics.contains("endpoint=\"add-checkpoint\",status=\"409\""),
        "the witness answered no 409:\n{metrics}"
    );
    drop((log, w1));
    Ok(())
}
