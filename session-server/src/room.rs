//! One room: its members, host, settings and playback state, owned by one task.
//!
//! Everything that changes a room arrives as a [`Cmd`] on the room's bounded mailbox and is
//! handled in order by [`RoomTask`]; nothing else can touch the state, so there are no locks
//! here. The task never waits on a connection: it reaches members through
//! [`ConnHandle::send`], which never blocks. Timers (seat expiry, the waiting rule, the
//! `members` throttle) are one `sleep_until` on the earliest deadline.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use matinee_auth::Identity;

use crate::clock::{now_ms, LeadRule};
use crate::metrics::Metrics;
use crate::outbound::{ConnHandle, Outbound, SendOutcome};
use crate::protocol::{
    close, Control, ErrorCode, LeftReason, Media, MemberInfo, PlaybackState, Reason, ServerMsg,
    Settings,
};

/// Slowest accepted playback rate. Watch parties play at 1 (sometimes 0.5–2, as Jellyfin's
/// player offers); outside 0.25–4 Firefox mutes the audio and the players' own rate nudges
/// (±10 %) stop making sense, so such a `play` is refused rather than followed by nobody.
pub const MIN_RATE: f64 = 0.25;
/// Fastest accepted playback rate (see [`MIN_RATE`]).
pub const MAX_RATE: f64 = 4.0;

/// Why a request was refused: the code and a human message.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// Error code sent to the client.
    pub code: ErrorCode,
    /// Explanation.
    pub message: String,
}

impl Failure {
    /// Shorthand constructor.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// Reply channel of a command.
pub type Reply<T> = oneshot::Sender<Result<T, Failure>>;

/// Who is asking.
#[derive(Clone, Debug)]
pub enum Who {
    /// A member's live connection (WebSocket).
    Conn {
        /// Member id.
        member_id: String,
        /// The connection that must currently hold the seat.
        conn_id: u64,
    },
    /// A seat, proven by its resume secret (REST).
    Seat(String),
    /// An authenticated user (REST with a token): any seat of that user.
    User(String),
}

/// A playback intent (host, or anyone under shared control).
#[derive(Clone, Debug)]
pub enum Intent {
    /// Scheduled start.
    Play {
        /// Position, seconds.
        position: f64,
        /// New rate, if given.
        rate: Option<f64>,
    },
    /// Pause at a position.
    Pause {
        /// Position, seconds.
        position: f64,
    },
    /// Seek.
    Seek {
        /// Position, seconds.
        position: f64,
    },
    /// Change item.
    SetMedia {
        /// The item.
        media: Media,
        /// Start position.
        position: Option<f64>,
    },
}

/// A member's status report (already rate-limited by the connection).
#[derive(Clone, Debug, Default)]
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

/// Member-scoped operations.
#[derive(Clone, Debug)]
pub enum Op {
    /// Give the seat up.
    Leave,
    /// Playback intent.
    Intent(Intent),
    /// Status report.
    Status(StatusReport),
    /// Chat line.
    Chat(String),
    /// Reaction.
    Reaction(String),
    /// Hand over the host role.
    TransferHost(String),
    /// Remove a member.
    Kick(String),
}

/// What an operation returns on success.
#[derive(Clone, Debug)]
pub enum Done {
    /// Nothing to add.
    Ok,
    /// The new playback state.
    State(PlaybackState),
}

/// Room snapshot (REST `GET /api/v1/rooms/{code}`).
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// Room code.
    pub code: String,
    /// Host member id.
    pub host: String,
    /// Settings.
    pub settings: Settings,
    /// Playback state.
    pub state: PlaybackState,
    /// Members, in order of arrival.
    pub members: Vec<MemberInfo>,
    /// Server time of the snapshot.
    pub server_time: f64,
    /// Expected position now, by the formula.
    pub position_now: f64,
}

/// Commands a room handles, in mailbox order.
pub enum Cmd {
    /// Take a new seat.
    Join {
        /// Authenticated identity.
        identity: Identity,
        /// The joining connection.
        conn: ConnHandle,
        /// Request id to echo in the `room` snapshot.
        req_id: Option<Value>,
        /// Member id on success.
        reply: Reply<String>,
    },
    /// Take an existing seat back.
    Resume {
        /// The seat.
        member_id: String,
        /// The new connection.
        conn: ConnHandle,
        /// Success when the seat still exists.
        reply: Reply<()>,
    },
    /// A connection holding a seat ended; the seat waits for a resume.
    Disconnected {
        /// The seat.
        member_id: String,
        /// The connection that ended.
        conn_id: u64,
    },
    /// A member-scoped operation.
    Op {
        /// Who asks.
        who: Who,
        /// Request id to echo in the caller's copy of the broadcast.
        req_id: Option<Value>,
        /// What.
        op: Op,
        /// Result; `None` for fire-and-forget (`status`).
        reply: Option<Reply<Done>>,
    },
    /// Fault injection: the room task panics (tests only).
    #[cfg(test)]
    Panic,
    /// Snapshot for a member (REST).
    Snapshot {
        /// Who asks.
        who: Who,
        /// The snapshot.
        reply: Reply<Snapshot>,
    },
}

