//! Per-key rate limiting of submissions: a token bucket per signer
//! (primary key fingerprint), so one key — a stolen one, or a runaway
//! script — cannot flood the log, while a maintainer attesting a whole
//! distribution rebuild at once fits in the burst.
//!
//! A token is taken when a verified submission goes to the sequencer and
//! given back if the entry turns out to be a duplicate (or is not logged):
//! replaying someone's signed attestation costs its key nothing. Only
//! verified signatures reach the limiter, so nobody can spend another
//! key's tokens with made-up submissions.
//!
//! Memory is bounded: at most [`RateLimit::max_keys`] buckets (default
//! [`MAX_TRACKED_KEYS`]); past that, the
//! buckets that have refilled (idle keys) are dropped, and if that is not
//! enough, the least recently used [`EVICT_FRACTION`] of them: a key that
//! is busy (such as one flooding the log) is never the one forgotten, so
//! making up new keys cannot reset its bucket.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most keys tracked at once, by default.
pub const MAX_TRACKED_KEYS: usize = 100_000;

/// The share of buckets dropped, least recently used first, when every
/// tracked key is active and a new one arrives (evicting in bulk keeps the
/// cost per new key small).
pub const EVICT_FRACTION: f64 = 0.1;

/// Sustained rate and burst per key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Entries per minute, sustained.
    pub per_minute: u32,
    /// Entries a key may submit at once after being idle.
    pub burst: u32,
    /// Most keys tracked at once (at least 1).
    pub max_keys: usize,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Tokens as of `at`.
    tokens: f64,
    /// When the key last took or was given a token (and the bucket was
    /// brought up to date).
    at: Instant,
}

/// Token buckets by key.
pub struct KeyRateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<Vec<u8>, Bucket>>,
}

impl KeyRateLimiter {
    /// A limiter allowing `limit` per key; `per_minute` and `burst` must
    /// be at least 1 (the configuration checks it).
    pub fn new(limit: RateLimit) -> KeyRateLimiter {
        KeyRateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn per_second(&self) -> f64 {
        f64::from(self.limit.per_minute) / 60.0
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second()).min(f64::from(self.limit.burst));
        b.at = now;
    }

    /// Takes one token from `key`'s bucket, or says how long until one is
    /// available.
    pub fn try_take(&self, key: &[u8], now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let max_keys = self.limit.max_keys.max(1);
        if !buckets.contains_key(key) && buckets.len() >= max_keys {
            let burst = f64::from(self.limit.burst);
            // Drop the buckets that would be full by now, without
            // touching the others: `at` is when a key was last used, which
            // the eviction below goes by.
            buckets.retain(|_, b| {
                let mut refilled = *b;
                self.refill(&mut refilled, now);
                refilled.tokens < burst
            });
            if buckets.len() >= max_keys {
                evict_least_recently_used(&mut buckets);
            }
        }
        let b = buckets.entry(key.to_vec()).or_insert(Bucket {
            tokens: f64::from(self.limit.burst),
            at: now,
        });
        self.refill(b, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - b.tokens) / self.per_second(),
            ))
        }
    }

    /// Gives back a token taken for an entry that was not logged anew.
    pub fn give_back(&self, key: &[u8]) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(key) {
            b.tokens = (b.tokens + 1.0).min(f64::from(self.limit.burst));
        }
    }

    /// The configured limit.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }
}

