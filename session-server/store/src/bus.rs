//! Instance-to-instance messages over Redis pub/sub: calls with answers, and one-way pushes.
//!
//! Each instance listens on its own channel `inst:<ID>`. A member connected to instance B in
//! a room whose authority is A reaches the room through calls from B to A (join, an intent,
//! a status), and A pushes the room's frames for that member back to B, which hands them to
//! the member's connection. Bodies are JSON values chosen by the caller; the bus only adds
//! the envelope, the correlation of answers, timeouts, and bounds.
//!
//! Delivery is at most once and in order per sender (one Redis connection publishes them).
//! A call to an instance that is not listening fails at once (`PUBLISH` reports no receiver),
//! which is how a caller learns that an authority has died before its lease runs out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

use crate::redis_store::{RedisStore, StoreError};

/// Most calls waiting for an answer at once; beyond it a call fails (bounded memory when an
/// authority stops answering).
const MAX_PENDING: usize = 10_000;

/// The envelope on the wire.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
enum Envelope {
    Call { id: u64, from: String, body: Value },
    Answer { id: u64, body: Value },
    Push { from: String, body: Value },
}

/// Why a call got no answer.
#[derive(Clone, Debug, PartialEq)]
pub enum BusError {
    /// Redis is unreachable.
    Down(String),
    /// Nobody listens on the target's channel: that instance is gone.
    NoSuchInstance,
    /// No answer within the timeout.
    Timeout,
    /// Too many calls are waiting already.
    Busy,
}

impl std::fmt::Display for BusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BusError::Down(w) => write!(f, "redis unavailable: {w}"),
            BusError::NoSuchInstance => write!(f, "the instance is gone"),
            BusError::Timeout => write!(f, "no answer in time"),
            BusError::Busy => write!(f, "too many calls waiting"),
        }
    }
}

impl std::error::Error for BusError {}

/// Something that arrived for this instance.
#[derive(Debug)]
pub enum Incoming {
    /// A call: answer it with [`Bus::answer`] (or not: the caller times out).
    Call {
        /// Correlation id, for the answer.
        id: u64,
        /// The calling instance.
        from: String,
        /// The request.
        body: Value,
    },
    /// A one-way message.
    Push {
        /// The sending instance.
        from: String,
        /// The message.
        body: Value,
    },
}

/// This instance's end of the bus.
pub struct Bus {
    store: Arc<RedisStore>,
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, oneshot::Sender<Value>>>,
    /// Whether this instance's channel is subscribed right now: answers sent while it is
    /// not are lost (pub/sub keeps nothing), so a call waits for it first.
    listening: watch::Receiver<bool>,
    /// Calls and pushes dropped because the receiver was full (see [`Bus::dropped`]).
    dropped: AtomicU64,
    /// Dropped with the bus: its listening task ends and unsubscribes.
    _stop: oneshot::Sender<()>,
}

/// Takes a push in the listening task itself, before the queue: `None` when it took it,
/// the body back otherwise (it is queued as [`Incoming::Push`]). It must not block.
pub type InlinePush = Box<dyn Fn(&str, Value) -> Option<Value> + Send + Sync>;

impl Bus {
    /// Listen on this instance's channel. Calls and pushes arrive on the returned receiver
    /// (bounded by `capacity`; beyond it they are dropped, as a slow reader is anywhere
    /// here); answers are matched to their calls inside.
    pub fn start(store: Arc<RedisStore>, capacity: usize) -> (Arc<Bus>, mpsc::Receiver<Incoming>) {
        Bus::start_with(store, capacity, Box::new(|_, body| Some(body)))
    }

