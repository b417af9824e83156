//! Protocol v1 wire types: one serde type per message, usable in both directions.
//!
//! This module does no I/O and knows nothing of rooms or sockets; it only defines the JSON
//! shapes of DESIGN §3 and small validation helpers. Unknown fields are ignored (serde's
//! default), an unknown `type` is reported by [`parse_client`] as `bad_request`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only protocol version this server speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Longest accepted request `id`, in characters (DESIGN §3).
pub const MAX_ID_CHARS: usize = 64;

/// Error codes of DESIGN §3. The wire form is the snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed JSON, unknown `type`, missing or invalid field, wrong state for the request.
    BadRequest,
    /// Credentials refused (or `hello` never came).
    Unauthorized,
    /// The sender may not do this (not the host, not a member).
    Forbidden,
    /// No room has this code.
    RoomNotFound,
    /// The room has reached its member limit.
    RoomFull,
    /// Too many messages, failed joins or rooms.
    RateLimited,
    /// A frame, chat or field exceeds its limit.
    TooLarge,
    /// `hello.protocol` is not a version this server speaks.
    UnsupportedProtocol,
    /// A backend (Jellyfin) did not answer; the client may retry.
    Unavailable,
    /// A bug on our side; the connection stays usable where possible.
    Internal,
}

impl ErrorCode {
    /// Every code, for metrics and documentation.
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::RoomNotFound,
        ErrorCode::RoomFull,
        ErrorCode::RateLimited,
        ErrorCode::TooLarge,
        ErrorCode::UnsupportedProtocol,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    /// The wire name, e.g. `"room_full"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RoomNotFound => "room_not_found",
            ErrorCode::RoomFull => "room_full",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnsupportedProtocol => "unsupported_protocol",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

/// WebSocket close codes of DESIGN §3.
pub mod close {
    /// Protocol violation (message before `hello`, wrong protocol version).
    pub const PROTOCOL: u16 = 4000;
    /// Unauthorized, or no `hello` in time.
    pub const UNAUTHORIZED: u16 = 4001;
    /// Too slow to read: the outbound queue filled up.
    pub const TOO_SLOW: u16 = 4003;
    /// Rate limit exceeded repeatedly.
    pub const RATE_LIMIT: u16 = 4008;
    /// Frame too large.
    pub const TOO_LARGE: u16 = 1009;
    /// Server going away (shutdown).
    pub const GOING_AWAY: u16 = 1001;
    /// Normal closure, used when a resumed session replaces an older connection.
    pub const NORMAL: u16 = 1000;
}

/// A media item: `id` is the Jellyfin item id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Media {
    /// Jellyfin item id.
    pub id: String,
    /// Display title, if the sender knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Duration in seconds, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
}

/// Who may send playback intents in a room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// Only the host.
    #[default]
    Host,
    /// Every member.
    Shared,
}

/// Room settings (`room.settings`, `create_room.settings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Who may play/pause/seek/set_media.
    #[serde(default)]
    pub control: Control,
    /// Pause everyone while a member buffers (DESIGN "waiting for everyone").
    #[serde(default = "default_true")]
    pub wait_for_all: bool,
}

fn default_true() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            control: Control::Host,
            wait_for_all: true,
        }
    }
}

/// Why the playback state changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A scheduled start after `play`.
    Play,
    /// `pause`.
    Pause,
    /// `seek`.
    Seek,
    /// `set_media`.
    Media,
    /// Paused because a member buffers (waiting rule).
    Waiting,
    /// Scheduled start after waiting ended.
    Resume,
    /// The host's seat was freed.
    HostLeft,
}

/// The room's playback state; the one formula turns it into a position at any server time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaybackState {
    /// The item playing, if any.
    pub media: Option<Media>,
    /// Whether media time advances after `at`.
    pub playing: bool,
    /// Media position in seconds at server time `at`.
    pub position: f64,
    /// Playback rate.
    pub rate: f64,
    /// Server time (ms since the UNIX epoch) from which `position` advances.
    pub at: f64,
    /// Grows by one per state change.
    pub seq: u64,
    /// Why the state changed.
    pub reason: Reason,
    /// Member whose intent caused the change, `null` for server decisions.
    pub by: Option<String>,
    /// Members the room waits for (only with `reason: "waiting"` and while waiting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<Vec<String>>,
    /// Added field: why the server itself made this change, when it was not a member's
    /// request (`by` is then `null`): `"queue"` when the queue moved the room on to its next
    /// item, and for that item's scheduled start. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

