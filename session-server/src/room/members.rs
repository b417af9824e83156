//! Members' status reports and the `members` throttle, pure: every function takes `now`.
//!
//! A room sends `members` within `members_interval` when something a person sees changed
//! (join, leave, host, `buffering`, `connected`, a first status, an error crossing
//! [`VISIBLE_ERROR_MS`]) and changed numbers alone (`rtt_ms`, `error_ms`) at most every
//! `members_refresh`.

use std::time::{Duration, Instant};

/// A member whose reported error is beyond this (either way) is shown as out of sync, so
/// crossing it is a change a person sees and is announced within the `members` throttle;
/// smaller error changes wait for the numbers refresh. Well above the clients' correction
/// bands (a few to 10 ms), so ordinary jitter does not cross it back and forth.
pub const VISIBLE_ERROR_MS: f64 = 50.0;

/// A member's status report (already rate-limited by the connection); serializable for the
/// instance-to-instance relay.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatusReport {
    /// Player position, seconds.
    pub position: f64,
    /// Player playing.
    pub playing: bool,
    /// Player buffering.
    pub buffering: bool,
    /// Round-trip time, ms.
    pub rtt_ms: f64,
    /// Sync error, ms.
    pub error_ms: f64,
    /// Learned seek latency, ms.
    pub seek_ms: Option<f64>,
}

fn clean(v: f64, max: f64) -> f64 {
    if v.is_finite() {
        v.clamp(-max, max)
    } else {
        0.0
    }
}

impl StatusReport {
    /// The report with every number made finite and bounded, as the room stores and repeats
    /// it (a client's nonsense never reaches the other members or the lead computation).
    pub fn cleaned(self) -> StatusReport {
        StatusReport {
            position: clean(self.position, 1.0e7),
            playing: self.playing,
            buffering: self.buffering,
            rtt_ms: clean(self.rtt_ms, 60_000.0).max(0.0),
            error_ms: clean(self.error_ms, 1.0e7),
            seek_ms: self.seek_ms.map(|v| clean(v, 60_000.0).max(0.0)),
        }
    }

    fn out_of_sync(&self) -> bool {
        self.error_ms.abs() > VISIBLE_ERROR_MS
    }
}

/// How a new report changes what `members` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing.
    None,
    /// Only numbers (`rtt_ms`, `error_ms`).
    Numbers,
    /// Something a person sees.
    Visible,
}

/// Compare the stored report (`None` before the first) with a new, cleaned one.
pub fn change(old: Option<&StatusReport>, new: &StatusReport) -> Change {
    match old {
        None => Change::Visible,
        Some(o) if o.buffering != new.buffering || o.out_of_sync() != new.out_of_sync() => {
            Change::Visible
        }
        Some(o) if (o.rtt_ms, o.error_ms) != (new.rtt_ms, new.error_ms) => Change::Numbers,
        Some(_) => Change::None,
    }
}

/// When the next `members` message is due.
#[derive(Clone, Debug)]
pub struct Throttle {
    interval: Duration,
    refresh: Duration,
    /// Something a person sees changed: send within `interval`.
    visible: bool,
    /// Only numbers changed: send within `refresh`.
    numbers: bool,
    last_sent: Option<Instant>,
}

impl Throttle {
    /// Nothing pending, nothing sent yet.
    pub fn new(interval: Duration, refresh: Duration) -> Self {
        Throttle {
            interval,
            refresh,
            visible: false,
            numbers: false,
            last_sent: None,
        }
    }

    /// Record a change.
    pub fn note(&mut self, c: Change) {
        match c {
            Change::Visible => self.visible = true,
            Change::Numbers => self.numbers = true,
            Change::None => {}
        }
    }

    /// The least gap after the last message before the next one is due, if one is.
    fn gap(&self) -> Option<Duration> {
        if self.visible {
            Some(self.interval)
        } else if self.numbers {
            Some(self.refresh.max(self.interval))
        } else {
            None
        }
    }

    /// When the next message is due (`now` if one is pending and none was ever sent).
    pub fn deadline(&self, now: Instant) -> Option<Instant> {
        let gap = self.gap()?;
        Some(self.last_sent.map_or(now, |t| t + gap))
    }

    /// Whether a message is due at `now`.
    pub fn due(&self, now: Instant) -> bool {
        self.deadline(now).is_some_and(|d| d <= now)
    }

    /// A message went out at `now`: nothing is pending any more.
    pub fn sent(&mut self, now: Instant) {
        self.visible = false;
        self.numbers = false;
        self.last_sent = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_millis(500);
    const REFRESH: Duration = Duration::from_secs(5);

    fn report(error_ms: f64, buffering: bool) -> StatusReport {
        StatusReport {
            error_ms,
            buffering,
            rtt_ms: 20.0,
            ..Default::default()
        }
    }

    #[test]
    fn changes_are_classified_by_what_a_person_sees() {
        let r = report(3.0, false);
        assert_eq!(change(None, &r), Change::Visible);
        assert_eq!(change(Some(&r), &r), Change::None);
        assert_eq!(change(Some(&r), &report(4.0, false)), Change::Numbers);
        assert_eq!(change(Some(&r), &report(60.0, false)), Change::Visible);
        assert_eq!(change(Some(&r), &report(-60.0, false)), Change::Visible);
        assert_eq!(change(Some(&r), &report(3.0, true)), Change::Visible);
    }

    #[test]
    fn reports_are_cleaned() {
        let r = StatusReport {
            position: f64::NAN,
            rtt_ms: -5.0,
            error_ms: 1e12,
            seek_ms: Some(f64::INFINITY),
            ..Default::default()
        }
        .cleaned();
        assert_eq!((r.position, r.rtt_ms, r.error_ms), (0.0, 0.0, 1.0e7));
        assert_eq!(r.seek_ms, Some(0.0));
    }

    #[test]
    fn visible_changes_wait_for_the_interval_numbers_for_the_refresh() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut t = Throttle::new(INTERVAL, REFRESH);
        assert_eq!(t.deadline(t0), None);
        t.note(Change::Visible);
        assert!(t.due(t0), "the first message goes at once");
        t.sent(t0);
        assert!(!t.due(at(10_000)), "nothing pending");
        t.note(Change::Numbers);
        assert_eq!(t.deadline(at(100)), Some(at(5_000)));
        t.note(Change::Visible);
        assert_eq!(t.deadline(at(100)), Some(at(500)));
        assert!(!t.due(at(499)));
        assert!(t.due(at(500)));
    }
}
