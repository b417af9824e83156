//! Members on one instance, their room on another: the relay between a room's authority and
//! the instances its members are connected to (`store.backend = "redis"`).
//!
//! The member's instance (the *origin*) reaches the room through [`RemoteRoom`], which
//! implements [`Room`] by calls on the instances' bus (`matinee_store::bus`) to the authority.
//! There the member's seat is held by a proxy connection ([`Proxies`]): a bounded outbound
//! queue like any connection's, drained by a task that pushes each frame, unchanged, to the
//! origin, which hands it to the member's real connection ([`Deliveries`]). So a message means
//! the same whichever instance a client is connected to: it is the very frame the room made.
//!
//! Order: the origin sends a member's calls one after the other (a connection awaits each
//! answer) and the authority serves relayed calls in arrival order; frames for one member are
//! pushed in queue order by one task. A slow origin fills the proxy's queue and the room drops
//! that seat's connection as it would a slow reader (the seat waits for a resume). An origin
//! that has gone away (no listener on its channel) ends the proxy: the seat is disconnected.
//! Secrets never travel: joins carry the SHA-256 the seat keeps.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use matinee_auth::Identity;
use matinee_store::bus::{Bus, BusError};
use matinee_store::hash_secret;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::error::Failure;
use crate::outbound::{ConnHandle, Outbound};
use crate::protocol::{ErrorCode, LeftReason, PlaybackState};
use crate::room::{Done, Op, Snapshot, Who};
use crate::rooms::{BoxFuture, MemoryRooms, Room};

