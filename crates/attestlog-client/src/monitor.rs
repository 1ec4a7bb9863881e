//! Monitoring: follow a log from a stored position, check every new
//! checkpoint for consistency, download and re-verify every entry, and
//! raise alerts when a watched key signs anything or a watched subject
//! name gets a new digest.
//!
//! Entries are checked twice over: each leaf's OpenPGP signature again
//! (SPEC §6.5.5, against the certificate the log stores), and all leaves
//! together, by folding their hashes into a Merkle frontier whose root
//! must equal the signed root of the checkpoint being caught up to. So an
//! entry the log hides from the monitor, or changes, cannot go unnoticed.
//!
//! The position is `<state dir>/<log id>/monitor.json`, written atomically
//! under the state directory's lock, so a monitor resumes where it
//! stopped. It is saved only once the entries it covers are proven to be
//! the signed tree's: at the end of a round when their root equals the
//! checkpoint's signed root, and after each page in between only when a
//! consistency proof from the log leads from the root of the entries read
//! so far to that signed root. Entries from a log or mirror that disagree
//! with the signed checkpoint are never saved as read (and the alerts of
//! the round are raised again by the next one). The checkpoint itself is
//! stored by [`StateDir::advance`] before the entries are read: it is the
//! log's signed, consistency-checked statement of its tree, whatever the
//! entries turn out to be.
//!
//! ```text
//! { "next_index": <u64>,                   entries [0, next_index) are done
//!   "frontier": ["<base64 hash>", ...],    roots of the perfect subtrees of
//!                                          [0, next_index), left to right
//!   "names": { "<subject name>": ["<sha256 hex>", ...] } }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use attestlog_attest::openpgp::parse::Parse as _;
use attestlog_attest::openpgp::Cert;
use attestlog_attest::{verify_leaf_shared, Leaf};
use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::proof::verify_consistency;
use attestlog_core::{leaf_hash, Frontier};
use attestlog_http::tiles::TileFetcher;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::ClientError;
use crate::grpc::{LogClient, ENTRIES_PAGE};
use crate::online::witnessed_checkpoint;
use crate::state::{write_atomic, StateDir};
use crate::tlog_policy::TlogPolicy;

/// What to watch for.
#[derive(Clone, Debug, Default)]
pub struct Watch {
    /// Key fingerprints (primary or signing key), upper-case hex.
    pub fingerprints: Vec<String>,
    /// Subject names.
    pub names: Vec<String>,
}

impl Watch {
    /// Normalizes a fingerprint as written by gpg (spaces, any case).
    pub fn normalize(fp: &str) -> String {
        fp.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase()
    }
}

/// One alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// `key` (a watched key signed), `name` (a watched name got a new
    /// digest) or `invalid` (an entry failed re-verification).
    pub kind: &'static str,
    /// The entry's index.
    pub index: u64,
    /// The signer's primary fingerprint.
    pub primary: String,
    /// The signing (sub)key's fingerprint.
    pub signing_key: String,
    /// Subjects as `name sha256:hex`.
    pub subjects: Vec<String>,
    /// In words.
    pub message: String,
}

/// `monitor.json` (see the module documentation).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Position {
    next_index: u64,
    frontier: Vec<String>,
    names: BTreeMap<String, Vec<String>>,
}

impl Position {
    /// The position of `frontier`: its size and its hashes, largest
    /// subtree first, in base64.
    fn new(frontier: &Frontier, names: BTreeMap<String, Vec<String>>) -> Position {
        Position {
            next_index: frontier.size(),
            frontier: frontier
                .hashes()
                .iter()
                .map(|h| base64::engine::general_purpose::STANDARD.encode(h.0))
                .collect(),
            names,
        }
    }

