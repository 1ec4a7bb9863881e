//! The load generator's flags.

use anyhow::Context as _;

/// The parsed command line (see `--help`).
pub struct Args {
    pub entries: usize,
    pub clients: usize,
    pub connections: usize,
    pub proof_seconds: u64,
    pub proof_log_size: u64,
    pub proof_clients: usize,
    pub proof_connections: usize,
    pub object_store: bool,
    pub ack: AckChoice,
    pub restore_size: u64,
    pub replica: bool,
    pub publish_interval_ms: Option<u64>,
    pub keep: bool,
}

/// Which publishing logs `--object-store` measures (`--ack`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AckChoice {
    Local,
    Replicated,
    Both,
}

impl AckChoice {
    /// Whether B (ack = local) runs.
    pub fn local(self) -> bool {
        self != AckChoice::Replicated
    }

    /// Whether C (ack = replicated) runs.
    pub fn replicated(self) -> bool {
        self != AckChoice::Local
    }
}

/// Parses the command line.
pub fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        entries: 20_000,
        clients: 1024,
        connections: 16,
        proof_seconds: 5,
        proof_log_size: 0,
        proof_clients: 256,
        proof_connections: 4,
        object_store: false,
        ack: AckChoice::Both,
        restore_size: 0,
        replica: false,
        publish_interval_ms: None,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().context("flag needs a value");
        match flag.as_str() {
            "--entries" => a.entries = value()?.parse()?,
            "--clients" => a.clients = value()?.parse()?,
            "--connections" => a.connections = value()?.parse()?,
            "--proof-seconds" => a.proof_seconds = value()?.parse()?,
            "--proof-log-size" => a.proof_log_size = value()?.parse()?,
            "--proof-clients" => a.proof_clients = value()?.parse()?,
            "--proof-connections" => a.proof_connections = value()?.parse()?,
            "--object-store" => a.object_store = true,
            "--ack" => {
                a.ack = match value()?.as_str() {
                    "local" => AckChoice::Local,
                    "replicated" => AckChoice::Replicated,
                    "both" => AckChoice::Both,
                    other => anyhow::bail!("--ack {other}: local, replicated or both"),
                }
            }
            "--restore-size" => a.restore_size = value()?.parse()?,
            "--replica" => a.replica = true,
            "--publish-interval-ms" => a.publish_interval_ms = Some(value()?.parse()?),
            "--keep" => a.keep = true,
            "--help" | "-h" => {
                println!(
                    "attestlog-loadgen [--entries N (20000)] [--clients C (1024)] [--connections K (16)]\n\
                     \x20                 [--proof-seconds S (5)] [--proof-log-size M (0)]\n\
                     \x20                 [--proof-clients P (256)] [--proof-connections Q (4)]\n\
                     \x20                 [--object-store [--ack local|replicated|both (both)] [--restore-size R (0)] [--replica]\n\
                     \x20                                 [--publish-interval-ms I (the server's default)]]\n\
                     \x20                 [--keep]\n\
                     C concurrent clients share K HTTP/2 connections (K = C: one each) to submit;\n\
                     proofs are asked by P clients over Q connections (small calls: fewer calls in\n\
                     flight cost the co-located load generator less), after growing the log to M\n\
                     entries if M is larger than what ingest left.\n\
                     Starts target/<profile>/attestlog-server on 127.0.0.1 and measures ingest and proof serving.\n\
                     --object-store: starts a 3-node Garage cluster (scripts/install-deps.sh builds it) and\n\
                     measures, instead of proof serving, ingest without publishing, with publishing\n\
                     (ack local: publish lag and catch-up; ack replicated: latency at half of the peak\n\
                     without publishing) and, with R > 0, `attestlog-server restore` of a log of R entries;\n\
                     with --replica, inclusion proofs/s from that log and from a read replica of its bucket\n\
                     (after growing the log to max(R, M) entries).\n\
                     --keep: keep the temporary directory (servers' and Garage's logs) and print its path."
                );
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown flag {other}; see --help"),
        }
    }
    anyhow::ensure!(
        a.entries >= 100 && a.clients >= 1 && a.proof_clients >= 1,
        "need --entries >= 100, --clients >= 1 and --proof-clients >= 1"
    );
    anyhow::ensure!(
        a.object_store
            || (a.ack == AckChoice::Both
                && a.restore_size == 0
                && !a.replica
                && a.publish_interval_ms.is_none()),
        "--ack, --restore-size, --replica and --publish-interval-ms need --object-store"
    );
    anyhow::ensure!(
        (a.restore_size == 0 && !a.replica) || a.ack.local(),
        "--restore-size and --replica use the ack = local log: not with --ack replicated"
    );
    Ok(a)
}
