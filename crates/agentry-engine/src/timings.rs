//! Timings this process measures and the store does not keep: dispatch latency (from an
//! issue's `ready_at` to its claim) and verify run time. Kept as cumulative histograms that
//! `/metrics` renders.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds (the last, `+Inf`, is implied).
pub const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0,
];

/// A histogram with the fixed [`BUCKETS`], safe to record into from any thread.
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// What a histogram holds at one moment: cumulative bucket counts, count and sum (seconds).
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramSnapshot {
    pub cumulative: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_secs: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub const fn new() -> Self {
        Self {
            counts: [const { AtomicU64::new(0) }; BUCKETS.len()],
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn record(&self, took: Duration) {
        let secs = took.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|bound| secs <= *bound) {
            self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let cumulative = BUCKETS
            .iter()
            .zip(&self.counts)
            .map(|(bound, n)| {
                running += n.load(Ordering::Relaxed);
                (*bound, running)
            })
            .collect();
        HistogramSnapshot {
            cumulative,
            count: self.count.load(Ordering::Relaxed),
            sum_secs: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

/// From an issue's `ready_at` to the dispatcher's claim on it.
pub static DISPATCH_LATENCY: Histogram = Histogram::new();
/// One run of an issue's verify commands.
pub static VERIFY_TIME: Histogram = Histogram::new();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_the_sum_adds_up() {
        let h = Histogram::new();
        h.record(Duration::from_millis(3));
        h.record(Duration::from_millis(40));
        h.record(Duration::from_secs(1000));
        let s = h.snapshot();
        assert_eq!(s.count, 3);
        assert_eq!(s.cumulative[0], (0.005, 1));
        assert_eq!(s.cumulative[3], (0.05, 2));
        assert_eq!(s.cumulative.last(), Some(&(300.0, 2)));
        assert!((s.sum_secs - 1000.043).abs() < 1e-9);
    }
}