    /// The frontier saved, or why it cannot be one.
    fn frontier(&self) -> Result<Frontier, String> {
        let hashes = self
            .frontier
            .iter()
            .map(|h| attestlog_core::proof::parse_base64_hash(h).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        Frontier::from_parts(self.next_index, hashes)
            .map_err(|e| format!("the frontier does not match the position: {e}"))
    }
}

/// A monitor of one log.
pub struct Monitor {
    policy: TlogPolicy,
    state: StateDir,
    watch: Watch,
    tiles: Option<TileFetcher>,
    position_path: PathBuf,
    frontier: Frontier,
    names: BTreeMap<String, Vec<String>>,
    certs: HashMap<Vec<u8>, Option<Arc<Cert>>>,
}

impl Monitor {
    /// A monitor for `origin` (a log of `policy`), resuming from the
    /// position in `state` if there is one. With `tiles`, entries are read
    /// from the log's entry bundles; otherwise with gRPC `GetEntries`.
    pub fn open(
        policy: TlogPolicy,
        origin: &str,
        state: StateDir,
        watch: Watch,
        tiles: Option<TileFetcher>,
    ) -> Result<Monitor, ClientError> {
        if policy.log(origin).is_none() {
            return Err(ClientError::CheckpointUntrusted(format!(
                "the policy trusts no log with origin {origin:?}"
            )));
        }
        let position_path = state.log_dir(origin).join("monitor.json");
        let mut m = Monitor {
            policy,
            state,
            watch,
            tiles,
            position_path,
            frontier: Frontier::default(),
            names: BTreeMap::new(),
            certs: HashMap::new(),
        };
        m.load_position()?;
        Ok(m)
    }

    /// The next index to read.
    pub fn position(&self) -> u64 {
        self.frontier.size()
    }

    fn load_position(&mut self) -> Result<(), ClientError> {
        let bad = |reason: String| ClientError::State {
            path: self.position_path.display().to_string(),
            reason,
        };
        let bytes = match std::fs::read(&self.position_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(ClientError::io(&self.position_path, e)),
        };
        let p: Position = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        self.frontier = p.frontier().map_err(bad)?;
        self.names = p.names;
        Ok(())
    }

    /// Writes the position, under the state directory's lock.
    async fn save_position(&self) -> Result<(), ClientError> {
        let p = Position::new(&self.frontier, self.names.clone());
        let bytes = serde_json::to_vec_pretty(&p).map_err(|e| ClientError::State {
            path: self.position_path.display().to_string(),
            reason: e.to_string(),
        })?;
        let _lock = self.state.lock().await?;
        write_atomic(&self.position_path, &bytes)
    }

    /// One round: verify the log's current checkpoint against the policy
    /// and the stored one, read every entry up to it, check each and all
    /// of them against the signed root, and report alerts. Returns the
    /// number of entries read. `progress(done, total)` is called after
    /// each page.
    pub async fn step(
        &mut self,
        client: &mut LogClient,
        mut on_alert: impl FnMut(Alert),
        mut progress: impl FnMut(u64, u64),
    ) -> Result<u64, ClientError> {
        let cp = witnessed_checkpoint(client, &self.policy, &[]).await?;
        let log_key = self.policy.logs[cp.log].key.clone();
        self.state
            .advance(&log_key, &cp.note, client, self.tiles.as_ref())
            .await?;
        let size = cp.checkpoint.size;
        let start = self.frontier.size();
        if size < start {
            // advance() accepted it, so it is an older checkpoint that the
            // log proved to be a prefix of what we have read: nothing new.
            return Ok(0);
        }
        // What was last proven; restored if this round's entries are not.
        let (proven, proven_names) = (self.frontier.clone(), self.names.clone());
        let round = self.read_up_to(client, &cp.checkpoint, &mut on_alert, &mut progress);
        if let Err(e) = round.await {
            self.frontier = proven;
            self.names = proven_names;
            return Err(e);
        }
        Ok(size - start)
    }