/// Longest wait for the authority's answer to a relayed call.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Outbound queue of a proxy connection (as `limits.outbound_queue` is for a real one).
const PROXY_QUEUE: usize = 256;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct WireIdentity {
    user_id: String,
    name: String,
    anonymous: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
enum WireWho {
    Conn { member_id: String, conn_id: u64 },
    Seat { member_id: String },
    User { user_id: String },
}

fn who_to_wire(w: &Who) -> WireWho {
    match w.clone() {
        Who::Conn { member_id, conn_id } => WireWho::Conn { member_id, conn_id },
        Who::Seat(member_id) => WireWho::Seat { member_id },
        Who::User(user_id) => WireWho::User { user_id },
    }
}

/// What the origin asks the authority.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
enum Call {
    Join {
        code: String,
        identity: WireIdentity,
        secret_sha256: Option<String>,
        req_id: Option<Value>,
        conn: u64,
    },
    Resume {
        code: String,
        member_id: String,
        conn: u64,
    },
    Op {
        code: String,
        who: WireWho,
        req_id: Option<Value>,
        op: Op,
    },
    Tell {
        code: String,
        who: WireWho,
        op: Op,
    },
    Disconnected {
        code: String,
        member_id: String,
        conn: u64,
    },
    Snapshot {
        code: String,
        who: WireWho,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct WireFailure {
    code: ErrorCode,
    message: String,
}

/// What the authority pushes to the origin for one of its connections.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "push", rename_all = "snake_case")]
enum Delivery {
    Frame {
        conn: u64,
        kind: String,
        text: String,
    },
    Left {
        conn: u64,
        code: String,
        member_id: String,
        reason: LeftReason,
        text: String,
    },
    Kill {
        conn: u64,
        close: u16,
    },
}

/// A frame's `type` as the metrics label it was sent under (labels are static strings).
fn kind_label(kind: &str) -> &'static str {
    const KINDS: &[&str] = &[
        "welcome", "pong", "room", "state", "members", "chat", "reaction", "left", "error",
    ];
    KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .unwrap_or("other")
}

fn failure_of(e: BusError) -> Failure {
    Failure::new(
        ErrorCode::Unavailable,
        format!("the instance driving this room did not answer ({e}); retry"),
    )
}

/// Origin side: this instance's connections that are seated in rooms driven elsewhere.
#[derive(Default)]
pub struct Deliveries {
    /// Connection id → (room code, authority instance, the connection).
    conns: Mutex<HashMap<u64, Delivered>>,
}

/// One connection of this instance seated in a room driven elsewhere.
struct Delivered {
    /// The room's code.
    code: String,
    /// The instance driving it, as the connection reached it.
    authority: String,
    /// The connection.
    conn: ConnHandle,
}

impl Deliveries {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Delivered>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn register(&self, code: &str, authority: &str, conn: &ConnHandle) {
        let d = Delivered {
            code: code.to_owned(),
            authority: authority.to_owned(),
            conn: conn.clone(),
        };
        self.lock().insert(conn.conn_id, d);
    }

    fn forget(&self, conn_id: u64) {
        self.lock().remove(&conn_id);
    }

    /// Hand a pushed frame to its connection.
    pub fn deliver(&self, body: Value) {
        let Ok(d) = serde_json::from_value::<Delivery>(body) else {
            return;
        };
        let conn_of = |id: u64| self.lock().get(&id).map(|d| d.conn.clone());
        match d {
            Delivery::Frame { conn, kind, text } => {
                if let Some(c) = conn_of(conn) {
                    c.send(Outbound::Frame {
                        text: Utf8Bytes::from(text),
                        kind: kind_label(&kind),
                        decided: tokio::time::Instant::now(),
                    });
                }
            }
            Delivery::Left {
                conn,
                code,
                member_id,
                reason,
                text,
            } => {
                if let Some(c) = conn_of(conn) {
                    c.send(Outbound::Left {
                        code,
                        member_id,
                        reason,
                        text: Utf8Bytes::from(text),
                    });
                }
                self.forget(conn);
            }
            Delivery::Kill { conn, close } => {
                if let Some(c) = conn_of(conn) {
                    c.kill(close);
                }
            }
        }
    }

    /// Room codes with members here: the instance driving each (as the last of its members
    /// here reached it) and those members' connections.
    pub fn by_room(&self) -> HashMap<String, (String, Vec<ConnHandle>)> {
        let mut out: HashMap<String, (String, Vec<ConnHandle>)> = HashMap::new();
        for d in self.lock().values() {
            let e = out
                .entry(d.code.clone())
                .or_insert_with(|| (d.authority.clone(), Vec::new()));
            e.0.clone_from(&d.authority);
            e.1.push(d.conn.clone());
        }
        out
    }

    /// Forget every connection of room `code` (its authority is gone; they were told 1001).
    pub fn drop_room(&self, code: &str) {
        self.lock().retain(|_, d| d.code != code);
    }
}

/// A room driven by another instance, as this instance's connections reach it.
pub struct RemoteRoom {
    code: String,
    authority: String,
    bus: Arc<Bus>,
    deliveries: Arc<Deliveries>,
}

impl RemoteRoom {
    /// Room `code` driven by instance `authority`.
    pub fn new(
        code: String,
        authority: String,
        bus: Arc<Bus>,
        deliveries: Arc<Deliveries>,
    ) -> Self {
        RemoteRoom {
            code,
            authority,
            bus,
            deliveries,
        }
    }

    async fn call(&self, call: Call) -> Result<Value, Failure> {
        let body = json!({ "relay": call });
        let answer = self
            .bus
            .call(&self.authority, body, CALL_TIMEOUT)
            .await
            .map_err(failure_of)?;
        if let Some(err) = answer.get("err") {
            let f: WireFailure = serde_json::from_value(err.clone())
                .map_err(|e| Failure::new(ErrorCode::Internal, e.to_string()))?;
            return Err(Failure::new(f.code, f.message));
        }
        Ok(answer.get("ok").cloned().unwrap_or(Value::Null))
    }
}

impl Room for RemoteRoom {
    fn code(&self) -> &str {
        &self.code
    }

    fn join(
        &self,
        identity: Identity,
        secret: Option<String>,
        conn: ConnHandle,
        req_id: Option<Value>,
    ) -> BoxFuture<'_, Result<String, Failure>> {
        Box::pin(async move {
            // Registered first: the authority's `room` snapshot may arrive before its answer.
            self.deliveries.register(&self.code, &self.authority, &conn);
            let call = Call::Join {
                code: self.code.clone(),
                identity: WireIdentity {
                    user_id: identity.user_id,
                    name: identity.name,
                    anonymous: identity.anonymous,
                },
                secret_sha256: secret.map(|s| hash_secret(&s)),
                req_id,
                conn: conn.conn_id,
            };
            let r = self.call(call).await.and_then(|v| {
                serde_json::from_value::<String>(v)
                    .map_err(|e| Failure::new(ErrorCode::Internal, e.to_string()))
            });
            if r.is_err() {
                self.deliveries.forget(conn.conn_id);
            }
            r
        })
    }

    fn resume(&self, member_id: String, conn: ConnHandle) -> BoxFuture<'_, Result<(), Failure>> {
        Box::pin(async move {
            self.deliveries.register(&self.code, &self.authority, &conn);
            let call = Call::Resume {
                code: self.code.clone(),
                member_id,
                conn: conn.conn_id,
            };
            let r = self.call(call).await.map(|_| ());
            if r.is_err() {
                self.deliveries.forget(conn.conn_id);
            }
            r
        })
    }

    fn op(&self, who: Who, req_id: Option<Value>, op: Op) -> BoxFuture<'_, Result<Done, Failure>> {
        Box::pin(async move {
            let call = Call::Op {
                code: self.code.clone(),
                who: who_to_wire(&who),
                req_id,
                op,
            };
            let v = self.call(call).await?;
            Ok(match serde_json::from_value::<Option<PlaybackState>>(v) {
                Ok(Some(state)) => Done::State(state),
                _ => Done::Ok,
            })
        })
    }

    fn tell(&self, who: Who, op: Op) -> BoxFuture<'_, Result<(), Failure>> {
        Box::pin(async move {
            let call = Call::Tell {
                code: self.code.clone(),
                who: who_to_wire(&who),
                op,
            };
            // A push, like the mailbox's `tell`: no answer awaited, but the order with the
            // member's calls holds (one publisher, one serving loop).
            self.bus
                .push(&self.authority, json!({ "relay": call }))
                .await
                .map_err(failure_of)
        })
    }

    fn disconnected(&self, member_id: String, conn_id: u64) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.deliveries.forget(conn_id);
            let call = Call::Disconnected {
                code: self.code.clone(),
                member_id,
                conn: conn_id,
            };
            let _ = self
                .bus
                .push(&self.authority, json!({ "relay": call }))
                .await;
        })
    }

    fn snapshot(&self, who: Who) -> BoxFuture<'_, Result<Snapshot, Failure>> {
        Box::pin(async move {
            let call = Call::Snapshot {
                code: self.code.clone(),
                who: who_to_wire(&who),
            };
            let v = self.call(call).await?;
            serde_json::from_value(v).map_err(|e| Failure::new(ErrorCode::Internal, e.to_string()))
        })
    }
}

