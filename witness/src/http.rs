//! The witness's HTTP API (hyper 1, HTTP/1.1 with keep-alive).
//!
//! | method | path | what |
//! |---|---|---|
//! | POST | `<submission prefix>/add-checkpoint` | C2SP tlog-witness |
//! | GET | `<monitoring prefix>/<hex sha256(origin)>/checkpoint` | latest cosigned checkpoint |
//! | POST | `/gossip` | a log-signed checkpoint from a peer or a client |
//! | POST | `/gossip/evidence` | split-view evidence from a peer |
//! | GET | `/evidence/<hex sha256(origin)>` | the split-view evidence this witness holds |
//! | GET | `/metrics` | Prometheus metrics |
//! | GET | `/healthz` | `ok` |
//!
//! Errors are answered with the status of [`WitnessError::status`] and a
//! one-line text body naming the failure; a 409 from `add-checkpoint`
//! carries the stored size as `text/x.tlog.size` instead. `/gossip` and
//! `/gossip/evidence` answer 429 (`Retry-After: 1`) while `[gossip]
//! max_in_flight` received messages are being checked; `add-checkpoint`
//! answers 503 (`Retry-After: 1`) while `[http]
//! max_add_checkpoint_in_flight` requests are being checked.
//!
//! Connections are accepted by [`attestlog_http::server::serve`], within
//! the `[http]` limits: a header-read timeout, an idle timeout and a cap
//! on open connections.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use attestlog_core::evidence::MAX_EVIDENCE_SIZE;
use attestlog_core::text::decode_lower_hex_32;
use attestlog_core::witness_protocol::{
    encode_conflict_size, encode_cosignature_lines, AddCheckpointRequest, CONTENT_TYPE_TLOG_SIZE,
    MAX_REQUEST_SIZE,
};
use attestlog_http::server::ServerLimits;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::WitnessError;
use crate::gossip::{EVIDENCE_PATH, GOSSIP_PATH};
use crate::metrics::Labels;
use crate::state::LogId;
use crate::witness::{LogTiles, Observation, Witness};

const TEXT: &str = "text/plain; charset=utf-8";

/// What the HTTP layer serves.
pub struct App {
    /// The witness.
    pub witness: Arc<Witness>,
    /// Where proofs for gossip come from.
    pub tiles: Arc<LogTiles>,
    /// The C2SP submission prefix (empty or `/something`).
    pub submission_prefix: String,
    /// The C2SP monitoring prefix (empty or `/something`).
    pub monitoring_prefix: String,
    /// Permits for received gossip (`[gossip] max_in_flight`): one is held
    /// while a gossip message, an evidence file or a rejected checkpoint
    /// is checked; none left means 429.
    pub gossip_slots: Arc<Semaphore>,
    /// Permits for add-checkpoint (`[http] max_add_checkpoint_in_flight`):
    /// one is held while a request is checked, cosigned and persisted;
    /// none left means 503.
    pub add_checkpoint_slots: Arc<Semaphore>,
    /// Connection limits (`[http]`).
    pub limits: ServerLimits,
}

/// Serves `app` on an already-bound `listener`, within `app.limits`, until
/// `shutdown` completes.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let limits = app.limits;
    let svc = service_fn(move |req| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(handle(&app, req).await) }
    });
    attestlog_http::server::serve(listener, limits, svc, shutdown).await;
}

type Resp = Response<Full<Bytes>>;

fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn error_response(e: &WitnessError) -> Resp {
    match e {
        // C2SP tlog-witness: "The response body MUST consist of the tree
        // size of the latest cosigned checkpoint in decimal, followed by a
        // newline (U+000A). The response MUST have a `Content-Type` of
        // `text/x.tlog.size`."
        WitnessError::SizeConflict { stored, .. } => {
            respond(409, CONTENT_TYPE_TLOG_SIZE, encode_conflict_size(*stored))
        }
        e => respond(e.status(), TEXT, format!("{e}\n")),
    }
}

