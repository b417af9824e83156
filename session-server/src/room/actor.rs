//! The room actor: one task owns one room's state and is the only thing that changes it.
//!
//! Everything arrives as a [`Cmd`] on the room's bounded mailbox and is handled in order;
//! nothing else can touch the state, so there are no locks here. The task never waits on a
//! connection: it reaches members through [`ConnHandle::send`], which never blocks. Timers
//! (seat expiry, the waiting rule, the `members` throttle) are one `sleep_until` on the
//! earliest deadline. The decisions themselves are the pure modules' ([`playback`],
//! [`waiting`](super::waiting), [`members`](super::members), [`seats`](super::seats)); this
//! file turns them into frames and clock readings.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use matinee_auth::Identity;

use crate::clock::now_ms;
use crate::error::Failure;
use crate::metrics::Metrics;
use crate::outbound::{ConnHandle, Outbound, SendOutcome};
use crate::protocol::{
    close, Control, ErrorCode, Intent, LeftReason, Media, PlaybackState, QueueChange, Right,
    ServerMsg, Settings,
};
use crate::shutdown::until_shutdown;

use super::api::{Cmd, Done, Op, Snapshot, StatusReport};
use super::members::{self, Change, Throttle};
use super::params::RoomParams;
use super::playback::{self, Leads};
use super::queue;
use super::ready::{Outcome, ReadyCheck};
use super::record::{push_chat, ChatLine, RecordSink, RoomRecord, SeatRecord};
use super::rights;
use super::seats::{Endpoint, Seat, Seats};
use super::waiting::{self, Verdict, Waiting};

impl Endpoint for ConnHandle {
    fn conn_id(&self) -> u64 {
        self.conn_id
    }
}

/// What a room task starts from.
pub struct RoomSetup {
    /// The room's durable state: a new room's ([`RoomRecord::new`]) or a restored one.
    pub record: RoomRecord,
    /// Limits and timings.
    pub params: RoomParams,
    /// Server metrics.
    pub metrics: Arc<Metrics>,
    /// Server shutdown flag.
    pub shutdown: watch::Receiver<bool>,
    /// Where the record goes when it changes (`None`: rooms live in memory only).
    pub sink: Option<Arc<dyn RecordSink>>,
}

/// The state one room task owns.
pub struct RoomTask {
    code: String,
    params: RoomParams,
    metrics: Arc<Metrics>,
    settings: Settings,
    state: PlaybackState,
    chat: VecDeque<ChatLine>,
    /// In order of arrival: the first connected one is the "longest present".
    seats: Seats<ConnHandle>,
    waiting: Waiting,
    members: Throttle,
    /// The ready check in progress, if any.
    ready: Option<ReadyCheck>,
    /// The items to come, next first (durable).
    queue: Vec<Media>,
    /// After the queue moved the room on: the wait for everyone to hold at 0 on the new item.
    queue_start: Option<queue::Start>,
    /// When the server decides by itself that the current item ended (its known duration,
    /// by the formula, plus a grace), computed once per state (`seq`) from the wall clock
    /// and then kept on the actor's clock.
    end: (u64, Option<Instant>),
}

/// The actor's clock for the pure modules: tokio's, so that tests with paused time drive it.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// A lead in milliseconds (finite, clamped by `LeadRule`) as a `Duration`.
fn ms(lead: f64) -> Duration {
    Duration::from_secs_f64(lead.max(0.0) / 1000.0)
}

async fn sleep_until_opt(d: Option<Instant>) {
    match d {
        Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
        None => std::future::pending().await,
    }
}

fn random_member_id() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("m{:012x}", n & 0xffff_ffff_ffff)
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
        record,
        params,
        metrics,
        mut shutdown,
        sink,
    } = setup;
    let mut room = RoomTask::restore(record, params, metrics, now());
    let mut unregister = Unregister(Some(on_close));
    tracing::debug!(room = %room.code, "room opened");
    // A new room is stored at once (its creator's seat arrives as the first command, which
    // changes the fingerprint); a restored one is already stored as it is.
    let mut stored = room.fingerprint();
    loop {
        let deadline = room.next_deadline(now());
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(cmd) => room.handle(cmd),
                None => break,
            },
            _ = sleep_until_opt(deadline) => {}
            _ = until_shutdown(&mut shutdown) => break,
        }
        room.tick(now());
        if room.seats.is_empty() {
            break;
        }
        if let Some(sink) = &sink {
            let f = room.fingerprint();
            if f != stored {
                stored = f;
                sink.save(&room.record());
            }
        }
    }
    // An empty room has ended for good; any other end (the server stopping) keeps the room
    // for the next start, with its last state.
    if let Some(sink) = &sink {
        if room.seats.is_empty() {
            sink.closed(&room.code);
        } else {
            sink.save(&room.record());
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
            .fetch_sub(self.seats.len() as i64, Ordering::Relaxed);
        self.metrics.rooms.fetch_sub(1, Ordering::Relaxed);
    }
}

impl RoomTask {
    /// The room described by `record`; its seats (if any) wait for a resume from `now`.
    pub fn restore(
        record: RoomRecord,
        params: RoomParams,
        metrics: Arc<Metrics>,
        now: Instant,
    ) -> Self {
        let RoomRecord {
            code,
            settings,
            host,
            state,
            seats: records,
            chat,
            queue,
        } = record;
        let mut seats = Seats::new(host);
        for r in records {
            seats.restore(Seat::restored(r, now));
        }
        metrics.rooms.fetch_add(1, Ordering::Relaxed);
        metrics
            .members
            .fetch_add(seats.len() as i64, Ordering::Relaxed);
        let mut task = RoomTask {
            code,
            waiting: Waiting::new(params.buffering_grace, params.wait_cap, now),
            members: Throttle::new(params.members_interval, params.members_refresh),
            params,
            metrics,
            settings,
            state,
            chat,
            seats,
            ready: None,
            queue,
            queue_start: None,
            end: (0, None),
        };
        task.refresh_end(now);
        task
    }

    /// The room's durable state now.
    pub fn record(&self) -> RoomRecord {
        RoomRecord {
            code: self.code.clone(),
            settings: self.settings,
            host: self.seats.host().to_owned(),
            state: self.state.clone(),
            seats: self.seats.records(),
            chat: self.chat.clone(),
            queue: self.queue.clone(),
        }
    }

