//! HTTP/1.1 for plain `http://` URLs, shared by the log and the witness so
//! that neither depends on the other:
//!
//! * a minimal client ([`request`], [`get`]): one connection per request,
//!   a timeout on the whole exchange, and a limit on the response body;
//! * the servers' accept loop ([`server::serve`]), with a header-read
//!   timeout, an idle timeout and a cap on open connections;
//! * the one reader of a log's C2SP tlog-tiles ([`tiles::TileFetcher`]),
//!   used by the client and the witness, with the formats and proofs of
//!   `attestlog-core`.
//!
//! Everything attestlog exchanges this way is signed, so plain HTTP loses
//! no integrity; put TLS in front for confidentiality.
//!
//! Out of scope: TLS, redirects, connection pooling, retries (callers
//! decide what a failure means), routing and handlers (each server's own).

pub mod server;
pub mod tiles;

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;

/// Why a request failed; the message names the URL and the step.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{url}: {reason}")]
pub struct HttpError {
    /// The URL requested.
    pub url: String,
    /// What went wrong.
    pub reason: String,
}

/// A response: status, content type and body.
#[derive(Clone, Debug)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// Sends one request with a `text/plain` body and reads the whole response
/// (at most `max_body` bytes), all within `timeout`.
pub async fn request(
    method: Method,
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
    max_body: usize,
) -> Result<Response, HttpError> {
    exchange(method, url, None, body, timeout, max_body).await
}

/// [`request`], with `host` (if given) as the `Host` header in place of
/// the URL's authority.
async fn exchange(
    method: Method,
    url: &str,
    host: Option<&str>,
    body: Vec<u8>,
    timeout: Duration,
    max_body: usize,
) -> Result<Response, HttpError> {
    let fail = |reason: String| HttpError {
        url: url.to_owned(),
        reason,
    };
    let run = async {
        let uri: Uri = url.parse().map_err(|e| fail(format!("bad URL: {e}")))?;
        if uri.scheme_str() != Some("http") {
            return Err(fail("only http:// URLs are supported".into()));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| fail("URL has no host".into()))?
            .clone();
        let port = authority.port_u16().unwrap_or(80);
        let stream = tokio::net::TcpStream::connect((authority.host(), port))
            .await
            .map_err(|e| fail(format!("connecting: {e}")))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| fail(format!("handshake: {e}")))?;
        tokio::spawn(async move {
            // The connection ends when the response is read or dropped.
            let _ = conn.await;
        });
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, host.unwrap_or(authority.as_str()))
            .header(hyper::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| fail(format!("building request: {e}")))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| fail(format!("sending: {e}")))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(resp.into_body(), max_body)
            .collect()
            .await
            .map_err(|e| fail(format!("reading body: {e}")))?
            .to_bytes()
            .to_vec();
        Ok(Response {
            status,
            content_type,
            body,
        })
    };
    tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| fail(format!("timed out after {timeout:?}")))?
}

/// `GET url`, sending `host` as the `Host` header if given (else the
/// URL's authority): for a server reached by IP address that picks the
/// site by `Host`, such as an object store's website endpoint or a CDN.
pub async fn get(
    url: &str,
    host: Option<&str>,
    timeout: Duration,
    max_body: usize,
) -> Result<Response, HttpError> {
    exchange(Method::GET, url, host, Vec::new(), timeout, max_body).await
}
