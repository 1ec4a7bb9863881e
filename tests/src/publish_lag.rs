//! How far a log's bucket trails the log, measured from outside: a
//! sampler that reads the log's `/checkpoint` and the bucket's checkpoint
//! (through a Garage website endpoint) at a fixed interval, the lag of
//! every entry from those samples ([`entry_lags`]), and quantiles of a
//! Prometheus histogram such as the server's own
//! `attestlog_publish_lag_seconds` ([`Histogram`]). Used by
//! `attestlog-loadgen --object-store`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::{http_get, http_get_host};

/// Where a bucket's checkpoint is read: a website endpoint, the `Host`
/// that selects the bucket there, and the object's path (`/checkpoint`,
/// or `/<prefix>/checkpoint`).
#[derive(Clone, Debug)]
pub struct BucketCheckpoint {
    /// The website endpoint.
    pub web: SocketAddr,
    /// The `Host` header that selects the bucket.
    pub host: String,
    /// The checkpoint object's path, starting with `/`.
    pub path: String,
}

impl BucketCheckpoint {
    /// The checkpoint note the bucket holds now; `None` if there is none
    /// yet (or the endpoint does not answer 200).
    pub fn note(&self) -> Option<Vec<u8>> {
        match http_get_host(self.web, &self.host, &self.path) {
            Ok((200, note)) => Some(note),
            _ => None,
        }
    }

    /// The tree size of the bucket's checkpoint, 0 if there is none yet.
    pub fn size(&self) -> u64 {
        self.note().and_then(|n| note_size(&n)).unwrap_or(0)
    }

    /// Reads the checkpoint every 10 ms until it is for at least `size`
    /// entries; returns when it first saw that, or fails after `timeout`.
    pub fn wait_for(&self, size: u64, timeout: Duration) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.size() >= size {
                return Ok(Instant::now());
            }
            if Instant::now() > deadline {
                bail!(
                    "the bucket's checkpoint did not reach size {size} within {timeout:?} (at {})",
                    self.size()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The tree size of a checkpoint note (its second line), unverified: the
/// sampler only needs to order them.
pub fn note_size(note: &[u8]) -> Option<u64> {
    std::str::from_utf8(note).ok()?.lines().nth(1)?.parse().ok()
}

/// One look at both checkpoints: the log's first, then the bucket's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// When the log's checkpoint was read.
    pub at: Instant,
    /// The log's tree size.
    pub log: u64,
    /// The bucket's tree size (0 before its first checkpoint).
    pub bucket: u64,
}

/// Reads both checkpoints on a thread of its own every `every` until
/// [`Sampler::finish`].
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<Sample>>,
}

impl Sampler {
    /// Starts sampling the log whose HTTP API is at `log` and its bucket.
    pub fn start(log: SocketAddr, bucket: BucketCheckpoint, every: Duration) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut samples: Vec<Sample> = Vec::new();
            let mut next = Instant::now();
            // One more look after the stop, so the last sample is the state
            // at `finish`.
            loop {
                let stop = stopped.load(Ordering::Relaxed);
                let at = Instant::now();
                let last = samples.last().copied();
                let log = match http_get(log, "/checkpoint") {
                    Ok((200, note)) => note_size(&note),
                    _ => None,
                }
                .or(last.map(|s| s.log))
                .unwrap_or(0);
                let bucket = bucket.size().max(last.map_or(0, |s| s.bucket));
                samples.push(Sample { at, log, bucket });
                if stop {
                    break;
                }
                next += every;
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            samples
        });
        Sampler { stop, thread }
    }

    /// Takes a last sample and stops; the samples, oldest first.
    pub fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// The lag of every entry the samples saw in the log: from the first
/// sample whose log checkpoint includes it to the first whose bucket
/// checkpoint does, sorted; and the number of entries never seen in the
/// bucket (left out of the lags). Both times are quantized to the
/// sampling interval: a lag of 0 means the bucket held the entry by the
/// next look.
pub fn entry_lags(samples: &[Sample]) -> (Vec<Duration>, u64) {
    let Some(last) = samples.last() else {
        return (Vec::new(), 0);
    };
    let mut lags = Vec::with_capacity(last.log as usize);
    let mut unpublished = 0;
    // Cursors: the first sample whose log (bucket) size exceeds entry k.
    let (mut in_log, mut in_bucket) = (0, 0);
    for k in 0..last.log {
        while samples[in_log].log <= k {
            in_log += 1;
        }
        while in_bucket < samples.len() && samples[in_bucket].bucket <= k {
            in_bucket += 1;
        }
        match samples.get(in_bucket) {
            Some(b) => lags.push(b.at.saturating_duration_since(samples[in_log].at)),
            None => unpublished += 1,
        }
    }
    lags.sort();
    (lags, unpublished)
}

