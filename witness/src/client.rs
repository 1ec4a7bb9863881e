//! HTTP requests to peers and to logs' tiles, through the shared minimal
//! client of `attestlog-http`, with its errors mapped to the witness's.

use std::time::Duration;

use hyper::Method;

pub use attestlog_http::Response;

use crate::error::WitnessError;

/// Sends one request and reads the whole response (at most `max_body`
/// bytes), all within `timeout`.
pub async fn request(
    method: Method,
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
    max_body: usize,
) -> Result<Response, WitnessError> {
    attestlog_http::request(method, url, body, timeout, max_body)
        .await
        .map_err(|e| WitnessError::Fetch {
            url: e.url,
            reason: e.reason,
        })
}
