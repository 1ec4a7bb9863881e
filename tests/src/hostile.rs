//! Hostile HTTP peers for the tests of the servers' connection limits
//! (issue #13): slowloris connections that send part of a request and then
//! nothing, and ways to watch what the server under attack holds (its open
//! file descriptors, its data directory's size). Loopback only, every wait
//! bounded.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// Connections [`slowloris`] opens before pausing for [`PACE`].
pub const BURST: usize = 50;
/// The pause after each [`BURST`]: loopback connects complete in the
/// kernel faster than a debug-built server accepts them, and once more
/// than its listen backlog (1,024) wait, the kernel drops SYNs and each
/// dropped connect waits a second or more for a retransmission.
pub const PACE: Duration = Duration::from_millis(10);

/// Opens `n` TCP connections to `addr` (loopback), [`BURST`] at a time,
/// and writes `partial` on each, then nothing more: a slowloris attack.
/// The sockets are returned non-blocking, for [`still_open`].
pub fn slowloris(addr: SocketAddr, n: usize, partial: &[u8]) -> anyhow::Result<Vec<TcpStream>> {
    assert!(addr.ip().is_loopback(), "tests attack loopback only");
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        if i % BURST == BURST - 1 {
            std::thread::sleep(PACE);
        }
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(20))
            .with_context(|| format!("slow connection {i} of {n}"))?;
        s.write_all(partial)
            .with_context(|| format!("writing on slow connection {i}"))?;
        s.set_nonblocking(true)?;
        conns.push(s);
    }
    Ok(conns)
}

/// Drops the connections the server has closed (end of file or reset;
/// whatever it sent before closing is read and ignored) and returns how
/// many are still open.
pub fn still_open(conns: &mut Vec<TcpStream>) -> usize {
    let mut buf = [0u8; 4096];
    conns.retain_mut(|s| loop {
        match s.read(&mut buf) {
            Ok(0) => return false,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    });
    conns.len()
}

/// Waits until the server has closed every connection in `conns`, or
/// `limit` has passed; returns how many are still open.
pub fn wait_closed(conns: &mut Vec<TcpStream>, limit: Duration) -> usize {
    let start = Instant::now();
    loop {
        let open = still_open(conns);
        if open == 0 || start.elapsed() > limit {
            return open;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The number of file descriptors process `pid` holds open (Linux
/// `/proc/<pid>/fd`).
pub fn open_fds(pid: u32) -> anyhow::Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))
        .with_context(|| format!("listing /proc/{pid}/fd"))?
        .count())
}

/// The apparent size in bytes of every file under `dir`, recursively (0 if
/// it does not exist).
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Samples how many file descriptors a process holds, every 10 ms on a
/// thread of its own, until [`FdWatch::most`] is called.
pub struct FdWatch {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<usize>,
}

impl FdWatch {
    /// Starts sampling process `pid`.
    pub fn start(pid: u32) -> FdWatch {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut most = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                most = most.max(open_fds(pid).unwrap_or(0));
                std::thread::sleep(Duration::from_millis(10));
            }
            most
        });
        FdWatch { stop, thread }
    }

    /// Stops sampling; the most descriptors seen at once.
    pub fn most(self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or(usize::MAX)
    }
}
