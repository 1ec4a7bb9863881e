//! `attestlog-server`: the log's binary. Argument parsing, configuration
//! and wiring only; the work is in the `attestlog_server` library.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use attestlog_attest::Keyring;
use attestlog_core::note::{KeyType, NoteVerifier as _, VerifierKey};
use attestlog_server::admission::openpgp::OpenPgpAdmission;
use attestlog_server::admission::Admission;
use attestlog_server::cli::ConfigOverrides;
use attestlog_server::config::{Config, PolicyKind};
use attestlog_service::{init_tracing, key_file, shutdown_signal, LogFormat};
use attestlog_store::{CachedStore, RocksStore};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// mimalloc: the server allocates many small, short-lived buffers per
/// request (gRPC frames, OpenPGP packets, JSON); glibc's malloc took about
/// a tenth of the CPU under load (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// attestlog: a transparency log for OpenPGP-signed build attestations.
///
/// Publishers submit signed attestations over gRPC; the log verifies each
/// signature, appends the entry to an RFC 9162 Merkle tree in RocksDB,
/// and answers with an inclusion proof under an Ed25519-signed C2SP
/// checkpoint. Anyone can read the tree as C2SP tlog-tiles over HTTP.
///
/// First run:
///   attestlog-server keygen --name example.org/log --out data/log.key
///   attestlog-server serve --origin example.org/log --key-file data/log.key
///
/// Lost the data directory of a log that publishes to a bucket
/// ([object_store])? `attestlog-server restore --config FILE` rebuilds it.
#[derive(Parser)]
#[command(version, about, long_about, verbatim_doc_comment)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a signing key and print its verifier key.
    ///
    /// The key file holds a C2SP signed-note signer key
    /// (PRIVATE+KEY+<name>+<id>+<key>), created with mode 0600; an existing
    /// file is never overwritten. Give the printed verifier key
    /// (<name>+<id>+<key>) to clients and witnesses.
    #[command(verbatim_doc_comment)]
    Keygen {
        /// The key name: for a log, its origin (e.g. example.org/log).
        #[arg(long)]
        name: String,
        /// Where to write the key.
        #[arg(long)]
        out: PathBuf,
        /// `log` for a checkpoint key (Ed25519, 0x01), `witness` for a
        /// cosignature key (cosignature/v1, 0x04).
        #[arg(long, value_enum, default_value_t = KeyKind::Log)]
        kind: KeyKind,
    },
    /// Print the verifier key of a key file.
    PublicKey {
        /// The signer key file.
        key_file: PathBuf,
    },
    /// Run the log, or a read replica of it.
    ///
    /// Settings come from --config (TOML; see deploy/log.toml), then from
    /// these flags. Stops cleanly on SIGTERM or Ctrl-C, finishing the batch
    /// in flight; SIGHUP rereads the admission keyring.
    ///
    /// A read replica follows the log's bucket and serves proofs, entries,
    /// search and tiles from its own data directory:
    ///   attestlog-server serve --config replica.toml --replica-of-bucket \
    ///       --primary https://log.example.org:7300 --log-key "$(cat log.vkey)"
    #[command(verbatim_doc_comment)]
    Serve(Box<ServeArgs>),
    /// Rebuild the data directory from the log's bucket.
    ///
    /// Reads the bucket's checkpoint and verifies it with the log key, then
    /// every entry bundle, hash tile and signer certificate of that tree:
    /// each chunk of entries must lead to the checkpoint's root (checked by
    /// consistency proofs from the bucket's hash tiles), every hash tile must
    /// match the entries, every certificate must be its signer's. The search
    /// and deduplication indexes are recomputed from the entries. The store
    /// is built in <data_dir>.restoring and renamed to data_dir only once
    /// every check passed: on any failure data_dir is not written.
    ///
    /// data_dir must not exist (or be an empty directory). `serve` with the
    /// same configuration then continues the log from exactly the bucket's
    /// checkpoint.
    ///
    /// Settings come from --config: origin, data_dir, key_file (only its
    /// public key is used) and [object_store] (credentials as for `serve`:
    /// its credentials_file, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
    ///
    /// On a machine without the log's private key:
    ///   attestlog-server restore --config log.toml \
    ///       --from-bucket s3://attestlog/logs/main \
    ///       --log-key "$(cat log.vkey)"
    #[command(verbatim_doc_comment)]
    Restore(RestoreArgs),
}

