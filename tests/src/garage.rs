//! A real Garage cluster for the object-store tests: three `garage server`
//! processes on 127.0.0.1 (replication factor 3, default consistency, so
//! reads and writes need 2 of the 3 nodes), one bucket [`BUCKET`] that a
//! key [`KEY_NAME`] may read, write and own, and that is served
//! anonymously by every node's website endpoint.
//!
//! The binary is Garage 2.5.0 (the `garage` crate), built once by
//! scripts/install-deps.sh into `~/.cache/attestlog-garage/bin/`
//! ([`garage_bin`]); the tests fail, never skip, without it.
//!
//! Setting up, with the CLI against node 0 (`garage -c node0.toml ...`):
//! 1. start the three servers, each with its own metadata and data
//!    directories and log file;
//! 2. read each node's ID (`node id -q`), connect node 0 to the others
//!    (`node connect`), and write the IDs into every configuration as
//!    `bootstrap_peers` for restarts ([`GarageCluster::start_node`]);
//! 3. give each a storage role in zone `dc1` (`layout assign`) and apply
//!    layout version 1 (`layout apply --version 1`);
//! 4. wait until every node reports the cluster healthy and every node
//!    knows layout version 1;
//! 5. create the key and the bucket, allow the key, and turn on the
//!    bucket's website.
//!
//! The waits are bounded by [`START_TIMEOUT`] in all, each CLI command by
//! 20 s; a failure quotes the end of every node's log.

use std::cell::RefCell;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use attestlog_bucket::{BucketConfig, Credentials};

use crate::free_port;

/// The bucket the cluster serves.
pub const BUCKET: &str = "attestlog";
/// The name of the access key allowed on [`BUCKET`].
pub const KEY_NAME: &str = "attestlog";
/// The region Garage expects in request signatures (`s3_region`).
pub const REGION: &str = "garage";
/// The website endpoint's `root_domain`: `Host: <bucket>.web.garage` also
/// selects a bucket (as does a `Host` that is exactly its name).
pub const WEB_ROOT_DOMAIN: &str = ".web.garage";
/// The number of nodes.
pub const NODES: usize = 3;
/// Time allowed for the whole cluster setup.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed for a restarted node to rejoin the cluster.
pub const RESTART_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed for the running nodes to see a killed one down: Garage
/// pings its peers every 15 s, and waits 10 s for an answer.
pub const KILL_TIMEOUT: Duration = Duration::from_secs(40);
/// Time allowed for one CLI command.
const CLI_TIMEOUT: Duration = Duration::from_secs(20);
/// The configuration's line for the other nodes, until their IDs are known.
const NO_PEERS: &str = "bootstrap_peers = []";

/// The Garage binary: `ATTESTLOG_GARAGE` if set, else
/// `~/.cache/attestlog-garage/bin/garage`; an error naming the fix if it
/// does not exist.
pub fn garage_bin() -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os("ATTESTLOG_GARAGE") {
        Some(p) => PathBuf::from(p),
        None => {
            let home = std::env::var_os("HOME").context("HOME is not set")?;
            PathBuf::from(home).join(".cache/attestlog-garage/bin/garage")
        }
    };
    if !path.is_file() {
        bail!(
            "Garage is not installed at {}: run scripts/install-deps.sh (it builds Garage 2.5.0 \
             there; scripts/test.sh runs it), or set ATTESTLOG_GARAGE to a garage binary",
            path.display()
        );
    }
    Ok(path)
}

/// How a log publishes to the cluster, for [`GarageCluster::write_log_config`].
#[derive(Clone, Copy, Debug)]
pub struct Publishing<'a> {
    /// The node whose S3 API the log writes through.
    pub node: usize,
    /// `[publish] ack`: `"local"` or `"replicated"`.
    pub ack: &'a str,
    /// The objects' prefix in [`BUCKET`] (`""`: none), so that several
    /// logs can publish to the one bucket.
    pub prefix: &'a str,
    /// `[object_store] timeout_ms`: per request and per object body.
    pub timeout_ms: u64,
    /// `[publish] ack_timeout_ms`: under `"replicated"`, the longest wait
    /// for the bucket.
    pub ack_timeout_ms: u64,
    /// `[publish] interval_ms`, or `None` for the server's default.
    pub interval_ms: Option<u64>,
}

