//! The whole online decision of `attestlog verify`, and `attestlog
//! bundle`, called as an embedder calls them
//! ([`attestlog_client::artifact`]), against the real `attestlog-server`
//! on 127.0.0.1 (started by the e2e harness), with no CLI.
//!
//! 1. start a log whose policy needs no witness; trusted maintainers A, B
//!    and C, untrusted U;
//! 2. A, B and U attest digest D of `hello.tar.gz`; C attests another
//!    digest for the same name;
//! 3. `verify_online` with threshold 2 passes naming A and B, reports C's
//!    disagreement, fetches only the two trusted entries (the progress
//!    callback sees a total of 2), and stores the checkpoint in a state
//!    directory; threshold 3 fails;
//! 4. `fetch_bundle` with the keyring gives a bundle of those two entries,
//!    and `verify_offline` of it reaches the online verdict's attestations.
//!
//! What it pins: the decision the CLI makes (covered through the binary by
//! `cli_e2e.rs`) is callable whole from the library, online as offline.

use attestlog_client::artifact::{
    fetch_bundle, verify_offline, verify_online, ArtifactCheck, OnlineSources,
};
use attestlog_client::grpc::LogClient;
use attestlog_client::quorum::{load_keyring, Maintainers};
use attestlog_client::tlog_policy::TlogPolicy;
use attestlog_e2e::load::{signed_request, start_bulk_log, submit_all};
use attestlog_e2e::signing::Maintainer;

/// Digest D, as [`signed_request`] makes it from a seed.
const D_SEED: u64 = 0xd1;

fn digest(seed: u64) -> [u8; 32] {
    let mut d = [0; 32];
    d[24..].copy_from_slice(&seed.to_be_bytes());
    d
}

#[test]
fn the_verify_decision_online_and_from_a_fetched_bundle() -> anyhow::Result<()> {
    // 1.
    let tmp = tempfile::tempdir()?;
    let (server, policy_file) = start_bulk_log(tmp.path(), "artifact.online.test/log")?;
    let policy = TlogPolicy::parse(&std::fs::read(&policy_file)?)?;
    let mut a = Maintainer::new("A <a@example.org>");
    let mut b = Maintainer::new("B <b@example.org>");
    let mut c = Maintainer::new("C <c@example.org>");
    let mut u = Maintainer::new("U <u@example.org>");
    let keyring = tmp.path().join("maintainers");
    std::fs::create_dir(&keyring)?;
    for (name, m) in [("a.pgp", &a), ("b.pgp", &b), ("c.pgp", &c)] {
        std::fs::write(keyring.join(name), &m.cert)?;
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        // 2. One at a time: each answer comes once its entry is logged.
        let requests = vec![
            signed_request(&mut a, "hello.tar.gz", D_SEED),
            signed_request(&mut u, "hello.tar.gz", D_SEED),
            signed_request(&mut c, "hello.tar.gz", D_SEED + 1),
            signed_request(&mut b, "hello.tar.gz", D_SEED),
            // An unrelated entry, so that the tree is not just these.
            signed_request(&mut u, "unrelated.tar.gz", 7),
        ];
        submit_all(server.endpoint(), requests, 1, 1, None).await?;

        // 3.
        let mut client = LogClient::connect(&server.endpoint()).await?;
        let state = tmp.path().join("state");
        let sources = OnlineSources {
            state_dir: Some(&state),
            ..OnlineSources::default()
        };
        let two = Maintainers::load(&keyring, 2)?;
        let check = ArtifactCheck {
            digest: digest(D_SEED),
            policy: &policy,
            maintainers: &two,
        };
        let mut seen = Vec::new();
        let report = verify_online(&mut client, &check, &sources, |done, total| {
            seen.push((done, total))
        })
        .await?;
        anyhow::ensure!(report.passed, "{report}");
        let names: Vec<&str> = report
            .attestations
            .iter()
            .map(|a| a.maintainer.as_str())
            .collect();
        anyhow::ensure!(
            names == ["A <a@example.org>", "B <b@example.org>"],
            "{report}"
        );
        anyhow::ensure!(report.rejected.is_empty(), "U is never fetched: {report}");
        anyhow::ensure!(seen == [(1, 2), (2, 2)], "progress {seen:?}");
        anyhow::ensure!(report.conflicts.len() == 1, "{report}");
        anyhow::ensure!(report.conflicts[0].signer.starts_with("C <c@example.org>"));
        anyhow::ensure!(
            std::fs::read_dir(&state)?.next().is_some(),
            "the checkpoint is stored"
        );

        let three = Maintainers::load(&keyring, 3)?;
        let failed = verify_online(
            &mut client,
            &ArtifactCheck {
                maintainers: &three,
                ..check
            },
            &sources,
            |_, _| {},
        )
        .await?;
        anyhow::ensure!(!failed.passed, "{failed}");

        // 4.
        let trusted = load_keyring(&keyring)?;
        let (bundle, cp) = fetch_bundle(
            &mut client,
            &digest(D_SEED),
            &policy,
            &OnlineSources::default(),
            Some(&trusted),
            |_, _| {},
        )
        .await?;
        anyhow::ensure!(cp.checkpoint.size == 5, "size {}", cp.checkpoint.size);
        anyhow::ensure!(bundle.entries.len() == 2);
        let offline = verify_offline(&check, &bundle)?;
        anyhow::ensure!(offline.passed, "{offline}");
        anyhow::ensure!(offline.attestations == report.attestations, "{offline}");
        anyhow::Ok(())
    })?;
    server.stop()?;
    Ok(())
}
