//! The waiting-for-everyone rule (DESIGN §3), pure: every function takes `now`.
//!
//! While the room plays with `wait_for_all`, a connected member that has been buffering for
//! longer than the grace makes the room pause for everyone still buffering; the room resumes
//! when nobody is left to wait for, or at the cap, dropping the slow ones from the wait
//! (they are exempt until they recover). Buffering before the state's `at` (a player getting
//! ready for a scheduled start, which is what the lead is for) does not count.

use std::time::{Duration, Instant};

/// Per-member buffering bookkeeping of the rule.
#[derive(Clone, Debug, Default)]
pub struct Stall {
    /// Since when the member reports buffering.
    since: Option<Instant>,
    /// Dropped from a wait that hit its cap; ignored by the rule until it recovers.
    exempt: bool,
}

impl Stall {
    /// A status report said `buffering` (the previous one said `was`). Returns `true` when
    /// the member stopped buffering: it must no longer be waited for.
    pub fn report(&mut self, was: bool, buffering: bool, now: Instant) -> bool {
        if buffering && !was {
            self.since = Some(now);
        } else if !buffering {
            self.since = None;
            self.exempt = false;
            return was;
        }
        false
    }

    /// Buffering that goes on gets a fresh grace from `now`: after a new start (buffering
    /// while paused says nothing yet about keeping up with playback) or a reconnect (the
    /// report predates it).
    pub fn regrace(&mut self, now: Instant) {
        if self.since.is_some() {
            self.since = Some(now);
        }
    }

    /// When this member's buffering becomes a reason to wait, if it can.
    fn due(&self, runs_from: Instant, grace: Duration) -> Option<Instant> {
        match (self.since, self.exempt) {
            (Some(t), false) => Some(t.max(runs_from) + grace),
            _ => None,
        }
    }
}

/// What the rule needs to know of one member.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    /// Member id.
    pub id: &'a str,
    /// Whether a connection holds the seat (a gone member is never waited for).
    pub connected: bool,
    /// Its last reported `buffering`.
    pub buffering: bool,
    /// Its bookkeeping.
    pub stall: &'a Stall,
}

/// What [`Waiting::check`] decided.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Nothing to do.
    Nothing,
    /// Pause for these members (sorted); the wait has begun.
    Wait(Vec<String>),
    /// The wait hit its cap: these members are dropped from it (mark them exempt) and the
    /// room resumes.
    CapReached(Vec<String>),
}

#[derive(Clone, Debug)]
struct Wait {
    members: Vec<String>,
    deadline: Instant,
}

/// The rule's own state: the current wait, and since when media time advances.
#[derive(Clone, Debug)]
pub struct Waiting {
    grace: Duration,
    cap: Duration,
    wait: Option<Wait>,
    /// When media time starts to advance under the current state (its `at`). Buffering
    /// before then is a player getting ready for a scheduled start, so the grace counts from
    /// here at the earliest.
    runs_from: Instant,
}

impl Waiting {
    /// No wait; `grace` and `cap` from the room's parameters.
    pub fn new(grace: Duration, cap: Duration, now: Instant) -> Self {
        Waiting {
            grace,
            cap,
            wait: None,
            runs_from: now,
        }
    }

    /// The members waited for, while the room waits.
    pub fn members(&self) -> Option<&[String]> {
        self.wait.as_ref().map(|w| &w.members[..])
    }

    /// A new state advances media time from `runs_from` (a start, a resume, a seek while
    /// playing).
    pub fn runs_from(&mut self, runs_from: Instant) {
        self.runs_from = runs_from;
    }

    /// A `play`, `pause` or `set_media` ended the wait.
    pub fn clear(&mut self) {
        self.wait = None;
    }

    /// `member_id` is no longer waited for (recovered, gone). Returns `true` when that ended
    /// the wait: the caller resumes the room.
    pub fn unwait(&mut self, member_id: &str) -> bool {
        let Some(w) = &mut self.wait else {
            return false;
        };
        w.members.retain(|m| m != member_id);
        if w.members.is_empty() {
            self.wait = None;
            true
        } else {
            false
        }
    }

    /// The next instant at which [`Waiting::check`] may decide something. `active`: the
    /// room plays and has `wait_for_all`.
    pub fn deadline<'a>(
        &self,
        active: bool,
        members: impl IntoIterator<Item = Candidate<'a>>,
    ) -> Option<Instant> {
        if let Some(w) = &self.wait {
            return Some(w.deadline);
        }
        if !active {
            return None;
        }
        members
            .into_iter()
            .filter(|m| m.connected)
            .filter_map(|m| m.stall.due(self.runs_from, self.grace))
            .min()
    }

    /// Apply the rule at `now`.
    pub fn check<'a>(
        &mut self,
        active: bool,
        members: impl IntoIterator<Item = Candidate<'a>> + Clone,
        now: Instant,
    ) -> Verdict {
        if let Some(w) = &self.wait {
            if w.deadline <= now {
                let dropped = w.members.clone();
                self.wait = None;
                return Verdict::CapReached(dropped);
            }
            return Verdict::Nothing;
        }
        if !active {
            return Verdict::Nothing;
        }
        let (runs_from, grace) = (self.runs_from, self.grace);
        let slow = members
            .clone()
            .into_iter()
            .any(|m| m.connected && m.stall.due(runs_from, grace).is_some_and(|t| t <= now));
        if !slow {
            return Verdict::Nothing;
        }
        let mut waiting_for: Vec<String> = members
            .into_iter()
            .filter(|m| m.connected && !m.stall.exempt && m.buffering)
            .map(|m| m.id.to_owned())
            .collect();
        waiting_for.sort();
        self.wait = Some(Wait {
            members: waiting_for.clone(),
            deadline: now + self.cap,
        });
        Verdict::Wait(waiting_for)
    }
}