/// Per-room parameters, taken from configuration.
#[derive(Clone, Debug)]
pub struct RoomParams {
    /// Most seats.
    pub max_members: usize,
    /// Longest chat text, characters.
    pub max_chat_chars: usize,
    /// Seat kept after a disconnect.
    pub resume_window: Duration,
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

/// A member whose reported error is beyond this (either way) is shown as out of sync, so
/// crossing it is a change a person sees and is announced within the `members` throttle;
/// smaller error changes wait for the numbers refresh. Well above the clients' correction
/// bands (a few to 10 ms), so ordinary jitter does not cross it back and forth.
const VISIBLE_ERROR_MS: f64 = 50.0;

struct Member {
    id: String,
    identity: Identity,
    conn: Option<ConnHandle>,
    disconnected_at: Option<Instant>,
    status: StatusReport,
    has_status: bool,
    buffering_since: Option<Instant>,
    /// Dropped from a wait that hit its cap; ignored by the waiting rule until it recovers.
    wait_exempt: bool,
}

impl Member {
    fn info(&self) -> MemberInfo {
        MemberInfo {
            id: self.id.clone(),
            name: self.identity.name.clone(),
            user_id: self.identity.user_id.clone(),
            rtt_ms: self.has_status.then_some(self.status.rtt_ms),
            error_ms: self.has_status.then_some(self.status.error_ms),
            buffering: self.status.buffering,
            connected: self.conn.is_some(),
        }
    }
}

struct Waiting {
    members: Vec<String>,
    deadline: Instant,
}

/// The state one room task owns.
pub struct RoomTask {
    code: String,
    params: RoomParams,
    metrics: Arc<Metrics>,
    settings: Settings,
    host: String,
    /// In order of arrival: the first connected one is the "longest present".
    members: Vec<Member>,
    state: PlaybackState,
    waiting: Option<Waiting>,
    /// Something a person sees changed: send `members` within `members_interval`.
    members_dirty: bool,
    /// Only numbers (`rtt_ms`, `error_ms`) changed: send within `members_refresh`.
    numbers_dirty: bool,
    last_members_sent: Option<Instant>,
    /// When media time starts to advance under the current state (its `at`, as an `Instant`).
    /// Buffering before then is a player getting ready for a scheduled start (the lead exists
    /// for exactly that), so the waiting rule's grace counts from here at the earliest.
    runs_from: Instant,
}

/// What a new room starts from.
pub struct RoomSetup {
    /// Room code.
    pub code: String,
    /// Limits and timings.
    pub params: RoomParams,
    /// Settings chosen by the creator.
    pub settings: Settings,
    /// Initial media.
    pub media: Option<Media>,
    /// Server metrics.
    pub metrics: Arc<Metrics>,
    /// Server shutdown flag.
    pub shutdown: watch::Receiver<bool>,
}

/// Run a room until its last seat is gone (or the server shuts down), then call `on_close`
/// (also when the task panics).
/// Commands still in the mailbox at that point are answered with `room_not_found`.
pub async fn run_room(
    setup: RoomSetup,
    mut rx: mpsc::Receiver<Cmd>,
    on_close: Box<dyn FnOnce() + Send>,
) {
    let RoomSetup {
        code,
        params,
        settings,
        media,
        metrics,
        mut shutdown,
    } = setup;
    let mut room = RoomTask {
        code,
        params,
        metrics,
        settings,
        host: String::new(),
        members: Vec::new(),
        state: PlaybackState {
            media,
            playing: false,
            position: 0.0,
            rate: 1.0,
            at: now_ms(),
            seq: 1,
            reason: Reason::Media,
            by: None,
            waiting_for: None,
        },
        waiting: None,
        members_dirty: false,
        numbers_dirty: false,
        last_members_sent: None,
        runs_from: Instant::now(),
    };
    room.metrics.rooms.fetch_add(1, Ordering::Relaxed);
    let mut unregister = Unregister(Some(on_close));
    tracing::debug!(room = %room.code, "room opened");
    loop {
        let deadline = room.next_deadline();
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(cmd) => room.handle(cmd),
                None => break,
            },
            _ = sleep_until_opt(deadline) => {}
            _ = crate::server::until_shutdown(&mut shutdown) => break,
        }
        room.tick(Instant::now());
        if room.members.is_empty() {
            break;
        }
    }
    // Unregister first so no new command can reach us, then refuse what is already queued.
    unregister.run();
    rx.close();
    while let Ok(cmd) = rx.try_recv() {
        room.refuse(cmd);
    }
    tracing::debug!(room = %room.code, "room closed");
}

/// Runs the registry's `on_close` exactly once: at the normal end, or while unwinding if the
/// room task panics, so that a bug in one room can never leave its code registered to a dead
/// mailbox (holding a slot of `max_rooms` forever).
struct Unregister(Option<Box<dyn FnOnce() + Send>>);

