//! Counters shared by all clients of one worker process, and the report a worker sends.

use crate::hist::{HistSnapshot, Histogram};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

/// Kinds of incoming frames counted separately.
#[derive(Clone, Copy)]
pub enum InKind {
    State,
    Members,
    Pong,
    Room,
    Welcome,
    Error,
    Other,
}

const IN_KINDS: [&str; 7] = [
    "state", "members", "pong", "room", "welcome", "error", "other",
];

/// Distinct failure reasons kept; more would mean the reasons embed variable data.
const MAX_REASONS: usize = 64;

#[derive(Default)]
pub struct Stats {
    /// Connections that are in their room right now.
    pub held: AtomicI64,
    /// The most held at once.
    pub peak: AtomicI64,
    /// Slots whose first setup ended (joined or failed): the ramp is over when all have.
    pub settled: AtomicUsize,
    /// Successful joins, churn re-joins included.
    pub joins: AtomicU64,
    /// Time of the last first-time join since the worker started, in µs.
    pub last_join_us: AtomicU64,
    pub msgs_out: AtomicU64,
    pub bytes_out: AtomicU64,
    pub msgs_in: AtomicU64,
    pub bytes_in: AtomicU64,
    in_by_kind: [AtomicU64; 7],
    /// States for play/pause/seek whose send instant was not found (should stay 0).
    pub unmatched: AtomicU64,
    pub churn_cycles: AtomicU64,
    measuring: AtomicBool,
    failures: Mutex<BTreeMap<String, u64>>,
    /// `error` frames the server sent after setup, by code (e.g. rate_limited).
    server_errors: Mutex<BTreeMap<String, u64>>,
    /// Host send → member receipt of the resulting `state`.
    pub fanout: Histogram,
    /// The same, for members connected to another endpoint than their host's (relayed by
    /// the instances; a subset of `fanout`).
    pub fanout_relayed: Histogram,
    /// Connection start → `room` received.
    pub join: Histogram,
    /// Ping round trip without server processing time.
    pub rtt: Histogram,
    /// When the worker started, for `last_join_us`.
    pub origin: Option<std::time::Instant>,
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
    let mut m = map.lock().unwrap();
    if let Some(n) = m.get_mut(key) {
        *n += 1;
    } else if m.len() < MAX_REASONS {
        m.insert(key.to_string(), 1);
    } else {
        *m.entry("(other reasons)".to_string()).or_default() += 1;
    }
}

impl Stats {
    pub fn new(origin: std::time::Instant) -> Self {
        Stats {
            origin: Some(origin),
            ..Default::default()
        }
    }

    pub fn fail(&self, reason: &str, settles: bool) {
        bump(&self.failures, reason);
        if settles {
            self.settled.fetch_add(1, Relaxed);
        }
    }

    pub fn count_server_error(&self, code: &str) {
        bump(&self.server_errors, code);
    }

    pub fn count_unmatched(&self) {
        self.unmatched.fetch_add(1, Relaxed);
    }

    pub fn joined(&self, took: Duration, first: bool) {
        self.join.record(took);
        self.joins.fetch_add(1, Relaxed);
        let now = self.held.fetch_add(1, Relaxed) + 1;
        self.peak.fetch_max(now, Relaxed);
        if first {
            if let Some(o) = self.origin {
                self.last_join_us
                    .fetch_max(o.elapsed().as_micros() as u64, Relaxed);
            }
            self.settled.fetch_add(1, Relaxed);
        }
    }

    pub fn left(&self) {
        self.held.fetch_sub(1, Relaxed);
    }

    pub fn sent(&self, bytes: usize) {
        self.msgs_out.fetch_add(1, Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Relaxed);
    }

    pub fn received(&self, kind: InKind, bytes: usize) {
        self.msgs_in.fetch_add(1, Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Relaxed);
        self.in_by_kind[kind as usize].fetch_add(1, Relaxed);
    }

    pub fn is_measuring(&self) -> bool {
        self.measuring.load(Relaxed)
    }

    pub fn set_measuring(&self, on: bool) {
        self.measuring.store(on, Relaxed);
    }

    pub fn failures(&self) -> BTreeMap<String, u64> {
        self.failures.lock().unwrap().clone()
    }

