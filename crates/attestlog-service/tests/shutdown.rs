//! `shutdown_signal` resolves on SIGTERM and on SIGINT (Ctrl-C), and
//! neither kills the process once it is listening. Its own test binary:
//! the signals are sent to this whole process with `kill`.

use std::process::Command;
use std::time::Duration;

use attestlog_service::shutdown_signal;

fn kill(signal: &str) {
    let status = Command::new("kill")
        .args([signal, &std::process::id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_and_sigint_each_stop() {
    for signal in ["-TERM", "-INT"] {
        let stop = shutdown_signal();
        kill(signal);
        // A guard against hanging, not a timed assertion: the signal is
        // already pending when the future is first polled.
        tokio::time::timeout(Duration::from_secs(60), stop)
            .await
            .unwrap_or_else(|_| panic!("{signal} did not resolve shutdown_signal"));
    }
}