impl Publishing<'_> {
    /// Through `node` with `ack`, no prefix, and the short timeouts of the
    /// tests (3 s each), so that an outage shows within a test's time.
    pub fn test(node: usize, ack: &str) -> Publishing<'_> {
        Publishing {
            node,
            ack,
            prefix: "",
            timeout_ms: 3000,
            ack_timeout_ms: 3000,
            interval_ms: None,
        }
    }
}

/// One node: its configuration, addresses and (while it runs) process.
struct Node {
    config: PathBuf,
    log: PathBuf,
    s3: SocketAddr,
    web: SocketAddr,
    /// In a cell so that waiting loops, which borrow the cluster, can
    /// check that it still runs.
    child: RefCell<Option<Child>>,
}

/// A running three-node Garage cluster; every node is killed when dropped.
pub struct GarageCluster {
    bin: PathBuf,
    nodes: Vec<Node>,
    credentials: Credentials,
}

impl GarageCluster {
    /// Starts the cluster with its files under `dir` (`node<i>.toml`,
    /// `node<i>.log`, `node<i>/meta`, `node<i>/data`) and sets up the
    /// bucket; fails after [`START_TIMEOUT`] with the nodes' logs.
    pub fn start(dir: &Path) -> anyhow::Result<GarageCluster> {
        let deadline = Instant::now() + START_TIMEOUT;
        let bin = garage_bin()?;
        // Garage's default metadata engine, LMDB: with SQLite the three
        // nodes took 1.6-1.8x the CPU per object (BENCHMARKS.md), on the
        // cores the log under test shares.
        let db_engine = "lmdb";
        let rpc_secret = random_hex(32)?;
        let mut ports = Vec::new();
        let mut port = || -> anyhow::Result<u16> {
            loop {
                let p = free_port()?;
                if !ports.contains(&p) {
                    ports.push(p);
                    return Ok(p);
                }
            }
        };
        let mut nodes = Vec::new();
        for i in 0..NODES {
            let node_dir = dir.join(format!("node{i}"));
            let (meta, data) = (node_dir.join("meta"), node_dir.join("data"));
            std::fs::create_dir_all(&meta)?;
            std::fs::create_dir_all(&data)?;
            let localhost = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
            let (rpc, s3, web, admin) = (
                localhost(port()?),
                localhost(port()?),
                localhost(port()?),
                localhost(port()?),
            );
            let config = dir.join(format!("node{i}.toml"));
            std::fs::write(
                &config,
                format!(
                    r#"metadata_dir = {meta}
data_dir = {data}
db_engine = "{db_engine}"
replication_factor = {NODES}

rpc_bind_addr = "{rpc}"
rpc_public_addr = "{rpc}"
rpc_secret = "{rpc_secret}"
{NO_PEERS}

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "{s3}"
root_domain = ".s3.garage"

[s3_web]
bind_addr = "{web}"
root_domain = "{WEB_ROOT_DOMAIN}"

[admin]
api_bind_addr = "{admin}"
"#,
                    meta = toml_path(&meta)?,
                    data = toml_path(&data)?,
                ),
            )?;
            nodes.push(Node {
                config,
                log: dir.join(format!("node{i}.log")),
                s3,
                web,
                child: RefCell::new(None),
            });
        }
        let mut cluster = GarageCluster {
            bin,
            nodes,
            credentials: Credentials {
                access_key_id: String::new(),
                secret_access_key: String::new(),
            },
        };
        for i in 0..NODES {
            cluster.spawn(i)?;
        }
        if let Err(e) = cluster.set_up(deadline) {
            bail!("setting up the Garage cluster: {e:#}\n{}", cluster.logs());
        }
        Ok(cluster)
    }