async fn read_body(req: Request<Incoming>, limit: usize) -> Result<Vec<u8>, WitnessError> {
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(b) => Ok(b.to_bytes().to_vec()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(WitnessError::RequestTooLarge(limit + 1))
        }
        Err(e) => Err(WitnessError::MalformedRequest(format!(
            "reading the body: {e}"
        ))),
    }
}

fn parse_log_id(hex_id: &str) -> Option<LogId> {
    decode_lower_hex_32(hex_id)
}

async fn handle(app: &App, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let (endpoint, resp) = route(app, req, &method, &path).await;
    let labels: Labels = vec![
        ("endpoint".into(), endpoint.into()),
        ("status".into(), resp.status().as_u16().to_string()),
    ];
    app.witness.metrics().requests.get_or_create(&labels).inc();
    resp
}

async fn route(
    app: &App,
    req: Request<Incoming>,
    method: &Method,
    path: &str,
) -> (&'static str, Resp) {
    if let Some(rest) = path.strip_prefix(app.submission_prefix.as_str()) {
        if rest == "/add-checkpoint" {
            if method != Method::POST {
                return ("add-checkpoint", respond(405, TEXT, "use POST\n"));
            }
            return ("add-checkpoint", add_checkpoint(app, req).await);
        }
    }
    if let Some(rest) = path.strip_prefix(app.monitoring_prefix.as_str()) {
        if let Some(id) = rest
            .strip_prefix('/')
            .and_then(|r| r.strip_suffix("/checkpoint"))
            .and_then(parse_log_id)
        {
            if method != Method::GET {
                return ("checkpoint", respond(405, TEXT, "use GET\n"));
            }
            return ("checkpoint", checkpoint(app, id).await);
        }
    }
    match (method, path) {
        (&Method::POST, GOSSIP_PATH) => ("gossip", gossip(app, req).await),
        (&Method::POST, EVIDENCE_PATH) => ("gossip-evidence", gossip_evidence(app, req).await),
        (&Method::GET, "/metrics") => (
            "metrics",
            respond(
                200,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                app.witness.metrics().encode(),
            ),
        ),
        (&Method::GET, "/healthz") => ("healthz", respond(200, TEXT, "ok\n")),
        (&Method::GET, p) if p.starts_with("/evidence/") => {
            match parse_log_id(&p["/evidence/".len()..]) {
                Some(id) => ("evidence", evidence(app, id).await),
                None => ("evidence", respond(404, TEXT, "not a log id\n")),
            }
        }
        _ => ("other", respond(404, TEXT, "no such endpoint\n")),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WitnessError> + Send + 'static,
) -> Result<T, WitnessError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(WitnessError::Cosign(format!("worker failed: {e}"))))
}

async fn add_checkpoint(app: &App, req: Request<Incoming>) -> Resp {
    let body = match read_body(req, MAX_REQUEST_SIZE).await {
        Ok(b) => b,
        Err(e) => return error_response(&e),
    };
    let parsed = match AddCheckpointRequest::parse(&body) {
        Ok(r) => r,
        Err(e) => return error_response(&e.into()),
    };
    let Ok(permit) = app.add_checkpoint_slots.clone().try_acquire_owned() else {
        return retry_later(
            503,
            "busy: as many add-checkpoint requests as this witness checks at once are \
             being checked; retry later\n",
        );
    };
    let witness = app.witness.clone();
    let note = parsed.checkpoint.clone();
    let cosigned = blocking(move || {
        let _permit = permit;
        witness.add_checkpoint(&parsed)
    });
    match cosigned.await {
        Ok(c) => {
            tracing::info!(origin = %c.checkpoint.origin, size = c.checkpoint.size, timestamp = c.timestamp, "cosigned");
            respond(
                200,
                TEXT,
                encode_cosignature_lines(std::slice::from_ref(&c.signature)),
            )
        }
        Err(e) => {
            if e.is_fatal() {
                tracing::error!(error = %e, "add-checkpoint: storage failure");
            } else if e.status() == 422 {
                tracing::warn!(error = %e, "add-checkpoint refused");
            } else {
                tracing::debug!(error = %e, "add-checkpoint refused");
            }
            if matches!(e, WitnessError::BadProof(_)) {
                // A bad proof proves nothing by itself: ask the log's tiles
                // whether the two checkpoints are one history, if a gossip
                // permit is free (the check is best effort; gossip repeats).
                match gossip_slot(app) {
                    Some(permit) => {
                        let (witness, tiles) = (app.witness.clone(), app.tiles.clone());
                        tokio::task::spawn_blocking(move || {
                            let _permit = permit;
                            if let Err(e) = witness.observe(&note, tiles.as_ref()) {
                                tracing::warn!(error = %e, "checking a rejected checkpoint");
                            }
                        });
                    }
                    None => tracing::debug!("busy: rejected checkpoint not checked"),
                }
            }
            error_response(&e)
        }
    }
}

