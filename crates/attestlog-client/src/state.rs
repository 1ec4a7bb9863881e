//! Client state: the latest verified checkpoint of each log, and the rule
//! that every newer checkpoint must be proven consistent with it.
//!
//! Layout: `<state dir>/<log id>/checkpoint`, where the log id is the
//! lower-case hex SHA-256 of the origin (as in SPEC §8), holding the signed
//! note byte for byte. Writes go to a temporary file that is synced and
//! renamed over the old one, so a crash leaves the old or the new note,
//! never a mix.
//!
//! [`StateDir::advance`] decides what a newly presented checkpoint means:
//!
//! | presented vs stored | check | outcome |
//! |---|---|---|
//! | same size | roots equal | consistent |
//! | same size | roots differ | [`ClientError::Fork`], `same-size` evidence |
//! | larger | consistency proof from the log verifies | consistent, stored |
//! | larger | it does not | tiles give the prefix root: `inconsistent` evidence ([`ClientError::Fork`]); no tiles: [`ClientError::Rollback`] |
//! | smaller | the log proves it is a prefix of the stored one | consistent, stored kept |
//! | smaller | the log cannot (its tree is smaller: a rollback) or the proof fails | [`ClientError::Fork`] if tiles prove it, else [`ClientError::Rollback`] |
//!
//! Both errors carry the two signed notes; they are hard errors.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::evidence::Evidence;
use attestlog_core::note::VerifierKey;
use attestlog_core::proof::verify_consistency;
use sha2::{Digest as _, Sha256};

use crate::error::ClientError;
use crate::grpc::LogClient;
use crate::tiles::{prefix_and_proof, HttpTiles};

/// A client state directory.
#[derive(Clone, Debug)]
pub struct StateDir {
    root: PathBuf,
}

/// The log id of an origin: hex SHA-256 of the origin line.
pub fn log_id(origin: &str) -> String {
    hex::encode(Sha256::digest(origin.as_bytes()))
}

/// Writes `bytes` to `path` atomically: temporary file, sync, rename,
/// sync of the directory. Durable once this returns.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| ClientError::io(dir, e))?;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| ClientError::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| ClientError::io(&tmp, e))?;
    f.sync_all().map_err(|e| ClientError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| ClientError::io(path, e))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

impl StateDir {
    /// Uses (and creates if needed) `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<StateDir, ClientError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| ClientError::io(&root, e))?;
        Ok(StateDir { root })
    }

    /// The directory of one log.
    pub fn log_dir(&self, origin: &str) -> PathBuf {
        self.root.join(log_id(origin))
    }

    fn checkpoint_path(&self, origin: &str) -> PathBuf {
        self.log_dir(origin).join("checkpoint")
    }

    /// The stored checkpoint note of `origin`, if any.
    pub fn load(&self, origin: &str) -> Result<Option<Vec<u8>>, ClientError> {
        let p = self.checkpoint_path(origin);
        match std::fs::read(&p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ClientError::io(&p, e)),
        }
    }

    /// Replaces the stored checkpoint of `origin` (durable on return).
    pub fn store(&self, origin: &str, note: &[u8]) -> Result<(), ClientError> {
        write_atomic(&self.checkpoint_path(origin), note)
    }

    /// Checks `presented` (a note already verified against the policy)
    /// against the stored checkpoint of its log, stores it if it is newer
    /// and consistent, and fails hard on a rollback or fork (see the
    /// module documentation). `tiles`, if given, is used to turn a failed
    /// consistency check into third-party-verifiable evidence.
    pub async fn advance(
        &self,
        log_key: &VerifierKey,
        presented: &[u8],
        client: &mut LogClient,
        tiles: Option<&HttpTiles>,
    ) -> Result<(), ClientError> {
        let origin = attestlog_core::note::NoteVerifier::name(log_key).to_owned();
        let (new, _) = Checkpoint::open(presented, &origin, log_key)
            .map_err(|e| ClientError::CheckpointUntrusted(e.to_string()))?;
        let Some(stored) = self.load(&origin)? else {
            return self.store(&origin, presented);
        };
        let path = self.checkpoint_path(&origin).display().to_string();
        let (old, _) =
            Checkpoint::open(&stored, &origin, log_key).map_err(|e| ClientError::State {
                path: path.clone(),
                reason: format!("the stored checkpoint does not verify with the log key: {e}"),
            })?;
        let fork = |ev: Evidence, message: String| -> ClientError {
            match ev.verify(log_key) {
                Ok(_) => ClientError::Fork {
                    message,
                    evidence: Box::new(ev),
                },
                Err(e) => ClientError::Rollback {
                    message: format!("{message} (evidence could not be built: {e})"),
                    stored: stored.clone(),
                    presented: presented.to_vec(),
                },
            }
        };
        if new.size == old.size {
            if new.root == old.root {
                return Ok(());
            }
            return Err(fork(
                Evidence::same_size(&origin, log_key, &stored, presented),
                format!("two different trees of size {} were signed", new.size),
            ));
        }
        // Order the pair: `small` must be a prefix of `large`.
        let (small, small_note, large, large_note, presented_is_larger) = if new.size > old.size {
            (&old, &stored[..], &new, presented, true)
        } else {
            (&new, presented, &old, &stored[..], false)
        };
        let proof = client.consistency_proof(small.size, large.size).await;
        let proof_ok = match &proof {
            Ok(p) => {
                verify_consistency(small.size, large.size, &small.root, &large.root, p).is_ok()
            }
            Err(ClientError::Grpc { status, .. }) if status.code() == tonic::Code::OutOfRange => {
                false
            }
            Err(_) => return proof.map(|_| ()),
        };
        if proof_ok {
            if presented_is_larger {
                self.store(&origin, presented)?;
            }
            return Ok(());
        }
        let what = if presented_is_larger {
            format!(
                "the log's checkpoint of size {} is not consistent with the checkpoint of size {} it signed before",
                large.size, small.size
            )
        } else {
            format!(
                "the log now shows size {} after it signed size {} (rolled back)",
                small.size, large.size
            )
        };
        if let Some(t) = tiles {
            let t = t.clone();
            let (s, l, root) = (small.size, large.size, large.root);
            let material =
                tokio::task::spawn_blocking(move || prefix_and_proof(&t, s, l, &root)).await;
            if let Ok(Ok((prefix, proof))) = material {
                if prefix != small.root {
                    return Err(fork(
                        Evidence::inconsistent(
                            &origin, log_key, small_note, large_note, prefix, proof,
                        ),
                        what,
                    ));
                }
            }
        }
        Err(ClientError::Rollback {
            message: what,
            stored,
            presented: presented.to_vec(),
        })
    }
}