/// Drops the [`EVICT_FRACTION`] of `buckets` used longest ago.
fn evict_least_recently_used(buckets: &mut HashMap<Vec<u8>, Bucket>) {
    let mut used: Vec<Instant> = buckets.values().map(|b| b.at).collect();
    let evict = ((used.len() as f64 * EVICT_FRACTION).ceil() as usize).clamp(1, used.len());
    let (_, cutoff, _) = used.select_nth_unstable(evict - 1);
    let cutoff = *cutoff;
    let mut dropped = 0;
    buckets.retain(|_, b| {
        if b.at <= cutoff && dropped < evict {
            dropped += 1;
            false
        } else {
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_minute: u32, burst: u32) -> KeyRateLimiter {
        KeyRateLimiter::new(RateLimit {
            per_minute,
            burst,
            max_keys: MAX_TRACKED_KEYS,
        })
    }

    #[test]
    fn burst_then_sustained_rate() {
        let l = limiter(60, 3); // one a second
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.try_take(b"a", t0), Ok(()));
        }
        let wait = l.try_take(b"a", t0).expect_err("burst spent");
        assert!((wait.as_secs_f64() - 1.0).abs() < 1e-6, "{wait:?}");
        // Another key is not affected.
        assert_eq!(l.try_take(b"b", t0), Ok(()));
        // Half a second refills half a token: still not enough.
        assert!(l.try_take(b"a", t0 + Duration::from_millis(500)).is_err());
        assert_eq!(l.try_take(b"a", t0 + Duration::from_millis(1000)), Ok(()));
        // A long idle time refills to the burst, no further.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(l.try_take(b"a", later), Ok(()));
        }
        assert!(l.try_take(b"a", later).is_err());
    }

    #[test]
    fn given_back_tokens_are_usable_and_capped() {
        let l = limiter(1, 2);
        let t0 = Instant::now();
        assert_eq!(l.try_take(b"k", t0), Ok(()));
        assert_eq!(l.try_take(b"k", t0), Ok(()));
        assert!(l.try_take(b"k", t0).is_err());
        l.give_back(b"k");
        assert_eq!(l.try_take(b"k", t0), Ok(()));
        for _ in 0..10 {
            l.give_back(b"k");
        }
        assert_eq!(l.try_take(b"k", t0), Ok(()));
        assert_eq!(l.try_take(b"k", t0), Ok(()));
        assert!(
            l.try_take(b"k", t0).is_err(),
            "giving back never exceeds the burst"
        );
        l.give_back(b"unknown"); // no bucket: nothing happens
    }

    #[test]
    fn the_table_stays_bounded() {
        let l = limiter(60, 2);
        let t0 = Instant::now();
        let at = |i: u32| t0 + Duration::from_micros(u64::from(i));
        for i in 0..MAX_TRACKED_KEYS as u32 {
            l.try_take(&i.to_be_bytes(), at(i)).expect("fresh key");
        }
        // Key 0, flooding, spends its burst last of all.
        let end = at(MAX_TRACKED_KEYS as u32);
        l.try_take(&0u32.to_be_bytes(), end).expect("second token");
        // All active: a new key evicts the least recently used tenth, not
        // everyone, and is served.
        assert_eq!(l.try_take(b"new", end), Ok(()));
        let evicted = (MAX_TRACKED_KEYS as f64 * EVICT_FRACTION).ceil() as usize;
        let n = l.buckets.lock().map(|b| b.len()).unwrap_or(0);
        assert_eq!(n, MAX_TRACKED_KEYS - evicted + 1);
        // The flooding key keeps its empty bucket (before this fix every
        // bucket was reset, giving it a fresh burst).
        assert!(l.try_take(&0u32.to_be_bytes(), end).is_err());
        // The oldest keys were the ones dropped.
        let buckets = l.buckets.lock().unwrap();
        assert!(!buckets.contains_key(&1u32.to_be_bytes()[..]));
        assert!(buckets.contains_key(&(MAX_TRACKED_KEYS as u32 - 1).to_be_bytes()[..]));
        drop(buckets);
        // Idle (refilled) keys are dropped first.
        let l = limiter(60, 2);
        for i in 0..MAX_TRACKED_KEYS as u32 {
            l.try_take(&i.to_be_bytes(), t0).expect("fresh key");
        }
        l.try_take(&0u32.to_be_bytes(), t0).expect("second token");
        let later = t0 + Duration::from_millis(1500);
        assert_eq!(l.try_take(b"new", later), Ok(()));
        let n = l.buckets.lock().map(|b| b.len()).unwrap_or(0);
        // Key 0 spent both tokens and has refilled only 1.5: kept.
        assert_eq!(n, 2);
    }
}