/// Flags of `restore`.
#[derive(Args)]
struct RestoreArgs {
    /// TOML configuration file (origin, data_dir, key_file, [object_store]).
    #[arg(long, short)]
    config: PathBuf,
    /// Read this bucket and prefix instead of [object_store]'s (same
    /// endpoint, region and credentials).
    #[arg(long, value_name = "s3://BUCKET[/PREFIX]")]
    from_bucket: Option<String>,
    /// Restore into this directory instead of data_dir; it must not exist
    /// or be empty.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The log's verifier key (<origin>+<id>+<key>, as `public-key`
    /// prints it), instead of reading key_file.
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// The log's origin, instead of the configuration's.
    #[arg(long)]
    origin: Option<String>,
}

/// Flags of `serve`.
#[derive(Args)]
struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Each overrides the configuration file.
    #[command(flatten)]
    overrides: ConfigOverrides,
    /// Once listening, write the bound addresses to this file
    /// (`grpc=<addr>` and `http=<addr>` lines); useful with port 0.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Run as a read replica (see below).
    #[command(flatten)]
    replica: ReplicaArgs,
}

/// Flags of a read replica.
#[derive(Args)]
struct ReplicaArgs {
    /// Run as a read replica of the log whose bucket [object_store] names:
    /// catch up with the bucket (verifying the log's signature on its
    /// checkpoint and every entry against it), then serve the read API
    /// from the local data directory and follow the bucket. Submit is
    /// refused, naming --primary. No signer key is needed.
    #[arg(long, requires = "primary")]
    replica_of_bucket: bool,
    /// The primary log's gRPC URL, named when a replica refuses Submit.
    #[arg(long, value_name = "URL")]
    primary: Option<String>,
    /// A replica's log verifier key (<origin>+<id>+<key>), instead of the
    /// key_file's.
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// Milliseconds between a replica's looks at the bucket.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    follow_interval_ms: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum KeyKind {
    Log,
    Witness,
}

fn main() -> anyhow::Result<()> {
    attestlog_service::errors_without_backtraces();
    let cli = Cli::parse();
    init_tracing(cli.log_format, "info");
    match cli.command {
        Command::Keygen { name, out, kind } => {
            let t = match kind {
                KeyKind::Log => KeyType::Ed25519,
                KeyKind::Witness => KeyType::Cosignature,
            };
            let key = key_file::generate(&out, &name, t)?;
            println!("{}", key.verifier().to_key_string());
            Ok(())
        }
        Command::PublicKey { key_file } => {
            let key = key_file::read(&key_file)?;
            println!("{}", key.verifier().to_key_string());
            Ok(())
        }
        Command::Serve(args) => {
            let ServeArgs {
                config,
                overrides,
                ready_file,
                replica,
            } = *args;
            let c = Config::resolve(config.as_deref(), overrides)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            if replica.replica_of_bucket {
                runtime.block_on(serve_replica(c, replica, ready_file))
            } else {
                runtime.block_on(serve(c, ready_file))
            }
        }
        Command::Restore(args) => restore(args),
    }
}

fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let RestoreArgs {
        config,
        from_bucket,
        data_dir,
        log_key,
        origin,
    } = args;
    let c = Config::resolve(
        Some(&config),
        ConfigOverrides {
            data_dir,
            origin,
            ..ConfigOverrides::default()
        },
    )?;
    let mut location = c.object_store.clone().with_context(|| {
        format!(
            "{} has no [object_store] section: restore reads the log's bucket",
            config.display()
        )
    })?;
    if let Some(url) = &from_bucket {
        attestlog_server::cli::set_bucket_location(&mut location, url)?;
    }
    let verifier = log_verifier(log_key.as_deref(), &c.key_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let bucket = open_bucket(&location)?;
        tracing::info!(
            bucket = bucket.describe(),
            data_dir = %c.data_dir.display(),
            origin = %c.origin,
            "restoring the log from its bucket"
        );
        let report = attestlog_server::restore::restore(
            &bucket,
            &c.origin,
            &verifier,
            &c.data_dir,
            |done, total| tracing::info!(done, total, "restoring entries"),
        )
        .await
        .with_context(|| format!("restoring {} from {}", c.data_dir.display(), bucket.describe()))?;
        tracing::info!(
            size = report.size,
            root = %report.root,
            certificates = report.certificates,
            bytes_read = report.bytes_read,
            seconds = report.elapsed.as_secs_f64(),
            "restored"
        );
        println!(
            "restored {} entries and {} certificates of {} (checkpoint size {}, root {}) from {} into {}: {:.1} MiB read in {:.1} s",
            report.entries,
            report.certificates,
            c.origin,
            report.size,
            report.root,
            bucket.describe(),
            c.data_dir.display(),
            report.bytes_read as f64 / f64::from(1 << 20),
            report.elapsed.as_secs_f64()
        );
        Ok(())
    })
}

