//! The playback state machine: which [`PlaybackState`] follows an intent or a server
//! decision. Pure: the time and the leads come in as arguments, nothing reads a clock.

use crate::clock::LeadRule;
use crate::error::Failure;
use crate::protocol::{
    validate_media, Cause, ErrorCode, Intent, Media, PlaybackState, Reason, MAX_RATE, MIN_RATE,
};

/// The leads (ms) that scheduled changes would get now; the caller computes them from the
/// members' reports (see [`Leads::from_rule`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Leads {
    /// Lead of a scheduled start (`play`, and the start after a wait).
    pub start: f64,
    /// Lead of a seek while playing.
    pub seek: f64,
}

impl Leads {
    /// The rule applied to the slowest member's one-way delay and seek latency (ms).
    pub fn from_rule(rule: &LeadRule, max_one_way_ms: f64, max_seek_ms: f64) -> Leads {
        Leads {
            start: rule.start(max_one_way_ms),
            seek: rule.seek(max_one_way_ms, max_seek_ms),
        }
    }
}

/// A new room's state: nothing playing, at 0, `seq` 1.
pub fn initial(media: Option<Media>, now_ms: f64) -> PlaybackState {
    PlaybackState {
        media,
        playing: false,
        position: 0.0,
        rate: 1.0,
        at: now_ms,
        seq: 1,
        reason: Reason::Media,
        by: None,
        waiting_for: None,
        cause: None,
    }
}

/// The one constructor of a state change: `seq` grows by one, item and rate carry over, no
/// wait list. Callers change `media`, `rate` or `waiting_for` on the result where they must.
pub fn successor(
    prev: &PlaybackState,
    reason: Reason,
    by: Option<String>,
    playing: bool,
    position: f64,
    at: f64,
) -> PlaybackState {
    PlaybackState {
        media: prev.media.clone(),
        playing,
        position,
        rate: prev.rate,
        at,
        seq: prev.seq + 1,
        reason,
        by,
        waiting_for: None,
        cause: None,
    }
}

fn check_position(p: f64) -> Result<f64, Failure> {
    if p.is_finite() && (0.0..=1.0e7).contains(&p) {
        Ok(p)
    } else {
        Err(Failure::new(
            ErrorCode::BadRequest,
            "position must be a number of seconds between 0 and 1e7",
        ))
    }
}

/// The state after member `by`'s `intent` at server time `now` (ms). `waiting_for` is the
/// room's current wait, if it waits: a seek keeps waiting from the new position.
///
/// A bad intent (position, rate or media out of range) is an error and the state is not
/// changed: the caller keeps `state`.
pub fn next_state(
    state: &PlaybackState,
    intent: Intent,
    now: f64,
    lead: Leads,
    by: &str,
    waiting_for: Option<&[String]>,
) -> Result<PlaybackState, Failure> {
    let by = Some(by.to_owned());
    Ok(match intent {
        Intent::Play { position, rate } => {
            let position = check_position(position)?;
            let rate = match rate {
                None => state.rate,
                Some(r) if r.is_finite() && (MIN_RATE..=MAX_RATE).contains(&r) => r,
                Some(_) => {
                    return Err(Failure::new(
                        ErrorCode::BadRequest,
                        format!("rate must be between {MIN_RATE} and {MAX_RATE}"),
                    ))
                }
            };
            PlaybackState {
                rate,
                ..successor(state, Reason::Play, by, true, position, now + lead.start)
            }
        }
        Intent::Pause { position } => {
            let position = check_position(position)?;
            successor(state, Reason::Pause, by, false, position, now)
        }
        Intent::Seek { position } => {
            let position = check_position(position)?;
            let at = if state.playing { now + lead.seek } else { now };
            PlaybackState {
                waiting_for: waiting_for.map(<[String]>::to_vec),
                ..successor(state, Reason::Seek, by, state.playing, position, at)
            }
        }
        Intent::SetMedia { media, position } => {
            validate_media(&media).map_err(|m| Failure::new(ErrorCode::BadRequest, m))?;
            let position = check_position(position.unwrap_or(0.0))?;
            PlaybackState {
                media: Some(media),
                ..successor(state, Reason::Media, by, false, position, now)
            }
        }
    })
}

/// The room pauses for the members in `waiting_for` at server time `now`, where media time
/// has got to by the formula.
pub fn wait(state: &PlaybackState, waiting_for: Vec<String>, now: f64) -> PlaybackState {
    PlaybackState {
        waiting_for: Some(waiting_for),
        ..successor(
            state,
            Reason::Waiting,
            None,
            false,
            state.position_at(now),
            now,
        )
    }
}

/// The scheduled start after a wait ended, from where the room paused.
pub fn resume(state: &PlaybackState, now: f64, lead: Leads) -> PlaybackState {
    successor(
        state,
        Reason::Resume,
        None,
        true,
        state.position,
        now + lead.start,
    )
}

