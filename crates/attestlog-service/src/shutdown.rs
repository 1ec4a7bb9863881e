//! The servers' stop signal: SIGTERM (systemd, container runtimes) or
//! SIGINT (Ctrl-C). Each server passes [`shutdown_signal`] to its serve
//! loop, which stops accepting, finishes the work in flight and returns.

use std::future::Future;

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Listens for SIGTERM and SIGINT from now on and returns a future that
/// resolves on the first of them.
///
/// The handlers are installed when this is called (not when the future is
/// first polled), so a signal arriving in between is not lost; from then
/// on neither signal kills the process. If a handler cannot be installed,
/// only that signal is ignored: the future never resolves through it (it
/// does not resolve at once, which would stop a server that just started).
///
/// # Panics
///
/// Outside a Tokio runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        tokio::select! {
            () = first(term) => {}
            () = first(int) => {}
        }
    }
}

/// Waits for one delivery of `signal`, or forever if it has no handler.
async fn first(signal: std::io::Result<Signal>) {
    match signal {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}
