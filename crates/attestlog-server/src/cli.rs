//! The `serve` flags that override the configuration file, and the order
//! in which a setting is decided: a flag beats the file, the file beats
//! the default ([`Config::resolve`]). The binary only parses them
//! (`#[command(flatten)]`) and hands them here, so the precedence and the
//! deprecated spellings are tested without starting a process.
//!
//! Deprecated: `--policy open|keyring`, now `--admission` (it sat beside
//! the client's `verify --policy FILE`, a C2SP tlog-policy, and meant
//! something else). It still works, hidden from `--help`, and
//! [`Config::apply`] logs a warning when it is used.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use attestlog_bucket::BucketConfig;
use clap::Args;

use crate::config::{Config, ConfigError, PolicyKind};

/// Flags of `attestlog-server serve` that override the configuration file;
/// each `None` leaves the file's (or the default) value.
#[derive(Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigOverrides {
    /// Checkpoint origin (also the log key's name).
    #[arg(long)]
    pub origin: Option<String>,
    /// RocksDB directory (created if missing).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The log's signer key file (see `keygen`).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// gRPC listen address.
    #[arg(long)]
    pub grpc_listen: Option<SocketAddr>,
    /// HTTP listen address (tiles, /checkpoint, /healthz, /metrics).
    #[arg(long)]
    pub http_listen: Option<SocketAddr>,
    /// Memory for the upper Merkle tree levels, in MiB (default 256: every
    /// level of a 4-million-entry log, all but the lowest 8 levels of a billion).
    #[arg(long)]
    pub hash_cache_mib: Option<u64>,
    /// Admission policy, who may submit: `open` or `keyring` (the file's
    /// `[admission] policy`).
    #[arg(long, value_enum, value_name = "open|keyring")]
    pub admission: Option<PolicyKind>,
    /// Deprecated spelling of `--admission`, kept working and hidden.
    #[arg(
        long = "policy",
        value_enum,
        value_name = "open|keyring",
        hide = true,
        conflicts_with = "admission"
    )]
    pub deprecated_policy: Option<PolicyKind>,
    /// Keyring file or directory, for `--admission keyring`.
    #[arg(long)]
    pub keyring: Option<PathBuf>,
    /// New entries one signer key may add per minute, sustained (default
    /// 600; 0 turns the per-key limit off). Over it: RESOURCE_EXHAUSTED.
    #[arg(long)]
    pub per_key_per_minute: Option<u32>,
    /// New entries one signer key may add at once (default 10000).
    #[arg(long)]
    pub per_key_burst: Option<u32>,
    /// Most signer keys the rate limit tracks at once (default 100000);
    /// past that the least recently used are forgotten.
    #[arg(long)]
    pub per_key_tracked_max: Option<usize>,
    /// Refuse signatures created more than this many seconds before the
    /// log's time (default 86400 under `open`, no limit under `keyring`;
    /// 0: no limit).
    #[arg(long)]
    pub max_signature_age_secs: Option<u64>,
    /// Most entries per batch.
    #[arg(long)]
    pub batch_max_entries: Option<usize>,
    /// Longest batching wait, in milliseconds.
    #[arg(long)]
    pub batch_max_wait_ms: Option<u64>,
    /// Most admitted entries waiting before RESOURCE_EXHAUSTED.
    #[arg(long)]
    pub queue_limit: Option<usize>,
    /// C2SP tlog-policy file of the witnesses to ask for cosignatures
    /// (`witness <name> <vkey> <url>` lines and a `quorum`).
    #[arg(long)]
    pub witness_policy: Option<PathBuf>,
    /// Serve gRPC over TLS with this certificate chain (PEM, leaf first);
    /// needs --tls-key. Clients then use https:// URLs.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// When to answer a submission, with an `[object_store]` configured:
    /// `local` after the synced local write, `replicated` only once the
    /// bucket holds a checkpoint that includes the entry.
    #[arg(long, value_enum)]
    pub ack: Option<crate::publish::AckMode>,
}

/// A deprecated flag that was used; its `Display` is the warning logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deprecated {
    /// The flag given, e.g. `--policy`.
    pub flag: &'static str,
    /// The flag to use instead, with the same values.
    pub instead: &'static str,
}

impl fmt::Display for Deprecated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is deprecated and will be removed; use {} (same values)",
            self.flag, self.instead
        )
    }
}

