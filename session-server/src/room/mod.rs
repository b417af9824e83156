//! One room: its seats, host, settings and playback state.
//!
//! Layered so that each file only looks down:
//! - [`record`] — the room's durable state as one serializable value ([`RoomRecord`]).
//! - [`playback`] — the playback state machine: `next_state(state, intent, now, lead)`.
//! - [`waiting`] — the waiting-for-everyone rule.
//! - [`members`] — status reports and the `members` throttle.
//! - [`ready`] — the ready check: answers, its end (everyone ready, or the 30 s cap).
//! - [`queue`] — the queue: its edits and limits, the end of an item, the start of the next.
//! - [`rights`] — who may do what: the host, `control`, the rights granted per member.
//! - [`seats`] — seats, the host and its migration, seat expiry, who is asking.
//! - [`params`] — limits and timings from configuration ([`RoomParams`]).
//! - [`api`] — the commands of the room actor and [`Mailbox`], its typed calls.
//! - [`actor`] — the task that owns one room and turns decisions into frames.
//!
//! `record`, `playback`, `waiting`, `members`, `rights`, `ready`, `queue` and `seats` are pure: plain structs and
//! functions, no tokio, no clock of their own (the time is an argument), unit-tested alone.

pub mod actor;
pub mod api;
pub mod members;
pub mod params;
pub mod playback;
pub mod queue;
pub mod ready;
pub mod record;
pub mod rights;
pub mod seats;
pub mod waiting;

pub use actor::{run_room, RoomSetup};
pub use api::{Cmd, Done, Edit, Mailbox, Op, Snapshot, StatusReport, Who};
pub use params::RoomParams;
pub use record::{ChatLine, RecordSink, RoomRecord, SeatRecord};
