//! The room's queue, pure: the items to come, the edits members make to it (with their
//! limits), when the current item has ended, and when everyone holds at the start of the
//! next one (docs/protocol.md, "Queue").
//!
//! The queue is part of the room's durable record ([`RoomRecord::queue`](super::RoomRecord)).
//! Moving on is the actor's: at the end of an item it takes the first queued item
//! ([`playback::next_item`](super::playback::next_item)), waits until every connected member
//! holds at 0 on it ([`Start`]) and schedules the start like a `play`.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::Failure;
use crate::protocol::{validate_media, ErrorCode, Media, PlaybackState, QueueChange};

/// Longest queued item id, characters (as `set_media`'s `media.id`).
pub const MAX_ID_CHARS: usize = 128;
/// Longest queued title, characters (as `set_media`'s `media.title`).
pub const MAX_TITLE_CHARS: usize = 300;
/// An `ended` report is believed when the room's position is at most this far from the
/// item's known duration: players and Jellyfin's `RunTimeTicks` disagree by a few seconds
/// at most, while a report from the middle of a film is a client bug, not an end.
pub const END_SLACK_S: f64 = 30.0;
/// When no player reports the end (a v1 host, a host whose page sleeps), the server moves on
/// by itself this long after the item's known duration, by the formula.
pub const END_GRACE_MS: f64 = 3_000.0;
/// Longest the room waits for everyone to hold at 0 on the next item before it starts
/// anyway: a member whose player is slow to load catches up by the drift rules or the
/// waiting rule, as after any start.
pub const START_CAP: Duration = Duration::from_secs(10);
/// A member holds at the start of the next item when it reports a position below this
/// (seconds) without buffering: its player has loaded the new item and waits at 0.
pub const AT_START_S: f64 = 1.0;

/// A change a member asks of the queue (serializable: the relay carries it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Edit {
    /// `queue_add`: at the end, or at `index` (0: next).
    Add {
        /// The item.
        media: Media,
        /// Where (default: the end).
        index: Option<usize>,
    },
    /// `queue_remove`.
    Remove(String),
    /// `queue_move`.
    Move {
        /// The item's id.
        media_id: String,
        /// Its place from now on.
        index: usize,
    },
    /// `queue_clear`.
    Clear,
}

impl Edit {
    /// The `queue.change` that announces this edit.
    pub fn change(&self) -> QueueChange {
        match self {
            Edit::Add { .. } => QueueChange::Add,
            Edit::Remove(_) => QueueChange::Remove,
            Edit::Move { .. } => QueueChange::Move,
            Edit::Clear => QueueChange::Clear,
        }
    }
}

fn bad(message: impl Into<String>) -> Failure {
    Failure::new(ErrorCode::BadRequest, message)
}

fn position_of(items: &[Media], id: &str) -> Result<usize, Failure> {
    items
        .iter()
        .position(|m| m.id == id)
        .ok_or_else(|| bad("no queued item has this id"))
}

/// Check an item for the queue: over a length limit `too_large`, otherwise as `set_media`
/// checks its `media` (`bad_request`).
pub fn check_media(media: &Media) -> Result<(), Failure> {
    let long_title = media
        .title
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_TITLE_CHARS);
    if media.id.chars().count() > MAX_ID_CHARS || long_title {
        return Err(Failure::new(
            ErrorCode::TooLarge,
            format!(
                "a queued item's id is limited to {MAX_ID_CHARS} characters, its title to {MAX_TITLE_CHARS}"
            ),
        ));
    }
    validate_media(media).map_err(bad)
}

/// Apply `edit` to `items` (at most `max` of them). `Ok(true)` when the queue changed,
/// `Ok(false)` when it already was so (nothing to announce); an error leaves it untouched.
pub fn apply(items: &mut Vec<Media>, edit: Edit, max: usize) -> Result<bool, Failure> {
    match edit {
        Edit::Add { media, index } => {
            check_media(&media)?;
            if items.len() >= max {
                return Err(Failure::new(
                    ErrorCode::TooLarge,
                    format!("the queue holds at most {max} items"),
                ));
            }
            if items.iter().any(|m| m.id == media.id) {
                return Err(bad("this item is queued already"));
            }
            let at = index.unwrap_or(items.len());
            if at > items.len() {
                return Err(bad(format!(
                    "index must be between 0 and {} (the queue's length)",
                    items.len()
                )));
            }
            items.insert(at, media);
            Ok(true)
        }
        Edit::Remove(id) => {
            let at = position_of(items, &id)?;
            items.remove(at);
            Ok(true)
        }
        Edit::Move { media_id, index } => {
            let from = position_of(items, &media_id)?;
            if index >= items.len() {
                return Err(bad(format!(
                    "index must be below {} (the queue's length)",
                    items.len()
                )));
            }
            if from == index {
                return Ok(false);
            }
            let m = items.remove(from);
            items.insert(index, m);
            Ok(true)
        }
        Edit::Clear => {
            let changed = !items.is_empty();
            items.clear();
            Ok(changed)
        }
    }
}

