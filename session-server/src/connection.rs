//! One WebSocket connection after its handshake: one `tokio::select!` loop over the next
//! inbound frame, the outbound queue, the heartbeat tick, the kill switch and shutdown, and the
//! protocol's requests dispatched to the connection's room.
//!
//! Three layers, as mini-redis separates framing from commands: `socket` writes frames and
//! says why a connection ends, `handshake` turns the first frame (`hello`) into a session and
//! maybe a seat, and this module serves the connection from then on. The connection owns its
//! limits (token bucket, status limit, failed joins) and talks to its room only through the
//! room's mailbox. `ping` is answered here, not by the room, so `t1` and `t2` are taken as
//! close to the socket as this layer can.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};

use matinee_auth::Identity;

use crate::app::App;
use crate::clock::now_ms;
use crate::error::Failure;
use crate::handshake::{self, Link};
use crate::metrics::{fanout_index, FANOUT_KINDS};
use crate::outbound::{ConnHandle, KillSwitch, Outbound};
use crate::protocol::{
    close, parse_client, validate_media, ClientMsg, ErrorCode, Intent, Media, ServerMsg, Settings,
};
use crate::room::{Done, Edit, Op, StatusReport, Who};
use crate::rooms::{normalize_code, RoomHandle};
use crate::shutdown::until_shutdown;
use crate::socket::{guarded, kill_reason, Sink, Stop, Stream, WebSocket, Writer};

/// How long a close frame may take to reach a peer on shutdown.
const SHUTDOWN_CLOSE_GRACE: Duration = Duration::from_millis(1500);
/// Longest wait on shutdown for the rooms' handover before closing with 1001 anyway.
const HANDOVER_WAIT: Duration = Duration::from_secs(3);
/// How long a close frame may take otherwise; it may sit behind a full socket buffer that the
/// peer is still draining (a slow reader closed with 4003 should still learn why).
const CLOSE_GRACE: Duration = Duration::from_secs(10);
/// Most queued frames written before one flush; bounds how long reading waits behind a burst.
const MAX_BATCH: usize = 32;
/// Window in which dropped (rate-limited) messages are counted toward close 4008.
const DROP_WINDOW: Duration = Duration::from_secs(10);

struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(rate: f64, burst: f64) -> Self {
        TokenBucket {
            tokens: burst,
            rate,
            burst,
            last: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// How a connection takes a seat: `create_room` or `join_room`.
enum Entry {
    Create {
        media: Option<Media>,
        settings: Option<Settings>,
    },
    Join {
        code: String,
    },
}

/// Why taking a seat failed, and whether it counts toward the failed-join limit.
struct Refused {
    failure: Failure,
    failed_join: bool,
}

impl Refused {
    fn new(failure: Failure, failed_join: bool) -> Self {
        Refused {
            failure,
            failed_join,
        }
    }
}

struct Conn {
    app: Arc<App>,
    conn_id: u64,
    handle: ConnHandle,
    kill: Arc<KillSwitch>,
    secret: Option<String>,
    identity: Option<Identity>,
    link: Option<Link>,
    bucket: TokenBucket,
    status_bucket: TokenBucket,
    drops: VecDeque<Instant>,
    failed_joins: VecDeque<Instant>,
    last_seen: Instant,
}

/// Serve one upgraded WebSocket until it ends. `_permit` is the connection slot, released on
/// return.
pub async fn serve(ws: WebSocket, app: Arc<App>, _permit: OwnedSemaphorePermit) {
    app.metrics.connections.fetch_add(1, Ordering::Relaxed);
    app.metrics
        .connections_total
        .fetch_add(1, Ordering::Relaxed);
    let conn_id = app.next_conn_id();
    let limits = &app.config.limits;
    let (handle, rx, kill) = ConnHandle::new(conn_id, limits.outbound_queue);
    let mut conn = Conn {
        conn_id,
        handle,
        kill,
        secret: None,
        identity: None,
        link: None,
        bucket: TokenBucket::new(limits.messages_per_second, limits.burst as f64),
        status_bucket: TokenBucket::new(
            limits.status_per_second,
            limits.status_per_second.max(1.0),
        ),
        drops: VecDeque::new(),
        failed_joins: VecDeque::new(),
        last_seen: Instant::now(),
        app: app.clone(),
    };
    tracing::debug!(conn = conn_id, "connection opened");
    let (mut sink, mut stream) = ws.split();
    let stop = conn.run(&mut sink, &mut stream, rx).await;
    let shutting_down = *app.shutdown.borrow();
    if let Stop::Close(code, reason) = stop {
        if shutting_down && code == close::GOING_AWAY {
            // Told to reconnect only once the rooms are handed over (`App::handed_over`), or
            // after a bounded wait (a disk that hangs must not hold the 1001 past what a
            // service manager grants a stop).
            let mut handed_over = app.handed_over.clone();
            let _ = tokio::time::timeout(HANDOVER_WAIT, handed_over.wait_for(|h| *h)).await;
        }
        app.metrics.closed(close_label(code));
        let grace = if shutting_down {
            SHUTDOWN_CLOSE_GRACE
        } else {
            CLOSE_GRACE
        };
        let room_closed =
            code == close::GOING_AWAY && conn.link.is_some() && !app.rooms.survives_restart();
        let _ = tokio::time::timeout(grace, async {
            if room_closed {
                let left = ServerMsg::Left {
                    reason: crate::protocol::LeftReason::RoomClosed,
                };
                if sink.send(Message::text(left.to_text(None))).await.is_ok() {
                    app.metrics.msg_out("left");
                }
            }
            let frame = CloseFrame {
                code: CloseCode::from(code),
                reason: Utf8Bytes::from_static(reason),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
            let _ = sink.close().await;
        })
        .await;
    }
    conn.cleanup().await;
    tracing::debug!(conn = conn_id, "connection closed");
    app.metrics.connections.fetch_sub(1, Ordering::Relaxed);
}

fn close_label(code: u16) -> &'static str {
    match code {
        close::PROTOCOL => "protocol_4000",
        close::UNAUTHORIZED => "unauthorized_4001",
        close::TOO_SLOW => "too_slow_4003",
        close::RATE_LIMIT => "rate_limit_4008",
        close::TOO_LARGE => "too_large_1009",
        close::GOING_AWAY => "shutdown_1001",
        close::NORMAL => "replaced_1000",
        _ => "other",
    }
}

impl Conn {
    async fn run(
        &mut self,
        sink: &mut Sink,
        stream: &mut Stream,
        mut rx: mpsc::Receiver<Outbound>,
    ) -> Stop {
        if let Err(stop) = self.hello(sink, stream).await {
            return stop;
        }
        let limits = &self.app.config.limits;
        let ping_every = Duration::from_millis(limits.ping_interval_ms);
        let dead_after = Duration::from_millis(limits.dead_after_ms);
        let mut heartbeat = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = self.app.shutdown.clone();
        let kill = self.kill.clone();
        // Built once, not once per turn of the loop: each of these registers with a notifier
        // when first polled and unregisters when dropped, and the shutdown one is shared by
        // every connection (a lock taken twice per frame, from every worker thread).
        let shutting_down = until_shutdown(&mut shutdown);
        tokio::pin!(shutting_down);
        let killed = kill.wait();
        tokio::pin!(killed);
        loop {
            let step = tokio::select! {
                _ = &mut shutting_down => Err(Stop::Close(close::GOING_AWAY, "server shutting down")),
                code = &mut killed => Err(Stop::Close(code, kill_reason(code))),
                Some(out) = rx.recv() => self.outbound(sink, out, &mut rx).await,
                frame = stream.next() => {
                    let t1 = now_ms();
                    self.last_seen = Instant::now();
                    match frame {
                        Some(Ok(msg)) => self.inbound(sink, msg, t1).await,
                        Some(Err(e)) => Err(self.out().read_error(e)),
                        None => Err(Stop::Gone),
                    }
                }
                _ = heartbeat.tick() => {
                    if self.last_seen.elapsed() > dead_after {
                        self.app.metrics.closed("dead_peer");
                        Err(Stop::Gone)
                    } else {
                        self.out().write(sink, Message::Ping(Bytes::new()), None).await
                    }
                }
            };
            if let Err(stop) = step {
                return stop;
            }
        }
    }

    /// Writes to this connection's socket.
    fn out(&self) -> Writer<'_> {
        Writer::new(&self.app, &self.kill)
    }

    /// Write `first` and every frame already queued behind it (at most `MAX_BATCH`), then
    /// flush once: one socket write for a burst instead of one per frame, which is most of
    /// the per-message cost when a room fans out. One deadline covers the whole batch.
    async fn outbound(
        &mut self,
        sink: &mut Sink,
        first: Outbound,
        rx: &mut mpsc::Receiver<Outbound>,
    ) -> Result<(), Stop> {
        let app = &*self.app;
        let link = &mut self.link;
        let secret = self.secret.as_deref();
        // Pinned here and lent to `guarded`, so that the connection's future keeps one copy
        // of this state, not two: it lives as long as the connection, idle or not.
        let work = std::pin::pin!(async move {
            // The room frames of this batch, for the fan-out histogram: the first one's
            // decision instant, then each frame's offset from it (µs) and type. Compact
            // because it is part of every connection's memory.
            let mut base: Option<Instant> = None;
            let mut decided = [(0i32, 0u8); MAX_BATCH];
            let mut n_decided = 0;
            let mut next = Some(first);
            let mut written = 0;
            while let Some(out) = next {
                let (text, kind, at) = prepare(app, link, secret, out);
                sink.feed(Message::text(text))
                    .await
                    .map_err(|_| Stop::Gone)?;
                app.metrics.msg_out(kind);
                if let Some(at) = at {
                    let b = *base.get_or_insert(at);
                    let offset = if at >= b {
                        at.duration_since(b).as_micros().min(i32::MAX as u128) as i32
                    } else {
                        -(b.duration_since(at).as_micros().min(i32::MAX as u128) as i32)
                    };
                    decided[n_decided] = (offset, fanout_index(kind));
                    n_decided += 1;
                }
                written += 1;
                next = if written < MAX_BATCH {
                    rx.try_recv().ok()
                } else {
                    None
                };
            }
            sink.flush().await.map_err(|_| Stop::Gone)?;
            // The fan-out latency ends when the frame is in the socket, not in our buffer.
            if let Some(b) = base {
                let since_base = b.elapsed().as_micros() as i64;
                for (offset, kind) in &decided[..n_decided] {
                    let us = (since_base - *offset as i64).max(0) as u64;
                    app.metrics
                        .fanout(FANOUT_KINDS[*kind as usize], Duration::from_micros(us));
                }
            }
            Ok(())
        });
        guarded(app, &self.kill, work).await
    }

    /// The handshake (`handshake::greet`), then `welcome`.
    async fn hello(&mut self, sink: &mut Sink, stream: &mut Stream) -> Result<(), Stop> {
        let out = Writer::new(&self.app, &self.kill);
        let g = handshake::greet(&self.app, self.conn_id, &self.handle, out, sink, stream).await?;
        let welcome = handshake::welcome(&self.app, &g);
        self.link = g.link;
        self.secret = Some(g.secret);
        self.identity = Some(g.identity);
        out.send(sink, &welcome, g.id.as_ref()).await
    }

    async fn inbound(&mut self, sink: &mut Sink, msg: Message, t1: f64) -> Result<(), Stop> {
        if msg.is_ping() || msg.is_pong() {
            return Ok(()); // tungstenite answers pings; either kind proves the peer is alive
        }
        if msg.is_close() {
            return Err(Stop::Gone);
        }
        let limits = &self.app.config.limits;
        if msg.is_binary() {
            self.app.metrics.msg_in("binary");
            if !self.rate_ok() {
                return self.rate_limited(sink, None).await;
            }
            return self
                .out()
                .error(
                    sink,
                    ErrorCode::BadRequest,
                    "binary frames are not part of the protocol",
                    None,
                )
                .await;
        }
        let Message::Text(text) = msg else {
            return Ok(()); // a raw frame is never read, only written
        };
        if text.len() > limits.max_frame_bytes {
            self.out()
                .error(
                    sink,
                    ErrorCode::TooLarge,
                    format!("frames are limited to {} bytes", limits.max_frame_bytes),
                    None,
                )
                .await?;
            return Err(Stop::Close(close::TOO_LARGE, "frame too large"));
        }
        let parsed = parse_client(&text);
        self.app.metrics.msg_in(parsed.kind);
        let id = parsed.id;
        if !self.rate_ok() {
            return self.rate_limited(sink, id.as_ref()).await;
        }
        let msg = match parsed.msg {
            Ok(m) => m,
            Err(m) => {
                return self
                    .out()
                    .error(sink, ErrorCode::BadRequest, m, id.as_ref())
                    .await
            }
        };
        let idr = id.as_ref();
        match msg {
            ClientMsg::Hello { .. } => {
                self.out()
                    .error(
                        sink,
                        ErrorCode::BadRequest,
                        "hello was already received",
                        idr,
                    )
                    .await
            }
            ClientMsg::Ping { t0 } => {
                let t2 = now_ms();
                self.out()
                    .send(sink, &ServerMsg::Pong { t0, t1, t2 }, idr)
                    .await
            }
            ClientMsg::CreateRoom { media, settings } => {
                self.enter(sink, Entry::Create { media, settings }, id)
                    .await
            }
            ClientMsg::JoinRoom { code } => self.enter(sink, Entry::Join { code }, id).await,
            ClientMsg::LeaveRoom {} => match self.room_op(Op::Leave, id.clone()).await {
                Ok(_) => {
                    self.link = None;
                    if let Some(s) = &self.secret {
                        self.app.sessions.set_seat(s, None);
                    }
                    Ok(()) // the room queues `left` for us, after everything it sent before
                }
                Err(f) => self.out().fail(sink, f, idr).await,
            },
            ClientMsg::Play { position, rate } => {
                self.intent(sink, Intent::Play { position, rate }, id).await
            }
            ClientMsg::Pause { position } => {
                self.intent(sink, Intent::Pause { position }, id).await
            }
            ClientMsg::Seek { position } => self.intent(sink, Intent::Seek { position }, id).await,
            ClientMsg::SetMedia { media, position } => {
                self.intent(sink, Intent::SetMedia { media, position }, id)
                    .await
            }
            ClientMsg::Status {
                position,
                playing,
                buffering,
                rtt_ms,
                offset_ms: _,
                error_ms,
                seek_ms,
            } => {
                if !self.status_bucket.take() {
                    // Status only feeds throttled statistics: the excess is dropped silently.
                    self.app
                        .metrics
                        .status_ignored
                        .fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                let Some(link) = &self.link else {
                    return self
                        .out()
                        .error(sink, ErrorCode::Forbidden, "not in a room", idr)
                        .await;
                };
                let report = StatusReport {
                    position,
                    playing,
                    buffering,
                    rtt_ms,
                    error_ms,
                    seek_ms,
                };
                let who = Who::Conn {
                    member_id: link.member_id.clone(),
                    conn_id: self.conn_id,
                };
                match link.room.tell(who, Op::Status(report)).await {
                    // The room has ended: this connection no longer holds a seat in it.
                    Err(f) if f.code == ErrorCode::RoomNotFound => self.link = None,
                    // A relay that failed (Redis or the room's instance out of reach for a
                    // moment) loses this report, never the seat: the room keeps it, and so
                    // must the connection, or every later request would be refused as "not
                    // in a room" while the room still counts the member in. An authority
                    // that is gone for good has its members here told to resume
                    // (`shared::check_remote_rooms`); one that lost this seat's relay tells
                    // the connection to resume itself (`relay::serve`).
                    _ => {}
                }
                Ok(())
            }
            ClientMsg::Chat { text } => self.simple_op(sink, Op::Chat(text), id).await,
            ClientMsg::Reaction { emoji } => self.simple_op(sink, Op::Reaction(emoji), id).await,
            ClientMsg::TransferHost { member_id } => {
                self.simple_op(sink, Op::TransferHost(member_id), id).await
            }
            ClientMsg::Kick { member_id } => self.simple_op(sink, Op::Kick(member_id), id).await,
            ClientMsg::ReadyCheck { start } => {
                self.simple_op(sink, Op::ReadyCheck(start), id).await
            }
            ClientMsg::Ready { ready } => self.simple_op(sink, Op::Ready(ready), id).await,
            ClientMsg::QueueAdd { media, index } => {
                self.simple_op(sink, Op::Queue(Edit::Add { media, index }), id)
                    .await
            }
            ClientMsg::QueueRemove { media_id } => {
                self.simple_op(sink, Op::Queue(Edit::Remove(media_id)), id)
                    .await
            }
            ClientMsg::QueueMove { media_id, index } => {
                self.simple_op(sink, Op::Queue(Edit::Move { media_id, index }), id)
                    .await
            }
            ClientMsg::QueueClear {} => self.simple_op(sink, Op::Queue(Edit::Clear), id).await,
            ClientMsg::Ended { media_id } => self.simple_op(sink, Op::Ended(media_id), id).await,
            ClientMsg::SetRights { member_id, rights } => {
                self.simple_op(sink, Op::SetRights { member_id, rights }, id)
                    .await
            }
        }
    }

    fn rate_ok(&mut self) -> bool {
        self.bucket.take()
    }

    async fn rate_limited(&mut self, sink: &mut Sink, id: Option<&Value>) -> Result<(), Stop> {
        let now = Instant::now();
        self.drops.push_back(now);
        while self
            .drops
            .front()
            .is_some_and(|t| now.duration_since(*t) > DROP_WINDOW)
        {
            self.drops.pop_front();
        }
        if self.drops.len() > self.app.config.limits.rate_limit_close_after as usize {
            return Err(Stop::Close(
                close::RATE_LIMIT,
                "rate limit exceeded repeatedly",
            ));
        }
        self.out()
            .error(
                sink,
                ErrorCode::RateLimited,
                "too many messages; slow down",
                id,
            )
            .await
    }

    async fn room_op(&mut self, op: Op, req_id: Option<Value>) -> Result<Done, Failure> {
        let Some(link) = &self.link else {
            return Err(Failure::new(ErrorCode::Forbidden, "not in a room"));
        };
        let who = Who::Conn {
            member_id: link.member_id.clone(),
            conn_id: self.conn_id,
        };
        let r = link.room.op(who, req_id, op).await;
        if r.as_ref().is_err_and(|f| f.code == ErrorCode::RoomNotFound) {
            // The room has ended: this connection no longer holds a seat in it.
            self.link = None;
        }
        r
    }

    async fn simple_op(&mut self, sink: &mut Sink, op: Op, id: Option<Value>) -> Result<(), Stop> {
        match self.room_op(op, id.clone()).await {
            Ok(_) => Ok(()),
            Err(f) => self.out().fail(sink, f, id.as_ref()).await,
        }
    }

    async fn intent(
        &mut self,
        sink: &mut Sink,
        intent: Intent,
        id: Option<Value>,
    ) -> Result<(), Stop> {
        self.simple_op(sink, Op::Intent(intent), id).await
    }

    /// `create_room` and `join_room`: one guard (not already seated), a seat from the
    /// registry, one way of answering. Refused joins count toward the failed-join limit.
    async fn enter(
        &mut self,
        sink: &mut Sink,
        entry: Entry,
        id: Option<Value>,
    ) -> Result<(), Stop> {
        let now = Instant::now();
        let seated = if self.link.is_some() {
            Err(Refused::new(
                Failure::new(ErrorCode::BadRequest, "already in a room; leave it first"),
                false,
            ))
        } else {
            self.take_seat(entry, id.clone(), now).await
        };
        match seated {
            Ok((room, member_id)) => {
                if let Some(s) = &self.secret {
                    self.app
                        .sessions
                        .set_seat(s, Some((room.code().to_owned(), member_id.clone())));
                }
                self.link = Some(Link { room, member_id });
                Ok(())
            }
            Err(r) => {
                if r.failed_join {
                    self.failed_joins.push_back(now);
                }
                self.out().fail(sink, r.failure, id.as_ref()).await
            }
        }
    }

    async fn take_seat(
        &mut self,
        entry: Entry,
        id: Option<Value>,
        now: Instant,
    ) -> Result<(RoomHandle, String), Refused> {
        let identity = self.identity.clone().expect("identity is set after hello");
        let secret = self.secret.clone();
        let conn = self.handle.clone();
        match entry {
            Entry::Create { media, settings } => {
                if let Some(Err(m)) = media.as_ref().map(validate_media) {
                    return Err(Refused::new(Failure::new(ErrorCode::BadRequest, m), false));
                }
                let settings = settings.unwrap_or_default();
                self.app
                    .rooms
                    .create(settings, media, identity, secret, conn, id)
                    .await
                    .map_err(|f| Refused::new(f, false))
            }
            Entry::Join { code } => {
                while self
                    .failed_joins
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
                {
                    self.failed_joins.pop_front();
                }
                let limit = self.app.config.limits.failed_joins_per_minute as usize;
                if self.failed_joins.len() >= limit {
                    let f = Failure::new(
                        ErrorCode::RateLimited,
                        "too many failed joins; wait a minute",
                    );
                    return Err(Refused::new(f, false));
                }
                let room = match normalize_code(&code) {
                    Some(c) => self.app.rooms.get(&c).await,
                    None => None,
                };
                let Some(room) = room else {
                    let f = Failure::new(ErrorCode::RoomNotFound, "no room has this code");
                    return Err(Refused::new(f, true));
                };
                match room.join(identity, secret, conn, id).await {
                    Ok(member_id) => Ok((room, member_id)),
                    Err(f) => Err(Refused::new(f, true)),
                }
            }
        }
    }

    /// The connection has ended: the seat waits for a resume, the session for the window.
    async fn cleanup(&mut self) {
        if let Some(link) = self.link.take() {
            // The room may be gone; then there is nothing to tell.
            let notice = link.room.disconnected(link.member_id, self.conn_id);
            let _ = tokio::time::timeout(Duration::from_secs(5), notice).await;
        }
        if let Some(secret) = &self.secret {
            self.app.sessions.detach(secret, self.conn_id);
        }
    }
}

/// The text of one queued frame, its kind for the metrics and, for a frame a room decided,
/// when it decided it; after the bookkeeping a `left` needs (forget the seat it ends).
fn prepare(
    app: &App,
    link: &mut Option<Link>,
    secret: Option<&str>,
    out: Outbound,
) -> (Utf8Bytes, &'static str, Option<Instant>) {
    match out {
        Outbound::Frame {
            text,
            kind,
            decided,
        } => (text, kind, Some(decided)),
        Outbound::Left {
            code,
            member_id,
            reason: _,
            text,
        } => {
            if link
                .as_ref()
                .is_some_and(|l| l.room.code() == code && l.member_id == member_id)
            {
                *link = None;
            }
            if let Some(secret) = secret {
                app.sessions.clear_seat_if(secret, &code, &member_id);
            }
            (text, "left", None)
        }
    }
}