    /// Steps 2 to 5 of the module doc.
    fn set_up(&mut self, deadline: Instant) -> anyhow::Result<()> {
        let mut ids = Vec::new();
        for i in 0..NODES {
            // The node writes its key when it starts.
            let id = self.retry(deadline, &format!("node {i}'s ID"), || {
                let out = self.cli(i, &["node", "id", "-q"])?;
                let id = out.trim().to_owned();
                if !id.contains('@') {
                    bail!("`garage node id -q` printed {id:?}, not <id>@<address>");
                }
                Ok(id)
            })?;
            ids.push(id);
        }
        for id in &ids[1..] {
            self.retry(deadline, &format!("connecting node 0 to {id}"), || {
                self.cli(0, &["node", "connect", id])
            })?;
        }
        // A restarted node finds the others from here: the peer list it
        // keeps in its metadata directory is written only every minute,
        // and the others retry a lost connection only every 30 s.
        let peers = format!("bootstrap_peers = {ids:?}");
        for node in &self.nodes {
            let config = std::fs::read_to_string(&node.config)?;
            std::fs::write(&node.config, config.replacen(NO_PEERS, &peers, 1))?;
        }
        let hex_ids: Vec<&str> = ids
            .iter()
            .map(|id| id.split('@').next().unwrap_or(id))
            .collect();
        self.retry(deadline, "assigning the storage roles", || {
            let mut args = vec!["layout", "assign", "-z", "dc1", "-c", "1G"];
            args.extend(&hex_ids);
            self.cli(0, &args)
        })?;
        self.cli(0, &["layout", "apply", "--version", "1"])?;
        for i in 0..NODES {
            self.retry(
                deadline,
                &format!("node {i} to see a healthy cluster"),
                || self.healthy(i, NODES),
            )?;
        }
        self.retry(deadline, "every node to know layout version 1", || {
            let history = self.json_api(0, "GetClusterLayoutHistory")?;
            match history["minAck"].as_u64() {
                Some(v) if v >= 1 => Ok(()),
                _ => bail!("layout history: {history}"),
            }
        })?;

        let key = self.json_api_with(0, "CreateKey", &format!(r#"{{"name":"{KEY_NAME}"}}"#))?;
        let field = |name: &str| {
            key[name]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("CreateKey answered without {name}: {key}"))
        };
        self.credentials = Credentials {
            access_key_id: field("accessKeyId")?,
            secret_access_key: field("secretAccessKey")?,
        };
        self.cli(0, &["bucket", "create", BUCKET])?;
        self.cli(
            0,
            &[
                "bucket", "allow", "--read", "--write", "--owner", "--key", KEY_NAME, BUCKET,
            ],
        )?;
        self.cli(0, &["bucket", "website", "--allow", BUCKET])?;
        Ok(())
    }

    /// Starts node `i`'s server (its log appended to).
    fn spawn(&mut self, i: usize) -> anyhow::Result<()> {
        let node = &mut self.nodes[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)?;
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&node.config)
            .arg("server")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        *node.child.get_mut() = Some(child);
        Ok(())
    }

    /// Ok once node `i` answers and is connected to `up` storage nodes
    /// (itself included) with a write quorum for every partition.
    fn healthy(&self, i: usize, up: usize) -> anyhow::Result<()> {
        let health = self.json_api(i, "GetClusterHealth")?;
        let count = |name: &str| health[name].as_u64();
        let want = match up {
            NODES => "healthy",
            _ => "degraded",
        };
        if health["status"].as_str() != Some(want)
            || count("storageNodes") != Some(NODES as u64)
            || count("storageNodesUp") != Some(up as u64)
        {
            bail!("node {i}'s cluster health: {health}");
        }
        Ok(())
    }