/// Whether an `ended` report for `media_id` ends the room's current item at server time
/// `now` (ms): `Ok(false)` for an item the room has already left (a late or second report:
/// nothing to do), `bad_request` for a report far from the item's known end.
pub fn check_ended(state: &PlaybackState, media_id: &str, now: f64) -> Result<bool, Failure> {
    let Some(current) = &state.media else {
        return Ok(false);
    };
    if current.id != media_id {
        return Ok(false);
    }
    if let Some(d) = current.duration.filter(|d| *d > 0.0) {
        let at = state.position_at(now);
        if at < d - END_SLACK_S {
            return Err(bad(format!(
                "the item is at {at:.0} s of {d:.0} s: it has not ended"
            )));
        }
    }
    Ok(true)
}

/// How long after server time `now` (ms) the server decides by itself that the current item
/// ended: its known duration reached by the formula, plus [`END_GRACE_MS`]. `None` while
/// paused or when the duration is unknown.
pub fn end_in(state: &PlaybackState, now: f64) -> Option<Duration> {
    let d = state.media.as_ref()?.duration.filter(|d| *d > 0.0)?;
    if !state.playing {
        return None;
    }
    let left_ms = (d - state.position_at(now)).max(0.0) / state.rate * 1000.0;
    let start_ms = (state.at - now).max(0.0);
    Some(Duration::from_secs_f64(
        (start_ms + left_ms + END_GRACE_MS) / 1000.0,
    ))
}

/// The wait between moving on to the next item and starting it: until every connected
/// member holds at 0 on it, or [`START_CAP`].
#[derive(Clone, Debug)]
pub struct Start {
    /// When the room starts whatever the reports say.
    pub deadline: Instant,
    /// Members whose player holds at 0 on the new item.
    held: Vec<String>,
}

impl Start {
    /// A wait that begins at `now`.
    pub fn new(now: Instant) -> Self {
        Start {
            deadline: now + START_CAP,
            held: Vec::new(),
        }
    }

    /// A status report from `member`: it holds at the start when its player is below
    /// [`AT_START_S`] and not buffering (a report from the end of the last item is not).
    pub fn report(&mut self, member: &str, position: f64, buffering: bool) {
        let holds = position < AT_START_S && !buffering;
        let known = self.held.iter().position(|m| m == member);
        match (holds, known) {
            (true, None) => self.held.push(member.to_owned()),
            (false, Some(i)) => drop(self.held.remove(i)),
            _ => {}
        }
    }

