//! Logging on stderr for the servers: one line per event, human-readable
//! text or one JSON object, filtered by `RUST_LOG` when it is set and
//! parses, else by the binary's default filter (e.g. `info`).

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

/// The format of log lines (the servers' `--log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The filter: `RUST_LOG` if it is set and valid, else `default` (a
/// directive such as `info` or `attestlog_witness=debug`).
pub fn env_filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// A subscriber writing `format` lines that pass `filter` to `writer`.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().finish()),
    }
}

/// Installs the process-wide subscriber: `format` lines on stderr,
/// filtered by [`env_filter`]`(default_filter)`. Call once, first thing in
/// `main`.
///
/// # Panics
///
/// If a global subscriber is already installed.
pub fn init_tracing(format: LogFormat, default_filter: &str) {
    subscriber(format, env_filter(default_filter), std::io::stderr).init();
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn log_with(format: LogFormat, filter: &str) -> String {
        let buf = Buffer::default();
        let writer = buf.clone();
        let s = subscriber(format, EnvFilter::new(filter), move || writer.clone());
        tracing::subscriber::with_default(s, || {
            tracing::info!(size = 3, "attestlog log serving");
            tracing::debug!("hidden at info");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text
    }

    /// Pins both formats of `--log-format` and the default filter: text is
    /// one readable line, JSON one object per line, `debug` hidden at `info`.
    #[test]
    fn text_and_json_lines() {
        let text = log_with(LogFormat::Text, "info");
        assert_eq!(text.lines().count(), 1, "{text}");
        // (Colours, as before the merge, so fields are matched in pieces.)
        for piece in ["INFO", "attestlog log serving", "size"] {
            assert!(text.contains(piece), "{piece:?} not in {text}");
        }
        let json = log_with(LogFormat::Json, "info");
        assert_eq!(json.lines().count(), 1, "{json}");
        let line = json.lines().next().unwrap();
        assert!(line.starts_with('{') && line.ends_with('}'), "{line}");
        assert!(line.contains("\"message\":\"attestlog log serving\""));
        assert!(line.contains("\"size\":3"));
        assert_eq!(log_with(LogFormat::Text, "debug").lines().count(), 2);
    }
}