    /// Reads, checks and folds the entries from the position up to the
    /// checkpoint `cp`, saving the position only where it is proven to be
    /// a prefix of `cp`'s signed tree (see the module documentation).
    async fn read_up_to(
        &mut self,
        client: &mut LogClient,
        cp: &Checkpoint,
        on_alert: &mut impl FnMut(Alert),
        progress: &mut impl FnMut(u64, u64),
    ) -> Result<(), ClientError> {
        let size = cp.size;
        let start = self.frontier.size();
        while self.frontier.size() < size {
            let from = self.frontier.size();
            let page = self.fetch(client, from, size).await?;
            let certs = self.certs_for(client, &page).await;
            let (page, checked) = tokio::task::spawn_blocking(move || {
                let checked = check_entries(from, &page, &certs);
                (page, checked)
            })
            .await
            .map_err(|e| ClientError::BadAnswer(format!("entry checker: {e}")))?;
            for (i, (leaf, c)) in page.iter().zip(checked).enumerate() {
                self.alerts_for(from + i as u64, c, on_alert);
                self.frontier.push(leaf_hash(leaf));
            }
            let read = self.frontier.size();
            if read < size {
                // Save only a position proven to be a prefix of the signed
                // tree: the log's consistency proof from the root of what
                // was read to the checkpoint's signed root.
                let proof = client.consistency_proof(read, size).await?;
                verify_consistency(read, size, &self.frontier.root(), &cp.root, &proof).map_err(
                    |source| ClientError::Proof {
                        what: format!(
                            "the entries [0, {read}) read do not hash to a prefix of the signed checkpoint of size {size}"
                        ),
                        source,
                    },
                )?;
                self.save_position().await?;
            }
            progress(read - start, size - start);
        }
        if self.frontier.root() != cp.root {
            return Err(ClientError::BadAnswer(format!(
                "the {size} entries read do not hash to the signed root of the checkpoint of size {size}"
            )));
        }
        self.save_position().await
    }

    async fn fetch(
        &self,
        client: &mut LogClient,
        from: u64,
        size: u64,
    ) -> Result<Vec<Vec<u8>>, ClientError> {
        match &self.tiles {
            Some(t) => {
                let bundle = from / 256;
                let width = (size - bundle * 256).min(256) as u16;
                let t = t.clone();
                let all = tokio::task::spawn_blocking(move || t.entries(bundle, width))
                    .await
                    .map_err(|e| ClientError::BadAnswer(format!("tile reader: {e}")))??;
                Ok(all.into_iter().skip((from % 256) as usize).collect())
            }
            None => {
                let end = (from + ENTRIES_PAGE).min(size);
                client.entries(from, end).await
            }
        }
    }

    /// The stored certificate of each entry's signer (`None` for an entry
    /// that does not decode or whose certificate the log does not give),
    /// fetched once per signer.
    async fn certs_for(
        &mut self,
        client: &mut LogClient,
        page: &[Vec<u8>],
    ) -> Vec<Option<Arc<Cert>>> {
        let mut out = Vec::with_capacity(page.len());
        for bytes in page {
            let Ok(leaf) = Leaf::decode(bytes) else {
                out.push(None);
                continue;
            };
            let fp = leaf.primary_fingerprint().as_bytes();
            if !self.certs.contains_key(fp) {
                let c = client
                    .certificate(fp)
                    .await
                    .ok()
                    .and_then(|b| Cert::from_bytes(&b).ok())
                    .map(Arc::new);
                self.certs.insert(fp.to_vec(), c);
            }
            out.push(self.certs.get(fp).cloned().flatten());
        }
        out
    }

