//! A lock-free latency histogram in microseconds with about 0.1 % relative error.
//!
//! Thousands of connection tasks record into one histogram at once, so buckets are atomics
//! rather than a `Vec` behind a lock. Values below 2048 µs get one bucket each; above that,
//! each power of two is split into 1024 buckets (HDR-histogram style, 10 significant bits).
//! Histograms serialise sparsely so worker processes can ship them to the coordinator, which
//! merges them before computing percentiles (percentiles of parts cannot be merged).

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

/// Values at or above this (about 12.7 days in µs) are clamped into the last bucket.
const MAX_VALUE_US: u64 = 1 << 40;
/// Enough buckets for every value up to `MAX_VALUE_US`.
const BUCKETS: usize = 31 * 1024 + 1024;

/// Bucket index of a value in µs (monotonic in the value).
fn index(v: u64) -> usize {
    let v = v.min(MAX_VALUE_US - 1);
    if v < 2048 {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros() as u64; // >= 11
    let e = msb - 10; // shift that brings v into [1024, 2048)
    (e * 1024 + (v >> e)) as usize
}

/// The middle of a bucket's range, in µs.
fn value_of(i: usize) -> f64 {
    if i < 2048 {
        return i as f64;
    }
    let e = (i / 1024 - 1) as u32;
    let s = (i % 1024 + 1024) as u64;
    ((s << e) as f64) + ((1u64 << e) as f64 - 1.0) / 2.0
}

/// A concurrent histogram; record from any thread with `&self`.
pub struct Histogram {
    /// One counter per bucket.
    counts: Vec<AtomicU64>,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub fn new() -> Self {
        Self {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Records one sample, in microseconds.
    pub fn record_us(&self, us: u64) {
        self.counts[index(us)].fetch_add(1, Ordering::Relaxed);
    }

    /// Records one duration.
    pub fn record(&self, d: std::time::Duration) {
        self.record_us(d.as_micros().min(u64::MAX as u128) as u64);
    }

    /// A plain copy for reporting and merging.
    pub fn snapshot(&self) -> HistSnapshot {
        let buckets = self
            .counts
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let n = c.load(Ordering::Relaxed);
                (n > 0).then_some((i as u32, n))
            })
            .collect();
        HistSnapshot { buckets }
    }
}

/// Non-zero buckets as `(index, count)` pairs, sorted by index.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct HistSnapshot {
    pub buckets: Vec<(u32, u64)>,
}

/// The numbers a report shows for one histogram, in milliseconds.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl HistSnapshot {
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.1).sum()
    }

    /// Adds another snapshot's counts into this one.
    pub fn merge(&mut self, other: &HistSnapshot) {
        let mut all: std::collections::BTreeMap<u32, u64> = self.buckets.iter().copied().collect();
        for &(i, n) in &other.buckets {
            *all.entry(i).or_default() += n;
        }
        self.buckets = all.into_iter().collect();
    }

    /// The value (µs) below or at which a fraction `q` of samples lie; 0 when empty.
    pub fn quantile_us(&self, q: f64) -> f64 {
        let total = self.count();
        if total == 0 {
            return 0.0;
        }
        // Nearest-rank definition: the smallest value whose cumulative count reaches q·n.
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for &(i, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return value_of(i as usize);
            }
        }
        value_of(self.buckets.last().map(|b| b.0 as usize).unwrap_or(0))
    }

    pub fn percentiles(&self) -> Percentiles {
        let count = self.count();
        let sum: f64 = self
            .buckets
            .iter()
            .map(|&(i, n)| value_of(i as usize) * n as f64)
            .sum();
        let ms = |us: f64| (us / 1000.0 * 1000.0).round() / 1000.0; // µs → ms, 3 decimals
        Percentiles {
            count,
            p50_ms: ms(self.quantile_us(0.50)),
            p90_ms: ms(self.quantile_us(0.90)),
            p99_ms: ms(self.quantile_us(0.99)),
            p999_ms: ms(self.quantile_us(0.999)),
            max_ms: ms(self.quantile_us(1.0)),
            mean_ms: if count == 0 {
                0.0
            } else {
                ms(sum / count as f64)
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_monotonic_and_value_is_within_a_tenth_of_a_percent() {
        let mut last = 0;
        for v in (0..5_000_000u64).step_by(7).chain([1 << 30, (1 << 40) - 1]) {
            let i = index(v);
            assert!(i >= last, "index not monotonic at {v}");
            last = i;
            let back = value_of(i);
            let err = (back - v as f64).abs();
            assert!(err <= 0.5 + v as f64 * 0.001, "v={v} back={back}");
        }
        assert!(index(u64::MAX) < BUCKETS);
    }

    #[test]
    fn percentiles_of_a_uniform_range() {
        let h = Histogram::new();
        for us in 1..=10_000u64 {
            h.record_us(us);
        }
        let p = h.snapshot().percentiles();
        assert_eq!(p.count, 10_000);
        assert!((p.p50_ms - 5.0).abs() < 0.01, "{p:?}");
        assert!((p.p99_ms - 9.9).abs() < 0.02, "{p:?}");
        assert!((p.max_ms - 10.0).abs() < 0.02, "{p:?}");
        assert!((p.mean_ms - 5.0).abs() < 0.01, "{p:?}");
    }

    #[test]
    fn merging_equals_recording_into_one() {
        let (a, b, both) = (Histogram::new(), Histogram::new(), Histogram::new());
        for us in [3u64, 70, 900, 4000, 4000, 1_000_000] {
            a.record_us(us);
            both.record_us(us);
        }
        for us in [5u64, 70, 123_456] {
            b.record_us(us);
            both.record_us(us);
        }
        let mut m = a.snapshot();
        m.merge(&b.snapshot());
        assert_eq!(m, both.snapshot());
        let json = serde_json::to_string(&m).unwrap();
        let back: HistSnapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back.percentiles(), both.snapshot().percentiles());
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        let p = Histogram::new().snapshot().percentiles();
        assert_eq!(p, Percentiles::default());
    }
}
