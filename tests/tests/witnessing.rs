//! The log getting its checkpoints cosigned by real `attestlog-witness`
//! processes, with a policy of 2 of 5 where three witnesses misbehave: one
//! is down (closed port), one answers garbage, one hangs past the timeout.
//!
//! 1. start two witnesses (they know the log's key), write a C2SP
//!    tlog-policy naming all five, start the log with it;
//! 2. `Submit` with `wait_for_witnesses`: the answer's checkpoint meets the
//!    quorum under `Policy::verify_checkpoint`, and the proof is against it;
//! 3. `/checkpoint` and `GetCheckpoint` serve the cosigned note;
//! 4. more entries: the witnessed checkpoint moves on; the bad witnesses
//!    are counted as failures in `/metrics`, and never stall submissions.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use attestlog_core::note::{KeyType, SignerKey};
use attestlog_core::policy::Policy;
use attestlog_core::proof::verify_inclusion;
use attestlog_core::{leaf_hash, Hash};
use attestlog_e2e::signing::Maintainer;
use attestlog_e2e::*;
use attestlog_proto::v1 as pb;
use attestlog_proto::v1::log_client::LogClient;

const ORIGIN: &str = "witnessed.test/log";

struct Witness {
    child: Child,
    url: String,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_witness(
    dir: &Path,
    name: &str,
    seed: u8,
    log_vkey: &str,
) -> anyhow::Result<(Witness, SignerKey)> {
    std::fs::create_dir_all(dir)?;
    let key = SignerKey::from_seed(name, KeyType::Cosignature, [seed; 32])?;
    std::fs::write(dir.join("key"), format!("{}\n", key.to_key_string()))?;
    let cfg = format!(
        "name = \"{name}\"\nkey_file = \"{}\"\ndata_dir = \"{}\"\nlisten = \"127.0.0.1:0\"\n\n[gossip]\npeers = []\n\n[[log]]\norigin = \"{ORIGIN}\"\nkey = \"{log_vkey}\"\n",
        dir.join("key").display(),
        dir.join("state").display(),
    );
    std::fs::write(dir.join("witness.toml"), cfg)?;
    let ready = dir.join("ready");
    let child = Command::new(bin("attestlog-witness"))
        .args(["serve", "--config"])
        .arg(dir.join("witness.toml"))
        .arg("--ready-file")
        .arg(&ready)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("witness.log"))?)
        .spawn()?;
    let mut w = Witness {
        child,
        url: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(t) = std::fs::read_to_string(&ready) {
            if let Some(a) = t.trim().strip_prefix("http=") {
                w.url = format!("http://{a}");
                return Ok((w, key));
            }
        }
        anyhow::ensure!(Instant::now() < deadline, "witness did not start");
        anyhow::ensure!(w.child.try_wait()?.is_none(), "witness exited");
        std::thread::sleep(Duration::from_millis(20));
    }
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
        k1.verifier().to_key_string(), w1.url,
        k2.verifier().to_key_string(), w2.url,
        k3.verifier().to_key_string(),
        k4.verifier().to_key_string(),
        k5.verifier().to_key_string(),
    );
    let policy_path = dir.path().join("witnesses.policy");
    std::fs::write(&policy_path, &policy_text)?;
    let policy = Policy::parse(&policy_text)?;
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
        assert!(who.contains("W1") && who.contains("W2"), "{who:?}");
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