/// Mark a member dropped from a capped wait.
pub fn exempt(stall: &mut Stall) {
    stall.exempt = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_millis(400);
    const CAP: Duration = Duration::from_secs(30);

    fn ms(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_millis(n)
    }

    struct M {
        id: &'static str,
        connected: bool,
        buffering: bool,
        stall: Stall,
    }

    impl M {
        fn new(id: &'static str) -> M {
            M {
                id,
                connected: true,
                buffering: false,
                stall: Stall::default(),
            }
        }
        fn report(&mut self, buffering: bool, now: Instant) -> bool {
            let was = self.buffering;
            self.buffering = buffering;
            self.stall.report(was, buffering, now)
        }
    }

    fn cands(ms: &[M]) -> Vec<Candidate<'_>> {
        ms.iter()
            .map(|m| Candidate {
                id: m.id,
                connected: m.connected,
                buffering: m.buffering,
                stall: &m.stall,
            })
            .collect()
    }

    #[test]
    fn buffering_past_the_grace_starts_a_wait_that_the_cap_ends() {
        let t0 = Instant::now();
        let mut w = Waiting::new(GRACE, CAP, t0);
        let mut ms_ = vec![M::new("b"), M::new("a")];
        ms_[0].report(true, ms(t0, 100));
        assert_eq!(w.deadline(true, cands(&ms_)), Some(ms(t0, 500)));
        assert_eq!(
            w.deadline(false, cands(&ms_)),
            None,
            "paused rooms never wait"
        );
        assert_eq!(w.check(true, cands(&ms_), ms(t0, 499)), Verdict::Nothing);
        ms_[1].report(true, ms(t0, 450));
        assert_eq!(
            w.check(true, cands(&ms_), ms(t0, 500)),
            Verdict::Wait(vec!["a".into(), "b".into()]),
            "everyone still buffering is waited for, sorted"
        );
        assert_eq!(w.deadline(true, cands(&ms_)), Some(ms(t0, 30_500)));
        assert_eq!(w.check(true, cands(&ms_), ms(t0, 30_499)), Verdict::Nothing);
        assert_eq!(
            w.check(true, cands(&ms_), ms(t0, 30_500)),
            Verdict::CapReached(vec!["a".into(), "b".into()])
        );
        assert!(w.members().is_none());
        // Dropped members are exempt until they recover.
        for m in &mut ms_ {
            exempt(&mut m.stall);
        }
        assert_eq!(w.deadline(true, cands(&ms_)), None);
        ms_[0].report(false, ms(t0, 31_000));
        ms_[0].report(true, ms(t0, 31_100));
        assert_eq!(w.deadline(true, cands(&ms_)), Some(ms(t0, 31_500)));
    }

    #[test]
    fn the_grace_counts_from_the_scheduled_start_and_recovery_ends_the_wait() {
        let t0 = Instant::now();
        let mut w = Waiting::new(GRACE, CAP, t0);
        let mut ms_ = vec![M::new("a"), M::new("b")];
        // A seek scheduled 1.5 s ahead: buffering before then is preparation.
        w.runs_from(ms(t0, 1500));
        ms_[0].report(true, ms(t0, 10));
        assert_eq!(w.deadline(true, cands(&ms_)), Some(ms(t0, 1900)));
        assert_eq!(w.check(true, cands(&ms_), ms(t0, 1899)), Verdict::Nothing);
        assert_eq!(
            w.check(true, cands(&ms_), ms(t0, 1900)),
            Verdict::Wait(vec!["a".into()])
        );
        // A disconnected member is not waited for.
        ms_[1].report(true, ms(t0, 1950));
        ms_[1].connected = false;
        assert!(!w.unwait("b"), "b was not waited for");
        assert!(ms_[0].report(false, ms(t0, 2000)), "a recovered");
        assert!(w.unwait("a"), "the last one recovered: resume");
        assert!(w.members().is_none());
    }

    #[test]
    fn regrace_restarts_only_ongoing_buffering() {
        let t0 = Instant::now();
        let mut s = Stall::default();
        s.regrace(ms(t0, 100));
        assert_eq!(s.due(t0, GRACE), None);
        s.report(false, true, t0);
        s.regrace(ms(t0, 100));
        assert_eq!(s.due(t0, GRACE), Some(ms(t0, 500)));
        // Still buffering in the next report: the start is not moved.
        s.report(true, true, ms(t0, 300));
        assert_eq!(s.due(t0, GRACE), Some(ms(t0, 500)));
    }
}