impl Unregister {
    fn run(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

impl Drop for Unregister {
    fn drop(&mut self) {
        self.run();
    }
}

impl Drop for RoomTask {
    /// The gauges follow the room however its task ends (normally, on shutdown or by a panic).
    fn drop(&mut self) {
        self.metrics
            .members
            .fetch_sub(self.members.len() as i64, Ordering::Relaxed);
        self.metrics.rooms.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A lead in milliseconds (finite, clamped by [`LeadRule`]) as a `Duration`.
fn ms(lead: f64) -> Duration {
    Duration::from_secs_f64(lead.max(0.0) / 1000.0)
}

async fn sleep_until_opt(d: Option<Instant>) {
    match d {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn random_member_id() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("m{:012x}", n & 0xffff_ffff_ffff)
}

impl RoomTask {
    fn refuse(&mut self, cmd: Cmd) {
        let gone = || Failure::new(ErrorCode::RoomNotFound, "the room has closed");
        match cmd {
            Cmd::Join { reply, .. } => drop(reply.send(Err(gone()))),
            Cmd::Resume { reply, .. } => drop(reply.send(Err(gone()))),
            Cmd::Op {
                reply: Some(reply), ..
            } => drop(reply.send(Err(gone()))),
            Cmd::Snapshot { reply, .. } => drop(reply.send(Err(gone()))),
            Cmd::Op { reply: None, .. } | Cmd::Disconnected { .. } => {}
            #[cfg(test)]
            Cmd::Panic => {}
        }
    }

    fn handle(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Join {
                identity,
                conn,
                req_id,
                reply,
            } => {
                let r = self.join(identity, conn, req_id);
                let _ = reply.send(r);
            }
            Cmd::Resume {
                member_id,
                conn,
                reply,
            } => {
                let r = self.resume(&member_id, conn);
                let _ = reply.send(r);
            }
            Cmd::Disconnected { member_id, conn_id } => self.disconnected(&member_id, conn_id),
            Cmd::Op {
                who,
                req_id,
                op,
                reply,
            } => {
                let r = self.resolve(&who).and_then(|idx| self.op(idx, req_id, op));
                if let Some(reply) = reply {
                    let _ = reply.send(r);
                }
            }
            #[cfg(test)]
            Cmd::Panic => panic!("fault injected by a test"),
            Cmd::Snapshot { who, reply } => {
                let r = self.resolve(&who).map(|_| self.snapshot());
                let _ = reply.send(r);
            }
        }
    }

    fn resolve(&self, who: &Who) -> Result<usize, Failure> {
        let idx = match who {
            Who::Conn { member_id, conn_id } => self.members.iter().position(|m| {
                &m.id == member_id && m.conn.as_ref().is_some_and(|c| c.conn_id == *conn_id)
            }),
            Who::Seat(member_id) => self.members.iter().position(|m| &m.id == member_id),
            // Prefer the host's seat when a user holds several.
            Who::User(user_id) => self
                .members
                .iter()
                .position(|m| m.id == self.host && &m.identity.user_id == user_id)
                .or_else(|| {
                    self.members
                        .iter()
                        .position(|m| &m.identity.user_id == user_id)
                }),
        };
        idx.ok_or_else(|| Failure::new(ErrorCode::Forbidden, "not a member of this room"))
    }

    fn join(
        &mut self,
        identity: Identity,
        conn: ConnHandle,
        req_id: Option<Value>,
    ) -> Result<String, Failure> {
        if self.members.len() >= self.params.max_members {
            return Err(Failure::new(
                ErrorCode::RoomFull,
                format!(
                    "the room has its maximum of {} members",
                    self.params.max_members
                ),
            ));
        }
        let mut id = random_member_id();
        while self.members.iter().any(|m| m.id == id) {
            id = random_member_id();
        }
        if self.members.is_empty() {
            self.host = id.clone();
        }
        self.members.push(Member {
            id: id.clone(),
            identity,
            conn: Some(conn),
            disconnected_at: None,
            status: StatusReport::default(),
            has_status: false,
            buffering_since: None,
            wait_exempt: false,
        });
        self.metrics.members.fetch_add(1, Ordering::Relaxed);
        self.send_room_snapshot(self.members.len() - 1, req_id);
        self.members_dirty = true;
        Ok(id)
    }

    fn resume(&mut self, member_id: &str, conn: ConnHandle) -> Result<(), Failure> {
        let Some(idx) = self.members.iter().position(|m| m.id == member_id) else {
            return Err(Failure::new(ErrorCode::RoomNotFound, "the seat is gone"));
        };
        let m = &mut self.members[idx];
        // A connection that still holds the seat has been replaced by a newer one.
        if let Some(old) = m.conn.replace(conn) {
            old.kill(close::NORMAL);
        }
        m.disconnected_at = None;
        // Its last buffering report predates the reconnect: the waiting rule's grace starts
        // afresh, as for any new start, until the new connection reports.
        if m.buffering_since.is_some() {
            m.buffering_since = Some(Instant::now());
        }
        self.send_room_snapshot(idx, None);
        self.members_dirty = true;
        Ok(())
    }

    fn disconnected(&mut self, member_id: &str, conn_id: u64) {
        let Some(m) = self
            .members
            .iter_mut()
            .find(|m| m.id == member_id && m.conn.as_ref().is_some_and(|c| c.conn_id == conn_id))
        else {
            // A stale notice from a connection that a resume already replaced: the seat is
            // held by the newer connection and stays in any wait it is part of.
            return;
        };
        m.conn = None;
        m.disconnected_at = Some(Instant::now());
        self.members_dirty = true;
        // A member that is gone cannot be waited for.
        self.unwait(member_id);
    }

    fn snapshot(&self) -> Snapshot {
        let t = now_ms();
        Snapshot {
            code: self.code.clone(),
            host: self.host.clone(),
            settings: self.settings,
            state: self.state.clone(),
            members: self.members.iter().map(Member::info).collect(),
            server_time: t,
            position_now: self.state.position_at(t),
        }
    }

    fn send_room_snapshot(&mut self, idx: usize, req_id: Option<Value>) {
        let msg = ServerMsg::Room {
            code: self.code.clone(),
            you: self.members[idx].id.clone(),
            host: self.host.clone(),
            settings: self.settings,
            state: self.state.clone(),
            members: self.members.iter().map(Member::info).collect(),
            server_time: now_ms(),
        };
        let text = Utf8Bytes::from(msg.to_text(req_id.as_ref()));
        self.send_to(idx, text, "room", Instant::now());
    }

    /// Queue a frame for one member; a full queue or a dead connection frees the connection
    /// slot (the seat stays for resume), so the room never waits and never retries.
    fn send_to(&mut self, idx: usize, text: Utf8Bytes, kind: &'static str, decided: Instant) {
        let Some(conn) = &self.members[idx].conn else {
            return;
        };
        match conn.send(Outbound::Frame {
            text,
            kind,
            decided,
        }) {
            SendOutcome::Queued => {}
            SendOutcome::TooSlow | SendOutcome::Gone => {
                let m = &mut self.members[idx];
                tracing::debug!(room = %self.code, member = %m.id, "member connection dropped by the room (slow or gone)");
                m.conn = None;
                m.disconnected_at = Some(Instant::now());
                self.members_dirty = true;
                let id = m.id.clone();
                self.unwait(&id);
            }
        }
    }

    /// Send to every connected member; `actor` (with `req_id`) gets a copy echoing the id.
    fn broadcast(&mut self, msg: &ServerMsg, actor: Option<(usize, Option<Value>)>) {
        let decided = Instant::now();
        let text = Utf8Bytes::from(msg.to_text(None));
        let kind = msg.kind();
        for idx in 0..self.members.len() {
            match &actor {
                Some((a, Some(id))) if *a == idx => {
                    let own = Utf8Bytes::from(msg.to_text(Some(id)));
                    self.send_to(idx, own, kind, decided);
                }
                _ => self.send_to(idx, text.clone(), kind, decided),
            }
        }
    }

    fn broadcast_state(&mut self, actor: Option<(usize, Option<Value>)>) {
        let msg = ServerMsg::State(self.state.clone());
        self.broadcast(&msg, actor);
    }

    fn max_one_way_ms(&self) -> f64 {
        self.members
            .iter()
            .filter(|m| m.conn.is_some() && m.has_status)
            .map(|m| m.status.rtt_ms / 2.0)
            .fold(0.0, f64::max)
    }

    fn max_seek_ms(&self) -> f64 {
        self.members
            .iter()
            .filter(|m| m.conn.is_some())
            .filter_map(|m| m.status.seek_ms)
            .fold(0.0, f64::max)
    }

    fn op(&mut self, idx: usize, req_id: Option<Value>, op: Op) -> Result<Done, Failure> {
        let is_host = self.members[idx].id == self.host;
        match op {
            Op::Leave => {
                let m = self.remove_member(idx);
                if let Some(conn) = &m.conn {
                    let msg = ServerMsg::Left {
                        reason: LeftReason::Left,
                    };
                    conn.send(Outbound::Left {
                        code: self.code.clone(),
                        member_id: m.id.clone(),
                        reason: LeftReason::Left,
                        text: msg.to_text(req_id.as_ref()).into(),
                    });
                }
                Ok(Done::Ok)
            }
            Op::Intent(intent) => {
                if !is_host && self.settings.control != Control::Shared {
                    return Err(Failure::new(
                        ErrorCode::Forbidden,
                        "only the host controls playback in this room",
                    ));
                }
                let by = self.members[idx].id.clone();
                self.apply_intent(intent, by)?;
                self.broadcast_state(Some((idx, req_id)));
                Ok(Done::State(self.state.clone()))
            }
            Op::Status(s) => {
                self.status(idx, s);
                Ok(Done::Ok)
            }
            Op::Chat(text) => {
                let n = text.chars().count();
                if n == 0 || text.trim().is_empty() {
                    return Err(Failure::new(ErrorCode::BadRequest, "empty chat message"));
                }
                if n > self.params.max_chat_chars {
                    return Err(Failure::new(
                        ErrorCode::TooLarge,
                        format!(
                            "chat messages are limited to {} characters",
                            self.params.max_chat_chars
                        ),
                    ));
                }
                let m = &self.members[idx];
                let msg = ServerMsg::Chat {
                    from: m.id.clone(),
                    name: m.identity.name.clone(),
                    text,
                    at: now_ms(),
                };
                self.broadcast(&msg, Some((idx, req_id)));
                Ok(Done::Ok)
            }
            Op::Reaction(emoji) => {
                if !crate::protocol::valid_emoji(&emoji) {
                    return Err(Failure::new(
                        ErrorCode::BadRequest,
                        "a reaction is one emoji",
                    ));
                }
                let msg = ServerMsg::Reaction {
                    from: self.members[idx].id.clone(),
                    emoji,
                    at: now_ms(),
                };
                self.broadcast(&msg, Some((idx, req_id)));
                Ok(Done::Ok)
            }
            Op::TransferHost(target) => {
                if !is_host {
                    return Err(Failure::new(
                        ErrorCode::Forbidden,
                        "only the host can hand over the host role",
                    ));
                }
                let Some(t) = self.members.iter().find(|m| m.id == target) else {
                    return Err(Failure::new(ErrorCode::BadRequest, "no such member"));
                };
                if t.conn.is_none() {
                    return Err(Failure::new(
                        ErrorCode::BadRequest,
                        "that member is not connected",
                    ));
                }
                self.host = target;
                self.members_dirty = true; // announced within the members throttle
                Ok(Done::Ok)
            }
            Op::Kick(target) => {
                if !is_host {
                    return Err(Failure::new(ErrorCode::Forbidden, "only the host can kick"));
                }
                if target == self.host {
                    return Err(Failure::new(
                        ErrorCode::BadRequest,
                        "the host cannot kick itself; use leave_room",
                    ));
                }
                let Some(t) = self.members.iter().position(|m| m.id == target) else {
                    return Err(Failure::new(ErrorCode::BadRequest, "no such member"));
                };
                let m = self.remove_member(t);
                if let Some(conn) = &m.conn {
                    let msg = ServerMsg::Left {
                        reason: LeftReason::Kicked,
                    };
                    conn.send(Outbound::Left {
                        code: self.code.clone(),
                        member_id: m.id.clone(),
                        reason: LeftReason::Kicked,
                        text: msg.to_text(None).into(),
                    });
                }
                self.members_dirty = true;
                Ok(Done::Ok)
            }
        }
    }

    fn apply_intent(&mut self, intent: Intent, by: String) -> Result<(), Failure> {
        let check_pos = |p: f64| {
            if p.is_finite() && (0.0..=1.0e7).contains(&p) {
                Ok(p)
            } else {
                Err(Failure::new(
                    ErrorCode::BadRequest,
                    "position must be a number of seconds between 0 and 1e7",
                ))
            }
        };
        let now = now_ms();
        let seq = self.state.seq + 1;
        match intent {
            Intent::Play { position, rate } => {
                let position = check_pos(position)?;
                let rate = match rate {
                    None => self.state.rate,
                    Some(r) if r.is_finite() && (MIN_RATE..=MAX_RATE).contains(&r) => r,
                    Some(_) => {
                        return Err(Failure::new(
                            ErrorCode::BadRequest,
                            format!("rate must be between {MIN_RATE} and {MAX_RATE}"),
                        ))
                    }
                };
                self.waiting = None;
                self.restart_buffering_grace();
                let lead = self.params.lead.start(self.max_one_way_ms());
                self.runs_from = Instant::now() + ms(lead);
                self.state = PlaybackState {
                    media: self.state.media.clone(),
                    playing: true,
                    position,
                    rate,
                    at: now + lead,
                    seq,
                    reason: Reason::Play,
                    by: Some(by),
                    waiting_for: None,
                };
            }
            Intent::Pause { position } => {
                let position = check_pos(position)?;
                self.waiting = None;
                self.state = PlaybackState {
                    media: self.state.media.clone(),
                    playing: false,
                    position,
                    rate: self.state.rate,
                    at: now,
                    seq,
                    reason: Reason::Pause,
                    by: Some(by),
                    waiting_for: None,
                };
            }
            Intent::Seek { position } => {
                let position = check_pos(position)?;
                let (playing, at) = if self.state.playing {
                    let lead = self
                        .params
                        .lead
                        .seek(self.max_one_way_ms(), self.max_seek_ms());
                    self.runs_from = Instant::now() + ms(lead);
                    (true, now + lead)
                } else {
                    (false, now)
                };
                self.state = PlaybackState {
                    media: self.state.media.clone(),
                    playing,
                    position,
                    rate: self.state.rate,
                    at,
                    seq,
                    reason: Reason::Seek,
                    by: Some(by),
                    // While waiting, the wait goes on from the new position.
                    waiting_for: self.waiting.as_ref().map(|w| w.members.clone()),
                };
            }
            Intent::SetMedia { media, position } => {
                crate::protocol::validate_media(&media)
                    .map_err(|m| Failure::new(ErrorCode::BadRequest, m))?;
                let position = check_pos(position.unwrap_or(0.0))?;
                self.waiting = None;
                self.state = PlaybackState {
                    media: Some(media),
                    playing: false,
                    position,
                    rate: self.state.rate,
                    at: now,
                    seq,
                    reason: Reason::Media,
                    by: Some(by),
                    waiting_for: None,
                };
            }
        }
        Ok(())
    }

    fn status(&mut self, idx: usize, s: StatusReport) {
        let now = Instant::now();
        let m = &mut self.members[idx];
        let was_buffering = m.status.buffering;
        let out_of_sync = |r: &StatusReport| r.error_ms.abs() > VISIBLE_ERROR_MS;
        let (had_status, was_out_of_sync) = (m.has_status, out_of_sync(&m.status));
        let old_numbers = (m.status.rtt_ms, m.status.error_ms);
        let clean = |v: f64, max: f64| {
            if v.is_finite() {
                v.clamp(-max, max)
            } else {
                0.0
            }
        };
        m.status = StatusReport {
            position: clean(s.position, 1.0e7),
            playing: s.playing,
            buffering: s.buffering,
            rtt_ms: clean(s.rtt_ms, 60_000.0).max(0.0),
            error_ms: clean(s.error_ms, 1.0e7),
            seek_ms: s.seek_ms.map(|v| clean(v, 60_000.0).max(0.0)),
        };
        m.has_status = true;
        if !had_status || was_buffering != s.buffering || was_out_of_sync != out_of_sync(&m.status)
        {
            self.members_dirty = true;
        } else if old_numbers != (m.status.rtt_ms, m.status.error_ms) {
            self.numbers_dirty = true;
        }
        if s.buffering && !was_buffering {
            m.buffering_since = Some(now);
        } else if !s.buffering {
            m.buffering_since = None;
            m.wait_exempt = false;
            if was_buffering {
                let id = m.id.clone();
                self.unwait(&id);
            }
        }
    }

    /// Remove a member from the current wait; resume when nobody is left to wait for.
    fn unwait(&mut self, member_id: &str) {
        let Some(w) = &mut self.waiting else { return };
        w.members.retain(|m| m != member_id);
        if w.members.is_empty() {
            self.resume_after_wait();
        }
    }

    /// Members still buffering get a fresh grace period from a new start: buffering that
    /// began while the room was paused (by a pause or by a wait) says nothing yet about
    /// keeping up with playback.
    fn restart_buffering_grace(&mut self) {
        let t = Instant::now();
        for m in &mut self.members {
            if m.buffering_since.is_some() {
                m.buffering_since = Some(t);
            }
        }
    }

    fn resume_after_wait(&mut self) {
        self.waiting = None;
        self.restart_buffering_grace();
        let lead = self.params.lead.start(self.max_one_way_ms());
        self.runs_from = Instant::now() + ms(lead);
        self.state = PlaybackState {
            media: self.state.media.clone(),
            playing: true,
            position: self.state.position,
            rate: self.state.rate,
            at: now_ms() + lead,
            seq: self.state.seq + 1,
            reason: Reason::Resume,
            by: None,
            waiting_for: None,
        };
        self.broadcast_state(None);
    }

    fn remove_member(&mut self, idx: usize) -> Member {
        let m = self.members.remove(idx);
        self.metrics.members.fetch_sub(1, Ordering::Relaxed);
        if m.id == self.host {
            self.migrate_host();
        }
        self.members_dirty = true;
        let id = m.id.clone();
        self.unwait(&id);
        m
    }

    /// The longest-present connected member becomes host (or the longest-present seat when
    /// nobody is connected, so that a resume gets the role back).
    fn migrate_host(&mut self) {
        let next = self
            .members
            .iter()
            .find(|m| m.conn.is_some())
            .or_else(|| self.members.first());
        if let Some(n) = next {
            self.host = n.id.clone();
            tracing::debug!(room = %self.code, "host migrated");
        }
    }

    fn send_members_now(&mut self) {
        self.members_dirty = false;
        self.numbers_dirty = false;
        self.last_members_sent = Some(Instant::now());
        let msg = ServerMsg::Members {
            host: self.host.clone(),
            list: self.members.iter().map(Member::info).collect(),
        };
        self.broadcast(&msg, None);
    }

    /// The least gap after the last `members` message before the next one is due, if one is.
    fn members_gap(&self) -> Option<Duration> {
        if self.members_dirty {
            Some(self.params.members_interval)
        } else if self.numbers_dirty {
            Some(
                self.params
                    .members_refresh
                    .max(self.params.members_interval),
            )
        } else {
            None
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut d: Option<Instant> = None;
        let mut consider = |t: Instant| d = Some(d.map_or(t, |x| x.min(t)));
        for m in &self.members {
            if let Some(t) = m.disconnected_at {
                consider(t + self.params.resume_window);
            }
        }
        if let Some(w) = &self.waiting {
            consider(w.deadline);
        } else if self.settings.wait_for_all && self.state.playing {
            for m in &self.members {
                if let (Some(t), false, true) = (m.buffering_since, m.wait_exempt, m.conn.is_some())
                {
                    consider(t.max(self.runs_from) + self.params.buffering_grace);
                }
            }
        }
        if let Some(gap) = self.members_gap() {
            consider(
                self.last_members_sent
                    .map_or_else(Instant::now, |t| t + gap),
            );
        }
        d
    }

    fn tick(&mut self, now: Instant) {
        // Seats whose resume window has passed are freed.
        let window = self.params.resume_window;
        while let Some(idx) = self
            .members
            .iter()
            .position(|m| m.disconnected_at.is_some_and(|t| t + window <= now))
        {
            self.remove_member(idx);
        }
        // The waiting rule.
        if let Some(w) = &self.waiting {
            if w.deadline <= now {
                let dropped = w.members.clone();
                for m in &mut self.members {
                    if dropped.contains(&m.id) {
                        m.wait_exempt = true;
                    }
                }
                tracing::debug!(room = %self.code, dropped = dropped.len(), "wait cap reached");
                self.resume_after_wait();
            }
        } else if self.settings.wait_for_all && self.state.playing {
            let grace = self.params.buffering_grace;
            let runs_from = self.runs_from;
            let slow: Vec<String> = self
                .members
                .iter()
                .filter(|m| {
                    m.conn.is_some()
                        && !m.wait_exempt
                        && m.buffering_since
                            .is_some_and(|t| t.max(runs_from) + grace <= now)
                })
                .map(|m| m.id.clone())
                .collect();
            if !slow.is_empty() {
                let t = now_ms();
                let mut waiting_for: Vec<String> = self
                    .members
                    .iter()
                    .filter(|m| m.conn.is_some() && !m.wait_exempt && m.status.buffering)
                    .map(|m| m.id.clone())
                    .collect();
                waiting_for.sort();
                self.state = PlaybackState {
                    media: self.state.media.clone(),
                    playing: false,
                    position: self.state.position_at(t),
                    rate: self.state.rate,
                    at: t,
                    seq: self.state.seq + 1,
                    reason: Reason::Waiting,
                    by: None,
                    waiting_for: Some(waiting_for.clone()),
                };
                self.waiting = Some(Waiting {
                    members: waiting_for,
                    deadline: now + self.params.wait_cap,
                });
                self.broadcast_state(None);
            }
        }
        // The members throttle.
        if self
            .members_gap()
            .is_some_and(|gap| self.last_members_sent.is_none_or(|t| t + gap <= now))
        {
            self.send_members_now();
        }
    }
}

#[cfg(test)]
mod tests {
    //! The room task alone, with paused tokio time and the real default timings.

    use super::*;
    use crate::config::Config;

    struct Peer {
        id: String,
        conn: ConnHandle,
        rx: mpsc::Receiver<Outbound>,
    }

    impl Peer {
        /// The next state message queued for this peer, skipping others.
        async fn next_state(&mut self) -> Value {
            loop {
                match self.rx.recv().await.expect("queue open") {
                    Outbound::Frame {
                        text,
                        kind: "state",
                        ..
                    } => return serde_json::from_str(&text).unwrap(),
                    _ => continue,
                }
            }
        }
        fn no_state_queued(&mut self) -> bool {
            while let Ok(o) = self.rx.try_recv() {
                if let Outbound::Frame { kind: "state", .. } = o {
                    return false;
                }
            }
            true
        }
    }

    async fn room_with(n: usize) -> (mpsc::Sender<Cmd>, Vec<Peer>, watch::Sender<bool>) {
        let cfg = Config::for_tests();
        let (tx, rx) = mpsc::channel(64);
        let (sd_tx, sd_rx) = watch::channel(false);
        let setup = RoomSetup {
            code: "ACDEFG".into(),
            params: crate::server::room_params(&cfg),
            settings: Settings::default(),
            media: None,
            metrics: Arc::new(Metrics::default()),
            shutdown: sd_rx,
        };
        tokio::spawn(run_room(setup, rx, Box::new(|| {})));
        let mut peers = Vec::new();
        for i in 0..n {
            let (conn, rx, _kill) = ConnHandle::new(i as u64, 1024);
            let (reply, r) = oneshot::channel();
            let identity = Identity {
                user_id: format!("u{i}"),
                name: format!("n{i}"),
                anonymous: false,
            };
            tx.send(Cmd::Join {
                identity,
                conn: conn.clone(),
                req_id: None,
                reply,
            })
            .await
            .unwrap();
            let id = r.await.unwrap().unwrap();
            peers.push(Peer { id, conn, rx });
        }
        (tx, peers, sd_tx)
    }

    async fn op(tx: &mpsc::Sender<Cmd>, p: &Peer, op: Op) -> Result<Done, Failure> {
        let (reply, r) = oneshot::channel();
        let who = Who::Conn {
            member_id: p.id.clone(),
            conn_id: p.conn.conn_id,
        };
        tx.send(Cmd::Op {
            who,
            req_id: None,
            op,
            reply: Some(reply),
        })
        .await
        .unwrap();
        r.await.unwrap()
    }

    fn buffering(b: bool) -> Op {
        Op::Status(StatusReport {
            buffering: b,
            playing: true,
            rtt_ms: 20.0,
            ..Default::default()
        })
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_uses_the_400ms_rule_and_the_30s_cap() {
        let (tx, mut peers, _sd) = room_with(2).await;
        op(
            &tx,
            &peers[0],
            Op::Intent(Intent::Play {
                position: 0.0,
                rate: None,
            }),
        )
        .await
        .unwrap();
        assert_eq!(peers[0].next_state().await["reason"], "play");
        // Past the scheduled start (80 ms lead), then member 1 stalls.
        tokio::time::sleep(Duration::from_millis(100)).await;
        op(&tx, &peers[1], buffering(true)).await.unwrap();
        // 399 ms of buffering is tolerated.
        tokio::time::sleep(Duration::from_millis(399)).await;
        assert!(peers[0].no_state_queued());
        tokio::time::sleep(Duration::from_millis(2)).await;
        let w = peers[0].next_state().await;
        assert_eq!(w["reason"], "waiting");
        assert_eq!(w["waiting_for"], serde_json::json!([peers[1].id]));
        // 29.9 s later, still waiting.
        tokio::time::sleep(Duration::from_millis(29_900)).await;
        assert!(peers[0].no_state_queued());
        // At 30 s the slow member is dropped from the wait and everyone starts.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let r = peers[0].next_state().await;
        assert_eq!(r["reason"], "resume");
        assert_eq!(r["playing"], true);
        assert_eq!(r["seq"], w["seq"].as_u64().unwrap() + 1);
        // Still buffering, but already dropped from a wait: no new wait.
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(peers[0].no_state_queued());
        // Recovered then stuck again: it is waited for again.
        op(&tx, &peers[1], buffering(false)).await.unwrap();
        op(&tx, &peers[1], buffering(true)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(401)).await;
        assert_eq!(peers[0].next_state().await["reason"], "waiting");
    }

    async fn play(tx: &mpsc::Sender<Cmd>, p: &Peer) {
        op(
            tx,
            p,
            Op::Intent(Intent::Play {
                position: 0.0,
                rate: None,
            }),
        )
        .await
        .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_disconnect_after_a_resume_does_not_end_the_wait() {
        let (tx, mut peers, _sd) = room_with(2).await;
        play(&tx, &peers[0]).await;
        assert_eq!(peers[0].next_state().await["reason"], "play");
        op(&tx, &peers[1], buffering(true)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(peers[0].next_state().await["reason"], "waiting");
        // Member 1 reconnects: the resume takes the seat over to a new connection, then the old
        // connection's end is reported (the order the server produces).
        let old_conn = peers[1].conn.conn_id;
        let (conn, _rx, _kill) = ConnHandle::new(99, 1024);
        let (reply, r) = oneshot::channel();
        tx.send(Cmd::Resume {
            member_id: peers[1].id.clone(),
            conn,
            reply,
        })
        .await
        .unwrap();
        r.await.unwrap().unwrap();
        tx.send(Cmd::Disconnected {
            member_id: peers[1].id.clone(),
            conn_id: old_conn,
        })
        .await
        .unwrap();
        // Still buffering on its new connection: the room keeps waiting for it.
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(
            peers[0].no_state_queued(),
            "a stale disconnect ended the wait"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn buffering_that_began_during_a_wait_gets_its_grace_after_the_resume() {
        let (tx, mut peers, _sd) = room_with(3).await;
        play(&tx, &peers[0]).await;
        assert_eq!(peers[0].next_state().await["reason"], "play");
        op(&tx, &peers[1], buffering(true)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(peers[0].next_state().await["reason"], "waiting");
        // While the room is paused for member 1, member 2 starts buffering too.
        op(&tx, &peers[2], buffering(true)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        op(&tx, &peers[1], buffering(false)).await.unwrap();
        assert_eq!(peers[0].next_state().await["reason"], "resume");
        // Member 2 gets the full 400 ms from the new start (80 ms lead), as after a `play`.
        tokio::time::sleep(Duration::from_millis(470)).await;
        assert!(
            peers[0].no_state_queued(),
            "buffering while paused started a wait without grace"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        let w = peers[0].next_state().await;
        assert_eq!(w["reason"], "waiting");
        assert_eq!(w["waiting_for"], serde_json::json!([peers[2].id]));
    }

    #[tokio::test(start_paused = true)]
    async fn buffering_within_a_seek_lead_does_not_start_a_wait() {
        let (tx, mut peers, _sd) = room_with(2).await;
        // Member 1's player needs 1.5 s to seek (a transcode): seeks get a 1.58 s lead.
        op(
            &tx,
            &peers[1],
            Op::Status(StatusReport {
                playing: false,
                seek_ms: Some(1500.0),
                ..Default::default()
            }),
        )
        .await
        .unwrap();
        play(&tx, &peers[0]).await;
        assert_eq!(peers[0].next_state().await["reason"], "play");
        tokio::time::sleep(Duration::from_millis(100)).await;
        op(&tx, &peers[0], Op::Intent(Intent::Seek { position: 600.0 }))
            .await
            .unwrap();
        assert_eq!(peers[0].next_state().await["reason"], "seek");
        // Member 1 seeks, buffering, exactly what the lead is for.
        op(&tx, &peers[1], buffering(true)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1_900)).await;
        assert!(
            peers[0].no_state_queued(),
            "buffering before the scheduled start paused the room"
        );
        // Still buffering 400 ms after the start: now the room waits.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let w = peers[0].next_state().await;
        assert_eq!(w["reason"], "waiting");
        assert_eq!(w["waiting_for"], serde_json::json!([peers[1].id]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_buffering_report_gets_a_fresh_grace_after_a_resume() {
        let (tx, mut peers, _sd) = room_with(2).await;
        play(&tx, &peers[0]).await;
        assert_eq!(peers[0].next_state().await["reason"], "play");
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Member 1 reports buffering and drops off within the grace period.
        op(&tx, &peers[1], buffering(true)).await.unwrap();
        tx.send(Cmd::Disconnected {
            member_id: peers[1].id.clone(),
            conn_id: peers[1].conn.conn_id,
        })
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(peers[0].no_state_queued(), "nobody waits for a gone member");
        // It comes back: the 3 s old report does not pause the room at once.
        let (conn, _rx, _kill) = ConnHandle::new(77, 1024);
        let (reply, r) = oneshot::channel();
        tx.send(Cmd::Resume {
            member_id: peers[1].id.clone(),
            conn,
            reply,
        })
        .await
        .unwrap();
        r.await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(390)).await;
        assert!(
            peers[0].no_state_queued(),
            "a report from before the reconnect started a wait"
        );
        // Still buffering as far as the room knows, 400 ms later: it waits.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(peers[0].next_state().await["reason"], "waiting");
    }

    #[tokio::test]
    async fn a_panicking_room_still_unregisters_and_settles_the_gauges() {
        let cfg = Config::for_tests();
        let metrics = Arc::new(Metrics::default());
        let (tx, rx) = mpsc::channel(8);
        let (_sd_tx, sd_rx) = watch::channel(false);
        let closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let setup = RoomSetup {
            code: "ACDEFG".into(),
            params: crate::server::room_params(&cfg),
            settings: Settings::default(),
            media: None,
            metrics: metrics.clone(),
            shutdown: sd_rx,
        };
        let flag = closed.clone();
        let task = tokio::spawn(run_room(
            setup,
            rx,
            Box::new(move || flag.store(true, Ordering::SeqCst)),
        ));
        let (conn, _out, _kill) = ConnHandle::new(1, 16);
        let (reply, r) = oneshot::channel();
        let identity = Identity {
            user_id: "u".into(),
            name: "n".into(),
            anonymous: false,
        };
        tx.send(Cmd::Join {
            identity,
            conn,
            req_id: None,
            reply,
        })
        .await
        .unwrap();
        r.await.unwrap().unwrap();
        assert_eq!(metrics.rooms.load(Ordering::SeqCst), 1);
        tx.send(Cmd::Panic).await.unwrap();
        assert!(task.await.unwrap_err().is_panic());
        assert!(
            closed.load(Ordering::SeqCst),
            "the registry entry of a panicked room was left behind"
        );
        assert_eq!(metrics.rooms.load(Ordering::SeqCst), 0);
        assert_eq!(metrics.members.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn rates_outside_a_quarter_to_four_are_refused() {
        let (tx, mut peers, _sd) = room_with(1).await;
        for bad in [0.0, 0.2, 4.5, 100.0, -1.0] {
            let r = op(
                &tx,
                &peers[0],
                Op::Intent(Intent::Play {
                    position: 1.0,
                    rate: Some(bad),
                }),
            )
            .await;
            assert_eq!(r.unwrap_err().code, ErrorCode::BadRequest, "rate {bad}");
        }
        assert!(
            peers[0].no_state_queued(),
            "a refused play changed the state"
        );
        for good in [0.25, 2.0, 4.0] {
            op(
                &tx,
                &peers[0],
                Op::Intent(Intent::Play {
                    position: 1.0,
                    rate: Some(good),
                }),
            )
            .await
            .unwrap();
            assert_eq!(peers[0].next_state().await["rate"], good);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn seats_expire_after_the_resume_window_and_the_host_moves() {
        let (tx, mut peers, _sd) = room_with(3).await;
        let host = peers[0].id.clone();
        tx.send(Cmd::Disconnected {
            member_id: host.clone(),
            conn_id: peers[0].conn.conn_id,
        })
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(29_000)).await;
        let (reply, r) = oneshot::channel();
        tx.send(Cmd::Snapshot {
            who: Who::Seat(peers[1].id.clone()),
            reply,
        })
        .await
        .unwrap();
        let snap = r.await.unwrap().unwrap();
        assert_eq!(snap.host, host, "the seat is kept within the window");
        assert!(!snap.members[0].connected);
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let (reply, r) = oneshot::channel();
        tx.send(Cmd::Snapshot {
            who: Who::Seat(peers[1].id.clone()),
            reply,
        })
        .await
        .unwrap();
        let snap = r.await.unwrap().unwrap();
        assert_eq!(snap.members.len(), 2);
        assert_eq!(
            snap.host, peers[1].id,
            "the longest-present connected member is host"
        );
        // The last two leave: the room closes and refuses further commands.
        op(&tx, &peers[1], Op::Leave).await.unwrap();
        op(&tx, &peers[2], Op::Leave).await.unwrap();
        let _ = peers.pop();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(tx.is_closed(), "an empty room's task has ended");
    }
}