async fn checkpoint(app: &App, id: LogId) -> Resp {
    let witness = app.witness.clone();
    match blocking(move || witness.latest(&id)).await {
        Ok(Some(l)) => respond(200, TEXT, l.note),
        Ok(None) => respond(404, TEXT, "no checkpoint cosigned for this log\n"),
        Err(e) => error_response(&e),
    }
}

async fn evidence(app: &App, id: LogId) -> Resp {
    let witness = app.witness.clone();
    match blocking(move || witness.evidence(&id)).await {
        Ok(Some(ev)) => respond(200, TEXT, ev),
        Ok(None) => respond(404, TEXT, "no split-view evidence for this log\n"),
        Err(e) => error_response(&e),
    }
}

/// `status` with `Retry-After: 1`.
fn retry_later(status: u16, body: &'static str) -> Resp {
    let mut r = respond(status, TEXT, body);
    r.headers_mut().insert(
        hyper::header::RETRY_AFTER,
        hyper::header::HeaderValue::from_static("1"),
    );
    r
}

/// The answer when every gossip permit is taken: 429, retry in a second.
fn busy() -> Resp {
    retry_later(
        429,
        "busy: as many gossip messages as this witness checks at once are \
         being checked; retry later\n",
    )
}

/// A gossip permit, if one is free.
fn gossip_slot(app: &App) -> Option<OwnedSemaphorePermit> {
    app.gossip_slots.clone().try_acquire_owned().ok()
}

async fn gossip(app: &App, req: Request<Incoming>) -> Resp {
    let body = match read_body(req, MAX_REQUEST_SIZE).await {
        Ok(b) => b,
        Err(e) => return error_response(&e),
    };
    let Some(permit) = gossip_slot(app) else {
        return busy();
    };
    let (witness, tiles) = (app.witness.clone(), app.tiles.clone());
    let observed = blocking(move || {
        let _permit = permit;
        witness.observe(&body, tiles.as_ref())
    });
    match observed.await {
        Ok(o) => {
            let detail = match &o {
                Observation::Unverified(why) => format!(" {why}"),
                _ => String::new(),
            };
            respond(200, TEXT, format!("{}{detail}\n", o.as_str()))
        }
        Err(e) => error_response(&e),
    }
}

async fn gossip_evidence(app: &App, req: Request<Incoming>) -> Resp {
    let body = match read_body(req, MAX_EVIDENCE_SIZE).await {
        Ok(b) => b,
        Err(e) => return error_response(&e),
    };
    let Some(permit) = gossip_slot(app) else {
        return busy();
    };
    let witness = app.witness.clone();
    let accepted = blocking(move || {
        let _permit = permit;
        witness.accept_evidence(&body)
    });
    match accepted.await {
        Ok(true) => respond(200, TEXT, "recorded\n"),
        Ok(false) => respond(200, TEXT, "already-recorded\n"),
        Err(e) => error_response(&e),
    }
}