impl Config {
    /// Overrides every setting for which a flag was given; logs a warning
    /// for each deprecated flag used and returns them. Paths given as
    /// flags are taken as they are (relative to the working directory),
    /// unlike the file's, which are relative to the file.
    pub fn apply(&mut self, flags: ConfigOverrides) -> Vec<Deprecated> {
        let ConfigOverrides {
            origin,
            data_dir,
            key_file,
            grpc_listen,
            http_listen,
            hash_cache_mib,
            admission,
            deprecated_policy,
            keyring,
            per_key_per_minute,
            per_key_burst,
            per_key_tracked_max,
            max_signature_age_secs,
            batch_max_entries,
            batch_max_wait_ms,
            queue_limit,
            witness_policy,
            tls_cert,
            tls_key,
            ack,
        } = flags;
        let mut deprecated = Vec::new();
        if deprecated_policy.is_some() {
            deprecated.push(Deprecated {
                flag: "--policy",
                instead: "--admission",
            });
        }
        for d in &deprecated {
            tracing::warn!("{d}");
        }
        set(&mut self.origin, origin);
        set(&mut self.data_dir, data_dir);
        set(&mut self.key_file, key_file);
        set(&mut self.grpc_listen, grpc_listen);
        set(&mut self.http_listen, http_listen);
        set(&mut self.hash_cache_mib, hash_cache_mib);
        let a = &mut self.admission;
        set(&mut a.policy, admission.or(deprecated_policy));
        set(&mut a.keyring, keyring.map(Some));
        set(&mut a.per_key_per_minute, per_key_per_minute);
        set(&mut a.per_key_burst, per_key_burst);
        set(&mut a.per_key_tracked_max, per_key_tracked_max);
        set(
            &mut a.max_signature_age_secs,
            max_signature_age_secs.map(Some),
        );
        let b = &mut self.batch;
        set(&mut b.max_entries, batch_max_entries);
        set(&mut b.max_wait_ms, batch_max_wait_ms);
        set(&mut b.queue_limit, queue_limit);
        set(&mut self.witnessing.policy, witness_policy.map(Some));
        set(&mut self.publish.ack, ack);
        // clap makes --tls-cert and --tls-key go together.
        if let (Some(cert), Some(key)) = (tls_cert, tls_key) {
            self.tls.cert_file = Some(cert);
            self.tls.key_file = Some(key);
        }
        deprecated
    }

    /// The configuration `serve` runs with: `file` (or the defaults), then
    /// `flags` over it ([`Config::apply`]), then [`Config::validate`].
    pub fn resolve(file: Option<&Path>, flags: ConfigOverrides) -> Result<Config, ConfigError> {
        let mut c = match file {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        c.apply(flags);
        c.validate()?;
        Ok(c)
    }
}

/// Points `config` at the bucket and prefix of `url`,
/// `s3://BUCKET[/PREFIX]` (`restore --from-bucket`), keeping its endpoint,
/// region, credentials and timeout; checks the result.
pub fn set_bucket_location(config: &mut BucketConfig, url: &str) -> Result<(), ConfigError> {
    let rest = url.strip_prefix("s3://").ok_or_else(|| {
        ConfigError::Invalid(format!(
            "{url:?} is not a bucket location; write s3://BUCKET or s3://BUCKET/PREFIX"
        ))
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    config.bucket = bucket.to_owned();
    config.prefix = prefix.trim_end_matches('/').to_owned();
    config
        .validate()
        .map_err(|e| ConfigError::Invalid(format!("{url}: {e}")))
}

/// `*field = value` if a value was given.
fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use crate::config::{AdmissionConfig, BatchConfig, TlsSection, WitnessingSection};

    /// `serve`'s flags as the binary parses them.
    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        flags: ConfigOverrides,
    }

    fn flags(args: &[&str]) -> ConfigOverrides {
        Serve::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
            .flags
    }

    /// A file setting two values (one of them relative), in a temporary
    /// directory.
    fn file(dir: &Path) -> PathBuf {
        let path = dir.join("log.toml");
        std::fs::write(
            &path,
            "origin = \"file.example/log\"\nkey_file = \"file.key\"\n\
             [admission]\npolicy = \"keyring\"\nkeyring = \"ring\"\n\
             [batch]\nmax_entries = 10\n",
        )
        .unwrap();
        path
    }

    /// Pins the precedence: a flag beats the file, the file beats the
    /// default; a setting neither gives keeps its default.
    #[test]
    fn flag_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path());
        let c = Config::resolve(
            Some(&path),
            flags(&["--origin", "flag.example/log", "--batch-max-wait-ms", "7"]),
        )
        .unwrap();
        assert_eq!(c.origin, "flag.example/log", "flag over file");
        assert_eq!(c.key_file, dir.path().join("file.key"), "file over default");
        assert_eq!(c.batch.max_entries, 10, "file over default");
        assert_eq!(c.batch.max_wait_ms, 7, "flag over default");
        assert_eq!(c.batch.queue_limit, 4096, "default");
        assert_eq!(c.admission.policy, PolicyKind::Keyring);

        let c = Config::resolve(
            Some(&path),
            flags(&["--admission", "open", "--key-file", "k"]),
        )
        .unwrap();
        assert_eq!(c.admission.policy, PolicyKind::Open);
        assert_eq!(
            c.key_file,
            PathBuf::from("k"),
            "flag paths are taken as given"
        );