/// Why the server changed the state by itself (`state.cause`, added to v1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The item ended and the queue's next item took its place (and then started).
    Queue,
}

impl PlaybackState {
    /// DESIGN's one formula: the expected media position at server time `t` (ms).
    pub fn position_at(&self, t: f64) -> f64 {
        if self.playing {
            self.position + (t - self.at).max(0.0) / 1000.0 * self.rate
        } else {
            self.position
        }
    }
}

/// A right the host grants a member (added to v1; see docs/protocol.md, "Rights").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Right {
    /// `play`, `pause` and `seek` (and the REST commands).
    Playback,
    /// `set_media` (changing the item).
    Media,
}

impl Right {
    /// Every right, in their wire order.
    pub const ALL: [Right; 2] = [Right::Playback, Right::Media];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Right::Playback => "playback",
            Right::Media => "media",
        }
    }

    /// The right named `s` on the wire.
    pub fn parse(s: &str) -> Option<Right> {
        Right::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The rights granted to one member: a set, on the wire a list in [`Right::ALL`] order
/// (`[]`, `["playback"]`, `["media"]`, `["playback", "media"]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<Right>", into = "Vec<Right>")]
pub struct Rights {
    /// `play`, `pause`, `seek`.
    pub playback: bool,
    /// `set_media`.
    pub media: bool,
}

impl Rights {
    /// Whether `right` is in the set.
    pub fn has(self, right: Right) -> bool {
        match right {
            Right::Playback => self.playback,
            Right::Media => self.media,
        }
    }

    /// The set as a list, in [`Right::ALL`] order.
    pub fn list(self) -> Vec<Right> {
        Right::ALL.into_iter().filter(|r| self.has(*r)).collect()
    }
}

impl From<Vec<Right>> for Rights {
    fn from(v: Vec<Right>) -> Self {
        Rights {
            playback: v.contains(&Right::Playback),
            media: v.contains(&Right::Media),
        }
    }
}

impl From<Rights> for Vec<Right> {
    fn from(r: Rights) -> Self {
        r.list()
    }
}

/// How a ready check ended (`ready_result.result`, added to v1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadyOutcome {
    /// Every connected member said yes.
    AllReady,
    /// The cap (30 s) was reached.
    Timeout,
    /// A `play` started the room first.
    Started,
    /// A `pause`, `seek` or `set_media` ended it, or a new check replaced it.
    Cancelled,
}

/// One entry of `members.list` and `room.members`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// Member id (stable across resume).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Authenticated user id.
    pub user_id: String,
    /// Last reported round-trip time.
    pub rtt_ms: Option<f64>,
    /// Last reported sync error (player − target).
    pub error_ms: Option<f64>,
    /// Last reported buffering flag.
    pub buffering: bool,
    /// Whether a connection currently holds the seat.
    pub connected: bool,
    /// Added field: the rights the host granted this member (the host itself, and everyone
    /// under `control: "shared"`, may do everything whatever this says).
    #[serde(default)]
    pub rights: Rights,
    /// Added field, only during a ready check: this member's answer (absent: no answer yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
}

/// `hello.client`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// Client program name.
    #[serde(default)]
    pub name: String,
    /// Client program version.
    #[serde(default)]
    pub version: String,
}

