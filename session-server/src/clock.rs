//! Server time and the scheduling arithmetic of DESIGN §3 (no I/O, no state).

use std::time::{SystemTime, UNIX_EPOCH};

/// Server time: milliseconds since the UNIX epoch, with sub-millisecond precision.
pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// Scheduling bounds, copied from `[rooms]` configuration.
#[derive(Clone, Copy, Debug)]
pub struct LeadRule {
    /// Lower bound, ms.
    pub min_ms: f64,
    /// Upper bound, ms.
    pub max_ms: f64,
    /// Added to twice the highest one-way delay, ms.
    pub margin_ms: f64,
    /// Cap on a seek's whole lead, ms (never below the start lead).
    pub max_seek_ms: f64,
}

impl LeadRule {
    /// Lead of a scheduled start: `clamp(2 × highest one-way delay + margin, min, max)`,
    /// so the member furthest away still hears of the start before it happens.
    pub fn start(&self, max_one_way_ms: f64) -> f64 {
        (2.0 * max_one_way_ms.max(0.0) + self.margin_ms).clamp(self.min_ms, self.max_ms)
    }

    /// Lead of a seek while playing: the start lead plus the slowest member's reported seek
    /// latency, so that every player has finished seeking when media time resumes. The whole
    /// lead is capped (`max_seek_ms`, 2 s): one member on a slow transcode must not make every
    /// seek feel broken for the room; it catches up by the drift rules or the waiting rule.
    pub fn seek(&self, max_one_way_ms: f64, max_seek_latency_ms: f64) -> f64 {
        let start = self.start(max_one_way_ms);
        (start + max_seek_latency_ms.max(0.0)).min(self.max_seek_ms.max(start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: LeadRule = LeadRule {
        min_ms: 80.0,
        max_ms: 1000.0,
        margin_ms: 30.0,
        max_seek_ms: 2000.0,
    };

    #[test]
    fn lead_is_clamped() {
        assert_eq!(RULE.start(0.0), 80.0);
        assert_eq!(RULE.start(50.0), 130.0);
        assert_eq!(RULE.start(5000.0), 1000.0);
        assert_eq!(RULE.seek(50.0, 300.0), 430.0);
        // The whole seek lead is capped at 2 s, not just the latency part.
        assert_eq!(RULE.seek(50.0, 9000.0), 2000.0);
        assert_eq!(RULE.seek(50.0, 1900.0), 2000.0);
        assert_eq!(RULE.seek(50.0, -5.0), 130.0);
        // A cap below the start lead never shortens a seek below a start.
        let tight = LeadRule {
            max_seek_ms: 100.0,
            ..RULE
        };
        assert_eq!(tight.seek(400.0, 500.0), 830.0);
    }

    #[test]
    fn now_is_epoch_ms() {
        let t = now_ms();
        assert!(t > 1.6e12 && t < 1e13);
    }
}