        let c = Config::resolve(None, ConfigOverrides::default()).unwrap();
        assert_eq!(c, Config::default());
    }

    /// Every flag lands on its setting.
    #[test]
    fn each_flag_sets_its_setting() {
        let mut c = Config::default();
        let deprecated = c.apply(flags(&[
            "--origin",
            "o.example/log",
            "--data-dir",
            "d",
            "--key-file",
            "k",
            "--grpc-listen",
            "127.0.0.1:1",
            "--http-listen",
            "127.0.0.1:2",
            "--hash-cache-mib",
            "3",
            "--admission",
            "keyring",
            "--keyring",
            "ring",
            "--per-key-per-minute",
            "4",
            "--per-key-burst",
            "5",
            "--per-key-tracked-max",
            "6",
            "--max-signature-age-secs",
            "0",
            "--batch-max-entries",
            "8",
            "--batch-max-wait-ms",
            "9",
            "--queue-limit",
            "10",
            "--witness-policy",
            "w.policy",
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
        ]));
        let want = Config {
            origin: "o.example/log".into(),
            data_dir: "d".into(),
            key_file: "k".into(),
            grpc_listen: "127.0.0.1:1".parse().unwrap(),
            http_listen: "127.0.0.1:2".parse().unwrap(),
            hash_cache_mib: 3,
            admission: AdmissionConfig {
                policy: PolicyKind::Keyring,
                keyring: Some("ring".into()),
                per_key_per_minute: 4,
                per_key_burst: 5,
                per_key_tracked_max: 6,
                max_signature_age_secs: Some(0),
                ..AdmissionConfig::default()
            },
            batch: BatchConfig {
                max_entries: 8,
                max_wait_ms: 9,
                queue_limit: 10,
            },
            witnessing: WitnessingSection {
                policy: Some("w.policy".into()),
                ..WitnessingSection::default()
            },
            tls: TlsSection {
                cert_file: Some("c.pem".into()),
                key_file: Some("k.pem".into()),
            },
            ..Config::default()
        };
        assert_eq!(c, want);
        assert!(deprecated.is_empty());
        c.validate().unwrap();
        assert_eq!(c.admission.max_signature_age(), None::<Duration>);
    }

    /// Pins the deprecated `--policy`: it still sets the admission policy,
    /// is reported for a warning, is hidden from help, and cannot be
    /// combined with `--admission`.
    #[test]
    fn deprecated_policy_flag_still_works_and_is_reported() {
        let mut c = Config::default();
        let deprecated = c.apply(flags(&["--policy", "keyring", "--keyring", "ring"]));
        assert_eq!(c.admission.policy, PolicyKind::Keyring);
        assert_eq!(
            deprecated,
            [Deprecated {
                flag: "--policy",
                instead: "--admission"
            }]
        );
        assert!(deprecated[0].to_string().contains("deprecated"));
        assert!(
            Serve::try_parse_from(["serve", "--policy", "open", "--admission", "open"]).is_err()
        );
        assert!(Serve::try_parse_from(["serve", "--admission", "closed"]).is_err());
        let help = <Serve as clap::CommandFactory>::command()
            .render_long_help()
            .to_string();
        assert!(help.contains("--admission"), "{help}");
        assert!(!help.contains("--policy"), "{help}");
    }

    /// `--from-bucket`: bucket and prefix from the URL, the rest kept;
    /// anything but `s3://BUCKET[/PREFIX]` refused.
    #[test]
    fn bucket_location() {
        let base: BucketConfig = toml::from_str(
            "endpoint = \"http://127.0.0.1:3900\"\nbucket = \"old\"\nprefix = \"old/p\"\nregion = \"garage\"\n",
        )
        .unwrap();
        let mut c = base.clone();
        set_bucket_location(&mut c, "s3://restored").unwrap();
        assert_eq!((c.bucket.as_str(), c.prefix.as_str()), ("restored", ""));
        assert_eq!(
            (c.endpoint.as_str(), c.region.as_str()),
            ("http://127.0.0.1:3900", "garage")
        );
        set_bucket_location(&mut c, "s3://b/logs/main/").unwrap();
        assert_eq!((c.bucket.as_str(), c.prefix.as_str()), ("b", "logs/main"));
        for bad in [
            "b/logs",
            "https://b/logs",
            "s3://",
            "s3:///logs",
            "s3://b//x",
            "s3://b/../x",
        ] {
            let mut c = base.clone();
            assert!(set_bucket_location(&mut c, bad).is_err(), "{bad}");
        }
    }

    /// Pins clap's pairing of the TLS flags: one without the other is an
    /// error, not a half-configured TLS.
    #[test]
    fn tls_flags_go_together() {
        assert!(Serve::try_parse_from(["serve", "--tls-cert", "c.pem"]).is_err());
        assert!(Serve::try_parse_from(["serve", "--tls-key", "k.pem"]).is_err());
    }
}