/// Client → server messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// First frame: protocol version and credentials.
    Hello {
        /// Must be 1.
        protocol: u32,
        /// Jellyfin JWT or access token.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        /// Resume secret from an earlier `welcome`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
        /// Display name (anonymous access only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Client program.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client: Option<ClientInfo>,
        /// (Added to v1.) The device this connection plays on, when it is not the user's own
        /// browser: a member's TV driven by their browser takes a seat of its own, shown to
        /// everyone as "name — device". Cleaned like a display name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<String>,
    },
    /// Clock sample request.
    Ping {
        /// Client time, echoed untouched.
        t0: Value,
    },
    /// Create a room and become its host.
    CreateRoom {
        /// Initial media.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media: Option<Media>,
        /// Room settings.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settings: Option<Settings>,
    },
    /// Join a room by code.
    JoinRoom {
        /// Six-character room code.
        code: String,
    },
    /// Leave the current room.
    LeaveRoom {},
    /// Scheduled start.
    Play {
        /// Position to start from, seconds.
        position: f64,
        /// Playback rate (default: keep).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rate: Option<f64>,
    },
    /// Pause at the given position.
    Pause {
        /// Position, seconds.
        position: f64,
    },
    /// Seek.
    Seek {
        /// Position, seconds.
        position: f64,
    },
    /// Switch item.
    SetMedia {
        /// The new item.
        media: Media,
        /// Start position, seconds (default 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        position: Option<f64>,
    },
    /// Member status report.
    Status {
        /// Player position, seconds.
        position: f64,
        /// Player playing.
        playing: bool,
        /// Player buffering.
        buffering: bool,
        /// Measured round-trip time.
        rtt_ms: f64,
        /// Estimated clock offset.
        offset_ms: f64,
        /// Player − target.
        error_ms: f64,
        /// Learned seek latency.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seek_ms: Option<f64>,
    },
    /// Chat line.
    Chat {
        /// Text, ≤ max_chat_chars characters.
        text: String,
    },
    /// Emoji reaction.
    Reaction {
        /// One grapheme.
        emoji: String,
    },
    /// Hand the host role to another member.
    TransferHost {
        /// New host.
        member_id: String,
    },
    /// Remove a member.
    Kick {
        /// Member to remove.
        member_id: String,
    },
    /// (Added to v1.) The host sets the rights of a member: the whole set, replacing what it
    /// had (`[]` takes every grant back).
    SetRights {
        /// The member.
        member_id: String,
        /// Its rights from now on, each at most once.
        rights: Vec<Right>,
    },
    /// (Added to v1.) Ask everyone "ready?" (whoever may drive playback, while paused).
    ReadyCheck {
        /// Start playback for everyone when the check ends by itself (all ready, or the cap).
        #[serde(default)]
        start: bool,
    },
    /// (Added to v1.) Answer the ready check in progress.
    Ready {
        /// Ready or not.
        ready: bool,
    },
    /// (Added to v1.) Queue an item: at the end, or at `index` (0: next).
    QueueAdd {
        /// The item.
        media: Media,
        /// Where in the queue (default: the end).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<usize>,
    },
    /// (Added to v1.) Take an item out of the queue.
    QueueRemove {
        /// Its id.
        media_id: String,
    },
    /// (Added to v1.) Move a queued item to `index`.
    QueueMove {
        /// Its id.
        media_id: String,
        /// Its place from now on (0: next).
        index: usize,
    },
    /// (Added to v1.) Empty the queue.
    QueueClear {},
    /// (Added to v1.) The current item ended in the sender's player: the room moves on to
    /// the queue's next item.
    Ended {
        /// The item that ended (a report about an item the room has already left is ignored).
        media_id: String,
    },
}

/// Slowest accepted playback rate. Watch parties play at 1 (sometimes 0.5–2, as Jellyfin's
/// player offers); outside 0.25–4 Firefox mutes the audio and the players' own rate nudges
/// (±10 %) stop making sense, so such a `play` is refused rather than followed by nobody.
pub const MIN_RATE: f64 = 0.25;
/// Fastest accepted playback rate (see [`MIN_RATE`]).
pub const MAX_RATE: f64 = 4.0;

/// A playback intent: what the four [`ClientMsg`] variants `play`, `pause`, `seek` and
/// `set_media` ask of the room (host, or anyone under shared control), with their fields.
/// The REST commands produce the same values, so a room sees one type whatever the transport.
/// (Serializable for the instance-to-instance relay only; the client wire form is [`ClientMsg`].)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Intent {
    /// Scheduled start (`play`).
    Play {
        /// Position, seconds.
        position: f64,
        /// New rate, if given (within [`MIN_RATE`]..=[`MAX_RATE`]).
        rate: Option<f64>,
    },
    /// Pause at a position (`pause`).
    Pause {
        /// Position, seconds.
        position: f64,
    },
    /// Seek (`seek`).
    Seek {
        /// Position, seconds.
        position: f64,
    },
    /// Change item (`set_media`).
    SetMedia {
        /// The item.
        media: Media,
        /// Start position (default 0).
        position: Option<f64>,
    },
}

