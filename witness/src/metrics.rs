//! Prometheus metrics of the witness, served at `GET /metrics`.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Label sets: a list of (name, value) pairs.
pub type Labels = Vec<(String, String)>;

/// Every metric the witness exports.
pub struct Metrics {
    registry: Registry,
    /// HTTP requests by endpoint and status.
    pub requests: Family<Labels, Counter>,
    /// Cosignatures issued, by origin.
    pub cosignatures: Family<Labels, Counter>,
    /// Size of the latest cosigned checkpoint, by origin.
    pub cosigned_size: Family<Labels, Gauge>,
    /// 1 for every origin with recorded split-view evidence (the witness
    /// no longer cosigns it): alert on any non-zero value.
    pub split_view: Family<Labels, Gauge>,
    /// Checkpoints received by gossip, by verdict.
    pub gossip_received: Family<Labels, Counter>,
    /// Failed gossip pushes, by peer.
    pub gossip_push_errors: Family<Labels, Counter>,
    /// Checkpoint notes kept without being cosigned or proven consistent,
    /// by origin; at `[gossip] max_kept` no more are kept.
    pub kept: Family<Labels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers the metrics.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("attestlog_witness");
        let m = Metrics {
            requests: Family::default(),
            cosignatures: Family::default(),
            cosigned_size: Family::default(),
            split_view: Family::default(),
            gossip_received: Family::default(),
            gossip_push_errors: Family::default(),
            kept: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by endpoint and status",
            m.requests.clone(),
        );
        registry.register(
            "cosignatures",
            "Cosignatures issued, by origin",
            m.cosignatures.clone(),
        );
        registry.register(
            "cosigned_size",
            "Tree size of the latest cosigned checkpoint, by origin",
            m.cosigned_size.clone(),
        );
        registry.register(
            "split_view",
            "1 if split-view evidence is recorded for the origin (cosigning stopped)",
            m.split_view.clone(),
        );
        registry.register(
            "gossip_received",
            "Checkpoints received by gossip, by verdict",
            m.gossip_received.clone(),
        );
        registry.register(
            "gossip_push_errors",
            "Failed gossip pushes, by peer",
            m.gossip_push_errors.clone(),
        );
        registry.register(
            "kept_checkpoints",
            "Checkpoints kept without being cosigned or proven consistent, by origin \
             (none more are kept at [gossip] max_kept)",
            m.kept.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// A one-label label set.
pub fn label(name: &str, value: &str) -> Labels {
    vec![(name.to_owned(), value.to_owned())]
}
