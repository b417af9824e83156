//! Prometheus counters, gauges and the fan-out latency histogram.
//!
//! The fan-out histogram (`matinee_fanout_latency_seconds{type}`) measures what its name
//! says: from the instant a room decides to send a frame (its broadcast, or a member's `room`
//! snapshot) to the instant that frame has been written to the member's socket (the flush
//! that carried it returned). It counts only frames a room sends, by type (`state`,
//! `members`, `room`, `chat`, `reaction`); direct replies of a connection (`pong`, `welcome`,
//! `error`) are not fan-out and are not in it. Frames that a room never sends (a member
//! whose queue overflowed) are not counted either.
//!
//! Plain atomics for the hot paths: gauges, the histogram and the per-type message and error
//! counters, whose label sets are fixed ([`Family`]). Counters bumped rarely (auth failures,
//! closes) and any label outside a fixed set sit in one `std::sync::Mutex<BTreeMap>` that is
//! only held to bump a number (never across `.await`, never together with another lock).
//! Labels are `&'static str`s, so nobody can grow the map from the outside.
//!
//! Why not the mutex for everything: every frame in and out bumped it, from both worker
//! threads; on a machine shared with other work a thread preempted while holding it stalls
//! the other on a futex for the rest of its time slice.

use crate::protocol::{ErrorCode, CLIENT_TYPES};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the fan-out latency histogram buckets: fine from 0.1 to 10 ms,
/// where the 5 ms target is, coarse beyond.
const BUCKETS: [f64; 19] = [
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Frame types of the fan-out histogram, in the order of its series.
pub const FANOUT_KINDS: [&str; 6] = ["state", "members", "room", "chat", "reaction", "other"];

/// The index of `kind` in [`FANOUT_KINDS`] (`other` for any other type).
pub fn fanout_index(kind: &str) -> u8 {
    FANOUT_KINDS
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(FANOUT_KINDS.len() - 1) as u8
}

/// One histogram series: cumulative counts per bucket, then +Inf, and the sum.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_ns: AtomicU64,
}

/// A counter family with a fixed label set, one atomic per label (a label outside the set
/// goes to the shared map).
struct Family {
    name: &'static str,
    labels: &'static [&'static str],
    counts: Box<[AtomicU64]>,
}

