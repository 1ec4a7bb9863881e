//! The server's TOML configuration. Every field has a default, so a file
//! only states what differs; command-line flags override the file (see
//! [`crate::cli`]).
//!
//! ```toml
//! origin = "localhost/attestlog"       # checkpoint origin = log key name
//! data_dir = "data/log"                # RocksDB directory (created)
//! key_file = "data/log.key"            # PRIVATE+KEY+... (see `keygen`)
//! grpc_listen = "127.0.0.1:7300"
//! http_listen = "127.0.0.1:7301"
//! hash_cache_mib = 256                 # upper Merkle tree levels kept in memory
//!
//! [batch]
//! max_entries = 1024                   # per batch and per checkpoint
//! max_wait_ms = 50                     # after the first entry of a batch
//! queue_limit = 4096                   # admitted entries waiting; beyond: RESOURCE_EXHAUSTED
//!
//! [admission]
//! policy = "open"                      # or "keyring" (flag: --admission)
//! keyring = "keys/"                    # file or directory, for "keyring"
//! per_key_per_minute = 600             # new entries per signer key, sustained (0: no limit)
//! per_key_burst = 10000                # new entries per signer key at once
//! per_key_tracked_max = 100000         # keys tracked; past that the least recently used are forgotten
//! max_signature_age_secs = 86400       # refuse older signatures (default: 86400 for open, off for keyring; 0: off)
//! threads = 2                          # submissions checked at once (default: one per core)
//! queue = 1024                         # submissions waiting to be checked; beyond: RESOURCE_EXHAUSTED
//! time_budget_ms = 2000                # most time one submission may take to check
//!
//! [http]
//! header_read_timeout_ms = 10000       # to receive a request head; keep-alive idle
//! idle_timeout_ms = 30000              # no byte moving while waiting on the peer
//! max_connections = 4096               # beyond: wait in the listen backlog
//!
//! [witnessing]
//! policy = "witnesses.policy"          # C2SP tlog-policy: witness lines with URLs, quorum
//! interval_ms = 1000                   # at most one round per interval, only when the tree grew
//! timeout_ms = 1000                    # per witness request
//!
//! [object_store]                       # publish the log to an S3-compatible bucket (optional)
//! endpoint = "http://127.0.0.1:3900"   # S3 API, path-style requests
//! bucket = "attestlog"
//! region = "garage"
//! prefix = ""                          # objects go under it
//! credentials_file = "s3.toml"         # access_key_id, secret_access_key; else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
//! timeout_ms = 10000                   # per request and per object body
//!
//! [publish]                            # with [object_store]
//! ack = "local"                        # or "replicated": answer only once the bucket holds the entry
//! ack_timeout_ms = 10000               # "replicated": longest wait for the bucket; then UNAVAILABLE
//! max_waiting = 4096                   # "replicated": submissions waiting for the bucket; beyond: UNAVAILABLE
//! interval_ms = 1000                   # "local": shortest time between two rounds (each rewrites the partial tiles)
//!
//! [tls]                                # gRPC over TLS (clients use https://)
//! cert_file = "tls/cert.pem"           # certificate chain, PEM, leaf first
//! key_file = "tls/key.pem"             # its private key, PEM
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use attestlog_http::server::{
    ServerLimits, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
};
use serde::Deserialize;

use attestlog_bucket::BucketConfig;

use crate::admission::AdmissionLimits;
use crate::publish::AckMode;
use crate::rate_limit::{RateLimit, MAX_TRACKED_KEYS};
use crate::sequencer::SequencerConfig;

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("parsing {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Admission policies: who may submit (`[admission] policy`, the flag
/// `--admission`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// Any valid certificate may submit.
    #[default]
    Open,
    /// Only certificates in the keyring may submit.
    Keyring,
}

