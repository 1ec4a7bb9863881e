//! The HTTP read API (C2SP tlog-tiles), health and metrics:
//!
//! | path | body | caching |
//! |---|---|---|
//! | `/checkpoint` | the latest witnessed (cosigned) checkpoint, else the latest signed one | `no-cache` |
//! | `/tile/<L>/<N>[.p/<W>]` | `W` (default 256) hashes, 32 bytes each | full: immutable; partial: 60 s |
//! | `/tile/entries/<N>[.p/<W>]` | entry bundle (u16 length ‖ entry, repeated) | as above |
//! | `/healthz` | `ok`, or 503 with the reason; then, when publishing to a bucket, how far it is behind | `no-store` |
//! | `/metrics` | Prometheus/OpenMetrics text | `no-store` |
//!
//! A tile is served only if all its hashes are in the published tree;
//! otherwise 404, as tlog-tiles asks.
//!
//! Connections are accepted by [`attestlog_http::server::serve`], within
//! the `[http]` limits: a header-read timeout, an idle timeout and a cap
//! on open connections.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use attestlog_core::tile::{encode_entry_bundle, read_tile, Tile, TilePath, TILE_WIDTH};
use attestlog_http::server::ServerLimits;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;

use crate::limits::MAX_HTTP_PATH;
use crate::state::LogState;

/// How old the last checkpoint may be while entries wait before
/// `/healthz` fails.
pub const HEALTH_MAX_AGE_SECS: u64 = 30;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const PARTIAL: &str = "public, max-age=60";

/// Serves HTTP on `listener`, within `limits`, until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: Arc<LogState>,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let svc = service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(handle(&state, &req)) }
    });
    attestlog_http::server::serve(listener, limits, svc, shutdown).await;
}

fn respond(
    status: StatusCode,
    content_type: &str,
    cache: &str,
    body: Vec<u8>,
) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(cache) {
        h.insert(CACHE_CONTROL, v);
    }
    r
}

fn text(status: StatusCode, msg: impl Into<String>) -> Response<Full<Bytes>> {
    let mut m = msg.into();
    m.push('\n');
    respond(
        status,
        "text/plain; charset=utf-8",
        "no-store",
        m.into_bytes(),
    )
}

/// Answers one request.
pub fn handle(state: &LogState, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
    }
    let path = req.uri().path();
    if path.len() > MAX_HTTP_PATH {
        return text(StatusCode::URI_TOO_LONG, "path too long");
    }
    match path {
        "/checkpoint" => {
            let cur = state.served();
            respond(
                StatusCode::OK,
                "text/plain; charset=utf-8",
                "no-cache",
                cur.note.clone(),
            )
        }
        "/healthz" => {
            let bucket = state.bucket.health_line(state.current().size);
            let with_bucket = |first: String| match &bucket {
                Some(line) => format!("{first}\n{line}"),
                None => first,
            };
            match state.healthy(HEALTH_MAX_AGE_SECS) {
                Ok(()) => text(StatusCode::OK, with_bucket("ok".into())),
                Err(why) => text(StatusCode::SERVICE_UNAVAILABLE, with_bucket(why)),
            }
        }
        "/metrics" => respond(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            "no-store",
            state.metrics.encode().into_bytes(),
        ),
        p if p.starts_with("/tile/") => tile(state, &p[1..]),
        _ => text(StatusCode::NOT_FOUND, "not found"),
    }
}

fn tile(state: &LogState, path: &str) -> Response<Full<Bytes>> {
    let parsed = match Tile::parse_path(path) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::NOT_FOUND, e.to_string()),
    };
    let size = state.current().size;
    let (t, entries) = match parsed {
        TilePath::Hashes(t) => (t, false),
        TilePath::Entries(t) => (t, true),
    };
    if !t.is_within(size) {
        return text(
            StatusCode::NOT_FOUND,
            format!("{path} is not in the tree of size {size}"),
        );
    }
    let cache = if t.width == TILE_WIDTH {
        IMMUTABLE
    } else {
        PARTIAL
    };
    let body = if entries {
        let start = t.index * u64::from(TILE_WIDTH);
        state
            .store
            .entries(start, start + u64::from(t.width))
            .map_err(|e| e.to_string())
            .and_then(|es| encode_entry_bundle(&es).map_err(|e| e.to_string()))
    } else {
        read_tile(state.store.as_ref(), &t).map_err(|e| e.to_string())
    };
    match body {
        Ok(b) => respond(StatusCode::OK, "application/octet-stream", cache, b),
        Err(e) => {
            tracing::error!(path, error = %e, "reading a tile");
            text(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}
