//! The witness's durable state, in one RocksDB directory.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `latest` | log id (32) | cosignature timestamp (u64) ‖ latest cosigned checkpoint note |
//! | `kept` | log id (32) ‖ size (u64) ‖ root (32) | a checkpoint not cosigned and not proven consistent: its text and the log's signature line only; at most a configured number per log |
//! | `evidence` | log id (32) | split-view evidence file ([`attestlog_core::evidence`]) |
//!
//! The log id is SHA-256 of the origin line, as in the monitoring URL.
//! Integers are big-endian. Every write is one `WriteBatch` written with
//! `sync = true`: it is durable once the call returns, and only then does
//! the witness answer.
//!
//! Locking is the caller's job: [`crate::witness::Witness`] holds a per-log
//! lock around read → verify → write.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::Note;
use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, Options, WriteBatch, WriteOptions, DB};
use sha2::{Digest, Sha256};

use crate::error::WitnessError;

/// SHA-256 of a log's origin line.
pub type LogId = [u8; 32];

/// The id of the log with `origin`.
pub fn log_id(origin: &str) -> LogId {
    Sha256::digest(origin.as_bytes()).into()
}

const CF_LATEST: &str = "latest";
const CF_KEPT: &str = "kept";
const CF_EVIDENCE: &str = "evidence";
const FAMILIES: [&str; 3] = [CF_LATEST, CF_KEPT, CF_EVIDENCE];

/// The most kept checkpoints returned per log by [`State::kept`].
pub const MAX_KEPT_LISTED: usize = 1000;

/// What [`State::keep`] did with a checkpoint note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// Stored: it was not kept before.
    New,
    /// A note of the same size and root was kept already.
    Already,
    /// Not stored: the log has as many kept notes as allowed.
    Full,
}

/// The latest checkpoint cosigned for one log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latest {
    /// The timestamp of our cosignature on it.
    pub timestamp: u64,
    /// The checkpoint note: the log's signature, our cosignature, and any
    /// cosignatures the submitter included.
    pub note: Vec<u8>,
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
}

/// The RocksDB state. Only one process may open a directory at a time.
pub struct State {
    db: DB,
    /// The number of kept notes of each log that has any; held around
    /// every [`State::keep`] (count → check → write).
    kept_counts: Mutex<HashMap<LogId, usize>>,
}

impl State {
    /// Opens (or creates) the state in `dir`.
    pub fn open(dir: &Path) -> Result<State, WitnessError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let cfs = FAMILIES
            .iter()
            .map(|name| ColumnFamilyDescriptor::new(*name, Options::default()));
        let db = DB::open_cf_descriptors(&opts, dir, cfs)?;
        let mut counts = HashMap::new();
        {
            let cf = db.cf_handle(CF_KEPT).ok_or_else(|| {
                WitnessError::Corrupt(format!("column family {CF_KEPT} is missing"))
            })?;
            for item in db.iterator_cf(cf, rocksdb::IteratorMode::Start) {
                let (k, _) = item?;
                let id: LogId = k.get(..32).and_then(|p| p.try_into().ok()).ok_or_else(|| {
                    WitnessError::Corrupt("kept key shorter than a log id".into())
                })?;
                *counts.entry(id).or_insert(0) += 1;
            }
        }
        Ok(State {
            db,
            kept_counts: Mutex::new(counts),
        })
    }

    fn cf(&self, name: &str) -> Result<&ColumnFamily, WitnessError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| WitnessError::Corrupt(format!("column family {name} is missing")))
    }

    fn write(&self, batch: WriteBatch) -> Result<(), WitnessError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(batch, &wo)?;
        Ok(())
    }

    /// The latest cosigned checkpoint of a log, if any.
    pub fn latest(&self, id: &LogId) -> Result<Option<Latest>, WitnessError> {
        let Some(v) = self.db.get_cf(self.cf(CF_LATEST)?, id)? else {
            return Ok(None);
        };
        decode_latest(&v).map(Some)
    }

    /// Replaces the latest cosigned checkpoint of a log. Durable (synced)
    /// once this returns.
    pub fn put_latest(&self, id: &LogId, timestamp: u64, note: &[u8]) -> Result<(), WitnessError> {
        let mut value = Vec::with_capacity(8 + note.len());
        value.extend_from_slice(&timestamp.to_be_bytes());
        value.extend_from_slice(note);
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_LATEST)?, id, value);
        self.write(batch)
    }

    /// The highest cosignature timestamp of any stored checkpoint, so that
    /// timestamps never go backwards across restarts.
    pub fn max_timestamp(&self) -> Result<u64, WitnessError> {
        let mut max = 0;
        for item in self
            .db
            .iterator_cf(self.cf(CF_LATEST)?, rocksdb::IteratorMode::Start)
        {
            let (_, v) = item?;
            max = max.max(decode_latest(&v)?.timestamp);
        }
        Ok(max)
    }

    /// Keeps a validly signed checkpoint that was not cosigned and not
    /// proven consistent (refused, or seen through gossip), because only
    /// the signed note proves misbehaviour to others. The caller passes
    /// the note with the log's signature line only, so that what is
    /// stored is bounded by what the log signed. The first note of each
    /// (size, root) is kept, and at most `max_per_log` per log: once a
    /// log has that many, nothing more of it is stored (the notes kept
    /// first stay; a flood never rewrites the disk). Durable once this
    /// returns.
    pub fn keep(
        &self,
        id: &LogId,
        cp: &Checkpoint,
        note: &[u8],
        max_per_log: usize,
    ) -> Result<Kept, WitnessError> {
        let cf = self.cf(CF_KEPT)?;
        let mut key = Vec::with_capacity(72);
        key.extend_from_slice(id);
        key.extend_from_slice(&cp.size.to_be_bytes());
        key.extend_from_slice(cp.root.as_bytes());
        let mut counts = self.kept_counts.lock().unwrap_or_else(|p| p.into_inner());
        if self.db.get_pinned_cf(cf, &key)?.is_some() {
            return Ok(Kept::Already);
        }
        let count = counts.entry(*id).or_insert(0);
        if *count >= max_per_log {
            return Ok(Kept::Full);
        }
        let mut batch = WriteBatch::default();
        batch.put_cf(cf, key, note);
        self.write(batch)?;
        *count += 1;
        Ok(Kept::New)
    }

    /// How many checkpoint notes are kept for a log.
    pub fn kept_count(&self, id: &LogId) -> usize {
        let counts = self.kept_counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.get(id).copied().unwrap_or(0)
    }

    /// The kept checkpoint notes of a log, by size (at most
    /// [`MAX_KEPT_LISTED`]).
    pub fn kept(&self, id: &LogId) -> Result<Vec<Vec<u8>>, WitnessError> {
        let cf = self.cf(CF_KEPT)?;
        let mut out = Vec::new();
        let iter = self.db.prefix_iterator_cf(cf, id);
        for item in iter {
            let (k, v) = item?;
            if !k.starts_with(id) || out.len() == MAX_KEPT_LISTED {
                break;
            }
            out.push(v.to_vec());
        }
        Ok(out)
    }

    /// The split-view evidence recorded for a log, if any.
    pub fn evidence(&self, id: &LogId) -> Result<Option<Vec<u8>>, WitnessError> {
        Ok(self.db.get_cf(self.cf(CF_EVIDENCE)?, id)?)
    }

    /// Records split-view evidence for a log unless some is already
    /// recorded (the first proof is as good as any). Durable once this
    /// returns; returns whether it was new.
    pub fn put_evidence(&self, id: &LogId, evidence: &[u8]) -> Result<bool, WitnessError> {
        let cf = self.cf(CF_EVIDENCE)?;
        if self.db.get_pinned_cf(cf, id)?.is_some() {
            return Ok(false);
        }
        let mut batch = WriteBatch::default();
        batch.put_cf(cf, id, evidence);
        self.write(batch)?;
        Ok(true)
    }
}

