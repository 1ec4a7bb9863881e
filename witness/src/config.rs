//! The witness configuration file (TOML). See `deploy/witness.toml` for a
//! commented example.
//!
//! ```toml
//! name = "witness.example/w1"          # the cosigning key's name
//! key_file = "/etc/attestlog-witness/key"
//! data_dir = "/var/lib/attestlog-witness"
//! listen = "127.0.0.1:7380"
//! submission_prefix = ""               # POST <prefix>/add-checkpoint
//! monitoring_prefix = ""               # GET  <prefix>/<hex sha256(origin)>/checkpoint
//!
//! [gossip]
//! peers = ["http://127.0.0.1:7381"]    # other witnesses' base URLs
//! interval_ms = 1000
//! timeout_ms = 1000
//! max_in_flight = 8                    # received gossip checked at once
//! max_kept = 1000                      # unproven checkpoints kept per log
//!
//! [http]
//! header_read_timeout_ms = 10000       # to receive a request head; keep-alive idle
//! idle_timeout_ms = 30000              # no byte moving while waiting on the peer
//! max_connections = 4096               # beyond: wait in the listen backlog
//! max_add_checkpoint_in_flight = 64    # beyond: 503 with Retry-After
//!
//! [[log]]
//! origin = "log.example/attestlog"
//! key = "log.example/attestlog+abcd1234+AQ..."   # the log's note verifier key
//! tiles_url = "http://127.0.0.1:8080"          # optional: C2SP tlog-tiles base
//! ```

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use attestlog_core::note::{KeyType, VerifierKey};
use attestlog_http::server::{
    ServerLimits, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
};
use serde::Deserialize;

use crate::error::WitnessError;

/// The configuration file as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The witness's name: the name of its cosignature key.
    pub name: String,
    /// Path of the signer key file written by `attestlog-witness keygen`.
    pub key_file: PathBuf,
    /// RocksDB directory of the witness state.
    pub data_dir: PathBuf,
    /// Address to listen on (default `127.0.0.1:7380`).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The C2SP *submission prefix* (a path such as `/w`, or empty).
    #[serde(default)]
    pub submission_prefix: String,
    /// The C2SP *monitoring prefix* (a path such as `/w`, or empty).
    #[serde(default)]
    pub monitoring_prefix: String,
    /// Gossip settings.
    #[serde(default)]
    pub gossip: GossipConfig,
    /// HTTP server limits.
    #[serde(default)]
    pub http: HttpConfig,
    /// The logs this witness cosigns.
    #[serde(default, rename = "log")]
    pub logs: Vec<LogEntry>,
}

/// Gossip settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GossipConfig {
    /// Base URLs (`http://host:port[/prefix]`) of peer witnesses.
    #[serde(default)]
    pub peers: Vec<String>,
    /// How often to push checkpoints and evidence to every peer.
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
    /// Timeout of one request to a peer or a log.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The most received gossip messages (`/gossip`, `/gossip/evidence`,
    /// and rejected checkpoints being checked against the log's tiles)
    /// handled at once; more are answered 429. Each can hold a blocking
    /// thread for a signature check, a database write and a tile fetch of
    /// up to `timeout_ms`.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// The most checkpoint notes kept per log without being cosigned or
    /// proven consistent (received by gossip, or refused by
    /// add-checkpoint), each reduced to its text and the log's signature
    /// line. Once a log has this many, no more of its notes are kept.
    #[serde(default = "default_max_kept")]
    pub max_kept: usize,
}

impl Default for GossipConfig {
    fn default() -> Self {
        GossipConfig {
            peers: Vec::new(),
            interval_ms: default_interval_ms(),
            timeout_ms: default_timeout_ms(),
            max_in_flight: default_max_in_flight(),
            max_kept: default_max_kept(),
        }
    }
}

