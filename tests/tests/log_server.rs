//! The log server end to end, through its real binary on 127.0.0.1.
//!
//! `submit_prove_read_tiles_restart`, in steps:
//! 1. generate a log key with `attestlog-server keygen`, start the server;
//! 2. submit statements signed by real GnuPG (Ed25519 and RSA), detached;
//! 3. check each answer: the checkpoint note verifies with the printed
//!    verifier key, the inclusion proof leads to its root;
//! 4. resubmit one: same index, `duplicate`;
//! 5. read `/checkpoint` and the tiles over HTTP, rebuild the root from the
//!    tiles alone, and check inclusion proofs built from tiles;
//! 6. stop with SIGTERM, restart on the same data: same checkpoint, and
//!    appending continues.

use std::collections::HashMap;

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::VerifierKey;
use attestlog_core::proof::{verify_consistency, verify_inclusion};
use attestlog_core::tile::{Tile, TileHashReader, TileSource};
use attestlog_core::tree::tree_root;
use attestlog_core::{leaf_hash, Hash};
use attestlog_e2e::*;
use attestlog_proto::v1 as pb;
use attestlog_proto::v1::log_client::LogClient;
use tonic::Code;

const ORIGIN: &str = "e2e.test/log";

/// The log's tiles over HTTP, read strictly: unlike
/// `attestlog_http::tiles`, no fallback from a partial tile to its full
/// tile, since this test checks that the server serves every tile itself.
struct StrictTiles(std::net::SocketAddr);

impl TileSource for StrictTiles {
    type Error = String;
    fn read_tile(&self, tile: &Tile) -> Result<Vec<u8>, String> {
        let (status, body) =
            http_get(self.0, &format!("/{}", tile.path())).map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("GET {} gave {status}", tile.path()));
        }
        Ok(body)
    }
}

fn b64(b: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b)
}

fn hash(b: &[u8]) -> Hash {
    Hash::from_slice(b).expect("32-byte hash")
}

