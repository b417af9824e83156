//! The ready check, pure: every function takes `now` (docs/protocol.md, "Lobby and ready
//! check").
//!
//! While the room is paused (a room that has not started yet is its lobby), whoever may drive
//! playback asks "ready?"; each member answers `ready` (true or false). The check ends when
//! every connected member has said yes, or at its cap (30 s) at the latest: it never waits
//! for anybody longer, and the members who did not answer are listed, not waited for. A check
//! asked with `start` then starts playback for everyone; a playback intent ends it early.
//! A check is not durable: a restart ends it without a result, as it ends every timer.

use std::time::{Duration, Instant};

pub use crate::protocol::ReadyOutcome as Outcome;

/// Longest a ready check lasts.
pub const CAP: Duration = Duration::from_secs(30);

/// One ready check in progress.
#[derive(Clone, Debug)]
pub struct ReadyCheck {
    /// Who asked (ready from the start).
    pub by: String,
    /// Whether the room starts when the check ends by itself.
    pub start: bool,
    /// When it ends at the latest.
    pub deadline: Instant,
    /// The same, in server time (ms since the UNIX epoch), as announced.
    pub until_ms: f64,
    /// The answers so far, in order of arrival (the last answer of a member counts).
    answers: Vec<(String, bool)>,
}

/// What the room announces when a check ends.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// How it ended.
    pub result: Outcome,
    /// Members who said yes.
    pub ready: Vec<String>,
    /// Members who said no.
    pub not_ready: Vec<String>,
    /// Members who did not answer (connected or not).
    pub no_answer: Vec<String>,
}

impl ReadyCheck {
    /// A check asked by `by` at `now` (`now_ms` in server time), lasting at most [`CAP`].
    pub fn new(by: &str, start: bool, now: Instant, now_ms: f64) -> Self {
        ReadyCheck {
            by: by.to_owned(),
            start,
            deadline: now + CAP,
            until_ms: now_ms + CAP.as_secs_f64() * 1000.0,
            answers: vec![(by.to_owned(), true)],
        }
    }

    /// Member `id` answers.
    pub fn answer(&mut self, id: &str, ready: bool) {
        self.answers.retain(|(m, _)| m != id);
        self.answers.push((id.to_owned(), ready));
    }

    /// A member left for good: its answer goes with its seat.
    pub fn forget(&mut self, id: &str) {
        self.answers.retain(|(m, _)| m != id);
    }

    /// Member `id`'s answer, if any.
    pub fn answer_of(&self, id: &str) -> Option<bool> {
        self.answers
            .iter()
            .find_map(|(m, r)| (m == id).then_some(*r))
    }

    /// Whether the check ends by itself at `now`: every connected member said yes, or the cap
    /// is reached.
    pub fn verdict<'a>(
        &self,
        mut connected: impl Iterator<Item = &'a str>,
        now: Instant,
    ) -> Option<Outcome> {
        if connected.all(|id| self.answer_of(id) == Some(true)) {
            Some(Outcome::AllReady)
        } else if now >= self.deadline {
            Some(Outcome::Timeout)
        } else {
            None
        }
    }

    /// The announcement of the end, over every seat (`members`, in order of arrival).
    pub fn result<'a>(&self, outcome: Outcome, members: impl Iterator<Item = &'a str>) -> Summary {
        let mut r = Summary {
            result: outcome,
            ready: Vec::new(),
            not_ready: Vec::new(),
            no_answer: Vec::new(),
        };
        for id in members {
            match self.answer_of(id) {
                Some(true) => r.ready.push(id.to_owned()),
                Some(false) => r.not_ready.push(id.to_owned()),
                None => r.no_answer.push(id.to_owned()),
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_ends_when_every_connected_member_said_yes() {
        let t0 = Instant::now();
        let mut c = ReadyCheck::new("a", false, t0, 1000.0);
        assert_eq!(c.until_ms, 31_000.0);
        let connected = ["a", "b", "c"];
        assert_eq!(c.verdict(connected.into_iter(), t0), None);
        c.answer("b", true);
        c.answer("c", false);
        assert_eq!(c.verdict(connected.into_iter(), t0), None, "c said no");
        c.answer("c", true);
        assert_eq!(
            c.verdict(connected.into_iter(), t0),
            Some(Outcome::AllReady),
            "the last answer counts"
        );
        // A member who is not connected is not waited for.
        let mut c = ReadyCheck::new("a", false, t0, 0.0);
        assert_eq!(c.verdict(["a"].into_iter(), t0), Some(Outcome::AllReady));
        c.answer("b", false);
        c.forget("b");
        assert_eq!(c.answer_of("b"), None);
    }

    #[test]
    fn a_check_never_lasts_longer_than_the_cap_and_lists_who_did_not_answer() {
        let t0 = Instant::now();
        let mut c = ReadyCheck::new("a", true, t0, 0.0);
        c.answer("c", false);
        let connected = ["a", "b", "c"];
        assert_eq!(
            c.verdict(connected.into_iter(), t0 + CAP - Duration::from_millis(1)),
            None
        );
        assert_eq!(
            c.verdict(connected.into_iter(), t0 + CAP),
            Some(Outcome::Timeout)
        );
        let r = c.result(Outcome::Timeout, ["a", "b", "c", "d"].into_iter());
        assert_eq!(r.ready, ["a"]);
        assert_eq!(r.not_ready, ["c"]);
        assert_eq!(r.no_answer, ["b", "d"]);
    }
}
