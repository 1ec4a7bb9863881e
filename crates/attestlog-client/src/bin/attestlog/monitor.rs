//! `attestlog monitor`: follow a log and alert on watched keys and names.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use attestlog_client::monitor::{Alert, Monitor, Watch};
use attestlog_client::state::StateDir;
use attestlog_http::tiles::{TileFetcher, DEFAULT_TIMEOUT};
use clap::Args;

use super::{entries_bar, load_policy, report_fork, LogArgs};

/// Follow a log and alert on watched keys and names.
///
/// Reads every entry from the stored position on (resumable), verifies
/// each new checkpoint's consistency, re-verifies every entry's signature
/// and that all entries hash to the signed root, and alerts when a watched
/// key signs anything or a watched subject name gets a new digest. The
/// position is saved only once the entries read are proven to be the
/// signed tree's: entries from a log or --tiles-url that disagree with the
/// signed checkpoint fail the round (exit 2) and are read again next time.
///
/// Examples:
///   attestlog monitor --policy log.policy --state-dir ~/.local/state/attestlog \
///       --watch-key 27BFE56D404C2D2080D4EEE934B128209619B0DE
///   attestlog monitor --policy log.policy --state-dir st --watch-name hello-1.0.tar.gz \
///       --tiles-url http://log.example.org --json --exec ./page-me.sh
///   attestlog monitor --policy log.policy --state-dir st --once   # catch up and exit
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub(super) struct MonitorArgs {
    /// C2SP tlog-policy file (a monitor may require more cosignatures
    /// than verifiers do).
    #[arg(long)]
    policy: PathBuf,
    /// State directory (position, frontier, latest checkpoint).
    #[arg(long)]
    state_dir: PathBuf,
    /// The log's origin (default: the policy's only log).
    #[arg(long)]
    origin: Option<String>,
    /// Alert when this key (primary or subkey fingerprint) signs; repeatable.
    #[arg(long)]
    watch_key: Vec<String>,
    /// Alert when this subject name gets a new digest; repeatable.
    #[arg(long)]
    watch_name: Vec<String>,
    /// Read entries from the log's tiles here instead of gRPC.
    #[arg(long)]
    tiles_url: Option<String>,
    /// Catch up once and exit.
    #[arg(long)]
    once: bool,
    /// Poll interval in milliseconds.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// Run this command on each alert (alert JSON on stdin, ATTESTLOG_ALERT_*
    /// in the environment).
    #[arg(long)]
    exec: Option<PathBuf>,
    /// Print alerts as JSON lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    log: LogArgs,
}

pub(super) async fn run(a: MonitorArgs) -> anyhow::Result<u8> {
    let policy = load_policy(&a.policy)?;
    let origin = match &a.origin {
        Some(o) => o.clone(),
        None => match policy.logs.as_slice() {
            [one] => one.key_name().to_owned(),
            _ => bail!(
                "the policy lists {} logs: choose one with --origin",
                policy.logs.len()
            ),
        },
    };
    let watch = Watch {
        fingerprints: a.watch_key.iter().map(|f| Watch::normalize(f)).collect(),
        names: a.watch_name.clone(),
    };
    let tiles = a
        .tiles_url
        .as_deref()
        .map(|u| TileFetcher::new(u, tokio::runtime::Handle::current(), DEFAULT_TIMEOUT));
    let mut m = Monitor::open(policy, &origin, StateDir::open(&a.state_dir)?, watch, tiles)?;
    let mut client = a.log.connect().await?;
    // Shown only for a catch-up of more than one page.
    let mut bar: Option<indicatif::ProgressBar> = None;
    loop {
        let start = m.position();
        let mut alerts = Vec::new();
        let res = m
            .step(
                &mut client,
                |alert| alerts.push(alert),
                |done, total| {
                    if total > 1024 && bar.is_none() {
                        bar = Some(entries_bar(format!("catching up from entry {start}")));
                    }
                    if let Some(bar) = &bar {
                        bar.set_length(total);
                        bar.set_position(done);
                    }
                },
            )
            .await;
        for alert in &alerts {
            emit(alert, a.json, a.exec.as_deref())?;
        }
        if let Err(e) = res {
            if let Some(code) = report_fork(&e, None) {
                return Ok(code);
            }
            return Err(e.into());
        }
        if let Some(bar) = bar.take() {
            bar.finish_and_clear();
        }
        if a.once {
            eprintln!("caught up to entry {}", m.position());
            return Ok(0);
        }
        tokio::time::sleep(std::time::Duration::from_millis(a.interval_ms)).await;
    }
}

fn emit(alert: &Alert, json: bool, exec: Option<&Path>) -> anyhow::Result<()> {
    let line = serde_json::to_string(alert)?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{line}")?;
    } else {
        writeln!(out, "ALERT {}: {}", alert.kind, alert.message)?;
    }
    out.flush()?;
    if let Some(hook) = exec {
        let mut child = std::process::Command::new(hook)
            .env("ATTESTLOG_ALERT_KIND", alert.kind)
            .env("ATTESTLOG_ALERT_INDEX", alert.index.to_string())
            .env("ATTESTLOG_ALERT_KEY", &alert.primary)
            .env("ATTESTLOG_ALERT_MESSAGE", &alert.message)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .with_context(|| format!("running {}", hook.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = writeln!(stdin, "{line}");
        }
        let status = child.wait()?;
        if !status.success() {
            eprintln!(
                "warning: alert hook {} exited with {status}",
                hook.display()
            );
        }
    }
    Ok(())
}