    /// [`Bus::start`], with the pushes `inline` takes handed to it at once: they never wait
    /// behind calls whose serving is slow, nor are dropped when those fill the queue.
    pub fn start_with(
        store: Arc<RedisStore>,
        capacity: usize,
        inline: InlinePush,
    ) -> (Arc<Bus>, mpsc::Receiver<Incoming>) {
        let channel = store.instance_channel(store.instance());
        let (mut raw, listening) =
            store.subscribe_watched(vec![channel], capacity, Duration::from_millis(200));
        let (stop_tx, mut stop_rx) = oneshot::channel();
        let bus = Arc::new(Bus {
            store,
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            listening,
            dropped: AtomicU64::new(0),
            _stop: stop_tx,
        });
        let (tx, rx) = mpsc::channel(capacity);
        let weak = Arc::downgrade(&bus);
        tokio::spawn(async move {
            loop {
                let payload = tokio::select! {
                    m = raw.recv() => match m {
                        Some((_, payload)) => payload,
                        None => return,
                    },
                    _ = &mut stop_rx => return,
                };
                let Some(bus) = weak.upgrade() else { return };
                let env: Envelope = match serde_json::from_slice(&payload) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(error = %e, "unreadable message on the instance channel");
                        continue;
                    }
                };
                let item = match env {
                    Envelope::Answer { id, body } => {
                        if let Some(waiter) = bus.lock().remove(&id) {
                            let _ = waiter.send(body);
                        }
                        continue;
                    }
                    Envelope::Call { id, from, body } => Incoming::Call { id, from, body },
                    Envelope::Push { from, body } => match inline(&from, body) {
                        None => continue,
                        Some(body) => Incoming::Push { from, body },
                    },
                };
                match tx.try_send(item) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Closed(_)) => return,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        // Bounded like every queue here, but never silently: a dropped call
                        // times out at its caller, a dropped push is lost.
                        let n = bus.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                        if n.is_power_of_two() {
                            tracing::warn!(dropped = n, capacity, "instance channel queue full: messages from other instances dropped");
                        }
                    }
                }
            }
        });
        (bus, rx)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Value>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This instance's id.
    pub fn instance(&self) -> &str {
        self.store.instance()
    }

    async fn send(&self, to: &str, env: &Envelope) -> Result<(), BusError> {
        let bytes = serde_json::to_vec(env).expect("an envelope serializes");
        let channel = self.store.instance_channel(to);
        match self.store.publish(&channel, &bytes).await {
            Ok(0) => Err(BusError::NoSuchInstance),
            Ok(_) => Ok(()),
            Err(StoreError::Down(w)) => Err(BusError::Down(w)),
            Err(e) => Err(BusError::Down(e.to_string())),
        }
    }

    /// Whether this instance's channel is subscribed (it can receive answers and calls).
    pub fn listening(&self) -> bool {
        *self.listening.borrow()
    }

    /// Call instance `to` and wait at most `timeout` for its answer.
    pub async fn call(&self, to: &str, body: Value, timeout: Duration) -> Result<Value, BusError> {
        // Our own channel first: an answer published before we listen reaches nobody, and
        // the call would wait out its whole timeout (an instance just started, or one whose
        // subscription is reconnecting).
        let mut listening = self.listening.clone();
        if tokio::time::timeout(timeout, listening.wait_for(|l| *l))
            .await
            .map_or(true, |r| r.is_err())
        {
            return Err(BusError::Down("not listening on our own channel".into()));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut p = self.lock();
            if p.len() >= MAX_PENDING {
                return Err(BusError::Busy);
            }
            p.insert(id, tx);
        }
        let env = Envelope::Call {
            id,
            from: self.instance().to_owned(),
            body,
        };
        let result = match self.send(to, &env).await {
            Ok(()) => match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(v)) => Ok(v),
                _ => Err(BusError::Timeout),
            },
            Err(e) => Err(e),
        };
        self.lock().remove(&id);
        result
    }

    /// Answer call `id` from instance `to`.
    pub async fn answer(&self, to: &str, id: u64, body: Value) -> Result<(), BusError> {
        self.send(to, &Envelope::Answer { id, body }).await
    }

    /// A one-way message to instance `to`.
    pub async fn push(&self, to: &str, body: Value) -> Result<(), BusError> {
        let env = Envelope::Push {
            from: self.instance().to_owned(),
            body,
        };
        self.send(to, &env).await
    }

    /// Calls and pushes dropped so far because they arrived faster than they were served.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Calls waiting for an answer (for tests and metrics).
    pub fn pending(&self) -> usize {
        self.lock().len()
    }
}