/// `[admission]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AdmissionConfig {
    /// Which policy.
    pub policy: PolicyKind,
    /// Keyring file or directory (policy `keyring`).
    pub keyring: Option<PathBuf>,
    /// New entries one signer key may add per minute, sustained; 0: no
    /// limit.
    pub per_key_per_minute: u32,
    /// New entries one signer key may add at once after being idle.
    pub per_key_burst: u32,
    /// Most signer keys the rate limit tracks at once; past that the least
    /// recently used are forgotten.
    pub per_key_tracked_max: usize,
    /// Signatures created more than this many seconds before the log's
    /// time are refused; 0: any age. Unset: [`DEFAULT_OPEN_MAX_SIGNATURE_AGE`]
    /// under `open`, any age under `keyring`.
    pub max_signature_age_secs: Option<u64>,
    /// Submissions checked at once (default: one per core).
    pub threads: usize,
    /// Submissions waiting to be checked; beyond: RESOURCE_EXHAUSTED.
    pub queue: usize,
    /// Most milliseconds one submission may take to check.
    pub time_budget_ms: u64,
}

/// The oldest signature the `open` policy accepts by default: one day.
pub const DEFAULT_OPEN_MAX_SIGNATURE_AGE: Duration = Duration::from_secs(86_400);

impl Default for AdmissionConfig {
    fn default() -> Self {
        let limits = AdmissionLimits::default();
        AdmissionConfig {
            policy: PolicyKind::default(),
            keyring: None,
            per_key_per_minute: 600,
            per_key_burst: 10_000,
            per_key_tracked_max: MAX_TRACKED_KEYS,
            max_signature_age_secs: None,
            threads: limits.threads,
            queue: limits.queue,
            time_budget_ms: limits.budget.as_millis() as u64,
        }
    }
}

impl AdmissionConfig {
    /// The oldest signature admitted, `None` for any age.
    pub fn max_signature_age(&self) -> Option<Duration> {
        match (self.max_signature_age_secs, self.policy) {
            (Some(0), _) | (None, PolicyKind::Keyring) => None,
            (Some(secs), _) => Some(Duration::from_secs(secs)),
            (None, PolicyKind::Open) => Some(DEFAULT_OPEN_MAX_SIGNATURE_AGE),
        }
    }

    /// The admission pool's limits.
    pub fn limits(&self) -> AdmissionLimits {
        AdmissionLimits {
            threads: self.threads,
            queue: self.queue,
            budget: Duration::from_millis(self.time_budget_ms),
        }
    }

    /// The per-key rate limit, or `None` when `per_key_per_minute` is 0.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        (self.per_key_per_minute > 0).then_some(RateLimit {
            per_minute: self.per_key_per_minute,
            burst: self.per_key_burst,
            max_keys: self.per_key_tracked_max,
        })
    }
}

/// `[batch]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    /// Most entries per batch.
    pub max_entries: usize,
    /// Longest wait after a batch's first entry, in milliseconds.
    pub max_wait_ms: u64,
    /// Most admitted entries waiting.
    pub queue_limit: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        let d = SequencerConfig::default();
        BatchConfig {
            max_entries: d.max_batch,
            max_wait_ms: d.max_wait.as_millis() as u64,
            queue_limit: d.queue_limit,
        }
    }
}

/// `[http]`: limits of the HTTP read API against hostile peers (see
/// [`attestlog_http::server`]).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    /// Milliseconds to receive a request head, counted from accepting the
    /// connection or from the previous response (so also the longest a
    /// keep-alive connection stays idle).
    pub header_read_timeout_ms: u64,
    /// Milliseconds without a byte moving either way while the connection
    /// waits on the peer (a stalled body, an unread response).
    pub idle_timeout_ms: u64,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            header_read_timeout_ms: DEFAULT_HEADER_READ_TIMEOUT.as_millis() as u64,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT.as_millis() as u64,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl HttpSection {
    /// The accept loop's limits.
    pub fn limits(&self) -> ServerLimits {
        ServerLimits {
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(self.idle_timeout_ms),
            max_connections: self.max_connections,
        }
    }
}

