//! The accept loop of the log's and the witness's HTTP servers: HTTP/1.1
//! with keep-alive, and limits that keep hostile peers from holding
//! connections open (issue #13).
//!
//! | limit | bounds | when exceeded |
//! |---|---|---|
//! | [`ServerLimits::header_read_timeout`] | the time to receive a request head: from accepting the connection, or from the end of the previous response on a keep-alive connection (so it is also the keep-alive idle time) | the connection is closed |
//! | [`ServerLimits::idle_timeout`] | the time no byte moves either way while the connection waits on the peer: a stalled request body, a response the peer does not read, and a stalled head too (the shorter of the two timeouts closes that) | the connection is closed |
//! | [`ServerLimits::max_connections`] | connections open at once | the loop stops accepting: new connections wait in the kernel's listen backlog (and, once that is full, their SYNs are retried by the client's kernel) until a connection closes |
//!
//! Waiting to accept rather than accepting and closing at once means a
//! well-behaved client that arrives during a flood is served as soon as a
//! slot frees (slow connections free theirs within the header timeout)
//! instead of being refused. The handlers behind the loop (the service)
//! are the callers': this module only accepts and limits.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};

/// Default [`ServerLimits::header_read_timeout`]: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServerLimits::idle_timeout`]: 30 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`ServerLimits::max_connections`]: 4,096 (the systemd units
/// allow 65,536 open files).
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// How long the loop pauses after a failed accept (for example when the
/// process is out of file descriptors) before accepting again.
pub const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// The loop logs that it reached [`ServerLimits::max_connections`] at most
/// once per this interval.
pub const LIMIT_WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// The limits [`serve`] enforces; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Longest time to receive a request head, also the longest a
    /// keep-alive connection may sit idle between requests.
    pub header_read_timeout: Duration,
    /// Longest time without a byte read or written while the connection
    /// waits on the peer. It also cuts a request whose handler takes
    /// longer than this, so it must exceed the slowest answer.
    pub idle_timeout: Duration,
    /// Most connections open at once (at least 1).
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Serves `service` over HTTP/1.1 on an already-bound `listener`, within
/// `limits`, until `shutdown` completes. Connections open at shutdown are
/// left to finish on their own tasks.
pub async fn serve<S, B>(
    listener: TcpListener,
    limits: ServerLimits,
    service: S,
    shutdown: impl Future<Output = ()>,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = http1::Builder::new();
    // hyper enforces the header timeout only with a timer.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut warned: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        // A slot first, then accept: over the cap, connections wait in
        // the listen backlog.
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if warned.is_none_or(|t| t.elapsed() >= LIMIT_WARNING_INTERVAL) {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "HTTP connection limit reached; new connections wait to be accepted"
                    );
                    warned = Some(Instant::now());
                }
                tokio::select! {
                    p = slots.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => return, // never closed
                    },
                    () = &mut shutdown => return,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::select! {
                        () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                        () = &mut shutdown => return,
                    }
                }
            },
            () = &mut shutdown => return,
        };
        // Small answers must not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(IdleTimeout::new(stream, limits.idle_timeout));
        let conn = builder.serve_connection(io, service.clone());
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
            }
        });
    }
}

/// A connection that fails with [`io::ErrorKind::TimedOut`] once it has
/// waited `idle` for the peer without a byte moving either way.
struct IdleTimeout<T> {
    inner: T,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<T> IdleTimeout<T> {
    fn new(inner: T, idle: Duration) -> Self {
        IdleTimeout {
            inner,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }

    fn progress(&mut self) {
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }

    /// Called when the inner connection is not ready: pending until the
    /// deadline, then an error.
    fn pending<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no data moved for {:?}", self.idle),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn written(
        &mut self,
        r: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match r {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.progress();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.pending(cx),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleTimeout<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.progress();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.pending(cx),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.written(r, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.written(r, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.pending(cx),
            r => r,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => this.pending(cx),
            r => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpStream;

    async fn read_some(a: &mut IdleTimeout<TcpStream>, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| {
            let mut rb = ReadBuf::new(&mut *buf);
            match Pin::new(&mut *a).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => Poll::Ready(Ok(rb.filled().len())),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    #[tokio::test]
    async fn idle_connections_fail_and_busy_ones_do_not() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let peer = TcpStream::connect(listener.local_addr().expect("addr"))
            .await
            .expect("connect");
        let (accepted, _) = listener.accept().await.expect("accept");
        let mut conn = IdleTimeout::new(accepted, Duration::from_millis(200));
        // A byte every 50 ms keeps it open well past the idle time.
        let mut buf = [0u8; 8];
        for _ in 0..10 {
            peer.writable().await.expect("writable");
            assert_eq!(peer.try_write(b"x").expect("write"), 1);
            assert_eq!(read_some(&mut conn, &mut buf).await.expect("read"), 1);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Then nothing: the read fails after about 200 ms, not never.
        let err = tokio::time::timeout(Duration::from_secs(5), read_some(&mut conn, &mut buf))
            .await
            .expect("the idle timeout fired")
            .expect_err("an idle connection fails");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }
}
