//! Shared helpers of the witness's end-to-end tests: a log built with the
//! core crate, a tiles server for it, the real `attestlog-witness` binary
//! on 127.0.0.1, and a tiny blocking HTTP client. Loopback only.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::{KeyType, Note, SignerKey, VerifierKey};
use attestlog_core::proof::prove_consistency;
use attestlog_core::tree::{tree_root, InMemoryTree};
use attestlog_core::witness_protocol::AddCheckpointRequest;
use attestlog_core::{leaf_hash, Hash};
use sha2::{Digest, Sha256};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_attestlog-witness");

// ---------------------------------------------------------------------------
// A log: an in-memory tree and a signing key.

/// A log built with the core crate: a tree and an Ed25519 note key named
/// after its origin.
#[derive(Clone)]
pub struct TestLog {
    pub origin: String,
    pub key: SignerKey,
    pub tree: InMemoryTree,
}

impl TestLog {
    pub fn new(origin: &str, seed: u8) -> TestLog {
        TestLog {
            origin: origin.to_owned(),
            key: SignerKey::from_seed(origin, KeyType::Ed25519, [seed; 32]).expect("key"),
            tree: InMemoryTree::new(),
        }
    }

    /// Appends `n` leaves named `<tag><i>`.
    pub fn grow(&mut self, tag: &str, n: u64) {
        let start = self.tree.size();
        for i in start..start + n {
            self.tree.push(leaf_hash(format!("{tag}{i}").as_bytes()));
        }
    }

    pub fn verifier(&self) -> VerifierKey {
        self.key.verifier()
    }

    pub fn root(&self, size: u64) -> Hash {
        tree_root(&self.tree, size).expect("size within the tree")
    }

    /// The checkpoint of `size` leaves, signed by the log.
    pub fn checkpoint(&self, size: u64) -> Vec<u8> {
        self.sign(&Checkpoint::new(&self.origin, size, self.root(size)))
    }

    /// Any checkpoint text, signed by the log key.
    pub fn sign(&self, cp: &Checkpoint) -> Vec<u8> {
        sign_with(&self.key, cp)
    }

    pub fn proof(&self, old: u64, new: u64) -> Vec<Hash> {
        prove_consistency(&self.tree, old, new).expect("proof")
    }

    /// An add-checkpoint body from `old` to `new` with a correct proof.
    pub fn request(&self, old: u64, new: u64) -> Vec<u8> {
        let proof = if old == 0 {
            Vec::new()
        } else {
            self.proof(old, new)
        };
        body(old, &proof, &self.checkpoint(new))
    }

    /// SHA-256 of the origin, hex: the log's id in URLs.
    pub fn id(&self) -> String {
        hex::encode(Sha256::digest(self.origin.as_bytes()))
    }
}

pub fn sign_with(key: &SignerKey, cp: &Checkpoint) -> Vec<u8> {
    let mut note = Note::new(cp.to_text().expect("text")).expect("note");
    note.add_signature(key.sign(note.text()).expect("sign"))
        .expect("add");
    note.to_bytes()
}

/// An add-checkpoint body (limits unchecked, so tests can exceed them).
pub fn body(old: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
    AddCheckpointRequest {
        old_size: old,
        proof: proof.to_vec(),
        checkpoint: note.to_vec(),
    }
    .to_bytes()
}

// ---------------------------------------------------------------------------
// HTTP, blocking, one connection per request.

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Reply {
    try_http(addr, method, path, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

pub fn try_http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> std::io::Result<Reply> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(15)))?;
    s.set_write_timeout(Some(Duration::from_secs(15)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    // A server may answer (413) before reading a large body.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let mut content_type = String::new();
    let mut retry_after = None;
    let mut chunked = false;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-type" => content_type = v.trim().to_owned(),
                "retry-after" => retry_after = Some(v.trim().to_owned()),
                "transfer-encoding" => chunked = v.trim().eq_ignore_ascii_case("chunked"),
                _ => {}
            }
        }
    }
    let rest = raw[split + 4..].to_vec();
    let body = if chunked { dechunk(&rest) } else { rest };
    Ok(Reply {
        status,
        content_type,
        retry_after,
        body,
    })
}

/// A keep-alive HTTP/1.1 connection: many requests, one after another, on
/// one TCP connection (responses must carry `Content-Length`, as the
/// witness's do).
pub struct KeepAlive {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
}