/// `[witnessing]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct WitnessingSection {
    /// The C2SP tlog-policy file naming the witnesses (with URLs) and the
    /// quorum; no witnessing without it.
    pub policy: Option<PathBuf>,
    /// Milliseconds between rounds.
    pub interval_ms: u64,
    /// Milliseconds before one witness request times out.
    pub timeout_ms: u64,
}

impl Default for WitnessingSection {
    fn default() -> Self {
        WitnessingSection {
            policy: None,
            interval_ms: 1000,
            timeout_ms: 1000,
        }
    }
}

/// `[publish]`: how the log publishes to its `[object_store]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PublishSection {
    /// When a submission is answered.
    pub ack: AckMode,
    /// Under `ack = "replicated"`, the longest wait for the bucket, in
    /// milliseconds; then the submission is answered UNAVAILABLE (the
    /// entry stays logged and is published when the store recovers).
    pub ack_timeout_ms: u64,
    /// Under `ack = "replicated"`, submissions waiting for the bucket at
    /// once; beyond it they are answered UNAVAILABLE at once.
    pub max_waiting: usize,
    /// Under `ack = "local"`, the shortest time between the starts of two
    /// publishing rounds, in milliseconds (the bucket then trails the log
    /// by about this much plus one round). Under `ack = "replicated"`
    /// rounds follow each other at once.
    pub interval_ms: u64,
}

impl Default for PublishSection {
    fn default() -> Self {
        PublishSection {
            ack: AckMode::Local,
            ack_timeout_ms: 10_000,
            max_waiting: 4096,
            interval_ms: 1000,
        }
    }
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Checkpoint origin and log key name.
    pub origin: String,
    /// RocksDB directory.
    pub data_dir: PathBuf,
    /// The log's signer key file.
    pub key_file: PathBuf,
    /// gRPC address.
    pub grpc_listen: SocketAddr,
    /// HTTP (tiles, health, metrics) address.
    pub http_listen: SocketAddr,
    /// Memory for the upper levels of the Merkle tree, in MiB (see
    /// `attestlog_store::CachedStore`); 0 reads every proof hash from disk.
    pub hash_cache_mib: u64,
    /// Batching.
    pub batch: BatchConfig,
    /// Admission.
    pub admission: AdmissionConfig,
    /// HTTP server limits.
    pub http: HttpSection,
    /// Witnessing.
    pub witnessing: WitnessingSection,
    /// TLS for the gRPC port.
    pub tls: TlsSection,
    /// The bucket the log publishes to, if any.
    pub object_store: Option<BucketConfig>,
    /// How it publishes there.
    pub publish: PublishSection,
}

/// `[tls]`: serve gRPC over TLS (clients use `https://` URLs). Both files
/// or neither; PEM.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSection {
    /// The certificate chain, leaf first.
    pub cert_file: Option<PathBuf>,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            origin: "localhost/attestlog".into(),
            data_dir: "data/log".into(),
            key_file: "data/log.key".into(),
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 7300)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 7301)),
            hash_cache_mib: 256,
            batch: BatchConfig::default(),
            admission: AdmissionConfig::default(),
            http: HttpSection::default(),
            witnessing: WitnessingSection::default(),
            tls: TlsSection::default(),
            object_store: None,
            publish: PublishSection::default(),
        }
    }
}