/// `[http]`: limits of the HTTP server against hostile peers (see
/// [`attestlog_http::server`]).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Milliseconds to receive a request head, counted from accepting the
    /// connection or from the previous response (so also the longest a
    /// keep-alive connection stays idle).
    pub header_read_timeout_ms: u64,
    /// Milliseconds without a byte moving either way while the connection
    /// waits on the peer (a stalled body, an unread response); must exceed
    /// the slowest answer (a gossip check waits up to `[gossip]
    /// timeout_ms` per tile).
    pub idle_timeout_ms: u64,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// add-checkpoint requests checked at once (each holds a blocking
    /// thread, waits for its log's lock and a synced write); more are
    /// answered 503 with `Retry-After: 1`.
    pub max_add_checkpoint_in_flight: usize,
}

/// The default of `[http] max_add_checkpoint_in_flight`.
pub const DEFAULT_MAX_ADD_CHECKPOINT_IN_FLIGHT: usize = 64;

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            header_read_timeout_ms: DEFAULT_HEADER_READ_TIMEOUT.as_millis() as u64,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT.as_millis() as u64,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_add_checkpoint_in_flight: DEFAULT_MAX_ADD_CHECKPOINT_IN_FLIGHT,
        }
    }
}

impl HttpConfig {
    /// The accept loop's limits.
    pub fn limits(&self) -> ServerLimits {
        ServerLimits {
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(self.idle_timeout_ms),
            max_connections: self.max_connections,
        }
    }

    fn check(&self) -> Result<(), WitnessError> {
        let ms = 100..=3_600_000;
        if !ms.contains(&self.header_read_timeout_ms) || !ms.contains(&self.idle_timeout_ms) {
            return Err(WitnessError::Config(
                "http header_read_timeout_ms and idle_timeout_ms must be 100..=3600000".into(),
            ));
        }
        if !(1..=1_000_000).contains(&self.max_connections) {
            return Err(WitnessError::Config(
                "http max_connections must be 1..=1000000".into(),
            ));
        }
        // Each holds one of the runtime's 512 blocking threads.
        if !(1..=512).contains(&self.max_add_checkpoint_in_flight) {
            return Err(WitnessError::Config(
                "http max_add_checkpoint_in_flight must be 1..=512".into(),
            ));
        }
        Ok(())
    }
}

/// One witnessed log, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// The checkpoint origin line.
    pub origin: String,
    /// The log's Ed25519 note verifier key.
    pub key: String,
    /// Base URL of the log's C2SP tlog-tiles API, used to fetch consistency
    /// proofs when gossip shows another checkpoint.
    #[serde(default)]
    pub tiles_url: Option<String>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7380))
}

fn default_interval_ms() -> u64 {
    1000
}

fn default_timeout_ms() -> u64 {
    1000
}

fn default_max_in_flight() -> usize {
    8
}

fn default_max_kept() -> usize {
    crate::witness::DEFAULT_MAX_KEPT
}

/// A witnessed log, checked.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// The checkpoint origin line.
    pub origin: String,
    /// The log's verifier key (type 0x01, named after the origin or not).
    pub key: VerifierKey,
    /// Base URL of the log's tiles, if known.
    pub tiles_url: Option<String>,
}

impl ConfigFile {
    /// Parses and checks a configuration file's text.
    pub fn parse(text: &str) -> Result<ConfigFile, WitnessError> {
        let cfg: ConfigFile =
            toml::from_str(text).map_err(|e| WitnessError::Config(e.to_string()))?;
        for prefix in [&cfg.submission_prefix, &cfg.monitoring_prefix] {
            if !prefix.is_empty() && (!prefix.starts_with('/') || prefix.ends_with('/')) {
                return Err(WitnessError::Config(format!(
                    "prefix {prefix:?} must be empty or start with '/' and not end with '/'"
                )));
            }
        }
        if cfg.gossip.interval_ms == 0
            || cfg.gossip.timeout_ms == 0
            || cfg.gossip.max_in_flight == 0
            || cfg.gossip.max_kept == 0
        {
            return Err(WitnessError::Config(
                "gossip interval_ms, timeout_ms, max_in_flight and max_kept must be positive"
                    .into(),
            ));
        }
        cfg.http.check()?;
        for peer in &cfg.gossip.peers {
            check_http_url(peer)?;
        }
        cfg.log_configs()?;
        Ok(cfg)
    }