/// `welcome.user`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// Effective limits, sent in `welcome.limits` so clients can respect them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest accepted text frame, bytes.
    pub max_frame_bytes: usize,
    /// Sustained messages per second per connection.
    pub messages_per_second: f64,
    /// Token-bucket burst.
    pub burst: u32,
    /// Longest chat text, characters.
    pub max_chat_chars: usize,
    /// Members per room.
    pub max_members: usize,
    /// `status` messages per second that are taken into account.
    pub status_per_second: f64,
    /// Time allowed for `hello`, ms.
    pub hello_timeout_ms: u64,
    /// How long a dropped connection keeps its seat, ms.
    pub resume_window_ms: u64,
    /// Added field: slowest `play.rate` accepted.
    pub min_rate: f64,
    /// Added field: fastest `play.rate` accepted.
    pub max_rate: f64,
    /// Added field: most items a room's queue holds.
    #[serde(default)]
    pub max_queue: usize,
}

/// Server → client messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// Answer to `hello`.
    Welcome {
        /// Protocol version (1).
        protocol: u32,
        /// Session id.
        session: String,
        /// Resume secret.
        resume: String,
        /// Who the server thinks you are.
        user: UserInfo,
        /// Server time, ms since the UNIX epoch.
        server_time: f64,
        /// Effective limits.
        limits: Limits,
        /// Added field: true when `hello.resume` got the session's seat back (a `room`
        /// snapshot follows); false for a fresh session.
        resumed: bool,
    },
    /// Answer to `ping`.
    Pong {
        /// Echoed client time.
        t0: Value,
        /// Server receive time.
        t1: f64,
        /// Server send time.
        t2: f64,
    },
    /// Full room snapshot.
    Room {
        /// Room code.
        code: String,
        /// Your member id.
        you: String,
        /// Host member id.
        host: String,
        /// Room settings.
        settings: Settings,
        /// Playback state.
        state: PlaybackState,
        /// Same entries as `members.list`.
        members: Vec<MemberInfo>,
        /// Added field: server time of the snapshot.
        server_time: f64,
        /// Added field: the queue, next item first (`[]` when empty).
        #[serde(default)]
        queue: Vec<Media>,
    },
    /// Playback state change.
    State(PlaybackState),
    /// Member list (throttled).
    Members {
        /// Host member id.
        host: String,
        /// Members.
        list: Vec<MemberInfo>,
    },
    /// Chat line.
    Chat {
        /// Sender member id.
        from: String,
        /// Sender display name.
        name: String,
        /// Text.
        text: String,
        /// Server time.
        at: f64,
    },
    /// Reaction.
    Reaction {
        /// Sender member id.
        from: String,
        /// Emoji.
        emoji: String,
        /// Server time.
        at: f64,
    },
    /// (Added to v1.) A ready check started.
    ReadyCheck {
        /// Who asked.
        by: String,
        /// Server time at which it ends at the latest.
        until: f64,
        /// Whether the room starts when it ends by itself.
        start: bool,
    },
    /// (Added to v1.) A ready check ended.
    ReadyResult {
        /// Who asked.
        by: String,
        /// How it ended.
        result: ReadyOutcome,
        /// Members who said yes.
        ready: Vec<String>,
        /// Members who said no.
        not_ready: Vec<String>,
        /// Members who did not answer.
        no_answer: Vec<String>,
    },
    /// (Added to v1.) The queue changed: the whole queue, after the change.
    Queue {
        /// The items to come, next first.
        items: Vec<Media>,
        /// What changed.
        change: QueueChange,
        /// Who changed it (`null`: the server, moving on at the end of an item).
        by: Option<String>,
    },
    /// You are no longer in the room.
    Left {
        /// `left`, `kicked` or `room_closed`.
        reason: LeftReason,
    },
    /// Something went wrong with a request.
    Error {
        /// Error code.
        code: ErrorCode,
        /// Human-readable explanation.
        message: String,
    },
}

/// What changed the queue (`queue.change`, added to v1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueChange {
    /// `queue_add`.
    Add,
    /// `queue_remove`.
    Remove,
    /// `queue_move`.
    Move,
    /// `queue_clear`.
    Clear,
    /// The item ended: the first queued item became the room's item.
    Next,
}

