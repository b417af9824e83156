//! Prometheus counters, gauges and the fan-out latency histogram.
//!
//! Plain atomics for the hot paths; labeled counters sit in one `std::sync::Mutex<BTreeMap>`
//! that is only held to bump a number (never across `.await`, never together with another
//! lock). Labels are fixed `&'static str`s, so nobody can grow the map from the outside.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the fan-out latency histogram buckets.
const BUCKETS: [f64; 13] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// All server metrics.
#[derive(Default)]
pub struct Metrics {
    /// Open WebSocket connections.
    pub connections: AtomicI64,
    /// Connections accepted since start.
    pub connections_total: AtomicU64,
    /// Live rooms.
    pub rooms: AtomicI64,
    /// Seats held in all rooms (connected or waiting for resume).
    pub members: AtomicI64,
    /// `status` messages ignored by the per-connection status limit.
    pub status_ignored: AtomicU64,
    /// Connections closed by reason (close code).
    labeled: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Fan-out histogram: cumulative counts per bucket, then +Inf.
    fanout_buckets: [AtomicU64; BUCKETS.len() + 1],
    /// Sum of fan-out latencies in nanoseconds.
    fanout_sum_ns: AtomicU64,
}

impl Metrics {
    /// Count one inbound message of a type.
    pub fn msg_in(&self, kind: &'static str) {
        self.inc("matinee_messages_in_total", kind);
    }

    /// Count one outbound message of a type.
    pub fn msg_out(&self, kind: &'static str) {
        self.inc("matinee_messages_out_total", kind);
    }

    /// Count one error sent, by code.
    pub fn error(&self, code: &'static str) {
        self.inc("matinee_errors_total", code);
    }

    /// Count one authentication failure, by the authenticator's fixed reason.
    pub fn auth_failure(&self, reason: &'static str) {
        self.inc("matinee_auth_failures_total", reason);
    }

    /// Count one connection closed by the server, by reason.
    pub fn closed(&self, reason: &'static str) {
        self.inc("matinee_closes_total", reason);
    }

    fn inc(&self, name: &'static str, label: &'static str) {
        let mut m = self.labeled.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry((name, label)).or_insert(0) += 1;
    }

    /// Record one fan-out latency (room decision → frame handed to the socket).
    pub fn fanout(&self, d: Duration) {
        let s = d.as_secs_f64();
        let idx = BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(BUCKETS.len());
        self.fanout_buckets[idx].fetch_add(1, Ordering::Relaxed);
        self.fanout_sum_ns
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let gauge = |o: &mut String, name: &str, help: &str, v: i64| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(
            &mut o,
            "matinee_connections",
            "Open WebSocket connections.",
            self.connections.load(Ordering::Relaxed),
        );
        gauge(
            &mut o,
            "matinee_rooms",
            "Live rooms.",
            self.rooms.load(Ordering::Relaxed),
        );
        gauge(
            &mut o,
            "matinee_members",
            "Seats held in rooms (connected or resumable).",
            self.members.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            o,
            "# HELP matinee_connections_total WebSocket connections accepted.\n# TYPE matinee_connections_total counter\nmatinee_connections_total {}",
            self.connections_total.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            o,
            "# HELP matinee_status_ignored_total status messages over the per-connection status limit.\n# TYPE matinee_status_ignored_total counter\nmatinee_status_ignored_total {}",
            self.status_ignored.load(Ordering::Relaxed)
        );
        let families: [(&str, &str, &str); 5] = [
            (
                "matinee_messages_in_total",
                "type",
                "Client messages received, by type.",
            ),
            (
                "matinee_messages_out_total",
                "type",
                "Server messages sent, by type.",
            ),
            (
                "matinee_errors_total",
                "code",
                "error messages sent, by code.",
            ),
            (
                "matinee_auth_failures_total",
                "reason",
                "Refused hellos, by reason.",
            ),
            (
                "matinee_closes_total",
                "reason",
                "Connections closed by the server, by reason.",
            ),
        ];
        let m = self
            .labeled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (name, label, help) in families {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter");
            for ((n, l), v) in m.iter() {
                if *n == name {
                    let _ = writeln!(o, "{name}{{{label}=\"{l}\"}} {v}");
                }
            }
        }
        let name = "matinee_fanout_latency_seconds";
        let _ = writeln!(
            o,
            "# HELP {name} Time from a room deciding a broadcast to the frame being handed to each socket.\n# TYPE {name} histogram"
        );
        let mut cum = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cum += self.fanout_buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(o, "{name}_bucket{{le=\"{b}\"}} {cum}");
        }
        cum += self.fanout_buckets[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(o, "{name}_bucket{{le=\"+Inf\"}} {cum}");
        let _ = writeln!(
            o,
            "{name}_sum {}",
            self.fanout_sum_ns.load(Ordering::Relaxed) as f64 / 1e9
        );
        let _ = writeln!(o, "{name}_count {cum}");
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_histogram() {
        let m = Metrics::default();
        m.msg_in("ping");
        m.msg_in("ping");
        m.error("room_full");
        m.fanout(Duration::from_micros(50));
        m.fanout(Duration::from_millis(3));
        m.fanout(Duration::from_secs(5));
        let t = m.render();
        assert!(t.contains("matinee_messages_in_total{type=\"ping\"} 2"));
        assert!(t.contains("matinee_errors_total{code=\"room_full\"} 1"));
        assert!(t.contains("matinee_fanout_latency_seconds_bucket{le=\"0.0001\"} 1"));
        assert!(t.contains("matinee_fanout_latency_seconds_bucket{le=\"0.005\"} 2"));
        assert!(t.contains("matinee_fanout_latency_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(t.contains("matinee_fanout_latency_seconds_count 3"));
    }
}