    /// Raises the alerts one checked entry calls for, in index order (the
    /// "new digest for a watched name" rule depends on the order).
    fn alerts_for(&mut self, index: u64, checked: Checked, on_alert: &mut impl FnMut(Alert)) {
        let Checked::Valid {
            primary,
            signing_key,
            subjects,
        } = checked
        else {
            if let Checked::Invalid { primary, message } = checked {
                on_alert(Alert {
                    kind: "invalid",
                    index,
                    primary,
                    signing_key: String::new(),
                    subjects: Vec::new(),
                    message,
                });
            }
            return;
        };
        let described: Vec<String> = subjects
            .iter()
            .map(|(name, sha256)| format!("{name} sha256:{}", hex::encode(sha256)))
            .collect();
        if self
            .watch
            .fingerprints
            .iter()
            .any(|w| *w == primary || *w == signing_key)
        {
            on_alert(Alert {
                kind: "key",
                index,
                primary: primary.clone(),
                signing_key: signing_key.clone(),
                subjects: described.clone(),
                message: format!(
                    "watched key {primary} signed entry {index} ({}): if this was not you, your key is being used by someone else",
                    described.join(", ")
                ),
            });
        }
        for (name, sha256) in &subjects {
            if !self.watch.names.contains(name) {
                continue;
            }
            let digest = hex::encode(sha256);
            let seen = self.names.entry(name.clone()).or_default();
            if seen.contains(&digest) {
                continue;
            }
            seen.push(digest.clone());
            on_alert(Alert {
                kind: "name",
                index,
                primary: primary.clone(),
                signing_key: signing_key.clone(),
                subjects: described.clone(),
                message: format!(
                    "watched name {name:?} has a new digest sha256:{digest} in entry {index}, signed by {primary}"
                ),
            });
        }
    }
}

/// What re-verifying one entry found.
enum Checked {
    /// The signature verifies again: who signed which subjects.
    Valid {
        primary: String,
        signing_key: String,
        subjects: Vec<(String, [u8; 32])>,
    },
    /// It does not: why, in words.
    Invalid { primary: String, message: String },
}

/// Re-verifies the entries `[from, from + page.len())` on every core
/// (OpenPGP verification is the monitor's main cost), in index order.
fn check_entries(from: u64, page: &[Vec<u8>], certs: &[Option<Arc<Cert>>]) -> Vec<Checked> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = page.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let workers: Vec<_> = page
            .chunks(chunk)
            .zip(certs.chunks(chunk))
            .enumerate()
            .map(|(k, (leaves, certs))| {
                let first = from + (k * chunk) as u64;
                s.spawn(move || {
                    leaves
                        .iter()
                        .zip(certs)
                        .enumerate()
                        .map(|(i, (bytes, cert))| check_entry(first + i as u64, bytes, cert))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

fn check_entry(index: u64, bytes: &[u8], cert: &Option<Arc<Cert>>) -> Checked {
    let leaf = match Leaf::decode(bytes) {
        Ok(l) => l,
        Err(e) => {
            return Checked::Invalid {
                primary: String::new(),
                message: format!("entry {index} is not a valid leaf: {e}"),
            }
        }
    };
    let primary = leaf.primary_fingerprint().to_hex();
    let signing_key = leaf.signing_fingerprint().to_hex();
    let Some(cert) = cert else {
        return Checked::Invalid {
            primary,
            message: format!("entry {index}: the log has no certificate for its signer"),
        };
    };
    match verify_leaf_shared(bytes, cert) {
        Ok(v) => Checked::Valid {
            primary,
            signing_key,
            subjects: v
                .statement()
                .subjects()
                .iter()
                .map(|s| (s.name.clone(), s.sha256))
                .collect(),
        },
        Err(e) => Checked::Invalid {
            primary,
            message: format!("entry {index}: the signature does not verify again: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use attestlog_core::node_hash;

    /// Pins `monitor.json`'s frontier as positions saved before the
    /// frontier moved to the core wrote it: hashes of the perfect subtrees
    /// of `[0, next_index)`, largest first, in base64; and reads it back.
    #[test]
    fn position_frontier_layout_and_round_trip() {
        let l: Vec<_> = (0..3u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let f: Frontier = l.iter().copied().collect();
        let p = Position::new(&f, BTreeMap::new());
        let b64 = |h: attestlog_core::Hash| base64::engine::general_purpose::STANDARD.encode(h.0);
        assert_eq!(p.next_index, 3);
        assert_eq!(p.frontier, vec![b64(node_hash(&l[0], &l[1])), b64(l[2])]);
        assert_eq!(p.frontier().unwrap(), f);
        assert_eq!(p.frontier().unwrap().root(), f.root());
    }

    #[test]
    fn position_with_a_frontier_of_the_wrong_length_is_refused() {
        let f: Frontier = (0..3u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut p = Position::new(&f, BTreeMap::new());
        p.next_index = 4;
        let err = p.frontier().unwrap_err();
        assert!(err.contains("does not match the position"), "{err}");
        p.next_index = 3;
        p.frontier[0] = "not base64".into();
        assert!(p.frontier().is_err());
    }
}