/// Why a member left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    /// The member asked to leave.
    Left,
    /// The host kicked the member.
    Kicked,
    /// The room was closed.
    RoomClosed,
}

impl ServerMsg {
    /// The `type` label, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerMsg::Welcome { .. } => "welcome",
            ServerMsg::Pong { .. } => "pong",
            ServerMsg::Room { .. } => "room",
            ServerMsg::State(_) => "state",
            ServerMsg::Members { .. } => "members",
            ServerMsg::Chat { .. } => "chat",
            ServerMsg::Reaction { .. } => "reaction",
            ServerMsg::ReadyCheck { .. } => "ready_check",
            ServerMsg::ReadyResult { .. } => "ready_result",
            ServerMsg::Queue { .. } => "queue",
            ServerMsg::Left { .. } => "left",
            ServerMsg::Error { .. } => "error",
        }
    }

    /// Serialize, adding the request `id` when there is one.
    pub fn to_text(&self, id: Option<&Value>) -> String {
        match id {
            None => serde_json::to_string(self).expect("server messages always serialize"),
            Some(id) => {
                let mut v = serde_json::to_value(self).expect("server messages always serialize");
                if let Value::Object(map) = &mut v {
                    map.insert("id".into(), id.clone());
                }
                v.to_string()
            }
        }
    }
}

/// Every client message type, for metrics labels (anything else counts as `unknown`).
pub const CLIENT_TYPES: [&str; 22] = [
    "hello",
    "ping",
    "create_room",
    "join_room",
    "leave_room",
    "play",
    "pause",
    "seek",
    "set_media",
    "status",
    "chat",
    "reaction",
    "transfer_host",
    "kick",
    "set_rights",
    "ready_check",
    "ready",
    "queue_add",
    "queue_remove",
    "queue_move",
    "queue_clear",
    "ended",
];

/// A parsed inbound frame: the message (or why it is not one), its `id` and its type label.
pub struct Parsed {
    /// The request id to echo, when valid.
    pub id: Option<Value>,
    /// A fixed label for metrics: one of [`CLIENT_TYPES`], or `unknown` / `invalid`.
    pub kind: &'static str,
    /// The message, or a `bad_request` explanation.
    pub msg: Result<ClientMsg, String>,
}

/// Parse one text frame. Never fails: problems become `Err` messages for a `bad_request`.
///
/// A frame is read once to find its `type` and `id` (every other field skipped without being
/// built), then the message is deserialized from the text itself; `status` and `ping`, which
/// are nearly every frame a server reads, straight into their own fields. Building a
/// `serde_json::Value` first (a map per object, a string per key) and converting it was a
/// third of the server's instructions under load. Input that is not a plain object, or that
/// the first pass refuses (a duplicate `type`), takes [`parse_value`], which decides the
/// same way for all input.
pub fn parse_client(text: &str) -> Parsed {
    #[derive(Deserialize)]
    struct Envelope {
        #[serde(rename = "type", default)]
        kind: Option<Value>,
        #[serde(default)]
        id: Option<Value>,
    }
    if !text.trim_start().starts_with('{') {
        return parse_value(text);
    }
    let Ok(env) = serde_json::from_str::<Envelope>(text) else {
        return parse_value(text);
    };
    let (id, kind) = match check_envelope(env.id, env.kind.as_ref()) {
        Ok(x) => x,
        Err(refused) => return *refused,
    };
    let msg = match kind {
        "status" => serde_json::from_str::<StatusFields>(text).map(ClientMsg::from),
        "ping" => serde_json::from_str::<PingFields>(text).map(|p| ClientMsg::Ping { t0: p.t0 }),
        _ => serde_json::from_str::<ClientMsg>(text),
    }
    .map_err(|e| format!("invalid {kind}: {e}"));
    Parsed { id, kind, msg }
}

/// The fields of `status` (as [`ClientMsg::Status`]), for the direct path of [`parse_client`].
#[derive(Deserialize)]
struct StatusFields {
    position: f64,
    playing: bool,
    buffering: bool,
    rtt_ms: f64,
    offset_ms: f64,
    error_ms: f64,
    #[serde(default)]
    seek_ms: Option<f64>,
}

impl From<StatusFields> for ClientMsg {
    fn from(f: StatusFields) -> Self {
        ClientMsg::Status {
            position: f.position,
            playing: f.playing,
            buffering: f.buffering,
            rtt_ms: f.rtt_ms,
            offset_ms: f.offset_ms,
            error_ms: f.error_ms,
            seek_ms: f.seek_ms,
        }
    }
}