impl Config {
    /// Reads a TOML file; relative paths in it are taken relative to the
    /// file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut c: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        c.data_dir = base.join(&c.data_dir);
        c.key_file = base.join(&c.key_file);
        if let Some(k) = &c.admission.keyring {
            c.admission.keyring = Some(base.join(k));
        }
        if let Some(p) = &c.witnessing.policy {
            c.witnessing.policy = Some(base.join(p));
        }
        if let Some(o) = &mut c.object_store {
            if let Some(p) = &o.credentials_file {
                o.credentials_file = Some(base.join(p));
            }
        }
        for f in [&mut c.tls.cert_file, &mut c.tls.key_file] {
            if let Some(p) = f {
                *f = Some(base.join(&*p));
            }
        }
        Ok(c)
    }

    /// Checks ranges and combinations.
    pub fn validate(&self) -> Result<(), ConfigError> {
        attestlog_core::note::check_key_name(&self.origin).map_err(|_| {
            ConfigError::Invalid(format!(
                "origin {:?} must be non-empty, without spaces or '+' (it names the log key)",
                self.origin
            ))
        })?;
        if self.hash_cache_mib > 1 << 20 {
            return Err(ConfigError::Invalid(
                "hash_cache_mib must be at most 1048576 (1 TiB)".into(),
            ));
        }
        let a = &self.admission;
        if a.per_key_per_minute > 0 && !(1..=10_000_000).contains(&a.per_key_burst) {
            return Err(ConfigError::Invalid(
                "admission.per_key_burst must be 1..=10000000 when per_key_per_minute is set"
                    .into(),
            ));
        }
        if !(1..=10_000_000).contains(&a.per_key_tracked_max) {
            return Err(ConfigError::Invalid(
                "admission.per_key_tracked_max must be 1..=10000000".into(),
            ));
        }
        if !(1..=1024).contains(&a.threads)
            || !(1..=1_000_000).contains(&a.queue)
            || !(1..=60_000).contains(&a.time_budget_ms)
        {
            return Err(ConfigError::Invalid(
                "admission.threads must be 1..=1024, admission.queue 1..=1000000 and \
                 admission.time_budget_ms 1..=60000"
                    .into(),
            ));
        }
        let b = &self.batch;
        if !(1..=65_536).contains(&b.max_entries) {
            return Err(ConfigError::Invalid(
                "batch.max_entries must be 1..=65536".into(),
            ));
        }
        if b.max_wait_ms > 10_000 {
            return Err(ConfigError::Invalid(
                "batch.max_wait_ms must be at most 10000".into(),
            ));
        }
        if !(1..=1_000_000).contains(&b.queue_limit) {
            return Err(ConfigError::Invalid(
                "batch.queue_limit must be 1..=1000000".into(),
            ));
        }
        let h = &self.http;
        let ms = 100..=3_600_000;
        if !ms.contains(&h.header_read_timeout_ms) || !ms.contains(&h.idle_timeout_ms) {
            return Err(ConfigError::Invalid(
                "http.header_read_timeout_ms and http.idle_timeout_ms must be 100..=3600000".into(),
            ));
        }
        if !(1..=1_000_000).contains(&h.max_connections) {
            return Err(ConfigError::Invalid(
                "http.max_connections must be 1..=1000000".into(),
            ));
        }
        let w = &self.witnessing;
        if !(10..=3_600_000).contains(&w.interval_ms) || !(10..=60_000).contains(&w.timeout_ms) {
            return Err(ConfigError::Invalid(
                "witnessing.interval_ms must be 10..=3600000 and timeout_ms 10..=60000".into(),
            ));
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            return Err(ConfigError::Invalid(
                "tls.cert_file and tls.key_file go together".into(),
            ));
        }
        if let Some(o) = &self.object_store {
            o.validate()
                .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        }
        let p = &self.publish;
        if p.ack == AckMode::Replicated && self.object_store.is_none() {
            return Err(ConfigError::Invalid(
                "publish.ack = \"replicated\" needs an [object_store] section".into(),
            ));
        }
        if !(1..=600_000).contains(&p.ack_timeout_ms) || !(1..=1_000_000).contains(&p.max_waiting) {
            return Err(ConfigError::Invalid(
                "publish.ack_timeout_ms must be 1..=600000 and publish.max_waiting 1..=1000000"
                    .into(),
            ));
        }
        if p.interval_ms > 60_000 {
            return Err(ConfigError::Invalid(
                "publish.interval_ms must be 0..=60000".into(),
            ));
        }
        if self.admission.policy == PolicyKind::Keyring && self.admission.keyring.is_none() {
            return Err(ConfigError::Invalid(
                "admission.policy = \"keyring\" needs admission.keyring (a file or directory)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The sequencer's limits.
    pub fn sequencer(&self) -> SequencerConfig {
        SequencerConfig {
            max_batch: self.batch.max_entries,
            max_wait: Duration::from_millis(self.batch.max_wait_ms),
            queue_limit: self.batch.queue_limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let c: Config =
            toml::from_str("origin = \"example.org/log\"\n[batch]\nmax_entries = 10\n").unwrap();
        assert_eq!(c.origin, "example.org/log");
        assert_eq!(c.batch.max_entries, 10);
        assert_eq!(c.batch.queue_limit, 4096);
        assert_eq!(c.http.limits(), ServerLimits::default());
        c.validate().unwrap();
        let http: Config =
            toml::from_str("[http]\nheader_read_timeout_ms = 500\nmax_connections = 2\n").unwrap();
        http.validate().unwrap();
        assert_eq!(http.http.limits().max_connections, 2);
        for bad in [
            "[http]\nheader_read_timeout_ms = 0\n",
            "[http]\nidle_timeout_ms = 99\n",
            "[http]\nmax_connections = 0\n",
        ] {
            let c: Config = toml::from_str(bad).unwrap();
            assert!(c.validate().is_err(), "{bad}");
        }
        assert!(toml::from_str::<Config>("[http]\nmax_conns = 1\n").is_err());
        assert!(
            toml::from_str::<Config>("orign = \"x\"").is_err(),
            "unknown keys are errors"
        );
        let bad = Config {
            origin: "has space".into(),
            ..Config::default()
        };
        assert!(bad.validate().is_err());
        let keyring = Config {
            admission: AdmissionConfig {
                policy: PolicyKind::Keyring,
                keyring: None,
                ..AdmissionConfig::default()
            },
            ..Config::default()
        };
        assert!(keyring.validate().is_err());
    }

    #[test]
    fn signature_age_defaults_by_policy() {
        let open: Config = toml::from_str("").unwrap();
        assert_eq!(
            open.admission.max_signature_age(),
            Some(DEFAULT_OPEN_MAX_SIGNATURE_AGE)
        );
        let keyring: Config =
            toml::from_str("[admission]\npolicy = \"keyring\"\nkeyring = \"k\"\n").unwrap();
        assert_eq!(keyring.admission.max_signature_age(), None);
        let off: Config = toml::from_str("[admission]\nmax_signature_age_secs = 0\n").unwrap();
        assert_eq!(off.admission.max_signature_age(), None);
        let set: Config = toml::from_str(
            "[admission]\npolicy = \"keyring\"\nkeyring = \"k\"\nmax_signature_age_secs = 60\n",
        )
        .unwrap();
        assert_eq!(
            set.admission.max_signature_age(),
            Some(Duration::from_secs(60))
        );
        let zero_threads: Config = toml::from_str("[admission]\nthreads = 0\n").unwrap();
        assert!(zero_threads.validate().is_err());
    }

    #[test]
    fn per_key_rate_limit() {
        let c: Config = toml::from_str("").unwrap();
        assert_eq!(
            c.admission.rate_limit(),
            Some(RateLimit {
                per_minute: 600,
                burst: 10_000,
                max_keys: MAX_TRACKED_KEYS,
            })
        );
        let off: Config = toml::from_str("[admission]\nper_key_per_minute = 0\n").unwrap();
        assert_eq!(off.admission.rate_limit(), None);
        off.validate().unwrap();
        let zero_burst: Config = toml::from_str("[admission]\nper_key_burst = 0\n").unwrap();
        assert!(zero_burst.validate().is_err());
    }
}