    /// Whether the room starts now: every member in `connected` holds, or the cap.
    pub fn due<'a>(&self, mut connected: impl Iterator<Item = &'a str>, now: Instant) -> bool {
        now >= self.deadline || connected.all(|id| self.held.iter().any(|m| m == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Reason;

    fn item(id: &str) -> Media {
        Media {
            id: id.into(),
            title: Some(format!("Title {id}")),
            duration: Some(60.0),
        }
    }

    fn ids(items: &[Media]) -> Vec<&str> {
        items.iter().map(|m| m.id.as_str()).collect()
    }

    fn add(id: &str, index: Option<usize>) -> Edit {
        Edit::Add {
            media: item(id),
            index,
        }
    }

    #[test]
    fn items_are_added_moved_removed_and_cleared() {
        let mut q = Vec::new();
        assert_eq!(apply(&mut q, add("a", None), 50), Ok(true));
        assert_eq!(apply(&mut q, add("b", None), 50), Ok(true));
        assert_eq!(apply(&mut q, add("c", Some(0)), 50), Ok(true));
        assert_eq!(ids(&q), ["c", "a", "b"]);
        let mv = |id: &str, index| Edit::Move {
            media_id: id.into(),
            index,
        };
        assert_eq!(apply(&mut q, mv("c", 2), 50), Ok(true));
        assert_eq!(ids(&q), ["a", "b", "c"]);
        assert_eq!(apply(&mut q, mv("b", 1), 50), Ok(false), "already there");
        assert_eq!(apply(&mut q, Edit::Remove("a".into()), 50), Ok(true));
        assert_eq!(ids(&q), ["b", "c"]);
        assert_eq!(apply(&mut q, Edit::Clear, 50), Ok(true));
        assert!(q.is_empty());
        assert_eq!(apply(&mut q, Edit::Clear, 50), Ok(false));
    }

    #[test]
    fn bad_edits_are_refused_and_change_nothing() {
        let mut q = vec![item("a"), item("b")];
        let before = q.clone();
        let code = |r: Result<bool, Failure>| r.unwrap_err().code;
        let mut q3 = q.clone();
        assert_eq!(
            code(apply(&mut q3, add("c", None), 2)),
            ErrorCode::TooLarge,
            "full"
        );
        assert_eq!(
            code(apply(&mut q, add("a", None), 50)),
            ErrorCode::BadRequest
        );
        assert_eq!(
            code(apply(&mut q, add("c", Some(3)), 50)),
            ErrorCode::BadRequest
        );
        let long = Media {
            id: "x".repeat(MAX_ID_CHARS + 1),
            title: None,
            duration: None,
        };
        let e = apply(
            &mut q,
            Edit::Add {
                media: long,
                index: None,
            },
            50,
        );
        assert_eq!(code(e), ErrorCode::TooLarge);
        let long_title = Media {
            title: Some("t".repeat(MAX_TITLE_CHARS + 1)),
            ..item("c")
        };
        let e = apply(
            &mut q,
            Edit::Add {
                media: long_title,
                index: None,
            },
            50,
        );
        assert_eq!(code(e), ErrorCode::TooLarge);
        for bad_media in [
            Media {
                id: String::new(),
                title: None,
                duration: None,
            },
            Media {
                duration: Some(f64::NAN),
                ..item("c")
            },
        ] {
            let e = apply(
                &mut q,
                Edit::Add {
                    media: bad_media,
                    index: None,
                },
                50,
            );
            assert_eq!(code(e), ErrorCode::BadRequest);
        }
        assert_eq!(
            code(apply(&mut q, Edit::Remove("zz".into()), 50)),
            ErrorCode::BadRequest
        );
        let mv = Edit::Move {
            media_id: "a".into(),
            index: 2,
        };
        assert_eq!(code(apply(&mut q, mv, 50)), ErrorCode::BadRequest);
        assert_eq!(q, before);
        assert_eq!(q3, before);
    }

    fn playing(position: f64, at: f64, duration: Option<f64>) -> PlaybackState {
        let mut s = crate::room::playback::initial(
            Some(Media {
                duration,
                ..item("cur")
            }),
            0.0,
        );
        s.playing = true;
        s.position = position;
        s.at = at;
        s.reason = Reason::Play;
        s
    }

    #[test]
    fn an_end_is_believed_near_the_known_duration_only() {
        let s = playing(0.0, 0.0, Some(100.0));
        // At 50 s: not the end.
        assert_eq!(
            check_ended(&s, "cur", 50_000.0).unwrap_err().code,
            ErrorCode::BadRequest
        );
        // At 80 s (within the slack): the end, as at 100 s and beyond.
        assert_eq!(check_ended(&s, "cur", 80_000.0), Ok(true));
        assert_eq!(check_ended(&s, "cur", 130_000.0), Ok(true));
        // Another item: a report about an item already left, ignored.
        assert_eq!(check_ended(&s, "old", 50_000.0), Ok(false));
        // Without a duration any report is believed.
        assert_eq!(
            check_ended(&playing(0.0, 0.0, None), "cur", 1000.0),
            Ok(true)
        );
    }

    #[test]
    fn the_server_decides_the_end_by_itself_after_the_duration_and_a_grace() {
        // Playing from 10 s since t = 1000 ms, 100 s long: at t = 1000 it ends in 90 s + grace.
        let s = playing(10.0, 1000.0, Some(100.0));
        let d = end_in(&s, 1000.0).unwrap();
        assert!((d.as_secs_f64() - 93.0).abs() < 1e-9, "{d:?}");
        // Scheduled in the future: the wait until `at` counts too.
        assert!((end_in(&s, 500.0).unwrap().as_secs_f64() - 93.5).abs() < 1e-9);
        let mut fast = s.clone();
        fast.rate = 2.0;
        assert!((end_in(&fast, 1000.0).unwrap().as_secs_f64() - 48.0).abs() < 1e-9);
        let mut paused = s.clone();
        paused.playing = false;
        assert_eq!(end_in(&paused, 1000.0), None);
        assert_eq!(end_in(&playing(0.0, 0.0, None), 0.0), None);
    }

    #[test]
    fn the_next_item_starts_when_everyone_holds_at_zero_or_at_the_cap() {
        let t0 = Instant::now();
        let mut s = Start::new(t0);
        let both = || ["a", "b"].into_iter();
        assert!(!s.due(both(), t0));
        s.report("a", 0.0, false);
        s.report("b", 1795.0, false); // still at the end of the last item
        assert!(!s.due(both(), t0));
        s.report("b", 0.0, true); // loading
        assert!(!s.due(both(), t0));
        s.report("b", 0.02, false);
        assert!(s.due(both(), t0));
        s.report("a", 3.0, false); // a report that no longer holds
        assert!(!s.due(both(), t0));
        assert!(s.due(both(), t0 + START_CAP), "never longer than the cap");
    }
}