/// The fields of `ping` (as [`ClientMsg::Ping`]).
#[derive(Deserialize)]
struct PingFields {
    t0: Value,
}

/// A request id as accepted (`null` is none), or why it is refused.
fn check_id(id: Option<Value>) -> Result<Option<Value>, String> {
    match id {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::String(_))
            if v.as_str()
                .is_some_and(|s| s.chars().count() <= MAX_ID_CHARS) =>
        {
            Ok(Some(v))
        }
        Some(v @ Value::Number(_)) if v.to_string().len() <= MAX_ID_CHARS => Ok(Some(v)),
        Some(_) => Err(format!(
            "\"id\" must be a string or number of at most {MAX_ID_CHARS} characters"
        )),
    }
}

/// The `type` as one of [`CLIENT_TYPES`], or the metrics label and reason that refuse it.
fn check_kind(kind: Option<&Value>) -> Result<&'static str, (&'static str, &'static str)> {
    let Some(Value::String(t)) = kind else {
        return Err(("invalid", "missing \"type\""));
    };
    CLIENT_TYPES
        .iter()
        .copied()
        .find(|k| k == t)
        .ok_or(("unknown", "unknown message type"))
}

/// The first checks of both parses: the id, then the type (a refusal is boxed: it is rare,
/// and `Parsed` is large).
fn check_envelope(
    id: Option<Value>,
    kind: Option<&Value>,
) -> Result<(Option<Value>, &'static str), Box<Parsed>> {
    let id = check_id(id).map_err(|m| {
        Box::new(Parsed {
            id: None,
            kind: "invalid",
            msg: Err(m),
        })
    })?;
    match check_kind(kind) {
        Ok(k) => Ok((id, k)),
        Err((label, m)) => Err(Box::new(Parsed {
            id,
            kind: label,
            msg: Err(m.into()),
        })),
    }
}

/// [`parse_client`] by way of a `serde_json::Value`: slower, and the reference for what any
/// input means (malformed JSON, something other than an object, duplicate keys: the last
/// one wins).
pub fn parse_value(text: &str) -> Parsed {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Parsed {
                id: None,
                kind: "invalid",
                msg: Err(format!("malformed JSON: {e}")),
            }
        }
    };
    let Value::Object(map) = &value else {
        return Parsed {
            id: None,
            kind: "invalid",
            msg: Err("a message must be a JSON object".into()),
        };
    };
    let (id, kind) = match check_envelope(map.get("id").cloned(), map.get("type")) {
        Ok(x) => x,
        Err(refused) => return *refused,
    };
    let msg =
        serde_json::from_value::<ClientMsg>(value).map_err(|e| format!("invalid {kind}: {e}"));
    Parsed { id, kind, msg }
}

/// Whether `s` is one grapheme-ish emoji: short, no whitespace or control characters.
/// Without a Unicode segmentation table we accept up to 8 code points (flags, skin tones and
/// ZWJ sequences need several) and at most 32 bytes.
pub fn valid_emoji(s: &str) -> bool {
    let n = s.chars().count();
    (1..=8).contains(&n)
        && s.len() <= 32
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c.is_ascii_alphanumeric())
}

