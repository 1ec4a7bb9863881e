//! Client state: the latest verified checkpoint of each log, and the rule
//! that every newer checkpoint must be proven consistent with it.
//!
//! Layout: `<state dir>/<log id>/checkpoint`, where the log id is the
//! lower-case hex SHA-256 of the origin (as in SPEC §8), holding the signed
//! note byte for byte, and `<state dir>/lock`, the lock file.
//!
//! **Durability.** Every write goes to a new temporary file of a unique
//! name in the same directory, which is synced, renamed over the old file,
//! and the directory synced ([`write_atomic`]): a crash, or a reader at any
//! moment, sees the old or the new note, never a mix.
//!
//! **Concurrency.** Any number of processes (`attestlog verify`, `bundle`,
//! `monitor`) may share a state directory. [`StateDir::advance`] holds an
//! exclusive advisory lock (`flock(2)` on `<state dir>/lock`, see
//! [`StateDir::lock`]) from loading the stored checkpoint until the newer
//! one is stored, so the stored checkpoint only ever grows: two processes
//! never both check against the same old checkpoint and then store in
//! either order.
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
use std::time::{Duration, Instant};

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::evidence::Evidence;
use attestlog_core::note::VerifierKey;
use attestlog_core::proof::verify_consistency;
use attestlog_http::tiles::TileFetcher;
use sha2::{Digest as _, Sha256};

use crate::error::ClientError;
use crate::grpc::LogClient;

/// The lock file's name in a state directory.
pub const LOCK_FILE: &str = "lock";

/// How long [`StateDir::lock`] waits for other processes to release the
/// state directory before it gives up with [`ClientError::StateLocked`].
/// A holder keeps the lock for one load-check-store (a consistency proof
/// from the log at most), so a wait this long means a stuck process.
pub const STATE_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// A client state directory.
#[derive(Clone, Debug)]
pub struct StateDir {
    root: PathBuf,
}

/// The exclusive lock on a state directory, from [`StateDir::lock`];
/// released when dropped (closing the file releases the `flock`), also
/// when the process dies.
#[derive(Debug)]
pub struct StateLock {
    _file: std::fs::File,
}

/// The log id of an origin: hex SHA-256 of the origin line.
pub fn log_id(origin: &str) -> String {
    hex::encode(Sha256::digest(origin.as_bytes()))
}

/// Writes `bytes` to `path` atomically: a new temporary file of a unique
/// name in the same directory, sync, rename over `path`, sync of the
/// directory. Durable once this returns; concurrent writers of one path
/// never share a temporary file, and a reader sees the old or the new
/// content, never a mix. (Which of two concurrent writers wins is the
/// caller's business: hold [`StateDir::lock`] to decide it.)
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| ClientError::io(dir, e))?;
    let name = path
        .file_name()
        .map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| ClientError::io(dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| ClientError::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| ClientError::io(tmp.path(), e))?;
    // A failed rename removes the temporary file (NamedTempFile's drop).
    tmp.persist(path)
        .map_err(|e| ClientError::io(path, e.error))?;
    // Not every file system can sync a directory; the rename is done either way.
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
    /// Unchecked: [`StateDir::advance`] is what decides whether a
    /// checkpoint may replace the stored one.
    pub fn store(&self, origin: &str, note: &[u8]) -> Result<(), ClientError> {
        write_atomic(&self.checkpoint_path(origin), note)
    }

    /// Takes the exclusive lock on the state directory: an advisory
    /// `flock(2)` on `<state dir>/lock`, which every `attestlog` process
    /// takes before reading what it will replace. Waits (polling, without
    /// blocking the runtime) while another process holds it, at most
    /// [`STATE_LOCK_TIMEOUT`].
    pub async fn lock(&self) -> Result<StateLock, ClientError> {
        let path = self.root.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| ClientError::io(&path, e))?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Ok(StateLock { _file: file }),
                Err(e) if e == rustix::io::Errno::WOULDBLOCK || e == rustix::io::Errno::INTR => {}
                Err(e) => return Err(ClientError::io(&path, e.into())),
            }
            if started.elapsed() >= STATE_LOCK_TIMEOUT {
                return Err(ClientError::StateLocked {
                    path: path.display().to_string(),
                    waited: STATE_LOCK_TIMEOUT,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Checks `presented` (a note already verified against the policy)
    /// against the stored checkpoint of its log, stores it if it is newer
    /// and consistent, and fails hard on a rollback or fork (see the
    /// module documentation). `tiles`, if given, is used to turn a failed
    /// consistency check into third-party-verifiable evidence.
    ///
    /// Holds [`StateDir::lock`] from loading the stored checkpoint until
    /// the newer one is stored: with concurrent callers, each checks
    /// against what the one before it stored, and the stored checkpoint
    /// never moves back.
    pub async fn advance(
        &self,
        log_key: &VerifierKey,
        presented: &[u8],
        client: &mut LogClient,
        tiles: Option<&TileFetcher>,
    ) -> Result<(), ClientError> {
        let origin = attestlog_core::note::NoteVerifier::name(log_key).to_owned();
        let (new, _) = Checkpoint::open(presented, &origin, log_key)
            .map_err(|e| ClientError::CheckpointUntrusted(e.to_string()))?;
        let _lock = self.lock().await?;
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
            let (s, l) = (small.size, large.size);
            let material = tokio::task::spawn_blocking(move || t.prefix_and_proof(s, l)).await;
            if let Ok(Ok((prefix, proof))) = material {
                // The tiles are the signed tree only if the proof leads
                // from their prefix root to the signed root.
                let signed = verify_consistency(s, l, &prefix, &large.root, &proof).is_ok();
                if signed && prefix != small.root {
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