    /// Changes whenever the record would (a state change bumps `seq`; seats, host, settings
    /// and chat are hashed), without building the record: it is taken after every command,
    /// `status` reports included, and only a change costs a record.
    fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.state.seq.hash(&mut h);
        self.seats.host().hash(&mut h);
        (
            self.settings.control == Control::Shared,
            self.settings.wait_for_all,
        )
            .hash(&mut h);
        for s in self.seats.iter() {
            s.id().hash(&mut h);
            s.record.rights.hash(&mut h);
        }
        for m in &self.queue {
            m.id.hash(&mut h);
        }
        self.chat.len().hash(&mut h);
        if let Some(last) = self.chat.back() {
            last.at.to_bits().hash(&mut h);
            last.text.hash(&mut h);
        }
        h.finish()
    }

    fn refuse(&mut self, cmd: Cmd) {
        let gone = || Failure::new(ErrorCode::RoomNotFound, "the room has closed");
        match cmd {
            Cmd::Join { reply, .. } => drop(reply.send(Err(gone()))),
            Cmd::Resume { reply, .. } => drop(reply.send(Err(gone()))),
            Cmd::Op {
                reply: Some(reply), ..
            } => drop(reply.send(Err(gone()))),
            Cmd::Snapshot { reply, .. } => drop(reply.send(Err(gone()))),
            // The room ended; what it was is still worth keeping.
            Cmd::Record { reply } => drop(reply.send(Ok(self.record()))),
            Cmd::Op { reply: None, .. } | Cmd::Disconnected { .. } => {}
            #[cfg(test)]
            Cmd::Panic => {}
        }
    }

    fn handle(&mut self, cmd: Cmd) {
        let now = now();
        match cmd {
            Cmd::Join {
                identity,
                secret,
                conn,
                req_id,
                reply,
            } => {
                let r = self.join(identity, secret, conn, req_id);
                let _ = reply.send(r);
            }
            Cmd::Resume {
                member_id,
                conn,
                reply,
            } => {
                let r = self.resume(&member_id, conn, now);
                let _ = reply.send(r);
            }
            Cmd::Disconnected { member_id, conn_id } => self.disconnected(&member_id, conn_id, now),
            Cmd::Op {
                who,
                req_id,
                op,
                reply,
            } => {
                let r = self
                    .seats
                    .resolve(&who)
                    .and_then(|idx| self.op(idx, req_id, op, now));
                if let Some(reply) = reply {
                    let _ = reply.send(r);
                }
            }
            Cmd::Snapshot { who, reply } => {
                let r = self.seats.resolve(&who).map(|_| self.snapshot());
                let _ = reply.send(r);
            }
            Cmd::Record { reply } => drop(reply.send(Ok(self.record()))),
            #[cfg(test)]
            Cmd::Panic => panic!("fault injected by a test"),
        }
    }

    fn join(
        &mut self,
        identity: Identity,
        secret: Option<String>,
        conn: ConnHandle,
        req_id: Option<Value>,
    ) -> Result<String, Failure> {
        if self.seats.len() >= self.params.max_members {
            return Err(Failure::new(
                ErrorCode::RoomFull,
                format!(
                    "the room has its maximum of {} members",
                    self.params.max_members
                ),
            ));
        }
        let id = self.seats.fresh_id(random_member_id);
        let record = SeatRecord {
            member_id: id.clone(),
            user_id: identity.user_id,
            name: identity.name,
            anonymous: identity.anonymous,
            // The secret's hash, as the registry hands it over (see `SeatRecord::resume`).
            resume: secret,
            rights: Default::default(),
        };
        let idx = self.seats.add(Seat::new(record, conn));
        self.metrics.members.fetch_add(1, Ordering::Relaxed);
        self.send_room_snapshot(idx, req_id);
        self.members.note(Change::Visible);
        Ok(id)
    }

    fn resume(&mut self, member_id: &str, conn: ConnHandle, now: Instant) -> Result<(), Failure> {
        let Some(idx) = self.seats.position(member_id) else {
            return Err(Failure::new(ErrorCode::RoomNotFound, "the seat is gone"));
        };
        let s = self.seats.get_mut(idx);
        // A connection that still holds the seat has been replaced by a newer one.
        if let Some(old) = s.conn.replace(conn) {
            old.kill(close::NORMAL);
        }
        s.disconnected_at = None;
        // Its last buffering report predates the reconnect: the waiting rule's grace starts
        // afresh, as for any new start, until the new connection reports.
        s.stall.regrace(now);
        self.send_room_snapshot(idx, None);
        self.members.note(Change::Visible);
        Ok(())
    }

    fn disconnected(&mut self, member_id: &str, conn_id: u64, now: Instant) {
        let Some(idx) = self.seats.held_by(member_id, conn_id) else {
            // A stale notice from a connection that a resume already replaced: the seat is
            // held by the newer connection and stays in any wait it is part of.
            return;
        };
        self.seats.get_mut(idx).detach(now);
        self.members.note(Change::Visible);
        // A member that is gone cannot be waited for.
        self.unwait(member_id, now);
    }

    fn snapshot(&self) -> Snapshot {
        let t = now_ms();
        Snapshot {
            code: self.code.clone(),
            host: self.seats.host().to_owned(),
            settings: self.settings,
            state: self.state.clone(),
            members: self.infos(),
            queue: self.queue.clone(),
            server_time: t,
            position_now: self.state.position_at(t),
        }
    }

    /// Every seat's `members` entry, with its answer to the ready check in progress.
    fn infos(&self) -> Vec<crate::protocol::MemberInfo> {
        let mut list = self.seats.infos();
        if let Some(c) = &self.ready {
            for m in &mut list {
                m.ready = c.answer_of(&m.id);
            }
        }
        list
    }

    fn send_room_snapshot(&mut self, idx: usize, req_id: Option<Value>) {
        let msg = ServerMsg::Room {
            code: self.code.clone(),
            you: self.seats.get(idx).id().to_owned(),
            host: self.seats.host().to_owned(),
            settings: self.settings,
            state: self.state.clone(),
            members: self.infos(),
            server_time: now_ms(),
            queue: self.queue.clone(),
        };
        let text = Utf8Bytes::from(msg.to_text(req_id.as_ref()));
        self.send_to(idx, text, "room", tokio::time::Instant::now());
    }

    /// Queue a frame for one member; a full queue or a dead connection frees the connection
    /// slot (the seat stays for resume), so the room never waits and never retries.
    fn send_to(
        &mut self,
        idx: usize,
        text: Utf8Bytes,
        kind: &'static str,
        decided: tokio::time::Instant,
    ) {
        let Some(conn) = &self.seats.get(idx).conn else {
            return;
        };
        match conn.send(Outbound::Frame {
            text,
            kind,
            decided,
        }) {
            SendOutcome::Queued => {}
            SendOutcome::TooSlow | SendOutcome::Gone => {
                let now = now();
                let s = self.seats.get_mut(idx);
                tracing::debug!(room = %self.code, member = %s.id(), "member connection dropped by the room (slow or gone)");
                s.detach(now);
                let id = s.id().to_owned();
                self.members.note(Change::Visible);
                self.unwait(&id, now);
            }
        }
    }

    /// Send to every connected member; `actor` (with `req_id`) gets a copy echoing the id.
    fn broadcast(&mut self, msg: &ServerMsg, actor: Option<(usize, Option<Value>)>) {
        let decided = tokio::time::Instant::now();
        let text = Utf8Bytes::from(msg.to_text(None));
        let kind = msg.kind();
        for idx in 0..self.seats.len() {
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

    fn leads(&self) -> Leads {
        Leads::from_rule(
            &self.params.lead,
            self.seats.max_one_way_ms(),
            self.seats.max_seek_ms(),
        )
    }

    /// Every member still buffering gets a fresh grace period from a new start.
    fn regrace_all(&mut self, now: Instant) {
        for s in self.seats.iter_mut() {
            s.stall.regrace(now);
        }
    }

    fn op(
        &mut self,
        idx: usize,
        req_id: Option<Value>,
        op: Op,
        now: Instant,
    ) -> Result<Done, Failure> {
        let is_host = self.seats.is_host(idx);
        match op {
            Op::Leave => {
                let s = self.remove_member(idx, now);
                if let Some(conn) = &s.conn {
                    let msg = ServerMsg::Left {
                        reason: LeftReason::Left,
                    };
                    conn.send(Outbound::Left {
                        code: self.code.clone(),
                        member_id: s.id().to_owned(),
                        reason: LeftReason::Left,
                        text: msg.to_text(req_id.as_ref()).into(),
                    });
                }
                Ok(Done::Ok)
            }
            Op::Intent(intent) => {
                self.check_right(idx, rights::needed(&intent))?;
                let outcome = match intent {
                    Intent::Play { .. } => Outcome::Started,
                    _ => Outcome::Cancelled,
                };
                let switched_to = match &intent {
                    Intent::SetMedia { media, .. } => Some(media.id.clone()),
                    _ => None,
                };
                self.apply_intent(idx, intent, now)?;
                self.broadcast_state(Some((idx, req_id)));
                self.end_ready_check(outcome);
                // A member started a queued item itself (jellyfin-web's own "next episode",
                // say): it plays now, so it leaves the queue.
                if let Some(at) =
                    switched_to.and_then(|id| self.queue.iter().position(|m| m.id == id))
                {
                    self.queue.remove(at);
                    let by = Some(self.seats.get(idx).id().to_owned());
                    self.broadcast_queue(QueueChange::Next, by, None);
                }
                Ok(Done::State(self.state.clone()))
            }
            Op::Status(s) => {
                self.status(idx, s, now);
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
                let s = self.seats.get(idx);
                let line = ChatLine {
                    from: s.id().to_owned(),
                    name: s.record.name.clone(),
                    text,
                    at: now_ms(),
                };
                let msg = ServerMsg::Chat {
                    from: line.from.clone(),
                    name: line.name.clone(),
                    text: line.text.clone(),
                    at: line.at,
                };
                push_chat(&mut self.chat, line);
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
                    from: self.seats.get(idx).id().to_owned(),
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
                self.seats.transfer_host(&target)?;
                self.members.note(Change::Visible); // announced within the members throttle
                Ok(Done::Ok)
            }
            Op::Kick(target) => {
                if !is_host {
                    return Err(Failure::new(ErrorCode::Forbidden, "only the host can kick"));
                }
                if target == self.seats.host() {
                    return Err(Failure::new(
                        ErrorCode::BadRequest,
                        "the host cannot kick itself; use leave_room",
                    ));
                }
                let Some(t) = self.seats.position(&target) else {
                    return Err(Failure::new(ErrorCode::BadRequest, "no such member"));
                };
                let s = self.remove_member(t, now);
                if let Some(conn) = &s.conn {
                    let msg = ServerMsg::Left {
                        reason: LeftReason::Kicked,
                    };
                    conn.send(Outbound::Left {
                        code: self.code.clone(),
                        member_id: s.id().to_owned(),
                        reason: LeftReason::Kicked,
                        text: msg.to_text(None).into(),
                    });
                }
                Ok(Done::Ok)
            }
            Op::ReadyCheck(start) => {
                self.check_right(idx, Right::Playback)?;
                if self.state.playing {
                    return Err(Failure::new(
                        ErrorCode::BadRequest,
                        "the room is playing; a ready check is for a paused room",
                    ));
                }
                self.end_ready_check(Outcome::Cancelled);
                let by = self.seats.get(idx).id().to_owned();
                let check = ReadyCheck::new(&by, start, now, now_ms());
                let msg = ServerMsg::ReadyCheck {
                    by,
                    until: check.until_ms,
                    start,
                };
                self.ready = Some(check);
                self.broadcast(&msg, Some((idx, req_id)));
                self.members.note(Change::Visible);
                Ok(Done::Ok)
            }
            Op::Ready(ready) => {
                let Some(check) = &mut self.ready else {
                    return Err(Failure::new(
                        ErrorCode::BadRequest,
                        "no ready check in progress",
                    ));
                };
                let id = self.seats.get(idx).id().to_owned();
                if check.answer_of(&id) != Some(ready) {
                    check.answer(&id, ready);
                    self.members.note(Change::Visible);
                }
                Ok(Done::Ok)
            }
            Op::Queue(edit) => {
                self.check_right(idx, Right::Media)?;
                let change = edit.change();
                if queue::apply(&mut self.queue, edit, self.params.max_queue)? {
                    let by = Some(self.seats.get(idx).id().to_owned());
                    self.broadcast_queue(change, by, Some((idx, req_id)));
                }
                Ok(Done::Ok)
            }
            Op::Ended(media_id) => {
                self.check_right(idx, Right::Playback)?;
                if queue::check_ended(&self.state, &media_id, now_ms())? {
                    self.next_in_queue(now);
                }
                Ok(Done::Ok)
            }
            Op::SetRights {
                member_id,
                rights: list,
            } => {
                if !is_host {
                    return Err(Failure::new(
                        ErrorCode::Forbidden,
                        "only the host can grant or take back rights",
                    ));
                }
                let granted = rights::parse_grant(&list)?;
                let Some(t) = self.seats.position(&member_id) else {
                    return Err(Failure::new(ErrorCode::BadRequest, "no such member"));
                };
                if t == idx {
                    return Err(Failure::new(
                        ErrorCode::BadRequest,
                        "the host has every right already",
                    ));
                }
                let seat = self.seats.get_mut(t);
                if seat.record.rights != granted {
                    seat.record.rights = granted;
                    self.members.note(Change::Visible); // announced within the members throttle
                }
                Ok(Done::Ok)
            }
        }
    }

    /// Whether member `idx` may use `right` (the host, shared control, or a grant), or the
    /// `forbidden` it gets.
    fn check_right(&self, idx: usize, right: Right) -> Result<(), Failure> {
        rights::check(
            self.settings.control,
            self.seats.is_host(idx),
            self.seats.get(idx).record.rights,
            right,
        )
    }

    /// The playback transition of member `idx`'s intent, and what it means for the waiting
    /// rule: a start or a pause ends a wait, a seek goes on waiting from the new position.
    fn apply_intent(&mut self, idx: usize, intent: Intent, now: Instant) -> Result<(), Failure> {
        let leads = self.leads();
        let next = playback::next_state(
            &self.state,
            intent.clone(),
            now_ms(),
            leads,
            self.seats.get(idx).id(),
            self.waiting.members(),
        )?;
        match intent {
            Intent::Play { .. } => {
                self.waiting.clear();
                self.regrace_all(now);
                self.waiting.runs_from(now + ms(leads.start));
            }
            Intent::Seek { .. } if next.playing => self.waiting.runs_from(now + ms(leads.seek)),
            Intent::Seek { .. } => {}
            Intent::Pause { .. } | Intent::SetMedia { .. } => self.waiting.clear(),
        }
        // A member's intent decides over the queue's own start of its next item.
        self.queue_start = None;
        self.state = next;
        Ok(())
    }

    fn broadcast_queue(
        &mut self,
        change: QueueChange,
        by: Option<String>,
        actor: Option<(usize, Option<Value>)>,
    ) {
        let msg = ServerMsg::Queue {
            items: self.queue.clone(),
            change,
            by,
        };
        self.broadcast(&msg, actor);
    }

    /// The current item ended: the first queued item becomes the room's item, paused at 0
    /// (`state{reason:"media", cause:"queue"}`), and starts once everyone holds there. With
    /// nothing queued the room stays as it is.
    fn next_in_queue(&mut self, now: Instant) {
        if self.queue.is_empty() {
            return;
        }
        let media = self.queue.remove(0);
        tracing::debug!(room = %self.code, "the queue moves on");
        self.waiting.clear();
        self.end_ready_check(Outcome::Cancelled);
        self.state = playback::next_item(&self.state, media, now_ms());
        self.broadcast_queue(QueueChange::Next, None, None);
        self.broadcast_state(None);
        self.queue_start = Some(queue::Start::new(now));
    }

    /// Everyone holds at 0 on the queue's new item (or the cap passed): it starts, scheduled
    /// like a `play`.
    fn start_next(&mut self, now: Instant) {
        self.queue_start = None;
        let leads = self.leads();
        self.waiting.clear();
        self.regrace_all(now);
        self.waiting.runs_from(now + ms(leads.start));
        self.state = playback::queue_start(&self.state, now_ms(), leads);
        self.broadcast_state(None);
    }

    /// Recompute when the current item ends by the server's own reckoning, once per state.
    fn refresh_end(&mut self, now: Instant) {
        if self.end.0 != self.state.seq {
            let due = queue::end_in(&self.state, now_ms()).map(|d| now + d);
            self.end = (self.state.seq, due);
        }
    }

    fn status(&mut self, idx: usize, report: StatusReport, now: Instant) {
        let report = report.cleaned();
        let s = self.seats.get_mut(idx);
        let was_buffering = s.buffering();
        self.members
            .note(members::change(s.status.as_ref(), &report));
        let recovered = s.stall.report(was_buffering, report.buffering, now);
        if let Some(start) = &mut self.queue_start {
            start.report(s.id(), report.position, report.buffering);
        }
        s.status = Some(report);
        if recovered {
            let id = s.id().to_owned();
            self.unwait(&id, now);
        }
    }

    /// Remove a member from the current wait; resume when nobody is left to wait for.
    fn unwait(&mut self, member_id: &str, now: Instant) {
        if self.waiting.unwait(member_id) {
            self.resume_after_wait(now);
        }
    }

    fn resume_after_wait(&mut self, now: Instant) {
        self.waiting.clear();
        self.regrace_all(now);
        let leads = self.leads();
        self.waiting.runs_from(now + ms(leads.start));
        self.state = playback::resume(&self.state, now_ms(), leads);
        self.broadcast_state(None);
    }

    fn remove_member(&mut self, idx: usize, now: Instant) -> Seat<ConnHandle> {
        let host = self.seats.host().to_owned();
        let s = self.seats.remove(idx);
        if let Some(c) = &mut self.ready {
            c.forget(s.id());
        }
        self.metrics.members.fetch_sub(1, Ordering::Relaxed);
        if self.seats.host() != host {
            tracing::debug!(room = %self.code, "host migrated");
        }
        self.members.note(Change::Visible);
        self.unwait(s.id(), now);
        s
    }

    /// End the ready check in progress (if any) with `outcome`, announced to everyone;
    /// returns it.
    fn end_ready_check(&mut self, outcome: Outcome) -> Option<ReadyCheck> {
        let check = self.ready.take()?;
        let summary = check.result(outcome, self.seats.iter().map(Seat::id));
        let msg = ServerMsg::ReadyResult {
            by: check.by.clone(),
            result: summary.result,
            ready: summary.ready,
            not_ready: summary.not_ready,
            no_answer: summary.no_answer,
        };
        self.broadcast(&msg, None);
        self.members.note(Change::Visible);
        Some(check)
    }

    /// A check asked with `start` ended by itself: playback starts for everyone from where
    /// the room is, scheduled like any `play`, by whoever asked (or the host, if they left).
    fn start_after_ready_check(&mut self, by: &str, now: Instant) {
        let idx = self
            .seats
            .position(by)
            .or_else(|| self.seats.position(self.seats.host()));
        let Some(idx) = idx else { return };
        let play = Intent::Play {
            position: self.state.position,
            rate: None,
        };
        if self.apply_intent(idx, play, now).is_ok() {
            self.broadcast_state(None);
        }
    }

    fn send_members_now(&mut self, now: Instant) {
        self.members.sent(now);
        let msg = ServerMsg::Members {
            host: self.seats.host().to_owned(),
            list: self.infos(),
        };
        self.broadcast(&msg, None);
    }

    fn wait_active(&self) -> bool {
        self.settings.wait_for_all && self.state.playing
    }

    fn next_deadline(&self, now: Instant) -> Option<Instant> {
        let candidates = self.seats.iter().map(Seat::candidate);
        [
            self.seats.next_expiry(self.params.resume_window),
            self.seats.host_handover_at(self.params.host_grace),
            self.waiting.deadline(self.wait_active(), candidates),
            self.members.deadline(now),
            self.ready.as_ref().map(|c| c.deadline),
            self.queue_start.as_ref().map(|s| s.deadline),
            self.end.1.filter(|_| !self.queue.is_empty()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn tick(&mut self, now: Instant) {
        // Seats whose resume window has passed are freed.
        while let Some(idx) = self.seats.expired(self.params.resume_window, now) {
            self.remove_member(idx, now);
        }
        // A host whose connection has not come back within the grace hands the role over
        // (docs/protocol.md, "Host away"); a reload resumes before it.
        if self
            .seats
            .hand_over_if_host_away(self.params.host_grace, now)
        {
            tracing::debug!(room = %self.code, "host away: role handed over");
            self.members.note(Change::Visible);
        }
        // The waiting rule.
        let active = self.wait_active();
        let candidates = self.seats.iter().map(Seat::candidate);
        match self.waiting.check(active, candidates, now) {
            Verdict::Nothing => {}
            Verdict::CapReached(dropped) => {
                for s in self.seats.iter_mut() {
                    if dropped.iter().any(|d| d == s.id()) {
                        waiting::exempt(&mut s.stall);
                    }
                }
                tracing::debug!(room = %self.code, dropped = dropped.len(), "wait cap reached");
                self.resume_after_wait(now);
            }
            Verdict::Wait(waiting_for) => {
                self.state = playback::wait(&self.state, waiting_for, now_ms());
                self.broadcast_state(None);
            }
        }
        // The ready check ends by itself: everyone connected is ready, or the cap.
        let verdict = self.ready.as_ref().and_then(|c| {
            let connected = self.seats.iter().filter(|s| s.conn.is_some()).map(Seat::id);
            c.verdict(connected, now)
        });
        if let Some(outcome) = verdict {
            if let Some(check) = self.end_ready_check(outcome) {
                if check.start && !self.state.playing {
                    self.start_after_ready_check(&check.by, now);
                }
            }
        }
        // The queue: the current item ended by the server's reckoning (no player said so),
        // and the start of the next one once everyone holds at 0.
        self.refresh_end(now);
        if self.end.1.is_some_and(|t| now >= t) && !self.queue.is_empty() {
            self.next_in_queue(now);
            self.refresh_end(now);
        }
        let start_due = self.queue_start.as_ref().is_some_and(|s| {
            let connected = self.seats.iter().filter(|s| s.conn.is_some()).map(Seat::id);
            s.due(connected, now)
        });
        if start_due {
            self.start_next(now);
            self.refresh_end(now);
        }
        // The members throttle.
        if self.members.due(now) {
            self.send_members_now(now);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The room task alone, with paused tokio time and the real default timings.

    use super::*;
    use crate::config::Config;
    use crate::protocol::{Right, Rights};
    use crate::room::{Edit, Who};
    use tokio::sync::oneshot;

    fn setup(cfg: &Config, metrics: Arc<Metrics>, shutdown: watch::Receiver<bool>) -> RoomSetup {
        RoomSetup {
            record: RoomRecord::new("ACDEFG".into(), Settings::default(), None, now_ms()),
            params: RoomParams::from(cfg),
            metrics,
            shutdown,
            sink: None,
        }
    }

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
        /// The next frame of `kind` queued for this peer, skipping others.
        async fn next_of(&mut self, kind: &str) -> Value {
            loop {
                match self.rx.recv().await.expect("queue open") {
                    Outbound::Frame { text, kind: k, .. } if k == kind => {
                        return serde_json::from_str(&text).unwrap()
                    }
                    _ => continue,
                }
            }
        }
        /// Whether no frame of `kind` is queued (the queue is drained).
        fn none_queued(&mut self, kind: &str) -> bool {
            let mut none = true;
            while let Ok(o) = self.rx.try_recv() {
                if matches!(o, Outbound::Frame { kind: k, .. } if k == kind) {
                    none = false;
                }
            }
            none
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
        let setup = setup(&cfg, Arc::new(Metrics::default()), sd_rx);
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
                secret: Some(format!("secret{i}")),
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
        let setup = setup(&cfg, metrics.clone(), sd_rx);
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
            secret: None,
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
    async fn the_host_role_moves_after_the_grace_and_the_seat_after_the_window() {
        let (tx, mut peers, _sd) = room_with(3).await;
        let host = peers[0].id.clone();
        tx.send(Cmd::Disconnected {
            member_id: host.clone(),
            conn_id: peers[0].conn.conn_id,
        })
        .await
        .unwrap();
        let snapshot = |who: String| {
            let tx = tx.clone();
            async move {
                let (reply, r) = oneshot::channel();
                tx.send(Cmd::Snapshot {
                    who: Who::Seat(who),
                    reply,
                })
                .await
                .unwrap();
                r.await.unwrap().unwrap()
            }
        };
        tokio::time::sleep(Duration::from_millis(4_900)).await;
        let snap = snapshot(peers[1].id.clone()).await;
        assert_eq!(snap.host, host, "within the host grace the role waits");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let snap = snapshot(peers[1].id.clone()).await;
        assert_eq!(
            snap.host, peers[1].id,
            "after it: the longest-present connected member"
        );
        tokio::time::sleep(Duration::from_millis(23_900)).await;
        let snap = snapshot(peers[1].id.clone()).await;
        assert_eq!(snap.members.len(), 3, "the seat is kept within the window");
        assert!(!snap.members[0].connected);
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let snap = snapshot(peers[1].id.clone()).await;
        assert_eq!(snap.members.len(), 2);
        assert_eq!(snap.host, peers[1].id);
        // The last two leave: the room closes and refuses further commands.
        op(&tx, &peers[1], Op::Leave).await.unwrap();
        op(&tx, &peers[2], Op::Leave).await.unwrap();
        let _ = peers.pop();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(tx.is_closed(), "an empty room's task has ended");
    }

    fn set_rights(member: &Peer, rights: &[Right]) -> Op {
        Op::SetRights {
            member_id: member.id.clone(),
            rights: rights.to_vec(),
        }
    }

    fn set_media(id: &str) -> Op {
        Op::Intent(Intent::SetMedia {
            media: crate::protocol::Media {
                id: id.into(),
                title: None,
                duration: None,
            },
            position: None,
        })
    }

    async fn record_of(tx: &mpsc::Sender<Cmd>) -> RoomRecord {
        crate::room::Mailbox::new(tx.clone())
            .record()
            .await
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_member_drives_playback_or_the_item_only_with_the_right_granted() {
        let (tx, mut peers, _sd) = room_with(3).await;
        let forbidden = |r: Result<Done, Failure>| r.unwrap_err().code == ErrorCode::Forbidden;
        // Without a grant: refused, nothing changes.
        assert!(forbidden(
            op(&tx, &peers[1], Op::Intent(Intent::Seek { position: 5.0 })).await
        ));
        assert!(forbidden(op(&tx, &peers[1], set_media("other")).await));
        assert!(peers[0].no_state_queued());
        // The host grants member 1 playback: it may play/pause/seek, still not change the item.
        op(&tx, &peers[0], set_rights(&peers[1], &[Right::Playback]))
            .await
            .unwrap();
        play(&tx, &peers[1]).await;
        let s = peers[0].next_state().await;
        assert_eq!(
            (s["reason"].as_str(), s["by"].as_str()),
            (Some("play"), Some(&*peers[1].id))
        );
        op(&tx, &peers[1], Op::Intent(Intent::Pause { position: 3.0 }))
            .await
            .unwrap();
        assert_eq!(peers[0].next_state().await["reason"], "pause");
        assert!(forbidden(op(&tx, &peers[1], set_media("other")).await));
        assert!(
            forbidden(op(&tx, &peers[2], Op::Intent(Intent::Pause { position: 1.0 })).await),
            "a grant to one member is not a grant to another"
        );
        // Media separately; then both taken back.
        op(&tx, &peers[0], set_rights(&peers[1], &[Right::Media]))
            .await
            .unwrap();
        op(&tx, &peers[1], set_media("other")).await.unwrap();
        assert_eq!(peers[0].next_state().await["media"]["id"], "other");
        assert!(
            forbidden(op(&tx, &peers[1], Op::Intent(Intent::Seek { position: 9.0 })).await),
            "the new set replaced the old one"
        );
        op(&tx, &peers[0], set_rights(&peers[1], &[]))
            .await
            .unwrap();
        assert!(forbidden(op(&tx, &peers[1], set_media("third")).await));
        assert!(peers[0].no_state_queued());
        let rec = record_of(&tx).await;
        assert_eq!(rec.seats[1].rights, Rights::default());
    }

    #[tokio::test(start_paused = true)]
    async fn bad_grants_are_refused_and_change_nothing() {
        let (tx, peers, _sd) = room_with(3).await;
        op(&tx, &peers[0], set_rights(&peers[1], &[Right::Playback]))
            .await
            .unwrap();
        let before = record_of(&tx).await;
        let code = |r: Result<Done, Failure>| r.unwrap_err().code;
        // Only the host grants, even a member holding both rights.
        assert_eq!(
            code(op(&tx, &peers[1], set_rights(&peers[2], &[Right::Playback])).await),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(op(&tx, &peers[1], set_rights(&peers[1], &[Right::Media])).await),
            ErrorCode::Forbidden,
            "nobody grants themselves"
        );
        let ghost = Op::SetRights {
            member_id: "m-nobody".into(),
            rights: vec![Right::Playback],
        };
        assert_eq!(code(op(&tx, &peers[0], ghost).await), ErrorCode::BadRequest);
        assert_eq!(
            code(op(&tx, &peers[0], set_rights(&peers[0], &[Right::Playback])).await),
            ErrorCode::BadRequest,
            "the host has every right"
        );
        assert_eq!(
            code(
                op(
                    &tx,
                    &peers[0],
                    set_rights(&peers[2], &[Right::Media, Right::Media])
                )
                .await
            ),
            ErrorCode::BadRequest
        );
        assert_eq!(
            code(op(&tx, &peers[0], set_rights(&peers[2], &[Right::Media; 40])).await),
            ErrorCode::TooLarge
        );
        assert_eq!(
            record_of(&tx).await,
            before,
            "a refused grant changed the room"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn grants_stay_with_their_seats_when_the_host_role_moves() {
        let (tx, mut peers, _sd) = room_with(3).await;
        op(&tx, &peers[0], set_rights(&peers[2], &[Right::Playback]))
            .await
            .unwrap();
        // The host hands the role to member 1, who never had a grant.
        op(&tx, &peers[0], Op::TransferHost(peers[1].id.clone()))
            .await
            .unwrap();
        // The new host may do everything; member 2 keeps its grant; the old host has none.
        op(&tx, &peers[1], set_media("next")).await.unwrap();
        assert_eq!(peers[0].next_state().await["reason"], "media");
        play(&tx, &peers[2]).await;
        assert_eq!(peers[0].next_state().await["by"], peers[2].id.as_str());
        let r = op(&tx, &peers[0], Op::Intent(Intent::Pause { position: 1.0 })).await;
        assert_eq!(r.unwrap_err().code, ErrorCode::Forbidden);
        // Only the new host grants now.
        let r = op(&tx, &peers[0], set_rights(&peers[2], &[])).await;
        assert_eq!(r.unwrap_err().code, ErrorCode::Forbidden);
        op(&tx, &peers[1], set_rights(&peers[0], &[Right::Media]))
            .await
            .unwrap();
        // The host's seat goes for good (leave): migration keeps everyone's grants.
        op(&tx, &peers[1], Op::Leave).await.unwrap();
        let rec = record_of(&tx).await;
        assert_eq!(rec.host, peers[0].id, "the longest-present member");
        let rights: Vec<Rights> = rec.seats.iter().map(|s| s.rights).collect();
        assert_eq!(
            rights,
            [
                Rights {
                    playback: false,
                    media: true
                },
                Rights {
                    playback: true,
                    media: false
                }
            ]
        );
        let _ = peers.remove(1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_ready_check_ends_when_everyone_is_ready_and_then_starts() {
        let (tx, mut peers, _sd) = room_with(3).await;
        op(&tx, &peers[0], Op::ReadyCheck(true)).await.unwrap();
        let asker = peers[0].id.clone();
        for p in peers.iter_mut() {
            let c = p.next_of("ready_check").await;
            assert_eq!(c["by"], asker.as_str());
            assert_eq!(c["start"], true);
        }
        op(&tx, &peers[1], Op::Ready(true)).await.unwrap();
        op(&tx, &peers[2], Op::Ready(false)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        let m = peers[1].next_of("members").await;
        assert_eq!(m["list"][0]["ready"], true, "the asker is ready");
        assert_eq!(m["list"][2]["ready"], false);
        assert!(peers[1].none_queued("ready_result"), "one member said no");
        assert!(peers[1].no_state_queued());
        op(&tx, &peers[2], Op::Ready(true)).await.unwrap();
        let r = peers[1].next_of("ready_result").await;
        assert_eq!(r["result"], "all_ready");
        assert_eq!(r["no_answer"], serde_json::json!([]));
        let s = peers[1].next_state().await;
        assert_eq!(
            (s["reason"].as_str(), s["playing"].as_bool()),
            (Some("play"), Some(true))
        );
        assert_eq!(s["by"], peers[0].id.as_str());
        // Over: answering now is refused, and `members` no longer carries answers.
        let r = op(&tx, &peers[1], Op::Ready(true)).await;
        assert_eq!(r.unwrap_err().code, ErrorCode::BadRequest);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let m = peers[1].next_of("members").await;
        assert!(m["list"][0].get("ready").is_none(), "{m}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_ready_check_never_waits_longer_than_30_s_and_lists_who_did_not_answer() {
        let (tx, mut peers, _sd) = room_with(3).await;
        op(&tx, &peers[0], Op::ReadyCheck(true)).await.unwrap();
        op(&tx, &peers[1], Op::Ready(true)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(29_900)).await;
        assert!(peers[1].none_queued("ready_result"));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let r = peers[1].next_of("ready_result").await;
        assert_eq!(r["result"], "timeout");
        assert_eq!(r["no_answer"], serde_json::json!([peers[2].id]));
        assert_eq!(r["ready"], serde_json::json!([peers[0].id, peers[1].id]));
        let s = peers[2].next_state().await;
        assert_eq!(s["reason"], "play", "the room starts anyway");
        // Without `start`, the host decides: a timeout starts nothing.
        op(&tx, &peers[0], Op::Intent(Intent::Pause { position: 3.0 }))
            .await
            .unwrap();
        assert_eq!(peers[1].next_state().await["reason"], "play");
        assert_eq!(peers[1].next_state().await["reason"], "pause");
        op(&tx, &peers[0], Op::ReadyCheck(false)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(31)).await;
        assert_eq!(peers[1].next_of("ready_result").await["result"], "timeout");
        assert!(peers[1].no_state_queued(), "no start without `start`");
    }

    #[tokio::test(start_paused = true)]
    async fn ready_checks_are_refused_without_the_right_or_while_playing_and_a_play_ends_one() {
        let (tx, mut peers, _sd) = room_with(3).await;
        let code = |r: Result<Done, Failure>| r.unwrap_err().code;
        assert_eq!(
            code(op(&tx, &peers[1], Op::ReadyCheck(true)).await),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(op(&tx, &peers[1], Op::Ready(true)).await),
            ErrorCode::BadRequest
        );
        assert!(
            peers[2].none_queued("ready_check"),
            "a refused check announced nothing"
        );
        // The playback right is enough to ask.
        op(&tx, &peers[0], set_rights(&peers[1], &[Right::Playback]))
            .await
            .unwrap();
        op(&tx, &peers[1], Op::ReadyCheck(false)).await.unwrap();
        assert_eq!(
            peers[2].next_of("ready_check").await["by"],
            peers[1].id.as_str()
        );
        // The host starts anyway: the check ends as `started`.
        play(&tx, &peers[0]).await;
        let r = peers[2].next_of("ready_result").await;
        assert_eq!(r["result"], "started");
        assert_eq!(
            r["no_answer"],
            serde_json::json!([peers[0].id, peers[2].id])
        );
        assert_eq!(
            code(op(&tx, &peers[0], Op::ReadyCheck(true)).await),
            ErrorCode::BadRequest,
            "not while playing"
        );
        assert!(peers[2].none_queued("ready_check"));
    }

    fn queued(id: &str, duration: Option<f64>) -> Media {
        Media {
            id: id.into(),
            title: Some(format!("Title {id}")),
            duration,
        }
    }

    fn queue_add(id: &str) -> Op {
        Op::Queue(Edit::Add {
            media: queued(id, Some(60.0)),
            index: None,
        })
    }

    fn at_start(position: f64, buffering: bool) -> Op {
        Op::Status(StatusReport {
            position,
            buffering,
            playing: false,
            rtt_ms: 20.0,
            ..Default::default()
        })
    }

    /// Member 0 (the host) sets a 100 s film and plays it.
    async fn playing_film(tx: &mpsc::Sender<Cmd>, peers: &mut [Peer], duration: f64) {
        let film = Op::Intent(Intent::SetMedia {
            media: queued("film", Some(duration)),
            position: None,
        });
        op(tx, &peers[0], film).await.unwrap();
        play(tx, &peers[0]).await;
        for p in peers.iter_mut() {
            assert_eq!(p.next_state().await["reason"], "media");
            assert_eq!(p.next_state().await["reason"], "play");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_queue_is_changed_by_whoever_may_change_the_item_and_bad_edits_change_nothing() {
        let (tx, mut peers, _sd) = room_with(3).await;
        let code = |r: Result<Done, Failure>| r.unwrap_err().code;
        assert_eq!(
            code(op(&tx, &peers[1], queue_add("a")).await),
            ErrorCode::Forbidden
        );
        assert!(
            peers[2].none_queued("queue"),
            "a refused edit announced nothing"
        );
        op(&tx, &peers[0], queue_add("a")).await.unwrap();
        let q = peers[2].next_of("queue").await;
        assert_eq!(
            (
                q["change"].as_str(),
                q["by"].as_str(),
                q["items"][0]["id"].as_str()
            ),
            (Some("add"), Some(&*peers[0].id), Some("a"))
        );
        // The playback right is not enough; the media right is.
        op(&tx, &peers[0], set_rights(&peers[1], &[Right::Playback]))
            .await
            .unwrap();
        assert_eq!(
            code(op(&tx, &peers[1], queue_add("b")).await),
            ErrorCode::Forbidden
        );
        op(&tx, &peers[0], set_rights(&peers[1], &[Right::Media]))
            .await
            .unwrap();
        op(&tx, &peers[1], queue_add("b")).await.unwrap();
        let mv = Op::Queue(Edit::Move {
            media_id: "b".into(),
            index: 0,
        });
        op(&tx, &peers[1], mv).await.unwrap();
        let q = peers[2].next_of("queue").await;
        assert_eq!(q["change"], "add");
        let q = peers[2].next_of("queue").await;
        assert_eq!(q["change"], "move");
        assert_eq!(q["items"][0]["id"], "b");
        assert_eq!(q["items"][1]["id"], "a");
        let before = record_of(&tx).await;
        assert_eq!(before.queue.len(), 2, "the queue is part of the record");
        // Refused, with nothing changed: a duplicate, a bad index, an unknown id, a full queue.
        assert_eq!(
            code(op(&tx, &peers[0], queue_add("a")).await),
            ErrorCode::BadRequest
        );
        let far = Op::Queue(Edit::Add {
            media: queued("c", None),
            index: Some(5),
        });
        assert_eq!(code(op(&tx, &peers[0], far).await), ErrorCode::BadRequest);
        let ghost = Op::Queue(Edit::Remove("zz".into()));
        assert_eq!(code(op(&tx, &peers[0], ghost).await), ErrorCode::BadRequest);
        assert_eq!(record_of(&tx).await, before);
        for i in 2..Config::for_tests().limits.max_queue {
            op(&tx, &peers[0], queue_add(&format!("i{i}")))
                .await
                .unwrap();
        }
        assert_eq!(
            code(op(&tx, &peers[0], queue_add("one-too-many")).await),
            ErrorCode::TooLarge
        );
        let full = record_of(&tx).await;
        assert_eq!(full.queue.len(), Config::for_tests().limits.max_queue);
        op(&tx, &peers[0], Op::Queue(Edit::Clear)).await.unwrap();
        assert!(record_of(&tx).await.queue.is_empty());
        // Clearing an empty queue changes nothing and announces nothing.
        let _ = peers[2].none_queued("queue"); // drain what came before
        op(&tx, &peers[0], Op::Queue(Edit::Clear)).await.unwrap();
        assert!(peers[2].none_queued("queue"));
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_end_the_room_moves_on_and_starts_at_0_once_everyone_holds_there() {
        let (tx, mut peers, _sd) = room_with(2).await;
        op(&tx, &peers[0], queue_add("ep2")).await.unwrap();
        op(&tx, &peers[0], queue_add("ep3")).await.unwrap();
        playing_film(&tx, &mut peers, 100.0).await;
        let code = |r: Result<Done, Failure>| r.unwrap_err().code;
        // Not near the end: refused; a guest without the right: forbidden.
        assert_eq!(
            code(op(&tx, &peers[0], Op::Ended("film".into())).await),
            ErrorCode::BadRequest
        );
        assert_eq!(
            code(op(&tx, &peers[1], Op::Ended("film".into())).await),
            ErrorCode::Forbidden
        );
        assert!(peers[1].no_state_queued());
        // Near the end (a seek to 99 s, then the player's end).
        op(&tx, &peers[0], Op::Intent(Intent::Seek { position: 99.0 }))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        op(&tx, &peers[0], Op::Ended("film".into())).await.unwrap();
        for p in peers.iter_mut() {
            assert_eq!(p.next_state().await["reason"], "seek");
            let q = p.next_of("queue").await;
            assert_eq!(
                (q["change"].as_str(), q["by"].is_null()),
                (Some("next"), true)
            );
            assert_eq!(q["items"], serde_json::json!([queued("ep3", Some(60.0))]));
            let s = p.next_state().await;
            assert_eq!(s["media"]["id"], "ep2");
            assert_eq!(
                (s["reason"].as_str(), s["cause"].as_str()),
                (Some("media"), Some("queue"))
            );
            assert_eq!(
                (s["playing"].as_bool(), s["position"].as_f64()),
                (Some(false), Some(0.0))
            );
            assert!(s["by"].is_null());
        }
        // A second report of the same end (the guest's player, late) changes nothing.
        op(&tx, &peers[0], Op::Ended("film".into())).await.unwrap();
        // The start waits for every connected member to hold at 0 on the new item.
        op(&tx, &peers[0], at_start(0.0, false)).await.unwrap();
        op(&tx, &peers[1], at_start(99.9, false)).await.unwrap(); // still on the last item
        tokio::time::sleep(Duration::from_secs(1)).await;
        op(&tx, &peers[1], at_start(0.0, true)).await.unwrap(); // loading
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(peers[0].no_state_queued());
        op(&tx, &peers[1], at_start(0.0, false)).await.unwrap();
        let s = peers[1].next_state().await;
        assert_eq!(
            (
                s["reason"].as_str(),
                s["cause"].as_str(),
                s["playing"].as_bool()
            ),
            (Some("play"), Some("queue"), Some(true))
        );
        assert_eq!(
            (s["position"].as_f64(), s["media"]["id"].as_str()),
            (Some(0.0), Some("ep2"))
        );
        assert!(
            s["at"].as_f64().unwrap() > now_ms(),
            "scheduled like a play"
        );
        assert_eq!(record_of(&tx).await.queue.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_item_a_member_starts_itself_leaves_the_queue() {
        let (tx, mut peers, _sd) = room_with(2).await;
        op(&tx, &peers[0], queue_add("ep2")).await.unwrap();
        op(&tx, &peers[0], queue_add("ep3")).await.unwrap();
        let start_ep3 = Op::Intent(Intent::SetMedia {
            media: queued("ep3", None),
            position: None,
        });
        op(&tx, &peers[0], start_ep3).await.unwrap();
        // (next_state passes over the two adds.)
        assert_eq!(peers[1].next_state().await["media"]["id"], "ep3");
        let q = peers[1].next_of("queue").await;
        assert_eq!(
            (q["change"].as_str(), q["by"].as_str()),
            (Some("next"), Some(&*peers[0].id))
        );
        assert_eq!(q["items"], serde_json::json!([queued("ep2", Some(60.0))]));
    }

    #[tokio::test(start_paused = true)]
    async fn the_next_item_starts_after_the_cap_when_a_member_never_holds_at_0() {
        let (tx, mut peers, _sd) = room_with(2).await;
        op(&tx, &peers[0], queue_add("ep2")).await.unwrap();
        playing_film(&tx, &mut peers, 10.0).await;
        op(&tx, &peers[0], Op::Ended("film".into())).await.unwrap();
        assert_eq!(peers[1].next_state().await["cause"], "queue");
        op(&tx, &peers[0], at_start(0.0, false)).await.unwrap();
        tokio::time::sleep(queue::START_CAP - Duration::from_millis(100)).await;
        assert!(peers[1].no_state_queued());
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(peers[1].next_state().await["reason"], "play");
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_report_the_server_moves_on_after_the_duration_and_only_with_a_queue() {
        let (tx, mut peers, _sd) = room_with(2).await;
        playing_film(&tx, &mut peers, 20.0).await;
        // Nothing queued: the end passes without a change.
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(peers[1].no_state_queued());
        // Queued after the film ended: the room moves on at once.
        op(&tx, &peers[0], queue_add("ep2")).await.unwrap();
        let s = peers[1].next_state().await;
        assert_eq!(
            (s["media"]["id"].as_str(), s["cause"].as_str()),
            (Some("ep2"), Some("queue"))
        );
        // Nobody reports: it starts at the cap, then ends 60 s + the grace later.
        tokio::time::sleep(queue::START_CAP + Duration::from_millis(100)).await;
        assert_eq!(peers[1].next_state().await["reason"], "play");
        op(&tx, &peers[0], queue_add("ep3")).await.unwrap();
        let grace = Duration::from_secs_f64(queue::END_GRACE_MS / 1000.0);
        tokio::time::sleep(Duration::from_secs(60) + grace - Duration::from_millis(300)).await;
        assert!(peers[1].no_state_queued());
        tokio::time::sleep(Duration::from_millis(500)).await;
        let s = peers[1].next_state().await;
        assert_eq!(
            (s["media"]["id"].as_str(), s["cause"].as_str()),
            (Some("ep3"), Some("queue"))
        );
        // A member's pause before the start decides: the queue does not start the item.
        op(&tx, &peers[0], Op::Intent(Intent::Pause { position: 0.0 }))
            .await
            .unwrap();
        assert_eq!(peers[1].next_state().await["reason"], "pause");
        tokio::time::sleep(queue::START_CAP * 2).await;
        assert!(peers[1].no_state_queued());
    }

    #[tokio::test(start_paused = true)]
    async fn a_room_restored_from_its_record_keeps_seats_host_state_and_chat() {
        let (tx, mut peers, _sd) = room_with(2).await;
        play(&tx, &peers[0]).await;
        let played = peers[0].next_state().await;
        op(&tx, &peers[1], Op::Chat("hello".into())).await.unwrap();
        op(&tx, &peers[0], set_rights(&peers[1], &[Right::Media]))
            .await
            .unwrap();
        op(&tx, &peers[1], queue_add("next")).await.unwrap();
        let mb = crate::room::Mailbox::new(tx.clone());
        let rec = mb.record().await.unwrap();
        assert_eq!(rec.host, peers[0].id);
        assert_eq!(rec.state.seq, played["seq"].as_u64().unwrap());
        assert!(rec.state.playing);
        assert_eq!(rec.seats.len(), 2);
        assert_eq!(rec.seats[1].resume.as_deref(), Some("secret1"));
        assert_eq!(rec.chat.len(), 1);
        assert_eq!(rec.chat[0].text, "hello");

        // Another task takes the record over (a restart): every seat waits for its resume.
        let cfg = Config::for_tests();
        let (_sd2, sd_rx) = watch::channel(false);
        let (tx2, rx2) = mpsc::channel(64);
        let metrics = Arc::new(Metrics::default());
        let setup = RoomSetup {
            record: rec.clone(),
            ..setup(&cfg, metrics.clone(), sd_rx)
        };
        tokio::spawn(run_room(setup, rx2, Box::new(|| {})));
        let mb2 = crate::room::Mailbox::new(tx2.clone());
        assert_eq!(
            mb2.record().await.unwrap(),
            rec,
            "nothing lost in the takeover"
        );
        assert_eq!(metrics.members.load(Ordering::SeqCst), 2);
        let snap = mb2.snapshot(Who::Seat(peers[1].id.clone())).await.unwrap();
        assert!(snap.members.iter().all(|m| !m.connected));
        // The guest resumes first, then the host: the host role did not move.
        let (conn, mut rx, _kill) = ConnHandle::new(50, 64);
        mb2.resume(peers[1].id.clone(), conn).await.unwrap();
        let Some(Outbound::Frame { text, kind, .. }) = rx.recv().await else {
            panic!("no room snapshot after the resume")
        };
        assert_eq!(kind, "room");
        let room: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(room["host"], peers[0].id.as_str());
        assert_eq!(room["state"]["seq"], played["seq"]);
        assert_eq!(
            room["members"][1]["rights"],
            serde_json::json!(["media"]),
            "the grant came back with the seat"
        );
        assert_eq!(
            room["queue"][0]["id"], "next",
            "the queue came back with the room"
        );
        op(
            &tx2,
            &Peer {
                id: peers[1].id.clone(),
                conn: ConnHandle::new(50, 1).0,
                rx: mpsc::channel(1).1,
            },
            set_media("restored"),
        )
        .await
        .unwrap();
        // A seat nobody resumes is freed after the window, as for any disconnect.
        tokio::time::sleep(Duration::from_millis(30_100)).await;
        let snap = mb2.snapshot(Who::Seat(peers[1].id.clone())).await.unwrap();
        assert_eq!(snap.members.len(), 1);
        assert_eq!(
            snap.host, peers[1].id,
            "the host's seat expired: the role moved"
        );
        let _ = peers.pop();
    }
}
