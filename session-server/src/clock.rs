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
    /// Cap on the seek latency covered by a seek's lead, ms.
    pub max_seek_ms: f64,
}

impl LeadRule {
    /// Lead of a scheduled start: `clamp(2 × highest one-way delay + margin, min, max)`,
    /// so the member furthest away still hears of the start before it happens.
    pub fn start(&self, max_one_way_ms: f64) -> f64 {
        (2.0 * max_one_way_ms.max(0.0) + self.margin_ms).clamp(self.min_ms, self.max_ms)
    }

    /// Lead of a seek while playing: the start lead plus the slowest member's reported seek
    /// latency (capped), so that every player has finished seeking when media time resumes.
    pub fn seek(&self, max_one_way_ms: f64, max_seek_latency_ms: f64) -> f64 {
        self.start(max_one_way_ms) + max_seek_latency_ms.clamp(0.0, self.max_seek_ms)
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
        assert_eq!(RULE.seek(50.0, 9000.0), 2130.0);
    }

    #[test]
    fn now_is_epoch_ms() {
        let t = now_ms();
        assert!(t > 1.6e12 && t < 1e13);
    }
}