/// Authority side: the proxy connections of members connected to other instances.
#[derive(Default)]
pub struct Proxies {
    /// (origin instance, origin connection id) → proxy connection id.
    ids: Mutex<HashMap<(String, u64), u64>>,
    next: AtomicU64,
}

/// Proxy connection ids live far above the ids of this instance's own connections.
const PROXY_IDS: u64 = 1 << 62;

impl Proxies {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u64), u64>> {
        self.ids.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn proxy_id(&self, origin: &str, conn: u64) -> Option<u64> {
        self.lock().get(&(origin.to_owned(), conn)).copied()
    }

    /// A fresh proxy connection for `origin`'s connection `conn`, with the task that pushes
    /// its frames there. The task ends when the room lets the connection go (queue closed),
    /// kills it, or the origin is gone (then the seat is told it disconnected).
    fn open(
        self: &Arc<Self>,
        bus: &Arc<Bus>,
        local: &Arc<MemoryRooms>,
        code: &str,
        origin: &str,
        conn: u64,
    ) -> ConnHandle {
        let id = PROXY_IDS + self.next.fetch_add(1, Ordering::Relaxed);
        let (handle, mut rx, kill) = ConnHandle::new(id, PROXY_QUEUE);
        self.lock().insert((origin.to_owned(), conn), id);
        let (me, bus, local) = (self.clone(), bus.clone(), local.clone());
        let (code, origin) = (code.to_owned(), origin.to_owned());
        tokio::spawn(async move {
            let mut member: Option<String> = None;
            loop {
                let push = tokio::select! {
                    out = rx.recv() => match out {
                        Some(Outbound::Frame { text, kind, .. }) => {
                            if kind == "room" && member.is_none() {
                                member = serde_json::from_str::<Value>(&text)
                                    .ok()
                                    .and_then(|v| v["you"].as_str().map(str::to_owned));
                            }
                            Delivery::Frame { conn, kind: kind.to_owned(), text: text.to_string() }
                        }
                        Some(Outbound::Left { code, member_id, reason, text }) => Delivery::Left {
                            conn, code, member_id, reason, text: text.to_string(),
                        },
                        None => break,
                    },
                    close = kill.wait() => {
                        let _ = bus.push(&origin, json!(Delivery::Kill { conn, close })).await;
                        break;
                    }
                };
                if let Err(e) = bus.push(&origin, json!(push)).await {
                    // A frame the member will never see (its instance is gone, or Redis or
                    // that instance's subscription is down for a moment; pub/sub keeps
                    // nothing): relaying more would leave the member on a state it missed.
                    // The seat waits for a resume, which brings the whole room again; a
                    // member still connected there is told to resume by its next call
                    // (`serve`, a connection without a relay).
                    tracing::debug!(room = %code, origin = %origin, error = %e, "relay to a member's instance failed; its seat waits for a resume");
                    if let (Some(m), Some(mb)) = (&member, local.mailbox(&code)) {
                        mb.disconnected(m.clone(), id).await;
                    }
                    break;
                }
            }
            me.lock().retain(|_, v| *v != id);
        });
        handle
    }
}

