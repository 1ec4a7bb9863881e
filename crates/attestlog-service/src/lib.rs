//! Process plumbing shared by the log's and the witness's binaries
//! (`attestlog-server`, `attestlog-witness`), so that each exists once:
//!
//! * [`logging`]: the `--log-format text|json` choice and the tracing
//!   subscriber on stderr, filtered by `RUST_LOG`;
//! * [`key_file`]: C2SP signed-note signer key files (written with mode
//!   0600, never overwritten);
//! * [`shutdown`]: the future that resolves on SIGTERM or Ctrl-C;
//! * [`ready_file`]: the `name=<address>` file written once listening;
//! * [`backtraces`]: backtraces for panics, not for every error value.
//!
//! Out of scope: configuration, listeners and handlers (each server's
//! own). Kept apart from `attestlog-http`, which the client library also
//! uses, so that embedding the client never compiles `tracing-subscriber`
//! or `clap`; it depends on the core only for signer keys.

pub mod backtraces;
pub mod key_file;
pub mod logging;
pub mod ready_file;
pub mod shutdown;

pub use backtraces::errors_without_backtraces;
pub use logging::{init_tracing, LogFormat};
pub use shutdown::shutdown_signal;