/// Check a `media` object from a client: what the room will store and repeat to everyone.
pub fn validate_media(media: &Media) -> Result<(), String> {
    if media.id.is_empty() || media.id.chars().count() > 128 {
        return Err("media.id must be 1 to 128 characters".into());
    }
    if media
        .title
        .as_ref()
        .is_some_and(|t| t.chars().count() > 300)
    {
        return Err("media.title is limited to 300 characters".into());
    }
    if media.duration.is_some_and(|d| !(d.is_finite() && d >= 0.0)) {
        return Err("media.duration must be a positive number of seconds".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_holds_before_and_after_at() {
        let s = PlaybackState {
            media: None,
            playing: true,
            position: 10.0,
            rate: 2.0,
            at: 1000.0,
            seq: 1,
            reason: Reason::Play,
            by: None,
            waiting_for: None,
            cause: None,
        };
        assert_eq!(s.position_at(500.0), 10.0);
        assert_eq!(s.position_at(2000.0), 12.0);
        let paused = PlaybackState {
            playing: false,
            ..s
        };
        assert_eq!(paused.position_at(5000.0), 10.0);
    }

    #[test]
    fn parse_reports_id_and_kind() {
        let p = parse_client(r#"{"type":"play","position":3.5,"id":"a1","extra":1}"#);
        assert_eq!(p.kind, "play");
        assert_eq!(p.id, Some(Value::String("a1".into())));
        assert_eq!(
            p.msg.unwrap(),
            ClientMsg::Play {
                position: 3.5,
                rate: None
            }
        );

        let p = parse_client(r#"{"type":"dance","id":7}"#);
        assert_eq!(p.kind, "unknown");
        assert!(p.msg.is_err());
        assert_eq!(p.id, Some(serde_json::json!(7)));

        let p = parse_client(r#"{"type":"play"}"#);
        assert!(p.msg.unwrap_err().contains("position"));

        assert!(parse_client("{nope").msg.is_err());
        assert!(parse_client(&format!(
            r#"{{"type":"ping","t0":1,"id":"{}"}}"#,
            "x".repeat(65)
        ))
        .msg
        .is_err());
    }

    #[test]
    fn the_direct_parse_means_what_the_value_parse_means() {
        let frames = [
            r#"{"type":"status","position":1.5,"playing":true,"buffering":false,"rtt_ms":20,"offset_ms":-3,"error_ms":2.5,"seek_ms":120}"#,
            r#"{"type":"status","position":1.5,"playing":true,"buffering":false,"rtt_ms":20,"offset_ms":-3,"error_ms":2.5,"seek_ms":null,"id":"s1","extra":[1,{"a":2}]}"#,
            r#"{"position":1.5,"type":"status","playing":true,"buffering":false,"rtt_ms":20,"offset_ms":-3,"error_ms":2.5}"#,
            r#"{"type":"status","position":"1.5","playing":true,"buffering":false,"rtt_ms":20,"offset_ms":-3,"error_ms":2.5}"#,
            r#"{"type":"status","playing":true}"#,
            r#"{"type":"ping","t0":12.5}"#,
            r#"{"type":"ping","t0":{"any":"thing"},"id":7}"#,
            r#"{"type":"ping"}"#,
            r#"{"type":"play","position":3,"rate":2,"id":null}"#,
            r#"{"type":"join_room","code":"ACD EFG"}"#,
            r#"{"type":"hello","protocol":1,"token":"t","client":{"name":"x","version":"1"}}"#,
            r#"{"type":"leave_room"}"#,
            r#"{"type":"dance","id":"x"}"#,
            r#"{"type":5}"#,
            r#"{"id":"no type"}"#,
            r#"{"type":"ping","t0":1,"id":[1]}"#,
            r#"{"type":"ping","t0":1,"type":"status"}"#,
            r#"{"type":"st\u0061tus","position":1,"playing":true,"buffering":false,"rtt_ms":1,"offset_ms":1,"error_ms":1}"#,
            r#" [1,2]"#,
            r#""status""#,
            r#"{"type":"ping","t0":1"#,
            r#"{nope"#,
            "",
        ];
        for f in frames {
            let (a, b) = (parse_client(f), parse_value(f));
            assert_eq!((a.kind, &a.id), (b.kind, &b.id), "{f}");
            match (&a.msg, &b.msg) {
                (Ok(x), Ok(y)) => assert_eq!(x, y, "{f}"),
                (Err(_), Err(_)) => {}
                _ => panic!("the two parses disagree on {f}: {:?} / {:?}", a.msg, b.msg),
            }
        }
    }

    #[test]
    fn server_messages_carry_type_and_id() {
        let m = ServerMsg::Error {
            code: ErrorCode::RoomFull,
            message: "full".into(),
        };
        let v: Value = serde_json::from_str(&m.to_text(Some(&Value::from(5)))).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["code"], "room_full");
        assert_eq!(v["id"], 5);
        let back: ServerMsg = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn emoji_check() {
        assert!(valid_emoji("👍"));
        assert!(valid_emoji("👩‍👩‍👧"));
        assert!(!valid_emoji(""));
        assert!(!valid_emoji("hello"));
        assert!(!valid_emoji("👍👍👍👍👍👍👍👍👍"));
    }
}