/// Serve one relayed call or push for a room driven here; the answer body for calls.
pub async fn serve(
    local: &Arc<MemoryRooms>,
    proxies: &Arc<Proxies>,
    bus: &Arc<Bus>,
    from: &str,
    body: Value,
) -> Value {
    let call: Call = match serde_json::from_value(body) {
        Ok(c) => c,
        Err(e) => return err(Failure::new(ErrorCode::BadRequest, e.to_string())),
    };
    let code = match &call {
        Call::Join { code, .. }
        | Call::Resume { code, .. }
        | Call::Op { code, .. }
        | Call::Tell { code, .. }
        | Call::Disconnected { code, .. }
        | Call::Snapshot { code, .. } => code.clone(),
    };
    let Some(mb) = local.mailbox(&code) else {
        return err(Failure::new(
            ErrorCode::Unavailable,
            "this instance no longer drives the room; retry",
        ));
    };
    // A connection of the origin that speaks for a seat through a relay that has ended here
    // (a frame for it could not be pushed, or the kill that ended it was lost): the origin
    // still takes it to be seated, the room has the seat waiting for a resume. The seat is
    // resumed for it here, on a new relay, as the origin did when the connection took it:
    // the member gets the whole room again (`room`, so what it missed is made good) and its
    // call is served. Where the seat has gone, the origin is told to close the connection
    // (1001): the client reconnects and learns it from its resume. Never a connection that
    // the room refuses for as long as it stays connected.
    if let Call::Op { who: w, .. } | Call::Tell { who: w, .. } | Call::Snapshot { who: w, .. } =
        &call
    {
        if let WireWho::Conn { member_id, conn_id } = w {
            if proxies.proxy_id(from, *conn_id).is_none() {
                let proxy = proxies.open(bus, local, &code, from, *conn_id);
                if let Err(f) = mb.resume(member_id.clone(), proxy).await {
                    tracing::info!(room = %code, origin = %from, error = %f.message, "a member's relay had ended and its seat is gone; it is told to reconnect");
                    let kill = Delivery::Kill {
                        conn: *conn_id,
                        close: crate::protocol::close::GOING_AWAY,
                    };
                    let _ = bus.push(from, json!(kill)).await;
                    return err(Failure::new(
                        ErrorCode::Unavailable,
                        "this connection's seat was lost; reconnect",
                    ));
                }
                tracing::info!(room = %code, origin = %from, "a member's relay had ended; its seat is relayed again");
            }
        }
    }
    let who = |w: WireWho| -> Who {
        match w {
            WireWho::Conn { member_id, conn_id } => Who::Conn {
                member_id,
                // The seat is held by the proxy of that connection (there is one: above).
                conn_id: proxies.proxy_id(from, conn_id).unwrap_or(u64::MAX),
            },
            WireWho::Seat { member_id } => Who::Seat(member_id),
            WireWho::User { user_id } => Who::User(user_id),
        }
    };
    match call {
        Call::Join {
            identity,
            secret_sha256,
            req_id,
            conn,
            ..
        } => {
            let proxy = proxies.open(bus, local, &code, from, conn);
            let identity = Identity {
                user_id: identity.user_id,
                name: identity.name,
                anonymous: identity.anonymous,
            };
            answer(mb.join(identity, secret_sha256, proxy, req_id).await)
        }
        Call::Resume {
            member_id, conn, ..
        } => {
            let proxy = proxies.open(bus, local, &code, from, conn);
            answer(mb.resume(member_id, proxy).await)
        }
        Call::Op {
            who: w, req_id, op, ..
        } => {
            let r = mb.op(who(w), req_id, op).await.map(|d| match d {
                Done::State(s) => Some(s),
                Done::Ok => None,
            });
            answer(r)
        }
        Call::Tell { who: w, op, .. } => {
            let _ = mb.tell(who(w), op).await;
            Value::Null
        }
        Call::Disconnected {
            member_id, conn, ..
        } => {
            if let Some(id) = proxies.proxy_id(from, conn) {
                mb.disconnected(member_id, id).await;
            }
            Value::Null
        }
        Call::Snapshot { who: w, .. } => answer(mb.snapshot(who(w)).await),
    }
}

fn err(f: Failure) -> Value {
    json!({ "err": WireFailure { code: f.code, message: f.message } })
}

fn answer<T: Serialize>(r: Result<T, Failure>) -> Value {
    match r {
        Ok(v) => json!({ "ok": v }),
        Err(f) => err(f),
    }
}