fn decode_latest(v: &[u8]) -> Result<Latest, WitnessError> {
    let corrupt = |why: String| WitnessError::Corrupt(format!("latest checkpoint: {why}"));
    let (ts, note) = v
        .split_first_chunk::<8>()
        .ok_or_else(|| corrupt("shorter than a timestamp".into()))?;
    let parsed = Note::parse(note).map_err(|e| corrupt(e.to_string()))?;
    let checkpoint = Checkpoint::parse(parsed.text()).map_err(|e| corrupt(e.to_string()))?;
    Ok(Latest {
        timestamp: u64::from_be_bytes(*ts),
        note: note.to_vec(),
        checkpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use attestlog_core::note::{KeyType, SignerKey};
    use attestlog_core::{leaf_hash, Hash};

    fn note(size: u64, root: Hash) -> (Checkpoint, Vec<u8>) {
        let k = SignerKey::from_seed("o", KeyType::Ed25519, [1; 32]).unwrap();
        let cp = Checkpoint::new("o", size, root);
        let mut n = Note::new(cp.to_text().unwrap()).unwrap();
        n.add_signature(k.sign(n.text()).unwrap()).unwrap();
        (cp, n.to_bytes())
    }

    #[test]
    fn survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let id = log_id("o");
        let (cp, n) = note(3, leaf_hash(b"r"));
        {
            let s = State::open(dir.path()).unwrap();
            assert_eq!(s.latest(&id).unwrap(), None);
            assert_eq!(s.max_timestamp().unwrap(), 0);
            s.put_latest(&id, 77, &n).unwrap();
            assert_eq!(s.keep(&id, &cp, &n, 2).unwrap(), Kept::New);
            assert_eq!(s.keep(&id, &cp, &n, 2).unwrap(), Kept::Already);
            let (cp2, n2) = note(4, leaf_hash(b"s"));
            assert_eq!(s.keep(&id, &cp2, &n2, 2).unwrap(), Kept::New);
            let (cp3, n3) = note(5, leaf_hash(b"t"));
            assert_eq!(s.keep(&id, &cp3, &n3, 2).unwrap(), Kept::Full);
            assert_eq!(s.kept_count(&id), 2);
            assert!(s.put_evidence(&id, b"e").unwrap());
            assert!(!s.put_evidence(&id, b"f").unwrap());
        }
        let s = State::open(dir.path()).unwrap();
        let l = s.latest(&id).unwrap().unwrap();
        assert_eq!((l.timestamp, l.checkpoint.size), (77, 3));
        assert_eq!(s.max_timestamp().unwrap(), 77);
        assert_eq!(s.kept_count(&id), 2);
        assert_eq!(s.kept(&id).unwrap()[0], n);
        let (cp3, n3) = note(5, leaf_hash(b"t"));
        assert_eq!(s.keep(&id, &cp3, &n3, 2).unwrap(), Kept::Full);
        assert_eq!(s.kept(&log_id("p")).unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(s.evidence(&id).unwrap().as_deref(), Some(&b"e"[..]));
    }
}