    /// The witnessed logs, with parsed keys; origins must be unique.
    pub fn log_configs(&self) -> Result<Vec<LogConfig>, WitnessError> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for l in &self.logs {
            if l.origin.is_empty() || !seen.insert(l.origin.clone()) {
                return Err(WitnessError::Config(format!(
                    "log origin {:?} is empty or listed twice",
                    l.origin
                )));
            }
            let key = VerifierKey::parse(&l.key)
                .map_err(|e| WitnessError::Config(format!("key of log {:?}: {e}", l.origin)))?;
            if key.key_type() != KeyType::Ed25519 {
                return Err(WitnessError::Config(format!(
                    "key of log {:?} is not an Ed25519 (0x01) note key",
                    l.origin
                )));
            }
            if let Some(url) = &l.tiles_url {
                check_http_url(url)?;
            }
            out.push(LogConfig {
                origin: l.origin.clone(),
                key,
                tiles_url: l.tiles_url.clone(),
            });
        }
        Ok(out)
    }

    /// The peer request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.gossip.timeout_ms)
    }

    /// The gossip interval.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.gossip.interval_ms)
    }
}

/// Only plain `http://` URLs are supported: everything exchanged is signed,
/// so confidentiality is not needed; put a TLS proxy in front if wanted.
fn check_http_url(url: &str) -> Result<(), WitnessError> {
    let ok = url
        .strip_prefix("http://")
        .is_some_and(|rest| !rest.is_empty() && !url.ends_with('/'));
    if !ok {
        return Err(WitnessError::Config(format!(
            "URL {url:?} must start with http:// and not end with '/'"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use attestlog_core::note::SignerKey;

    fn log_key() -> String {
        SignerKey::from_seed("log.example/a", KeyType::Ed25519, [1; 32])
            .unwrap()
            .verifier()
            .to_key_string()
    }

    #[test]
    fn parses_a_full_config() {
        let text = format!(
            "name = \"w1\"\nkey_file = \"/k\"\ndata_dir = \"/d\"\nlisten = \"127.0.0.1:0\"\n\
             [gossip]\npeers = [\"http://127.0.0.1:1\"]\ninterval_ms = 50\n\
             [[log]]\norigin = \"log.example/a\"\nkey = \"{}\"\ntiles_url = \"http://127.0.0.1:2\"\n",
            log_key()
        );
        let cfg = ConfigFile::parse(&text).unwrap();
        assert_eq!(cfg.log_configs().unwrap().len(), 1);
        assert_eq!(cfg.interval(), Duration::from_millis(50));
        assert_eq!(cfg.timeout(), Duration::from_millis(1000));
        assert_eq!(cfg.gossip.max_in_flight, 8);
        assert_eq!(cfg.gossip.max_kept, 1000);
        assert_eq!(cfg.http.limits(), ServerLimits::default());
        assert_eq!(cfg.http.max_add_checkpoint_in_flight, 64);
    }

    #[test]
    fn rejects_bad_configs() {
        let base = "name = \"w1\"\nkey_file = \"/k\"\ndata_dir = \"/d\"\n";
        let k = log_key();
        for bad in [
            format!("{base}unknown = 1\n"),
            format!("{base}submission_prefix = \"w\"\n"),
            format!("{base}[gossip]\npeers = [\"https://x\"]\n"),
            format!("{base}[gossip]\nmax_in_flight = 0\n"),
            format!("{base}[gossip]\nmax_kept = 0\n"),
            format!("{base}[http]\nheader_read_timeout_ms = 0\n"),
            format!("{base}[http]\nmax_connections = 0\n"),
            format!("{base}[http]\nmax_add_checkpoint_in_flight = 0\n"),
            format!("{base}[http]\nunknown = 1\n"),
            format!("{base}[[log]]\norigin = \"a\"\nkey = \"nope\"\n"),
            format!("{base}[[log]]\norigin = \"a\"\nkey = \"{k}\"\n[[log]]\norigin = \"a\"\nkey = \"{k}\"\n"),
        ] {
            assert!(ConfigFile::parse(&bad).is_err(), "{bad}");
        }
    }
}