    /// Runs `f` every 100 ms until it succeeds; fails at `deadline` with
    /// its last error, or as soon as a node exits.
    fn retry<T>(
        &self,
        deadline: Instant,
        what: &str,
        mut f: impl FnMut() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        loop {
            let err = match f() {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            for (i, node) in self.nodes.iter().enumerate() {
                if let Some(child) = node.child.borrow_mut().as_mut() {
                    if let Some(status) = child.try_wait()? {
                        bail!("waiting for {what}: garage node {i} exited ({status})");
                    }
                }
            }
            if Instant::now() > deadline {
                bail!("waiting for {what}: still failing: {err:#}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `garage -c node<i>.toml args...`: its stdout, or an error with
    /// its stderr.
    fn cli(&self, i: usize, args: &[&str]) -> anyhow::Result<String> {
        run_bounded(
            Command::new(&self.bin)
                .arg("-c")
                .arg(&self.nodes[i].config)
                .args(args)
                .env("NO_COLOR", "1"),
            CLI_TIMEOUT,
        )
    }

    /// `garage json-api <endpoint>` on node `i`, parsed.
    fn json_api(&self, i: usize, endpoint: &str) -> anyhow::Result<serde_json::Value> {
        let out = self.cli(i, &["json-api", endpoint])?;
        serde_json::from_str(&out).with_context(|| format!("{endpoint} answered {out:?}"))
    }

    /// `garage json-api <endpoint> <payload>` on node `i`, parsed.
    fn json_api_with(
        &self,
        i: usize,
        endpoint: &str,
        payload: &str,
    ) -> anyhow::Result<serde_json::Value> {
        let out = self.cli(i, &["json-api", endpoint, payload])?;
        serde_json::from_str(&out).with_context(|| format!("{endpoint} answered {out:?}"))
    }

    /// The last lines of every node's log.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for node in &self.nodes {
            let text = std::fs::read_to_string(&node.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(20)..];
            s.push_str(&format!(
                "--- {} (last {} lines) ---\n{}\n",
                node.log.display(),
                tail.len(),
                tail.join("\n")
            ));
        }
        s
    }

    /// The S3 client settings for node `i`'s S3 API: bucket [`BUCKET`],
    /// region [`REGION`], no prefix.
    pub fn bucket_config(&self, i: usize) -> BucketConfig {
        BucketConfig {
            endpoint: self.s3_endpoint(i),
            bucket: BUCKET.to_owned(),
            region: REGION.to_owned(),
            prefix: String::new(),
            credentials_file: None,
            timeout_ms: attestlog_bucket::config::DEFAULT_TIMEOUT.as_millis() as u64,
            conditional_put: false,
        }
    }

    /// Writes the configuration of a log that publishes to this cluster
    /// as `publishing` says: `dir/log.toml` (`[object_store]`, `[publish]`,
    /// and the settings of a log for bulk loads: no per-key rate limit, a
    /// queue of 100,000) and the credentials beside it in `dir/s3.toml`.
    /// Returns the path of `log.toml`, for `serve --config`.
    pub fn write_log_config(
        &self,
        dir: &Path,
        publishing: &Publishing<'_>,
    ) -> anyhow::Result<PathBuf> {
        let c = self.credentials();
        std::fs::write(
            dir.join("s3.toml"),
            format!(
                "access_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
                c.access_key_id, c.secret_access_key
            ),
        )?;
        let b = self.bucket_config(publishing.node);
        let config = dir.join("log.toml");
        let interval = publishing
            .interval_ms
            .map_or(String::new(), |ms| format!("interval_ms = {ms}\n"));
        std::fs::write(
            &config,
            format!(
                "[object_store]\nendpoint = \"{}\"\nbucket = \"{}\"\nregion = \"{}\"\n\
                 prefix = \"{}\"\ncredentials_file = \"s3.toml\"\ntimeout_ms = {}\n\n\
                 [publish]\nack = \"{}\"\nack_timeout_ms = {}\n{interval}\n\
                 [admission]\nper_key_per_minute = 0\n\n[batch]\nqueue_limit = 100000\n",
                b.endpoint,
                b.bucket,
                b.region,
                publishing.prefix,
                publishing.timeout_ms,
                publishing.ack,
                publishing.ack_timeout_ms
            ),
        )?;
        Ok(config)
    }

    /// The process IDs of the running nodes.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes
            .iter()
            .filter_map(|n| n.child.borrow().as_ref().map(Child::id))
            .collect()
    }

    /// The key allowed to read, write and own [`BUCKET`].
    pub fn credentials(&self) -> Credentials {
        self.credentials.clone()
    }

    /// Node `i`'s S3 API, `http://127.0.0.1:<port>`.
    pub fn s3_endpoint(&self, i: usize) -> String {
        format!("http://{}", self.nodes[i].s3)
    }

    /// Node `i`'s website endpoint; send [`GarageCluster::web_host`] as
    /// the `Host` header to read [`BUCKET`] there.
    pub fn web_addr(&self, i: usize) -> SocketAddr {
        self.nodes[i].web
    }

    /// The `Host` under which the website endpoints serve [`BUCKET`]:
    /// Garage serves the bucket named exactly like the `Host` (port
    /// stripped), or `<bucket>` for a `Host` of `<bucket>`[`WEB_ROOT_DOMAIN`].
    pub fn web_host(&self) -> &'static str {
        BUCKET
    }

    /// Kills node `i` with SIGKILL (no chance to clean up), then waits (at
    /// most [`KILL_TIMEOUT`]) until every running node sees it down.
    ///
    /// Garage notices a dead peer only when a message to it fails, in
    /// practice at its next ping (every 15 s; 6 to 9 s after the kill in
    /// this harness); until then a request that picks the dead node waits
    /// for it (a PUT took 7.3 s), so the steps after a kill would race
    /// that ping.
    pub fn kill_node(&mut self, i: usize) -> anyhow::Result<()> {
        self.stop(i);
        let running = self.running();
        let deadline = Instant::now() + KILL_TIMEOUT;
        for &j in &running {
            let seen = self.retry(deadline, &format!("node {j} to see node {i} down"), || {
                self.healthy(j, running.len())
            });
            if let Err(e) = seen {
                bail!("{e:#}\n{}", self.logs());
            }
        }
        Ok(())
    }

    /// Kills node `i` with SIGKILL, if it runs, and reaps it.
    fn stop(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.get_mut().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The nodes that run.
    fn running(&self) -> Vec<usize> {
        (0..NODES)
            .filter(|&i| self.nodes[i].child.borrow().is_some())
            .collect()
    }

    /// Starts node `i` again with the same configuration and directories;
    /// waits (at most [`RESTART_TIMEOUT`]) until it answers and is
    /// connected to every running node.
    pub fn start_node(&mut self, i: usize) -> anyhow::Result<()> {
        if self.nodes[i].child.get_mut().is_some() {
            bail!("garage node {i} is already running");
        }
        self.spawn(i)?;
        let up = self.running().len();
        let rejoined = self.retry(
            Instant::now() + RESTART_TIMEOUT,
            &format!("restarted node {i} to rejoin the cluster"),
            || self.healthy(i, up),
        );
        if let Err(e) = rejoined {
            bail!("{e:#}\n{}", self.logs());
        }
        Ok(())
    }
}

impl Drop for GarageCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.stop(i);
        }
    }
}

/// Runs `cmd` to completion within `timeout` (killing it after that):
/// its stdout, or an error with its stderr.
fn run_bounded(cmd: &mut Command, timeout: Duration) -> anyhow::Result<String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {cmd:?}"))?;
    // Both pipes are read on threads, so a full pipe cannot stall the child.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    if !status.success() {
        bail!("{cmd:?} failed ({status}): {}", err.trim());
    }
    Ok(out)
}

/// Reads `pipe` to its end on a thread of its own.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// `n` random bytes from the kernel, as lower-case hex.
fn random_hex(n: usize) -> anyhow::Result<String> {
    let mut bytes = vec![0; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A path as a TOML string (paths needing escapes are refused, not
/// escaped: temporary directories never need them).
fn toml_path(path: &Path) -> anyhow::Result<String> {
    let s = path
        .to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))?;
    if s.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
        bail!("{s:?} needs escaping in TOML");
    }
    Ok(format!("\"{s}\""))
}