fn check_answer(r: &pb::SubmitResponse, verifier: &VerifierKey) -> Checkpoint {
    let cp = r.checkpoint.as_ref().expect("checkpoint");
    let (checkpoint, _) =
        Checkpoint::open(&cp.note, ORIGIN, verifier).expect("checkpoint verifies");
    assert_eq!(checkpoint.size, cp.size);
    assert_eq!(leaf_hash(&r.entry), hash(&r.leaf_hash));
    let proof: Vec<Hash> = r.inclusion_proof.iter().map(|h| hash(h)).collect();
    verify_inclusion(
        &hash(&r.leaf_hash),
        r.index,
        checkpoint.size,
        &proof,
        &checkpoint.root,
    )
    .expect("inclusion proof verifies");
    checkpoint
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_prove_read_tiles_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let vkey = log_keygen(dir.path(), ORIGIN)?;
    let verifier = VerifierKey::parse(&vkey)?;
    let server = LogServer::start(dir.path(), ORIGIN, &["--batch-max-wait-ms", "5"])?;
    let mut client = LogClient::connect(server.endpoint()).await?;

    // An empty log has a signed size-0 checkpoint.
    let empty = client
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await?
        .into_inner();
    let (cp0, _) = Checkpoint::open(&empty.note, ORIGIN, &verifier)?;
    assert_eq!((cp0.size, cp0.root), (0, Hash::EMPTY_ROOT));

    let ed = Gpg::new("ed25519", "ed@e2e.test")?;
    let rsa = Gpg::new("rsa3072", "rsa@e2e.test")?;
    let mut answers = Vec::new();
    let mut submitted = Vec::new();
    for i in 0..300u32 {
        let signer = if i % 50 == 7 { &rsa } else { &ed };
        let digest = format!("{:064x}", i);
        let st = statement(&format!("pkg-{i}.tar.gz"), &digest);
        let sig = signer.detach_sign(&st)?;
        let cert = signer.export()?;
        submitted.push((st.clone(), sig.clone(), cert.clone()));
        if i >= 8 {
            // Sign ahead, submit the rest concurrently below.
            continue;
        }
        let r = client
            .submit(pb::SubmitRequest {
                payload: st,
                signature: sig,
                certificate: cert,
                ..Default::default()
            })
            .await?
            .into_inner();
        check_answer(&r, &verifier);
        assert_eq!(r.index, u64::from(i));
        assert!(!r.duplicate);
        answers.push(r);
    }
    // The rest from 16 concurrent clients.
    let mut tasks = Vec::new();
    for chunk in submitted[8..].chunks(19) {
        let chunk = chunk.to_vec();
        let endpoint = server.endpoint();
        tasks.push(tokio::spawn(async move {
            let mut c = LogClient::connect(endpoint).await?;
            let mut out = Vec::new();
            for (st, sig, cert) in chunk {
                out.push(
                    c.submit(pb::SubmitRequest {
                        payload: st,
                        signature: sig,
                        certificate: cert,
                        ..Default::default()
                    })
                    .await?
                    .into_inner(),
                );
            }
            anyhow::Ok(out)
        }));
    }
    for t in tasks {
        answers.extend(t.await??);
    }
    let mut indexes: Vec<u64> = answers.iter().map(|r| r.index).collect();
    indexes.sort_unstable();
    assert_eq!(
        indexes,
        (0..300).collect::<Vec<u64>>(),
        "every entry got its own index"
    );
    for r in &answers {
        check_answer(r, &verifier);
    }

    // Resubmitting returns the first index and the first entry.
    let (st, sig, cert) = submitted[3].clone();
    let again = client
        .submit(pb::SubmitRequest {
            payload: st,
            signature: sig,
            certificate: cert,
            ..Default::default()
        })
        .await?
        .into_inner();
    check_answer(&again, &verifier);
    assert!(again.duplicate);
    assert_eq!(again.index, 3);
    assert_eq!(again.entry, answers[3].entry);

    // The checkpoint over HTTP is the one gRPC gives, and the tiles
    // rebuild its root.
    let latest = client
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await?
        .into_inner();
    let (status, note) = http_get(server.http, "/checkpoint")?;
    assert_eq!(status, 200);
    assert_eq!(note, latest.note);
    let (cp, _) = Checkpoint::open(&note, ORIGIN, &verifier)?;
    assert_eq!(cp.size, 300);
    let tiles = TileHashReader::new(StrictTiles(server.http), cp.size);
    assert_eq!(
        tree_root(&tiles, cp.size).map_err(|e| anyhow::anyhow!("{e}"))?,
        cp.root
    );
    let by_index: HashMap<u64, &pb::SubmitResponse> =
        answers.iter().map(|r| (r.index, r)).collect();
    for i in [0u64, 1, 255, 256, 299] {
        let proof = attestlog_core::proof::prove_inclusion(&tiles, i, cp.size)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        verify_inclusion(
            &leaf_hash(&by_index[&i].entry),
            i,
            cp.size,
            &proof,
            &cp.root,
        )?;
    }
    // The entry bundles hold the entries, byte for byte.
    let (status, bundle) = http_get(server.http, "/tile/entries/000")?;
    assert_eq!(status, 200);
    let entries = attestlog_core::tile::parse_entry_bundle(&bundle, 256)?;
    assert_eq!(entries[42], by_index[&42].entry.as_slice());
    let (status, _) = http_get(server.http, "/tile/entries/001")?;
    assert_eq!(
        status, 404,
        "a full second bundle does not exist at size 300"
    );
    let (status, partial) = http_get(server.http, "/tile/entries/001.p/44")?;
    assert_eq!(status, 200);
    assert_eq!(
        attestlog_core::tile::parse_entry_bundle(&partial, 44)?.len(),
        44
    );
    let (status, _) = http_get(server.http, "/tile/0/x001/000")?;
    assert_eq!(status, 404);
    let (status, health) = http_get(server.http, "/healthz")?;
    assert_eq!((status, health.as_slice()), (200, &b"ok\n"[..]));
    let (status, metrics) = http_get(server.http, "/metrics")?;
    assert_eq!(status, 200);
    let metrics = String::from_utf8(metrics)?;
    assert!(metrics.contains("attestlog_tree_size 300"), "{metrics}");

    // Proofs through gRPC: consistency from the first checkpoint.
    let first = Checkpoint::open(
        &answers[0].checkpoint.as_ref().unwrap().note,
        ORIGIN,
        &verifier,
    )?
    .0;
    let cons = client
        .get_consistency_proof(pb::GetConsistencyProofRequest {
            old_size: first.size,
            new_size: None,
        })
        .await?
        .into_inner();
    let hashes: Vec<Hash> = cons.hashes.iter().map(|h| hash(h)).collect();
    verify_consistency(first.size, cp.size, &first.root, &cp.root, &hashes)?;

    // An independent verifier agrees: Go's x/mod note and tlog check every
    // checkpoint signature and every proof the log handed out.
    let mut notes: Vec<Vec<u8>> = Vec::new();
    let mut inclusion = Vec::new();
    for r in &answers {
        let note = &r.checkpoint.as_ref().expect("checkpoint").note;
        let at = match notes.iter().position(|n| n == note) {
            Some(at) => at,
            None => {
                notes.push(note.clone());
                notes.len() - 1
            }
        };
        inclusion.push(serde_json::json!({
            "checkpoint": at,
            "index": r.index,
            "entry": b64(&r.entry),
            "proof": r.inclusion_proof.iter().map(|h| b64(h)).collect::<Vec<_>>(),
        }));
    }
    notes.push(latest.note.clone());
    let mut vectors = serde_json::json!({
        "verifier_key": vkey,
        "origin": ORIGIN,
        "checkpoints": notes.iter().map(|n| String::from_utf8_lossy(n).into_owned()).collect::<Vec<_>>(),
        "inclusion": inclusion,
        "consistency": [{
            "old": 0,
            "new": notes.len() - 1,
            "proof": cons.hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
        }],
    });
    let path = dir.path().join("vectors.json");
    std::fs::write(&path, serde_json::to_vec(&vectors)?)?;
    let out = go_logcheck(&path)?;
    assert!(out.starts_with("ok "), "{out}");
    assert!(out.contains("inclusion=300 consistency=1"), "{out}");
    // And it is able to fail: one flipped proof byte is caught.
    let proof0 = vectors["inclusion"][5]["proof"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let flipped = if proof0.starts_with('A') {
        proof0.replacen('A', "B", 1)
    } else {
        format!("A{}", &proof0[1..])
    };
    vectors["inclusion"][5]["proof"][0] = serde_json::Value::String(flipped);
    std::fs::write(&path, serde_json::to_vec(&vectors)?)?;
    let err = go_logcheck(&path).expect_err("Go rejects a tampered proof");
    assert!(err.to_string().contains("inclusion"), "{err}");

    // Search by digest and by subject name.
    let d = format!("{:064x}", 77);
    let mut digest = [0u8; 32];
    for (i, b) in digest.iter_mut().enumerate() {
        *b = u8::from_str_radix(&d[2 * i..2 * i + 2], 16)?;
    }
    let found = client
        .search(pb::SearchRequest {
            key: Some(pb::search_request::Key::Sha256(digest.to_vec())),
            from_index: 0,
            limit: 10,
            signed_by: Vec::new(),
        })
        .await?
        .into_inner();
    assert_eq!(found.indexes.len(), 1);
    let idx = found.indexes[0];
    assert!(by_index[&idx]
        .entry
        .windows(d.len())
        .any(|w| w == d.as_bytes()));

    // Stop cleanly, restart on the same data: the same checkpoint.
    let status = server.stop()?;
    assert!(status.success(), "clean exit on SIGTERM: {status}");
    let server = LogServer::start(dir.path(), ORIGIN, &[])?;
    let mut client = LogClient::connect(server.endpoint()).await?;
    let after = client
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await?
        .into_inner();
    assert_eq!(after.note, latest.note);
    let st = statement("after-restart", &format!("{:064x}", 999_999));
    let r = client
        .submit(pb::SubmitRequest {
            payload: st.clone(),
            signature: ed.detach_sign(&st)?,
            certificate: ed.export()?,
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(r.index, 300);
    check_answer(&r, &verifier);
    Ok(())
}

/// Bad input through the real gRPC port: each gets its own code, and the
/// log keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_specific_codes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    log_keygen(dir.path(), ORIGIN)?;
    let server = LogServer::start(dir.path(), ORIGIN, &["--batch-max-wait-ms", "1"])?;
    let mut client = LogClient::connect(server.endpoint()).await?;
    let ed = Gpg::new("ed25519", "bad@e2e.test")?;
    let st = statement("one", &format!("{:064x}", 1));
    let good = pb::SubmitRequest {
        payload: st.clone(),
        signature: ed.detach_sign(&st)?,
        certificate: ed.export()?,
        ..Default::default()
    };
    client.submit(good.clone()).await?;

    fn code<T: std::fmt::Debug>(r: Result<tonic::Response<T>, tonic::Status>) -> (Code, String) {
        match r {
            Ok(ok) => panic!("expected an error, got {ok:?}"),
            Err(s) => (s.code(), s.message().to_owned()),
        }
    }
    // Garbage signature bytes.
    let mut bad = good.clone();
    bad.signature = b"not a signature".to_vec();
    assert_eq!(code(client.submit(bad).await).0, Code::InvalidArgument);
    // A tampered statement: the signature no longer matches.
    let mut bad = good.clone();
    bad.payload = statement("one", &format!("{:064x}", 2));
    let (c, msg) = code(client.submit(bad).await);
    assert_eq!(c, Code::InvalidArgument, "{msg}");
    // Not a statement at all.
    let junk = b"hello".to_vec();
    let bad = pb::SubmitRequest {
        payload: junk.clone(),
        signature: ed.detach_sign(&junk)?,
        certificate: ed.export()?,
        ..Default::default()
    };
    assert_eq!(code(client.submit(bad).await).0, Code::InvalidArgument);
    // Empty payload.
    assert_eq!(
        code(client.submit(pb::SubmitRequest::default()).await).0,
        Code::InvalidArgument
    );
    // Over the request size limit: refused by the transport.
    let huge = pb::SubmitRequest {
        payload: vec![b'x'; 1 << 20],
        ..good.clone()
    };
    let (c, _) = code(client.submit(huge).await);
    assert!(
        matches!(c, Code::ResourceExhausted | Code::OutOfRange),
        "{c:?}"
    );
    // Proof requests out of range.
    let r = client
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            leaf: Some(pb::get_inclusion_proof_request::Leaf::Index(1)),
            tree_size: None,
        })
        .await;
    assert_eq!(code(r).0, Code::OutOfRange, "index >= size");
    let r = client
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            leaf: Some(pb::get_inclusion_proof_request::Leaf::Index(0)),
            tree_size: Some(0),
        })
        .await;
    assert_eq!(code(r).0, Code::OutOfRange, "size 0");
    let r = client
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            leaf: Some(pb::get_inclusion_proof_request::Leaf::Index(0)),
            tree_size: Some(1 << 63 | 1),
        })
        .await;
    assert_eq!(code(r).0, Code::InvalidArgument, "above 2^63");
    let r = client
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            leaf: Some(pb::get_inclusion_proof_request::Leaf::LeafHash(vec![7; 32])),
            tree_size: None,
        })
        .await;
    assert_eq!(code(r).0, Code::NotFound, "unknown leaf hash");
    let r = client
        .get_consistency_proof(pb::GetConsistencyProofRequest {
            old_size: 2,
            new_size: Some(1),
        })
        .await;
    assert_eq!(code(r).0, Code::InvalidArgument, "old > new");
    let r = client
        .get_consistency_proof(pb::GetConsistencyProofRequest {
            old_size: 0,
            new_size: Some(5),
        })
        .await;
    assert_eq!(code(r).0, Code::OutOfRange, "beyond the tree");
    let r = client
        .get_certificate(pb::GetCertificateRequest {
            fingerprint: vec![1; 20],
        })
        .await;
    assert_eq!(code(r).0, Code::NotFound);

    // Still serving, nothing changed.
    let cp = client
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await?
        .into_inner();
    assert_eq!(cp.size, 1);
    Ok(())
}