/// The queue moves the room on (the item ended): `media` paused at 0, by the server.
pub fn next_item(state: &PlaybackState, media: Media, now: f64) -> PlaybackState {
    PlaybackState {
        media: Some(media),
        cause: Some(Cause::Queue),
        ..successor(state, Reason::Media, None, false, 0.0, now)
    }
}

/// The scheduled start of an item the queue moved on to: from 0, like a `play`.
pub fn queue_start(state: &PlaybackState, now: f64, lead: Leads) -> PlaybackState {
    PlaybackState {
        cause: Some(Cause::Queue),
        ..successor(state, Reason::Play, None, true, 0.0, now + lead.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEADS: Leads = Leads {
        start: 80.0,
        seek: 500.0,
    };

    fn play(position: f64, rate: Option<f64>) -> Intent {
        Intent::Play { position, rate }
    }

    #[test]
    fn play_is_scheduled_by_the_start_lead_and_bumps_seq() {
        let s0 = initial(None, 0.0);
        let s = next_state(&s0, play(10.0, Some(2.0)), 1000.0, LEADS, "m1", None).unwrap();
        assert!(s.playing);
        assert_eq!((s.position, s.rate, s.at, s.seq), (10.0, 2.0, 1080.0, 2));
        assert_eq!((s.reason, s.by.as_deref()), (Reason::Play, Some("m1")));
        // A later play keeps the rate when none is given.
        let s2 = next_state(&s, play(3.0, None), 2000.0, LEADS, "m1", None).unwrap();
        assert_eq!((s2.rate, s2.seq), (2.0, 3));
    }

    #[test]
    fn seek_uses_the_seek_lead_only_while_playing_and_keeps_a_wait() {
        let paused = initial(None, 0.0);
        let s = next_state(
            &paused,
            Intent::Seek { position: 60.0 },
            1000.0,
            LEADS,
            "m",
            None,
        )
        .unwrap();
        assert!(!s.playing);
        assert_eq!(s.at, 1000.0);
        let playing = next_state(&paused, play(0.0, None), 0.0, LEADS, "m", None).unwrap();
        let wait = ["m2".to_string()];
        let s = next_state(
            &playing,
            Intent::Seek { position: 60.0 },
            1000.0,
            LEADS,
            "m",
            Some(&wait),
        )
        .unwrap();
        assert!(s.playing);
        assert_eq!(s.at, 1500.0);
        assert_eq!(s.waiting_for.as_deref(), Some(&wait[..]));
    }

    #[test]
    fn bad_intents_are_refused() {
        let s0 = initial(None, 0.0);
        for bad in [0.0, 0.2, 4.5, f64::NAN, -1.0] {
            let e = next_state(&s0, play(1.0, Some(bad)), 0.0, LEADS, "m", None).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadRequest, "rate {bad}");
        }
        for bad in [-1.0, f64::INFINITY, 2.0e7] {
            let e = next_state(&s0, Intent::Pause { position: bad }, 0.0, LEADS, "m", None);
            assert_eq!(e.unwrap_err().code, ErrorCode::BadRequest, "position {bad}");
        }
        let media = Media {
            id: String::new(),
            title: None,
            duration: None,
        };
        let e = next_state(
            &s0,
            Intent::SetMedia {
                media,
                position: None,
            },
            0.0,
            LEADS,
            "m",
            None,
        );
        assert_eq!(e.unwrap_err().code, ErrorCode::BadRequest);
    }

    #[test]
    fn set_media_pauses_at_its_position_and_wait_then_resume_continue_from_the_formula() {
        let s0 = initial(None, 0.0);
        let media = Media {
            id: "item".into(),
            title: None,
            duration: Some(100.0),
        };
        let s = next_state(
            &s0,
            Intent::SetMedia {
                media: media.clone(),
                position: Some(5.0),
            },
            10.0,
            LEADS,
            "m",
            None,
        )
        .unwrap();
        assert_eq!(s.media, Some(media));
        assert!(!s.playing);
        assert_eq!((s.position, s.reason), (5.0, Reason::Media));
        let p = next_state(&s, play(5.0, None), 1000.0, LEADS, "m", None).unwrap();
        // 2 s after the start at 1080: media time is 7 s.
        let w = wait(&p, vec!["m2".into()], 3080.0);
        assert!(!w.playing);
        assert_eq!((w.position, w.at, w.reason), (7.0, 3080.0, Reason::Waiting));
        assert_eq!(w.by, None);
        let r = resume(&w, 4000.0, LEADS);
        assert!(r.playing);
        assert_eq!((r.position, r.at, r.seq), (7.0, 4080.0, w.seq + 1));
        assert_eq!((r.reason, r.waiting_for.clone()), (Reason::Resume, None));
    }
}
