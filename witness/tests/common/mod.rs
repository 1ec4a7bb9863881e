//! Shared helpers of the witness's end-to-end tests: a log built with the
//! core crate, a tiles server for it, the real `attestlog-witness` binary
//! on 127.0.0.1, and a tiny blocking HTTP client. Loopback only.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::note::{KeyType, Note, SignerKey, VerifierKey};
use attestlog_core::proof::prove_consistency;
use attestlog_core::tile::{read_tile, Tile, TilePath};
use attestlog_core::tree::{tree_root, InMemoryTree};
use attestlog_core::witness_protocol::AddCheckpointRequest;
use attestlog_core::{leaf_hash, Hash};
use sha2::{Digest, Sha256};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_attestlog-witness");
/// Every wait in these tests ends after this long.
pub const DEADLINE: Duration = Duration::from_secs(20);

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
// A C2SP tlog-tiles server for a TestLog, in a thread.

/// Serves `tile/<L>/<N>[.p/<W>]` of a shared tree on 127.0.0.1.
pub struct TilesServer {
    pub addr: SocketAddr,
    pub tree: Arc<Mutex<InMemoryTree>>,
}

impl TilesServer {
    pub fn start(tree: InMemoryTree) -> TilesServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind tiles server");
        let addr = listener.local_addr().expect("addr");
        let tree = Arc::new(Mutex::new(tree));
        let shared = tree.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let tree = shared.clone();
                std::thread::spawn(move || serve_tile(stream, &tree));
            }
        });
        TilesServer { addr, tree }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn serve_tile(stream: TcpStream, tree: &Mutex<InMemoryTree>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    // Skip the headers.
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = line
        .split(' ')
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/');
    let found = match Tile::parse_path(path) {
        Ok(TilePath::Hashes(tile)) => {
            let tree = tree.lock().expect("tree");
            if tile.is_within(tree.size()) {
                read_tile(&*tree, &tile).ok()
            } else {
                None
            }
        }
        _ => None,
    };
    let (status, body) = match found {
        Some(b) => ("200 OK", b),
        None => ("404 Not Found", b"not found\n".to_vec()),
    };
    let mut s = &stream;
    let _ = s.write_all(
        format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let _ = s.write_all(&body);
}

// ---------------------------------------------------------------------------
// The real witness binary.

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
}

/// A running `attestlog-witness serve`, killed on drop. Its directory
/// (config, key, state) outlives restarts.
pub struct WitnessProc {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    child: Child,
}

impl WitnessProc {
    /// Writes config and key into `dir` and starts the binary.
    pub fn start(dir: &Path, setup: &WitnessSetup) -> WitnessProc {
        std::fs::create_dir_all(dir).expect("dir");
        let key_file = dir.join("witness.key");
        if !key_file.exists() {
            std::fs::write(&key_file, format!("{}\n", setup.key().to_key_string())).expect("key");
        }
        let mut cfg = format!(
            "name = \"{}\"\nkey_file = \"{}\"\ndata_dir = \"{}\"\nlisten = \"{}\"\n\n[gossip]\npeers = [{}]\ninterval_ms = {}\ntimeout_ms = 1000\nmax_in_flight = {}\n",
            setup.name,
            key_file.display(),
            dir.join("state").display(),
            setup.listen,
            setup
                .peers
                .iter()
                .map(|p| format!("\"{p}\""))
                .collect::<Vec<_>>()
                .join(", "),
            setup.gossip_interval_ms,
            setup.gossip_max_in_flight,
        );
        for (log, tiles) in &setup.logs {
            cfg.push_str(&format!(
                "\n[[log]]\norigin = \"{}\"\nkey = \"{}\"\n",
                log.origin,
                log.verifier().to_key_string()
            ));
            if let Some(t) = tiles {
                cfg.push_str(&format!("tiles_url = \"{t}\"\n"));
            }
        }
        cfg.push_str(&setup.extra_config);
        let config = dir.join("witness.toml");
        std::fs::write(&config, cfg).expect("config");
        Self::spawn(dir, &config)
    }

    /// Starts the binary again on the same directory (a restart).
    pub fn restart(self) -> WitnessProc {
        let dir = self.dir.clone();
        drop(self);
        Self::spawn(&dir, &dir.join("witness.toml"))
    }

    fn spawn(dir: &Path, config: &Path) -> WitnessProc {
        let ready = dir.join("ready");
        let _ = std::fs::remove_file(&ready);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("witness.log"))
            .expect("log file");
        let child = Command::new(BIN)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .arg("--ready-file")
            .arg(&ready)
            .arg("--log-level")
            .arg("attestlog_witness=debug,info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start attestlog-witness");
        let mut proc = WitnessProc {
            addr: "127.0.0.1:1".parse().expect("addr"),
            dir: dir.to_owned(),
            child,
        };
        let start = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                if let Some(a) = text.strip_prefix("http=").map(str::trim) {
                    proc.addr = a.parse().expect("ready file address");
                    return proc;
                }
            }
            if let Ok(Some(status)) = proc.child.try_wait() {
                panic!("witness exited with {status}; log:\n{}", proc.log());
            }
            assert!(
                start.elapsed() < DEADLINE,
                "witness not ready; log:\n{}",
                proc.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("witness.log")).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The witness's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn add(&self, body: &[u8]) -> Reply {
        http(self.addr, "POST", "/add-checkpoint", body)
    }
}

impl Drop for WitnessProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago (for peers that must know each
/// other's addresses before starting).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
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