/// The log's verifier key: `log_key` (a verifier key string) if given,
/// else that of the signer key in `key_file`.
fn log_verifier(log_key: Option<&str>, key_file: &std::path::Path) -> anyhow::Result<VerifierKey> {
    match log_key {
        Some(k) => VerifierKey::parse(k.trim()).context("--log-key is not a verifier key"),
        None => Ok(key_file::read(key_file)
            .context("reading the log key (or give its verifier key with --log-key)")?
            .verifier()),
    }
}

/// An S3 client for `location`, with its credentials.
fn open_bucket(
    location: &attestlog_bucket::BucketConfig,
) -> anyhow::Result<attestlog_bucket::Bucket> {
    let credentials = attestlog_bucket::Credentials::load(location)?;
    Ok(attestlog_bucket::Bucket::open(location, &credentials)?)
}

/// Opens the data directory's store, with the upper tree levels cached.
fn open_store(c: &Config) -> anyhow::Result<Arc<CachedStore<RocksStore>>> {
    std::fs::create_dir_all(&c.data_dir)
        .with_context(|| format!("creating {}", c.data_dir.display()))?;
    let rocks = RocksStore::open(&c.data_dir)
        .with_context(|| format!("opening the store in {}", c.data_dir.display()))?;
    let store = Arc::new(
        CachedStore::new(rocks, c.hash_cache_mib << 20)
            .context("reading the tree's upper levels into memory")?,
    );
    tracing::info!(
        from_level = store.min_cached_level(),
        budget_mib = c.hash_cache_mib,
        "tree hash cache filled"
    );
    Ok(store)
}

/// The gRPC TLS identity of `[tls]`, if set.
fn grpc_identity(c: &Config) -> anyhow::Result<Option<tonic::transport::Identity>> {
    Ok(match (&c.tls.cert_file, &c.tls.key_file) {
        (Some(cert), Some(key)) => {
            let read = |p: &PathBuf| {
                std::fs::read(p).with_context(|| format!("reading TLS file {}", p.display()))
            };
            Some(tonic::transport::Identity::from_pem(
                read(cert)?,
                read(key)?,
            ))
        }
        _ => None,
    })
}

