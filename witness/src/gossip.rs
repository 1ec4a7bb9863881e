//! Gossip between witnesses (the protocol is in `docs/SPEC.md`, section 8).
//!
//! Every interval, the witness pushes to each peer, for each log: the
//! split-view evidence it holds (`POST /gossip/evidence`), or else its
//! latest cosigned checkpoint (`POST /gossip`). Receiving is in
//! [`crate::http`], judging in [`crate::witness::Witness::observe`].

use std::sync::Arc;
use std::time::Duration;

use hyper::Method;
use tokio::task::JoinSet;

use crate::client;
use crate::metrics::label;
use crate::state::log_id;
use crate::witness::Witness;

/// Path of the checkpoint gossip endpoint.
pub const GOSSIP_PATH: &str = "/gossip";
/// Path of the evidence gossip endpoint.
pub const EVIDENCE_PATH: &str = "/gossip/evidence";
/// The largest gossip response read.
const MAX_RESPONSE: usize = 64 * 1024;

/// What to send to every peer this round.
enum Message {
    Checkpoint(Vec<u8>),
    Evidence(Vec<u8>),
}

fn messages(witness: &Witness) -> Vec<(String, Message)> {
    let mut out = Vec::new();
    for log in witness.logs() {
        let id = log_id(&log.origin);
        match (witness.evidence(&id), witness.latest(&id)) {
            (Ok(Some(ev)), _) => out.push((log.origin.clone(), Message::Evidence(ev))),
            (Ok(None), Ok(Some(latest))) => {
                out.push((log.origin.clone(), Message::Checkpoint(latest.note)))
            }
            (Ok(None), Ok(None)) => {}
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(origin = %log.origin, error = %e, "reading state for gossip");
            }
        }
    }
    out
}

/// Pushes to `peers` every `interval` until the task is dropped.
pub async fn run(witness: Arc<Witness>, peers: Vec<String>, interval: Duration, timeout: Duration) {
    if peers.is_empty() {
        return;
    }
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let w = witness.clone();
        let msgs = match tokio::task::spawn_blocking(move || messages(&w)).await {
            Ok(m) => Arc::new(m),
            Err(e) => {
                tracing::error!(error = %e, "gossip: collecting messages");
                continue;
            }
        };
        let mut pushes = JoinSet::new();
        for peer in &peers {
            let (peer, msgs, witness) = (peer.clone(), msgs.clone(), witness.clone());
            pushes.spawn(async move { push(&witness, &peer, &msgs, timeout).await });
        }
        while pushes.join_next().await.is_some() {}
    }
}

async fn push(witness: &Witness, peer: &str, msgs: &[(String, Message)], timeout: Duration) {
    for (origin, msg) in msgs {
        let (path, body) = match msg {
            Message::Checkpoint(n) => (GOSSIP_PATH, n.clone()),
            Message::Evidence(e) => (EVIDENCE_PATH, e.clone()),
        };
        let url = format!("{peer}{path}");
        match client::request(Method::POST, &url, body, timeout, MAX_RESPONSE).await {
            Ok(r) if r.status == 200 => {
                tracing::debug!(peer, origin, path, answer = %String::from_utf8_lossy(&r.body).trim_end(), "gossip pushed");
            }
            Ok(r) => {
                witness
                    .metrics()
                    .gossip_push_errors
                    .get_or_create(&label("peer", peer))
                    .inc();
                tracing::warn!(peer, origin, path, status = r.status, answer = %String::from_utf8_lossy(&r.body).trim_end(), "gossip push refused");
            }
            Err(e) => {
                witness
                    .metrics()
                    .gossip_push_errors
                    .get_or_create(&label("peer", peer))
                    .inc();
                tracing::warn!(peer, origin, error = %e, "gossip push failed");
                // The peer is down; try again next round.
                return;
            }
        }
    }
}