impl Family {
    fn new(name: &'static str, labels: &'static [&'static str]) -> Self {
        Family {
            name,
            labels,
            counts: labels.iter().map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Bump `label`; `false` when it is not one of the fixed labels.
    fn inc(&self, label: &str) -> bool {
        match self.labels.iter().position(|l| *l == label) {
            Some(i) => {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

/// Labels of `matinee_messages_in_total`: every client type (the protocol's own list, so a new
/// message needs adding once), plus what is not one.
const IN_LABELS: [&str; CLIENT_TYPES.len() + 3] = {
    let mut out = [""; CLIENT_TYPES.len() + 3];
    let mut i = 0;
    while i < CLIENT_TYPES.len() {
        out[i] = CLIENT_TYPES[i];
        i += 1;
    }
    out[i] = "binary";
    out[i + 1] = "unknown";
    out[i + 2] = "invalid";
    out
};
/// Labels of `matinee_messages_out_total`: every server type.
const OUT_LABELS: [&str; 12] = [
    "welcome",
    "pong",
    "room",
    "state",
    "members",
    "chat",
    "reaction",
    "left",
    "error",
    "ready_check",
    "ready_result",
    "queue",
];
/// Labels of `matinee_errors_total`: every error code, in the protocol's order.
const ERROR_LABELS: [&str; ErrorCode::ALL.len()] = {
    let mut out = [""; ErrorCode::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = ErrorCode::ALL[i].as_str();
        i += 1;
    }
    out
};

/// The three hot counter families.
struct Hot {
    msgs_in: Family,
    msgs_out: Family,
    errors: Family,
}

impl Default for Hot {
    fn default() -> Self {
        Hot {
            msgs_in: Family::new("matinee_messages_in_total", &IN_LABELS),
            msgs_out: Family::new("matinee_messages_out_total", &OUT_LABELS),
            errors: Family::new("matinee_errors_total", &ERROR_LABELS),
        }
    }
}

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
    /// Per-type message and error counters.
    hot: Hot,
    /// Every other labeled counter: (family, label) → count.
    labeled: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Fan-out histograms, one per [`FANOUT_KINDS`] entry.
    fanout: [Histogram; FANOUT_KINDS.len()],
}

impl Metrics {
    /// Count one inbound message of a type.
    pub fn msg_in(&self, kind: &'static str) {
        if !self.hot.msgs_in.inc(kind) {
            self.inc("matinee_messages_in_total", kind);
        }
    }

    /// Count one outbound message of a type.
    pub fn msg_out(&self, kind: &'static str) {
        if !self.hot.msgs_out.inc(kind) {
            self.inc("matinee_messages_out_total", kind);
        }
    }

    /// Count one error sent, by code.
    pub fn error(&self, code: &'static str) {
        if !self.hot.errors.inc(code) {
            self.inc("matinee_errors_total", code);
        }
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

    /// Record one fan-out latency of a frame of type `kind`: room decision → frame written
    /// to the socket.
    pub fn fanout(&self, kind: &str, d: Duration) {
        let h = &self.fanout[fanout_index(kind) as usize];
        let s = d.as_secs_f64();
        let idx = BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(BUCKETS.len());
        h.buckets[idx].fetch_add(1, Ordering::Relaxed);
        h.sum_ns.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
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
        let mut m = self
            .labeled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        // The hot families join the map for rendering, so the output stays one sorted list of
        // the labels counted so far, whichever way they were counted.
        for f in [&self.hot.msgs_in, &self.hot.msgs_out, &self.hot.errors] {
            for (l, c) in f.labels.iter().zip(f.counts.iter()) {
                let c = c.load(Ordering::Relaxed);
                if c > 0 {
                    *m.entry((f.name, *l)).or_insert(0) += c;
                }
            }
        }
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
            "# HELP {name} Time from a room deciding to send a frame to that frame written to the member's socket, by frame type.\n# TYPE {name} histogram"
        );
        for (kind, h) in FANOUT_KINDS.iter().zip(&self.fanout) {
            let mut cum = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cum += h.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(o, "{name}_bucket{{type=\"{kind}\",le=\"{b}\"}} {cum}");
            }
            cum += h.buckets[BUCKETS.len()].load(Ordering::Relaxed);
            let _ = writeln!(o, "{name}_bucket{{type=\"{kind}\",le=\"+Inf\"}} {cum}");
            let sum = h.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(o, "{name}_sum{{type=\"{kind}\"}} {sum}");
            let _ = writeln!(o, "{name}_count{{type=\"{kind}\"}} {cum}");
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_label_sets_are_the_protocols() {
        assert_eq!(&IN_LABELS[..CLIENT_TYPES.len()], &CLIENT_TYPES[..]);
        assert_eq!(
            &IN_LABELS[CLIENT_TYPES.len()..],
            &["binary", "unknown", "invalid"]
        );
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(&ERROR_LABELS[..], &codes[..]);
        // A label outside the fixed set is still counted and rendered, in order.
        let m = Metrics::default();
        m.msg_out("state");
        m.msg_out("something_else");
        m.msg_out("state");
        let t = m.render();
        let a = t.find("matinee_messages_out_total{type=\"something_else\"} 1");
        let b = t.find("matinee_messages_out_total{type=\"state\"} 2");
        assert!(a.is_some() && b.is_some() && a < b, "{t}");
    }

    #[test]
    fn renders_counters_and_cumulative_histogram() {
        let m = Metrics::default();
        m.msg_in("ping");
        m.msg_in("ping");
        m.error("room_full");
        m.fanout("state", Duration::from_micros(50));
        m.fanout("state", Duration::from_millis(3));
        m.fanout("state", Duration::from_secs(5));
        m.fanout("members", Duration::from_millis(20));
        m.fanout("something new", Duration::from_millis(20));
        let t = m.render();
        assert!(t.contains("matinee_messages_in_total{type=\"ping\"} 2"));
        assert!(t.contains("matinee_errors_total{code=\"room_full\"} 1"));
        let h = "matinee_fanout_latency_seconds";
        assert!(t.contains(&format!("{h}_bucket{{type=\"state\",le=\"0.0001\"}} 1")));
        assert!(t.contains(&format!("{h}_bucket{{type=\"state\",le=\"0.005\"}} 2")));
        assert!(t.contains(&format!("{h}_bucket{{type=\"state\",le=\"+Inf\"}} 3")));
        assert!(t.contains(&format!("{h}_count{{type=\"state\"}} 3")));
        assert!(t.contains(&format!("{h}_bucket{{type=\"members\",le=\"0.01\"}} 0")));
        assert!(t.contains(&format!("{h}_bucket{{type=\"members\",le=\"0.025\"}} 1")));
        assert!(t.contains(&format!("{h}_count{{type=\"other\"}} 1")));
        assert!(t.contains(&format!("{h}_count{{type=\"chat\"}} 0")));
    }
}
