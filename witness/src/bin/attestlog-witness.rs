//! `attestlog-witness`: key generation and the witness server. Thin: it
//! parses arguments, reads the configuration and wires the library.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use attestlog_core::note::KeyType;
use attestlog_service::{init_tracing, key_file, shutdown_signal, LogFormat};
use attestlog_witness::config::ConfigFile;
use attestlog_witness::http::{serve, App};
use attestlog_witness::metrics::Metrics;
use attestlog_witness::state::State;
use attestlog_witness::{gossip, LogTiles, Witness};
use clap::{Parser, Subcommand};

/// A witness for attestlog (and any C2SP tlog-witness client): it cosigns
/// a log's checkpoint only if it is consistent with every checkpoint of
/// that log it cosigned before, and compares notes with other witnesses to
/// catch a log that shows different histories to different people.
///
/// Getting started:
///
///   attestlog-witness keygen --name witness.example/w1 --out /etc/attestlog-witness/key
///   # add the printed verifier key to the logs' witness policies, then
///   attestlog-witness serve --config /etc/attestlog-witness/witness.toml
///
/// See deploy/witness.toml for a commented configuration and
/// docs/SPEC.md (section 8) for the HTTP API and gossip.
#[derive(Parser)]
#[command(name = "attestlog-witness", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generates a cosignature/v1 (type 0x04) key, writes the private key
    /// to --out (mode 0600, never overwriting) and prints the verifier key
    /// that logs and clients need.
    Keygen {
        /// The witness name, e.g. `witness.example/w1` (no spaces or '+').
        #[arg(long)]
        name: String,
        /// Where to write the private key; must not exist yet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Runs the witness: C2SP tlog-witness add-checkpoint, the monitoring
    /// read, gossip with peers, /metrics and /healthz.
    Serve {
        /// The TOML configuration file (see deploy/witness.toml).
        #[arg(long, env = "ATTESTLOG_WITNESS_CONFIG")]
        config: PathBuf,
        /// Listen on this address instead of the configured one (use
        /// 127.0.0.1:0 for any free port, with --ready-file).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Use this state directory instead of the configured one.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Use this key file instead of the configured one (e.g. a systemd
        /// credential: `--key-file %d/key`).
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// After binding, write `http=<address>` to this file, so scripts
        /// and tests know the port and that the witness is up.
        #[arg(long)]
        ready_file: Option<PathBuf>,
        /// Log format.
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// Log filter, e.g. `info` or `attestlog_witness=debug` (RUST_LOG
        /// overrides it).
        #[arg(long, default_value = "info")]
        log_level: String,
    },
}

fn main() -> anyhow::Result<()> {
    attestlog_service::errors_without_backtraces();
    match Cli::parse().command {
        Command::Keygen { name, out } => keygen(&name, &out),
        Command::Serve {
            config,
            listen,
            data_dir,
            key_file,
            ready_file,
            log_format,
            log_level,
        } => {
            init_tracing(log_format, &log_level);
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            rt.block_on(run(&config, listen, data_dir, key_file, ready_file))
        }
    }
}

fn keygen(name: &str, out: &Path) -> anyhow::Result<()> {
    let key = key_file::generate(out, name, KeyType::Cosignature)?;
    println!("{}", key.verifier().to_key_string());
    Ok(())
}

async fn run(
    config_path: &Path,
    listen: Option<std::net::SocketAddr>,
    data_dir: Option<PathBuf>,
    key_flag: Option<PathBuf>,
    ready_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let cfg = ConfigFile::parse(&text).with_context(|| format!("in {}", config_path.display()))?;
    let key_path = key_flag.as_deref().unwrap_or(&cfg.key_file);
    let key = key_file::read_as(key_path, KeyType::Cosignature, &cfg.name)
        .context("reading the witness key (written by `attestlog-witness keygen`)")?;
    let dir = data_dir.unwrap_or_else(|| cfg.data_dir.clone());
    let state = State::open(&dir).with_context(|| format!("opening state in {}", dir.display()))?;
    let witness = Arc::new(
        Witness::new(key, cfg.log_configs()?, state, Metrics::new())?
            .with_max_kept(cfg.gossip.max_kept),
    );
    let listener = tokio::net::TcpListener::bind(listen.unwrap_or(cfg.listen))
        .await
        .context("binding the listen address")?;
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        name = %cfg.name,
        verifier_key = %witness.key().verifier().to_key_string(),
        logs = witness.logs().count(),
        peers = cfg.gossip.peers.len(),
        "attestlog-witness serving"
    );
    if let Some(path) = &ready_file {
        attestlog_service::ready_file::write(path, &[("http", addr)])
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let app = Arc::new(App {
        witness: witness.clone(),
        tiles: Arc::new(LogTiles::new(
            tokio::runtime::Handle::current(),
            cfg.timeout(),
        )),
        submission_prefix: cfg.submission_prefix.clone(),
        monitoring_prefix: cfg.monitoring_prefix.clone(),
        gossip_slots: Arc::new(tokio::sync::Semaphore::new(cfg.gossip.max_in_flight)),
        add_checkpoint_slots: Arc::new(tokio::sync::Semaphore::new(
            cfg.http.max_add_checkpoint_in_flight,
        )),
        limits: cfg.http.limits(),
    });
    let gossip = tokio::spawn(gossip::run(
        witness,
        cfg.gossip.peers.clone(),
        cfg.interval(),
        cfg.timeout(),
    ));
    serve(listener, app, shutdown_signal()).await;
    gossip.abort();
    tracing::info!("attestlog-witness stopped");
    Ok(())
}