/// Binds the configured gRPC and HTTP addresses and writes the ready file.
async fn bind(
    c: &Config,
    ready_file: Option<&std::path::Path>,
) -> anyhow::Result<(tokio::net::TcpListener, tokio::net::TcpListener)> {
    let grpc = tokio::net::TcpListener::bind(c.grpc_listen)
        .await
        .with_context(|| format!("binding gRPC on {}", c.grpc_listen))?;
    let http = tokio::net::TcpListener::bind(c.http_listen)
        .await
        .with_context(|| format!("binding HTTP on {}", c.http_listen))?;
    if let Some(path) = ready_file {
        let addresses = [("grpc", grpc.local_addr()?), ("http", http.local_addr()?)];
        attestlog_service::ready_file::write(path, &addresses)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok((grpc, http))
}

/// `serve --replica-of-bucket`: follow [object_store]'s bucket and serve
/// the read API.
async fn serve_replica(
    c: Config,
    replica: ReplicaArgs,
    ready_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    let location = c.object_store.clone().context(
        "--replica-of-bucket follows the bucket of [object_store]; the configuration has none",
    )?;
    let verifier = log_verifier(replica.log_key.as_deref(), &c.key_file)?;
    let primary = replica
        .primary
        .clone()
        .context("--replica-of-bucket needs --primary, the log publishers submit to")?;
    let bucket = open_bucket(&location)?;
    let store = open_store(&c)?;
    tracing::info!(
        bucket = bucket.describe(),
        "catching up with the bucket before serving"
    );
    let state = attestlog_server::replica::open(store, &bucket, &c.origin, &verifier).await?;
    let grpc_tls = grpc_identity(&c)?;
    let (grpc, http) = bind(&c, ready_file.as_deref()).await?;
    tracing::info!(
        origin = %c.origin,
        primary = %primary,
        bucket = bucket.describe(),
        grpc = %grpc.local_addr()?,
        http = %http.local_addr()?,
        size = state.current().size,
        "attestlog read replica serving"
    );
    let stop = shutdown_signal();
    let replica = attestlog_server::Replica {
        state,
        verifier,
        config: attestlog_server::replica::ReplicaConfig {
            bucket,
            primary,
            interval: std::time::Duration::from_millis(replica.follow_interval_ms),
        },
        http_limits: c.http.limits(),
        grpc_tls,
    };
    attestlog_server::serve_replica(replica, grpc, http, async {
        stop.await;
        tracing::info!("shutting down");
    })
    .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn serve(c: Config, ready_file: Option<PathBuf>) -> anyhow::Result<()> {
    let key = key_file::read(&c.key_file).with_context(|| {
        format!(
            "reading the log key; create one with `attestlog-server keygen --name {} --out {}`",
            c.origin,
            c.key_file.display()
        )
    })?;
    let admission = match c.admission.policy {
        PolicyKind::Open => Arc::new(OpenPgpAdmission::open(c.admission.max_signature_age())),
        PolicyKind::Keyring => {
            let path = c
                .admission
                .keyring
                .clone()
                .context("the keyring policy needs a keyring path")?;
            let ring = Keyring::load(&path)
                .with_context(|| format!("loading keyring {}", path.display()))?;
            tracing::info!(certificates = ring.len(), path = %path.display(), "keyring loaded");
            Arc::new(OpenPgpAdmission::keyring(
                Arc::new(ring),
                c.admission.max_signature_age(),
            ))
        }
    };
    let store = open_store(&c)?;
    let grpc_tls = grpc_identity(&c)?;
    let state = attestlog_server::open_log(store, &c.origin, &key)?;
    let (grpc, http) = bind(&c, ready_file.as_deref()).await?;
    tracing::info!(
        origin = %c.origin,
        key_id = format_args!("{:08x}", key.verifier().key_id()),
        verifier_key = %key.verifier().to_key_string(),
        grpc = %grpc.local_addr()?,
        grpc_tls = grpc_tls.is_some(),
        http = %http.local_addr()?,
        size = state.current().size,
        policy = ?c.admission.policy,
        "attestlog log serving"
    );
    let reload = admission.clone();
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hup.recv().await.is_some() {
            match reload.reload() {
                Ok(Some(n)) => tracing::info!(certificates = n, "keyring reloaded"),
                Ok(None) => tracing::info!("SIGHUP: nothing to reload under the open policy"),
                Err(e) => tracing::error!(error = %e, "keyring reload failed; keeping the old set"),
            }
        }
    });
    let stop = shutdown_signal();
    let shutdown = async {
        stop.await;
        tracing::info!("shutting down: finishing the batch in flight");
    };
    let witnessing = match &c.witnessing.policy {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the witness policy {}", path.display()))?;
            let policy = attestlog_core::tlog_policy::TlogPolicy::parse(text.as_bytes())
                .with_context(|| format!("parsing the witness policy {}", path.display()))?;
            if !policy.logs.iter().any(|l| l.key == key.verifier()) {
                tracing::warn!("the witness policy's log lines do not name this log's key");
            }
            tracing::info!(
                witnesses = policy.witnesses.len(),
                quorum = %policy.explain(&[]),
                "witnessing enabled"
            );
            Some(attestlog_server::witnessing::WitnessingConfig {
                policy,
                interval: std::time::Duration::from_millis(c.witnessing.interval_ms),
                timeout: std::time::Duration::from_millis(c.witnessing.timeout_ms),
            })
        }
    };
    let publish = match &c.object_store {
        None => None,
        Some(o) => {
            let bucket = open_bucket(o)?;
            tracing::info!(bucket = bucket.describe(), ack = ?c.publish.ack, "publishing to an object store");
            Some(attestlog_server::publish::PublishConfig {
                bucket,
                ack: c.publish.ack,
                ack_timeout: std::time::Duration::from_millis(c.publish.ack_timeout_ms),
                max_waiting: c.publish.max_waiting,
                interval: std::time::Duration::from_millis(c.publish.interval_ms),
            })
        }
    };
    let admission: Arc<dyn Admission> = admission;
    let log = attestlog_server::Log {
        state,
        key,
        admission,
        sequencer: c.sequencer(),
        witnessing,
        rate_limit: c.admission.rate_limit(),
        http_limits: c.http.limits(),
        admission_limits: c.admission.limits(),
        grpc_tls,
        publish,
    };
    attestlog_server::serve(log, grpc, http, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}
