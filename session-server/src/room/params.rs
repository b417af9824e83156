//! A room's limits and timings, taken from configuration.

use std::time::Duration;

use crate::clock::LeadRule;
use crate::config::Config;

/// Per-room parameters, taken from configuration.
#[derive(Clone, Debug)]
pub struct RoomParams {
    /// Most seats.
    pub max_members: usize,
    /// Longest chat text, characters.
    pub max_chat_chars: usize,
    /// Most items in the queue.
    pub max_queue: usize,
    /// Seat kept after a disconnect.
    pub resume_window: Duration,
    /// The host role waits this long for the host's connection to come back.
    pub host_grace: Duration,
    /// Buffering longer than this (while playing) starts waiting.
    pub buffering_grace: Duration,
    /// Longest wait.
    pub wait_cap: Duration,
    /// Minimum gap between `members` messages.
    pub members_interval: Duration,
    /// Longest gap before a `members` message carries changed numbers only.
    pub members_refresh: Duration,
    /// Scheduling bounds.
    pub lead: LeadRule,
}

impl From<&Config> for RoomParams {
    fn from(c: &Config) -> Self {
        RoomParams {
            max_members: c.limits.max_members,
            max_chat_chars: c.limits.max_chat_chars,
            max_queue: c.limits.max_queue,
            resume_window: Duration::from_millis(c.rooms.resume_window_ms),
            host_grace: Duration::from_millis(c.rooms.host_grace_ms),
            buffering_grace: Duration::from_millis(c.rooms.buffering_grace_ms),
            wait_cap: Duration::from_millis(c.rooms.wait_cap_ms),
            members_interval: Duration::from_millis(c.rooms.members_interval_ms),
            members_refresh: Duration::from_millis(c.rooms.members_refresh_ms),
            lead: LeadRule {
                min_ms: c.rooms.min_lead_ms,
                max_ms: c.rooms.max_lead_ms,
                margin_ms: c.rooms.lead_margin_ms,
                max_seek_ms: c.rooms.max_seek_lead_ms,
            },
        }
    }
}