    pub fn server_errors(&self) -> BTreeMap<String, u64> {
        self.server_errors.lock().unwrap().clone()
    }

    /// Traffic counters at one instant, to difference over the measuring window.
    pub fn traffic(&self) -> Traffic {
        Traffic {
            msgs_out: self.msgs_out.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            msgs_in: self.msgs_in.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            in_by_kind: IN_KINDS
                .iter()
                .zip(&self.in_by_kind)
                .map(|(k, n)| (k.to_string(), n.load(Relaxed)))
                .collect(),
        }
    }
}

/// Message and byte counts as the generator sees them (its "out" is the server's "in").
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Traffic {
    pub msgs_out: u64,
    pub bytes_out: u64,
    pub msgs_in: u64,
    pub bytes_in: u64,
    pub in_by_kind: BTreeMap<String, u64>,
}

impl Traffic {
    pub fn minus(&self, earlier: &Traffic) -> Traffic {
        Traffic {
            msgs_out: self.msgs_out - earlier.msgs_out,
            bytes_out: self.bytes_out - earlier.bytes_out,
            msgs_in: self.msgs_in - earlier.msgs_in,
            bytes_in: self.bytes_in - earlier.bytes_in,
            in_by_kind: self
                .in_by_kind
                .iter()
                .map(|(k, n)| {
                    (
                        k.clone(),
                        n - earlier.in_by_kind.get(k).copied().unwrap_or(0),
                    )
                })
                .collect(),
        }
    }

    pub fn add(&mut self, other: &Traffic) {
        self.msgs_out += other.msgs_out;
        self.bytes_out += other.bytes_out;
        self.msgs_in += other.msgs_in;
        self.bytes_in += other.bytes_in;
        for (k, n) in &other.in_by_kind {
            *self.in_by_kind.entry(k.clone()).or_default() += n;
        }
    }
}

/// What one worker reports at the end of its run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WorkerReport {
    pub worker: usize,
    pub planned: usize,
    pub rooms: usize,
    /// Connections in their room when measuring stopped.
    pub held_at_end: i64,
    pub peak: i64,
    pub joins: u64,
    /// First join of the last slot to join, seconds after the worker started.
    pub last_join_s: f64,
    pub failures: BTreeMap<String, u64>,
    pub server_errors: BTreeMap<String, u64>,
    /// Traffic during the measuring window only.
    pub window: Traffic,
    pub window_s: f64,
    /// This generator process's own CPU over the window, % of one core: when it nears 100 %
    /// per core, latencies include the generator's queueing, not only the server's.
    pub self_cpu_pct: f64,
    pub unmatched: u64,
    pub churn_cycles: u64,
    pub fanout: HistSnapshot,
    #[serde(default)]
    pub fanout_relayed: HistSnapshot,
    pub join: HistSnapshot,
    pub rtt: HistSnapshot,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_joins_failures_and_traffic() {
        let s = Stats::new(std::time::Instant::now());
        s.joined(Duration::from_millis(3), true);
        s.joined(Duration::from_millis(5), false);
        s.left();
        s.fail("connect: timeout", true);
        s.fail("connect: timeout", true);
        s.fail("lost: reset", false);
        assert_eq!(s.held.load(Relaxed), 1);
        assert_eq!(s.peak.load(Relaxed), 2);
        assert_eq!(s.settled.load(Relaxed), 3); // one first join + two first-setup failures
        assert_eq!(s.failures()["connect: timeout"], 2);
        assert_eq!(s.failures()["lost: reset"], 1);
        let before = s.traffic();
        s.sent(10);
        s.received(InKind::Members, 100);
        s.received(InKind::State, 50);
        let d = s.traffic().minus(&before);
        assert_eq!(
            (d.msgs_out, d.bytes_out, d.msgs_in, d.bytes_in),
            (1, 10, 2, 150)
        );
        assert_eq!(d.in_by_kind["members"], 1);
        assert_eq!(d.in_by_kind["pong"], 0);
    }

    #[test]
    fn failure_reasons_are_bounded() {
        let s = Stats::default();
        for i in 0..200 {
            s.fail(&format!("reason {i}"), false);
        }
        let f = s.failures();
        assert_eq!(f.len(), MAX_REASONS + 1);
        assert_eq!(f["(other reasons)"], 200 - MAX_REASONS as u64);
    }
}