/// Under the keyring policy a valid signature from a key outside the
/// keyring is PERMISSION_DENIED, and one inside is accepted without its
/// certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyring_policy() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    log_keygen(dir.path(), ORIGIN)?;
    let member = Gpg::new("ed25519", "member@e2e.test")?;
    let outsider = Gpg::new("ed25519", "outsider@e2e.test")?;
    let ring = dir.path().join("keyring");
    std::fs::create_dir(&ring)?;
    std::fs::write(ring.join("member.pgp"), member.export()?)?;
    let server = LogServer::start(
        dir.path(),
        ORIGIN,
        &[
            "--admission",
            "keyring",
            "--keyring",
            ring.to_str().unwrap(),
        ],
    )?;
    let mut client = LogClient::connect(server.endpoint()).await?;
    let st = statement("x", &format!("{:064x}", 5));
    let r = client
        .submit(pb::SubmitRequest {
            payload: st.clone(),
            signature: member.detach_sign(&st)?,
            certificate: vec![],
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(r.index, 0);
    let denied = client
        .submit(pb::SubmitRequest {
            payload: st.clone(),
            signature: outsider.detach_sign(&st)?,
            certificate: outsider.export()?,
            ..Default::default()
        })
        .await
        .expect_err("outsider refused");
    assert_eq!(
        denied.code(),
        Code::PermissionDenied,
        "{}",
        denied.message()
    );
    Ok(())
}