/// The value of the sample `name` (a counter's `..._total`, a gauge)
/// without labels in OpenMetrics text; `None` if it is not there.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// A Prometheus histogram read from OpenMetrics text.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// (upper bound `le`, cumulative count), in increasing `le`; the last
    /// is `+Inf`.
    pub buckets: Vec<(f64, u64)>,
    /// Observations.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
}

impl Histogram {
    /// The histogram `name` (without the `_bucket` suffix) in `text`, the
    /// body of a `/metrics` answer; `None` if it is not there.
    pub fn parse(text: &str, name: &str) -> Option<Histogram> {
        let (mut buckets, mut count, mut sum) = (Vec::new(), None, None);
        for line in text.lines() {
            let Some((key, value)) = line.rsplit_once(' ') else {
                continue;
            };
            if let Some(labels) = key
                .strip_prefix(name)
                .and_then(|k| k.strip_prefix("_bucket{le=\""))
            {
                let le = labels.strip_suffix("\"}")?;
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                buckets.push((le, value.parse().ok()?));
            } else if key.strip_prefix(name) == Some("_count") {
                count = value.parse().ok();
            } else if key.strip_prefix(name) == Some("_sum") {
                sum = value.parse().ok();
            }
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        Some(Histogram {
            buckets,
            count: count?,
            sum: sum?,
        })
    }

    /// The `p` quantile (0.0..=1.0) as (the upper bound of the bucket it
    /// falls in, a linear interpolation within that bucket as Prometheus's
    /// `histogram_quantile` does); `None` without observations. In the
    /// `+Inf` bucket both are the largest finite bound.
    pub fn quantile(&self, p: f64) -> Option<(f64, f64)> {
        if self.count == 0 {
            return None;
        }
        let rank = p * self.count as f64;
        let (mut lower, mut below) = (0.0, 0);
        for &(le, cum) in &self.buckets {
            if cum as f64 >= rank && cum > below {
                if le.is_infinite() {
                    return Some((lower, lower));
                }
                let share = (rank - below as f64) / (cum - below) as f64;
                return Some((le, lower + (le - lower) * share.clamp(0.0, 1.0)));
            }
            (lower, below) = (le, cum);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_lags_follow_the_samples() {
        let t = Instant::now();
        let ms = |n| t + Duration::from_millis(n);
        let s = |at, log, bucket| Sample {
            at: ms(at),
            log,
            bucket,
        };
        // Entries 0..10 logged by 0 ms, published by 200 ms; 10..15 logged
        // by 100 ms, published by 300 ms; 15 never published.
        let samples = [s(0, 10, 0), s(100, 16, 0), s(200, 16, 10), s(300, 16, 15)];
        let (lags, unpublished) = entry_lags(&samples);
        assert_eq!(unpublished, 1);
        assert_eq!(lags.len(), 15);
        assert_eq!(lags[0], Duration::from_millis(200));
        assert_eq!(lags[14], Duration::from_millis(200));
        let samples = [s(0, 4, 0), s(100, 8, 4), s(200, 8, 8)];
        let (lags, _) = entry_lags(&samples);
        assert_eq!(
            lags.iter().map(Duration::as_millis).collect::<Vec<_>>(),
            [100, 100, 100, 100, 100, 100, 100, 100]
        );
        assert_eq!(entry_lags(&[]), (Vec::new(), 0));
    }

    #[test]
    fn histogram_quantiles_from_openmetrics() {
        let text = "# TYPE attestlog_publish_lag_seconds histogram\n\
            attestlog_publish_lag_seconds_sum 3.5\n\
            attestlog_publish_lag_seconds_count 10\n\
            attestlog_publish_lag_seconds_bucket{le=\"0.01\"} 0\n\
            attestlog_publish_lag_seconds_bucket{le=\"0.02\"} 5\n\
            attestlog_publish_lag_seconds_bucket{le=\"0.04\"} 9\n\
            attestlog_publish_lag_seconds_bucket{le=\"+Inf\"} 10\n\
            attestlog_other_count 7\n\
            attestlog_bucket_objects_written_total 42\n";
        let h = Histogram::parse(text, "attestlog_publish_lag_seconds").unwrap();
        assert_eq!((h.count, h.sum, h.buckets.len()), (10, 3.5, 4));
        assert_eq!(h.quantile(0.5), Some((0.02, 0.02)));
        let (le, est) = h.quantile(0.7).unwrap();
        assert_eq!(le, 0.04);
        assert!((est - 0.03).abs() < 1e-9, "{est}");
        assert_eq!(h.quantile(0.99), Some((0.04, 0.04)));
        assert!(Histogram::parse(text, "attestlog_missing").is_none());
        assert_eq!(
            metric(text, "attestlog_bucket_objects_written_total"),
            Some(42.0)
        );
        assert_eq!(metric(text, "attestlog_other"), None);
        let empty = Histogram {
            buckets: vec![(f64::INFINITY, 0)],
            count: 0,
            sum: 0.0,
        };
        assert_eq!(empty.quantile(0.5), None);
    }
}
