//! A room's durable state as one plain, serializable value: what a store keeps so that a room
//! can be restored after a restart or taken over by another instance.
//!
//! Only what outlives a connection is here: seats (with their resume secrets), the host,
//! settings, the playback state with its `seq` and item, and the chat tail. Connections,
//! timers (buffering grace, wait cap, `members` throttle) and reported statistics are not:
//! they are rebuilt from the next reports, and a restored room treats every seat as
//! disconnected at the moment of the restore (a fresh resume window).

use std::collections::VecDeque;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::protocol::{Media, PlaybackState, Rights, Settings};

use super::playback;

/// Chat lines a room keeps for its record (the newest ones).
pub const CHAT_TAIL: usize = 50;

/// Everything a room needs to be rebuilt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomRecord {
    /// Room code.
    pub code: String,
    /// Settings chosen by the creator.
    pub settings: Settings,
    /// Host member id (empty only before the first seat).
    pub host: String,
    /// Playback state: item, position, `seq`.
    pub state: PlaybackState,
    /// Seats in order of arrival (the first connected one is the "longest present").
    pub seats: Vec<SeatRecord>,
    /// The newest chat lines, oldest first, at most [`CHAT_TAIL`].
    pub chat: VecDeque<ChatLine>,
    /// The queue: the items to come, next first (empty in records written before it).
    #[serde(default)]
    pub queue: Vec<Media>,
}

impl RoomRecord {
    /// A new room with no seats yet.
    pub fn new(code: String, settings: Settings, media: Option<Media>, now_ms: f64) -> Self {
        RoomRecord {
            code,
            settings,
            host: String::new(),
            state: playback::initial(media, now_ms),
            seats: Vec::new(),
            chat: VecDeque::new(),
            queue: Vec::new(),
        }
    }
}

/// Where a room hands its record when it changes: the durable store (`durable`). Called from
/// the room task, so an implementation never blocks (it queues; a writer does the I/O).
pub trait RecordSink: Send + Sync {
    /// The room's durable state changed, or the room is stopping with the server (its record
    /// must then outlive the process).
    fn save(&self, record: &RoomRecord);
    /// The room has ended for good (its last seat is gone): forget it.
    fn closed(&self, code: &str);
    /// Why records cannot be kept right now (a disk fault), if they cannot.
    fn fault(&self) -> Option<String> {
        None
    }
}

/// Keep `line` in a chat tail, dropping the oldest beyond [`CHAT_TAIL`].
pub fn push_chat(tail: &mut VecDeque<ChatLine>, line: ChatLine) {
    if tail.len() >= CHAT_TAIL {
        tail.pop_front();
    }
    tail.push_back(line);
}

/// One seat: who holds it and the secret that takes it back.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatRecord {
    /// Member id (stable across resume).
    pub member_id: String,
    /// Authenticated user id.
    pub user_id: String,
    /// Display name.
    pub name: String,
    /// Whether the identity was not checked (demo / allow_anonymous).
    pub anonymous: bool,
    /// Hex SHA-256 of the resume secret of the session holding the seat (when it came over a
    /// WebSocket). Only the hash: records are stored, and a stored copy must not hand out
    /// seats; a returning client proves the seat by presenting the secret.
    pub resume: Option<String>,
    /// The rights the host granted this member (kept with the seat: they survive a
    /// reconnect, a restart and a host migration). Absent in records written before rights.
    #[serde(default)]
    pub rights: Rights,
}

/// Never prints the secret's hash either: records end up in debug logs and test output.
impl fmt::Debug for SeatRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeatRecord")
            .field("member_id", &self.member_id)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("anonymous", &self.anonymous)
            .field("resume", &self.resume.as_ref().map(|_| "<secret>"))
            .field("rights", &self.rights)
            .finish()
    }
}

/// One chat line, as broadcast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatLine {
    /// Sender member id.
    pub from: String,
    /// Sender display name.
    pub name: String,
    /// Text.
    pub text: String,
    /// Server time, ms since the UNIX epoch.
    pub at: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_through_json_and_hides_secrets_in_debug() {
        let mut r = RoomRecord::new("ACDEFG".into(), Settings::default(), None, 1000.0);
        r.host = "m1".into();
        r.seats.push(SeatRecord {
            member_id: "m1".into(),
            user_id: "u1".into(),
            name: "Ann".into(),
            anonymous: false,
            resume: Some("s3cr3t".into()),
            rights: Rights {
                playback: true,
                media: false,
            },
        });
        for i in 0..CHAT_TAIL + 3 {
            push_chat(
                &mut r.chat,
                ChatLine {
                    from: "m1".into(),
                    name: "Ann".into(),
                    text: format!("line {i}"),
                    at: 1000.0 + i as f64,
                },
            );
        }
        assert_eq!(r.chat.len(), CHAT_TAIL);
        assert_eq!(r.chat[0].text, "line 3", "the oldest lines go first");
        let back: RoomRecord = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        let dbg = format!("{r:?}");
        assert!(!dbg.contains("s3cr3t"), "{dbg}");
        assert!(dbg.contains("<secret>"));
    }
}