impl KeepAlive {
    pub fn connect(addr: SocketAddr) -> std::io::Result<KeepAlive> {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(15)))?;
        s.set_write_timeout(Some(Duration::from_secs(15)))?;
        s.set_nodelay(true)?;
        Ok(KeepAlive {
            addr,
            reader: BufReader::new(s),
        })
    }

    pub fn request(&mut self, method: &str, path: &str, body: &[u8]) -> std::io::Result<Reply> {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        self.reader.get_mut().write_all(&req)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no status in {line:?}")))?;
        let (mut content_type, mut retry_after, mut length) = (String::new(), None, 0usize);
        loop {
            let mut h = String::new();
            if self.reader.read_line(&mut h)? == 0 {
                return Err(std::io::Error::other("connection closed in the headers"));
            }
            if h == "\r\n" {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let v = v.trim();
                match k.trim().to_ascii_lowercase().as_str() {
                    "content-type" => content_type = v.to_owned(),
                    "retry-after" => retry_after = Some(v.to_owned()),
                    "content-length" => {
                        length = v.parse().map_err(std::io::Error::other)?;
                    }
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok(Reply {
            status,
            content_type,
            retry_after,
            body,
        })
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(at) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..at]).unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[at + 2..at + 2 + n]);
        b = &b[at + 2 + n + 2..];
    }
}

// ---------------------------------------------------------------------------
// A C2SP tlog-tiles server for a TestLog: the end-to-end harness's.

#[allow(unused_imports)] // not every test serves tiles
pub use attestlog_e2e::tiles::TilesServer;

// ---------------------------------------------------------------------------
// The real witness binary, started by attestlog-e2e's one launcher.

pub use attestlog_e2e::witness::Witness;
use attestlog_e2e::witness::{WitnessConfig, WitnessedLog};

/// What a witness is configured with.
pub struct WitnessSetup {
    pub name: String,
    pub seed: u8,
    pub logs: Vec<(TestLog, Option<String>)>,
    pub peers: Vec<String>,
    pub listen: String,
    pub gossip_interval_ms: u64,
    pub gossip_max_in_flight: usize,
    /// Appended to the configuration file as it is (e.g. an `[http]`
    /// table).
    pub extra_config: String,
}

impl WitnessSetup {
    pub fn new(name: &str, seed: u8) -> WitnessSetup {
        WitnessSetup {
            name: name.to_owned(),
            seed,
            logs: Vec::new(),
            peers: Vec::new(),
            listen: "127.0.0.1:0".into(),
            gossip_interval_ms: 200,
            gossip_max_in_flight: 8,
            extra_config: String::new(),
        }
    }

    pub fn key(&self) -> SignerKey {
        SignerKey::from_seed(&self.name, KeyType::Cosignature, [self.seed; 32]).expect("key")
    }

    /// The witness's configuration (gossip timeout 1 s).
    pub fn config(&self) -> WitnessConfig {
        let mut c = WitnessConfig::new(self.key());
        c.listen = self.listen.clone();
        c.peers = self.peers.clone();
        c.gossip_interval_ms = self.gossip_interval_ms;
        c.gossip_timeout_ms = Some(1000);
        c.gossip_max_in_flight = Some(self.gossip_max_in_flight);
        c.logs = self
            .logs
            .iter()
            .map(|(log, tiles)| WitnessedLog {
                origin: log.origin.clone(),
                key: log.verifier().to_key_string(),
                tiles_url: tiles.clone(),
            })
            .collect();
        c.extra_config = self.extra_config.clone();
        c
    }
}

/// Starts `attestlog-witness serve` as `setup` says, in `dir` (config,
/// key, state, log; they outlive restarts). Panics, with the witness's
/// log, if it does not start.
pub fn start_witness(dir: &Path, setup: &WitnessSetup) -> Witness {
    Witness::start(dir, &setup.config()).unwrap_or_else(|e| panic!("{e:#}"))
}

/// `POST /add-checkpoint` to a running witness.
pub trait AddCheckpoint {
    fn add(&self, body: &[u8]) -> Reply;
}

impl AddCheckpoint for Witness {
    fn add(&self, body: &[u8]) -> Reply {
        http(self.addr, "POST", "/add-checkpoint", body)
    }
}

/// Polls `f` until it returns `Some` or `limit` passes.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
