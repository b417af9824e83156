//! One simulated client: connect, `hello`, create or join its room, then the steady message
//! mix (ping, status, and for hosts play/seek/pause) until told to stop.
//!
//! Incoming frames are classified by their `type` with a substring scan and only the few
//! kinds the generator needs (`state`, `room`, `pong`, `error`, `left`) are parsed: with
//! thousands of clients on the same two cores as the server, a full JSON parse of every
//! `members` broadcast would make the generator, not the server, the bottleneck.

use crate::stats::{InKind, Stats};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::time::{sleep_until, timeout_at, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// What every client of one worker shares.
pub struct Ctx {
    pub args: Arc<crate::args::Args>,
    pub stats: Arc<Stats>,
    /// The endpoints' addresses, in `args.urls` order.
    pub servers: Vec<SocketAddr>,
    /// Process clock origin: `t0` of pings is measured from here.
    pub origin: Instant,
    /// Flips to `true` when the run ends.
    pub stop: watch::Receiver<bool>,
    /// Worker index, to make display names unique across processes.
    pub worker: usize,
}

/// What the clients of one room share: the code the host got, and the send instants of the
/// host's recent control messages (keyed by their unique position) for fan-out latency.
#[derive(Default)]
pub struct RoomShared {
    /// `None` until the host has its room; `Some(None)` if the host failed to create it.
    code: Mutex<Option<Option<String>>>,
    code_ready: tokio::sync::Notify,
    /// (position sent, instant sent), newest last, at most `PENDING_MAX` entries.
    pending: Mutex<VecDeque<(f64, Instant)>>,
}

/// Enough control messages to cover any plausible fan-out delay at T ≥ 1 s.
const PENDING_MAX: usize = 32;

impl RoomShared {
    fn publish_code(&self, code: Option<String>) {
        *self.code.lock().unwrap() = Some(code);
        self.code_ready.notify_waiters();
    }

    async fn wait_code(&self) -> Option<String> {
        loop {
            let notified = self.code_ready.notified();
            if let Some(c) = self.code.lock().unwrap().clone() {
                return c;
            }
            notified.await;
        }
    }

    fn find_pending(&self, position: f64) -> Option<Instant> {
        let p = self.pending.lock().unwrap();
        p.iter()
            .rev()
            .find(|(pos, _)| (pos - position).abs() < 1e-9)
            .map(|e| e.1)
    }
}

/// How a session ended.
enum End {
    /// The run is over.
    Stopped,
    /// Churn: this member's lifetime expired and it left cleanly.
    LifeOver,
    /// Something failed; the reason was counted.
    Failed,
}

#[derive(Deserialize)]
struct StateMsg {
    playing: bool,
    position: f64,
    #[serde(default = "one")]
    rate: f64,
    at: f64,
    seq: u64,
    #[serde(default)]
    reason: Option<String>,
}

fn one() -> f64 {
    1.0
}

#[derive(Deserialize)]
struct RoomMsg {
    code: String,
    #[serde(default)]
    state: Option<StateMsg>,
}

#[derive(Deserialize)]
struct ErrorMsg {
    code: String,
    #[serde(default)]
    message: String,
}

impl ErrorMsg {
    /// `code (message)`, the message cut short: it tells a hello timeout from a bad token,
    /// both `unauthorized`.
    fn reason(&self) -> String {
        let m: String = self.message.chars().take(48).collect();
        if m.is_empty() {
            self.code.clone()
        } else {
            format!("{} ({m})", self.code)
        }
    }
}

#[derive(Deserialize)]
struct LeftMsg {
    reason: String,
}

#[derive(Deserialize)]
struct PongMsg {
    t0: f64,
    t1: f64,
    t2: f64,
}

/// The value of the top-level `"type"` field, found without parsing the frame. Servers put
/// the tag first (serde's internally tagged enums do), so the first occurrence is the tag.
pub fn msg_type(s: &str) -> &str {
    let Some(i) = s.find("\"type\"") else {
        return "";
    };
    let rest = s[i + 6..].trim_start();
    let Some(rest) = rest.strip_prefix(':') else {
        return "";
    };
    let Some(rest) = rest.trim_start().strip_prefix('"') else {
        return "";
    };
    match rest.find('"') {
        Some(end) => &rest[..end],
        None => "",
    }
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// A small deterministic PRNG (xorshift64*), enough to spread timers; no dependency needed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Resolves once the run is over (the guard `wait_for` returns is dropped here, so the
/// future stays `Send`).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// Waits for the next tick of an optional interval; never resolves for `None`.
async fn tick(iv: &mut Option<Interval>) {
    match iv {
        Some(iv) => {
            iv.tick().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// An interval of `every` seconds whose first tick comes after a random phase, so that
/// thousands of clients do not fire in lockstep; `None` when `every` is 0.
fn interval(every: f64, rng: &mut Rng) -> Option<Interval> {
    if every <= 0.0 {
        return None;
    }
    let period = Duration::from_secs_f64(every);
    let first = tokio::time::Instant::now() + period.mul_f64(rng.f64());
    let mut iv = tokio::time::interval_at(first, period);
    iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
    Some(iv)
}

type Ws = WebSocketStream<TcpStream>;

/// `join_room` retries of a member on another endpoint than its host's, and the pause
/// between them: 4 × 150 ms outlasts the default 250 ms flush interval.
const JOIN_RETRIES: u32 = 4;
const JOIN_RETRY_PAUSE: Duration = Duration::from_millis(150);

/// One connection's state between frames.
struct Session<'a> {
    ctx: &'a Ctx,
    room: &'a RoomShared,
    is_host: bool,
    /// Index of this client's endpoint in `args.urls`; not 0 means another instance than
    /// the host's, which drives the room, so this member's frames are relayed.
    endpoint: usize,
    ws: Ws,
    playing: bool,
    position: f64,
    rate: f64,
    at: f64,
    seq: u64,
    rtt_ms: f64,
    rng: Rng,
    /// The host's control counter: positions 10 + 3k are unique within the room.
    controls: u64,
}

/// Runs slot `slot` of a room until the run stops. In churn mode, non-host members start a
/// fresh connection in the same room each time their lifetime ends.
pub async fn run(ctx: Arc<Ctx>, slot: usize, room: Arc<RoomShared>, is_host: bool, src: Ipv4Addr) {
    let churn = ctx.args.mode == crate::args::Mode::Churn && !is_host;
    let mut rng = Rng::new(((ctx.worker as u64) << 32) ^ slot as u64);
    let mut first = true;
    loop {
        let life = churn.then(|| {
            let mean = ctx.args.churn_life;
            Duration::from_secs_f64(mean * (0.5 + rng.f64()))
        });
        let end = session(&ctx, slot, &room, is_host, src, life, first, &mut rng).await;
        first = false;
        match end {
            End::Stopped => return,
            End::LifeOver => {
                ctx.stats
                    .churn_cycles
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            End::Failed => {
                if !churn || *ctx.stop.borrow() {
                    return;
                }
                // Churn keeps going after a failure, but not in a tight loop.
                let mut stop = ctx.stop.clone();
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stopped(&mut stop) => return,
                }
            }
        }
        if *ctx.stop.borrow() {
            return;
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn session(
    ctx: &Ctx,
    slot: usize,
    room: &RoomShared,
    is_host: bool,
    src: Ipv4Addr,
    life: Option<Duration>,
    first: bool,
    rng: &mut Rng,
) -> End {
    let stats = &ctx.stats;
    let started = Instant::now();
    let endpoint = ctx.args.url_of_member(slot % ctx.args.room_size);
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(ctx.args.connect_timeout);
    let setup_failed = |reason: String| {
        stats.fail(&reason, first);
        if is_host {
            room.publish_code(None);
        }
        End::Failed
    };

    // 1. TCP, from this worker's source address so 20k sockets fit in the port ranges.
    let sock = match TcpSocket::new_v4() {
        Ok(s) => s,
        Err(e) => return setup_failed(format!("socket: {}", io_reason(&e))),
    };
    // SO_REUSEADDR lets bind() reuse ports still in TIME_WAIT from an earlier run.
    let _ = sock.set_reuseaddr(true);
    if let Err(e) = sock.bind(SocketAddr::new(src.into(), 0)) {
        return setup_failed(format!("bind: {}", io_reason(&e)));
    }
    let stream = match timeout_at(deadline, sock.connect(ctx.servers[endpoint])).await {
        Err(_) => return setup_failed("connect: timeout".into()),
        Ok(Err(e)) => return setup_failed(format!("connect: {}", io_reason(&e))),
        Ok(Ok(s)) => s,
    };
    let _ = stream.set_nodelay(true);

    // 2. WebSocket handshake. Small buffers: the default 128 KiB read buffer per socket
    //    would cost the generator gigabytes at 20k connections.
    let cfg = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(1 << 20);
    let ws = match timeout_at(
        deadline,
        tokio_tungstenite::client_async_with_config(
            ctx.args.urls[endpoint].as_str(),
            stream,
            Some(cfg),
        ),
    )
    .await
    {
        Err(_) => return setup_failed("handshake: timeout".into()),
        Ok(Err(e)) => return setup_failed(format!("handshake: {e}")),
        Ok(Ok((ws, _))) => ws,
    };
    let mut s = Session {
        ctx,
        room,
        is_host,
        endpoint,
        ws,
        playing: false,
        position: 0.0,
        rate: 1.0,
        at: 0.0,
        seq: 0,
        rtt_ms: 0.0,
        rng: Rng::new(rng.f64().to_bits()),
        controls: 0,
    };

    // 3. hello → welcome.
    let name = format!("lg{}-{}", ctx.worker, slot);
    let hello = serde_json::json!({
        "type": "hello", "protocol": 1, "name": name,
        "client": {"name": "matinee-loadgen", "version": env!("CARGO_PKG_VERSION")},
    });
    if let Err(r) = s.send(hello.to_string()).await {
        return setup_failed(format!("hello: {r}"));
    }
    if let Err(r) = s.wait_for("welcome", deadline).await {
        return setup_failed(format!("hello: {r}"));
    }

    // 4. create_room (host) or join_room with the host's code → room.
    let req = if is_host {
        serde_json::json!({
            "type": "create_room",
            "media": {"id": "loadgen-media", "title": "Load test", "duration": 7200.0},
        })
    } else {
        let code = tokio::select! {
            c = room.wait_code() => c,
            _ = sleep_until(deadline) => return setup_failed("join: no room code in time".into()),
        };
        let Some(code) = code else {
            return setup_failed("join: host failed to create the room".into());
        };
        serde_json::json!({"type": "join_room", "code": code})
    };
    let what = if is_host { "create" } else { "join" };
    // A room created on one instance reaches Redis with its authority's next write (within
    // `store.flush_interval_ms`); until then another instance answers `room_not_found`. So
    // a member on another endpoint than its host's asks again a few times, fewer than the
    // server's failed-join limit (5 a minute).
    let mut retries = if endpoint != 0 { JOIN_RETRIES } else { 0 };
    let room_msg = loop {
        if let Err(r) = s.send(req.to_string()).await {
            return setup_failed(format!("{what}: {r}"));
        }
        match s.wait_for("room", deadline).await {
            Ok(text) => break text,
            Err(r) if retries > 0 && r.starts_with("room_not_found") => {
                retries -= 1;
                tokio::time::sleep(JOIN_RETRY_PAUSE).await;
            }
            Err(r) => return setup_failed(format!("{what}: {r}")),
        }
    };
    let parsed: RoomMsg = match serde_json::from_str(&room_msg) {
        Ok(r) => r,
        Err(e) => return setup_failed(format!("{what}: malformed room message: {e}")),
    };
    if let Some(st) = parsed.state {
        s.apply_state(&st);
    }
    if is_host {
        room.publish_code(Some(parsed.code));
    }
    stats.joined(started.elapsed(), first);

    let end = s.steady(life).await;
    stats.left();
    end
}

/// A stable reason string for an I/O error (the kind, not the message with numbers in it).
fn io_reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => format!("{:?} (os error {code})", e.kind()),
        None => format!("{:?}", e.kind()),
    }
}

impl Session<'_> {
    async fn send(&mut self, text: String) -> Result<(), String> {
        self.ctx.stats.sent(text.len());
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|e| format!("send failed: {e}"))
    }

    /// Reads frames, handling each, until one of type `want` arrives (returned) or an
    /// `error`, a close or the deadline ends the wait.
    async fn wait_for(
        &mut self,
        want: &str,
        deadline: tokio::time::Instant,
    ) -> Result<String, String> {
        loop {
            let msg = match timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err("timeout".into()),
                Ok(None) => return Err("connection closed".into()),
                Ok(Some(Err(e))) => return Err(format!("read failed: {e}")),
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Text(t) => {
                    let ty = msg_type(&t).to_string();
                    if ty == "error" {
                        self.ctx.stats.received(InKind::Error, t.len());
                        let reason = serde_json::from_str::<ErrorMsg>(&t)
                            .map(|e| e.reason())
                            .unwrap_or_else(|_| "malformed error".into());
                        return Err(reason);
                    }
                    self.handle_text(&t);
                    if ty == want {
                        return Ok(t.to_string());
                    }
                }
                Message::Close(f) => return Err(close_reason(f.as_ref())),
                _ => {}
            }
        }
    }

    /// Counts and interprets one text frame; returns a reason if it ends the session.
    fn handle_text(&mut self, t: &str) -> Option<String> {
        let stats = &self.ctx.stats;
        match msg_type(t) {
            "state" => {
                stats.received(InKind::State, t.len());
                if let Ok(st) = serde_json::from_str::<StateMsg>(t) {
                    self.on_state(&st);
                } else {
                    stats.count_server_error("malformed state");
                }
            }
            "members" => stats.received(InKind::Members, t.len()),
            "pong" => {
                stats.received(InKind::Pong, t.len());
                if let Ok(p) = serde_json::from_str::<PongMsg>(t) {
                    let now = self.ctx.origin.elapsed().as_secs_f64() * 1000.0;
                    // RTT without the server's own processing time, as DESIGN §4 defines it.
                    let rtt = (now - p.t0) - (p.t2 - p.t1).max(0.0);
                    self.rtt_ms = rtt.max(0.0);
                    if stats.is_measuring() {
                        stats.rtt.record_us((self.rtt_ms * 1000.0) as u64);
                    }
                }
            }
            "room" => stats.received(InKind::Room, t.len()),
            "welcome" => stats.received(InKind::Welcome, t.len()),
            "error" => {
                stats.received(InKind::Error, t.len());
                let code = serde_json::from_str::<ErrorMsg>(t)
                    .map(|e| e.code)
                    .unwrap_or_else(|_| "malformed".into());
                stats.count_server_error(&code);
            }
            "left" => {
                stats.received(InKind::Other, t.len());
                let reason = serde_json::from_str::<LeftMsg>(t)
                    .map(|l| l.reason)
                    .unwrap_or_else(|_| "?".into());
                return Some(format!("left: {reason}"));
            }
            _ => stats.received(InKind::Other, t.len()),
        }
        None
    }

    fn apply_state(&mut self, st: &StateMsg) {
        self.seq = st.seq;
        self.playing = st.playing;
        self.position = st.position;
        self.rate = st.rate;
        self.at = st.at;
    }

    fn on_state(&mut self, st: &StateMsg) {
        let now = Instant::now();
        let stats = &self.ctx.stats;
        if st.seq <= self.seq && self.seq != 0 {
            return; // stale or duplicate, as a real client would ignore it
        }
        self.apply_state(st);
        let control = matches!(st.reason.as_deref(), Some("play" | "pause" | "seek"));
        if self.is_host || !control || !stats.is_measuring() {
            return;
        }
        match self.room.find_pending(st.position) {
            Some(sent) => {
                let d = now.saturating_duration_since(sent);
                stats.fanout.record(d);
                if self.endpoint != 0 {
                    stats.fanout_relayed.record(d);
                }
            }
            None => stats.count_unmatched(),
        }
    }

    /// The media position now by DESIGN §3's formula (the server shares this machine's clock).
    fn expected_position(&self) -> f64 {
        if !self.playing {
            return self.position;
        }
        self.position + (epoch_ms() - self.at).max(0.0) / 1000.0 * self.rate
    }

    async fn send_control(&mut self) -> Result<(), String> {
        let k = self.controls;
        self.controls += 1;
        let position = 10.0 + 3.0 * k as f64;
        let kind = ["play", "seek", "pause"][(k % 3) as usize];
        {
            let mut p = self.room.pending.lock().unwrap();
            if p.len() >= PENDING_MAX {
                p.pop_front();
            }
            p.push_back((position, Instant::now()));
        }
        self.send(format!(r#"{{"type":"{kind}","position":{position:.1}}}"#))
            .await
    }

    async fn send_status(&mut self) -> Result<(), String> {
        let error_ms = (self.rng.f64() - 0.5) * 10.0;
        let offset_ms = (self.rng.f64() - 0.5) * 2.0;
        let text = format!(
            r#"{{"type":"status","position":{:.3},"playing":{},"buffering":false,"rtt_ms":{:.2},"offset_ms":{:.2},"error_ms":{:.2},"seek_ms":120}}"#,
            self.expected_position(),
            self.playing,
            self.rtt_ms,
            offset_ms,
            error_ms
        );
        self.send(text).await
    }

    async fn send_ping(&mut self) -> Result<(), String> {
        let t0 = self.ctx.origin.elapsed().as_secs_f64() * 1000.0;
        self.send(format!(r#"{{"type":"ping","t0":{t0:.3}}}"#))
            .await
    }

    async fn steady(mut self, life: Option<Duration>) -> End {
        let args = self.ctx.args.clone();
        let mut ping = interval(args.ping_every, &mut self.rng);
        let mut status = interval(args.status_every, &mut self.rng);
        let mut control = if self.is_host {
            interval(args.control_every, &mut self.rng)
        } else {
            None
        };
        let life_end = life.map(|l| tokio::time::Instant::now() + l);
        let mut stop = self.ctx.stop.clone();
        let result: Result<End, String> = loop {
            let r = tokio::select! {
                m = self.ws.next() => match m {
                    None => Err("lost: connection closed without close frame".to_string()),
                    Some(Err(e)) => Err(format!("lost: {e}")),
                    Some(Ok(Message::Text(t))) => match self.handle_text(&t) {
                        Some(reason) => Err(reason),
                        None => Ok(()),
                    },
                    Some(Ok(Message::Close(f))) => Err(close_reason(f.as_ref())),
                    Some(Ok(_)) => Ok(()),
                },
                _ = tick(&mut ping) => self.send_ping().await,
                _ = tick(&mut status) => self.send_status().await,
                _ = tick(&mut control) => self.send_control().await,
                _ = stopped(&mut stop) => break Ok(End::Stopped),
                _ = async { match life_end { Some(t) => sleep_until(t).await, None => std::future::pending().await } } => {
                    // Churn: leave like a user closing the tab after clicking "leave".
                    let _ = self.send(r#"{"type":"leave_room"}"#.to_string()).await;
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
                    match self.wait_for("left", deadline).await {
                        Ok(_) => break Ok(End::LifeOver),
                        Err(r) => break Err(format!("leave: {r}")),
                    }
                }
            };
            if let Err(reason) = r {
                break Err(reason);
            }
        };
        match result {
            Ok(end) => {
                self.close().await;
                end
            }
            Err(reason) => {
                self.ctx.stats.fail(&reason, false);
                End::Failed
            }
        }
    }

    /// A clean WebSocket close, waiting briefly for the server's close frame.
    async fn close(mut self) {
        let _ = self.ws.close(None).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while let Ok(Some(Ok(_))) = timeout_at(deadline, self.ws.next()).await {}
    }
}

fn close_reason(f: Option<&tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> String {
    match f {
        Some(f) => format!("closed: {} {}", u16::from(f.code), f.reason),
        None => "closed: no code".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_type_tag_without_parsing() {
        assert_eq!(msg_type(r#"{"type":"state","playing":true}"#), "state");
        assert_eq!(msg_type(r#"{ "type" : "members", "list": []}"#), "members");
        assert_eq!(msg_type(r#"{"seq":1,"type":"pong"}"#), "pong");
        assert_eq!(msg_type(r#"{"nope":1}"#), "");
        assert_eq!(msg_type(r#"{"type":"unterminated"#), "");
        assert_eq!(msg_type(r#"{"type":5}"#), "");
    }

    #[test]
    fn error_reasons_keep_the_code_and_a_short_message() {
        let e: ErrorMsg = serde_json::from_str(
            r#"{"type":"error","code":"unauthorized","message":"hello_timeout: no hello within 5000 ms"}"#,
        )
        .unwrap();
        assert_eq!(
            e.reason(),
            "unauthorized (hello_timeout: no hello within 5000 ms)"
        );
        let e: ErrorMsg = serde_json::from_str(r#"{"type":"error","code":"room_full"}"#).unwrap();
        assert_eq!(e.reason(), "room_full");
        let long = format!(
            r#"{{"code":"bad_request","message":"{}"}}"#,
            "x".repeat(500)
        );
        let e: ErrorMsg = serde_json::from_str(&long).unwrap();
        assert!(e.reason().len() < 70, "{}", e.reason());
    }

    #[test]
    fn rng_is_uniform_enough_and_deterministic() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<f64> = (0..10_000).map(|_| a.f64()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert_eq!(xs[0], b.f64());
    }

    #[tokio::test]
    async fn room_code_reaches_members_published_before_or_after_they_wait() {
        let room = Arc::new(RoomShared::default());
        let r2 = room.clone();
        let waiter = tokio::spawn(async move { r2.wait_code().await });
        tokio::task::yield_now().await;
        room.publish_code(Some("ABCDEF".into()));
        assert_eq!(waiter.await.unwrap(), Some("ABCDEF".into()));
        assert_eq!(room.wait_code().await, Some("ABCDEF".into()));
    }
}
