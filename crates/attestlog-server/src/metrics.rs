//! Prometheus metrics, served at `/metrics` (OpenMetrics text).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Bucket bounds of `attestlog_publish_lag_seconds`: fine around the
/// one-second publishing interval and the 2 s an operator may alert on,
/// where doubling bounds (0.64, 1.28, 2.56) could not tell 1.3 s from
/// 2.5 s.
const PUBLISH_LAG_BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0,
];

/// Label of a rejection counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// Why the submission was refused.
    pub reason: String,
}

/// Labels of a witness result counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WitnessLabel {
    /// The witness's policy name.
    pub witness: String,
    /// `cosigned`, `conflict`, `refused` (an alarm) or `failed`.
    pub result: String,
}

/// The log's instruments and the registry that exports them.
pub struct Metrics {
    registry: Registry,
    /// Entries appended since start.
    pub entries_appended: Counter,
    /// Current tree size.
    pub tree_size: Gauge,
    /// New entries per batch.
    pub batch_size: Histogram,
    /// Time to sequence, write and sign one batch.
    pub batch_seconds: Histogram,
    /// Time from queueing an entry to its answer.
    pub submit_seconds: Histogram,
    /// Submissions refused, by reason.
    pub rejections: Family<ReasonLabel, Counter>,
    /// add-checkpoint results, by witness and result.
    pub witness_results: Family<WitnessLabel, Counter>,
    /// Size of the checkpoint the object-store bucket holds.
    pub bucket_tree_size: Gauge,
    /// Seconds from signing a checkpoint to the bucket holding it.
    pub publish_lag_seconds: Histogram,
    /// Failed publishing rounds.
    pub publish_failures: Counter,
    /// Objects written to the bucket.
    pub objects_written: Counter,
}

impl Metrics {
    /// Registers every instrument.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("attestlog");
        let m = Metrics {
            entries_appended: Counter::default(),
            tree_size: Gauge::default(),
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            batch_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            submit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            rejections: Family::default(),
            witness_results: Family::default(),
            bucket_tree_size: Gauge::default(),
            publish_lag_seconds: Histogram::new(PUBLISH_LAG_BUCKETS),
            publish_failures: Counter::default(),
            objects_written: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "entries_appended",
            "Entries appended to the tree since start",
            m.entries_appended.clone(),
        );
        registry.register("tree_size", "Current tree size", m.tree_size.clone());
        registry.register(
            "batch_size",
            "New entries per sequenced batch",
            m.batch_size.clone(),
        );
        registry.register(
            "batch_seconds",
            "Seconds to sequence, durably write and sign one batch",
            m.batch_seconds.clone(),
        );
        registry.register(
            "submit_seconds",
            "Seconds from queueing an admitted entry to its answer",
            m.submit_seconds.clone(),
        );
        registry.register(
            "rejections",
            "Submissions refused, by reason",
            m.rejections.clone(),
        );
        registry.register(
            "witness_results",
            "add-checkpoint results by witness; result=\"refused\" is an alarm",
            m.witness_results.clone(),
        );
        registry.register(
            "bucket_tree_size",
            "Size of the checkpoint the object-store bucket holds",
            m.bucket_tree_size.clone(),
        );
        registry.register(
            "publish_lag_seconds",
            "Seconds from signing a checkpoint to the object-store bucket holding it",
            m.publish_lag_seconds.clone(),
        );
        registry.register(
            "publish_failures",
            "Failed rounds of publishing to the object store",
            m.publish_failures.clone(),
        );
        registry.register(
            "bucket_objects_written",
            "Objects written to the object-store bucket",
            m.objects_written.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts one refused submission.
    pub fn reject(&self, reason: &str) {
        self.rejections
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Counts one add-checkpoint result.
    pub fn witness_result(&self, witness: &str, result: &str) {
        self.witness_results
            .get_or_create(&WitnessLabel {
                witness: witness.to_owned(),
                result: result.to_owned(),
            })
            .inc();
    }

    /// The OpenMetrics text of every instrument.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
