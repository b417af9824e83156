//! The rooms registry: room code → the room, wherever it lives.
//!
//! [`RoomStore`] is the narrow interface the transports use, and [`Room`] is one room as
//! they reach it: typed calls that resolve to answers, no channels. A store outside this
//! process (Redis, with one authority per room) implements both over its own transport; the
//! only in-process value that crosses the trait is the caller's own [`ConnHandle`], which is
//! where a store delivers the room's frames for that connection. [`MemoryRooms`] keeps rooms
//! in this process, each owned by its actor task.
//!
//! The map is behind a `std::sync::Mutex` because every critical section is a hash-map
//! operation: it is never held across `.await` and no other lock is ever taken inside it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use matinee_auth::Identity;
use rand::Rng;
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use crate::clock::now_ms;
use crate::durable::RestoredSeat;
use crate::error::Failure;
use crate::metrics::Metrics;
use crate::outbound::ConnHandle;
use crate::protocol::{ErrorCode, Media, Settings};
use crate::room::{
    run_room, Done, Mailbox, Op, RecordSink, RoomParams, RoomRecord, RoomSetup, Snapshot, Who,
};
use matinee_store::hash_secret;

/// Room codes use this alphabet: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V look-alikes.
pub const CODE_ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTWXY34679";
/// Length of a room code.
pub const CODE_LEN: usize = 6;
/// Mailbox size of a room: commands beyond it wait (backpressure on the senders).
const MAILBOX: usize = 1024;

/// A boxed future, so that [`Room`] and [`RoomStore`] can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One live room, as connections and routes reach it.
pub trait Room: Send + Sync {
    /// Room code.
    fn code(&self) -> &str;
    /// Take a new seat with `conn`; resolves to the member id. `secret` is the joining
    /// session's resume secret, kept with the seat.
    fn join(
        &self,
        identity: Identity,
        secret: Option<String>,
        conn: ConnHandle,
        req_id: Option<Value>,
    ) -> BoxFuture<'_, Result<String, Failure>>;
    /// Take seat `member_id` back with a new connection.
    fn resume(&self, member_id: String, conn: ConnHandle) -> BoxFuture<'_, Result<(), Failure>>;
    /// A member-scoped operation, answered.
    fn op(&self, who: Who, req_id: Option<Value>, op: Op) -> BoxFuture<'_, Result<Done, Failure>>;
    /// A member-scoped operation without an answer (`status`); fails when the room is gone.
    fn tell(&self, who: Who, op: Op) -> BoxFuture<'_, Result<(), Failure>>;
    /// Connection `conn_id` holding seat `member_id` has ended.
    fn disconnected(&self, member_id: String, conn_id: u64) -> BoxFuture<'_, ()>;
    /// The room as `who` may see it.
    fn snapshot(&self, who: Who) -> BoxFuture<'_, Result<Snapshot, Failure>>;
}

/// A room, shared.
pub type RoomHandle = Arc<dyn Room>;

/// Where rooms live.
pub trait RoomStore: Send + Sync + 'static {
    /// Create a room with `creator` as its first member and host (`conn` its connection,
    /// `secret` its session's resume secret). Resolves once the room has taken the seat.
    fn create(
        &self,
        settings: Settings,
        media: Option<Media>,
        creator: Identity,
        secret: Option<String>,
        conn: ConnHandle,
        req_id: Option<Value>,
    ) -> BoxFuture<'_, Result<(RoomHandle, String), Failure>>;
    /// Look a room up by its (normalized) code.
    fn get<'a>(&'a self, code: &'a str) -> BoxFuture<'a, Option<RoomHandle>>;
    /// Number of live rooms this store knows of.
    fn len(&self) -> usize;
    /// Whether there are no rooms.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether rooms outlive this process. When they do not, members are told
    /// `left{room_closed}` on shutdown, so that clients do not try to resume.
    fn survives_restart(&self) -> bool {
        false
    }
    /// Whether the store's backends answer, or why not (feeds `GET /readyz`).
    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
    /// A seat kept elsewhere (by another instance that has died) that `secret` proves, taken
    /// over by this store so that the caller can resume it. In-process stores have none.
    /// `Err` (`unavailable`) when the seat exists but its room cannot be had now: retry.
    fn seat_for<'a>(
        &'a self,
        _secret: &'a str,
    ) -> BoxFuture<'a, Result<Option<RestoredSeat>, Failure>> {
        Box::pin(async { Ok(None) })
    }
}

/// A room of this process: its code and the mailbox of its actor.
#[derive(Clone, Debug)]
pub struct LocalRoom {
    code: String,
    mailbox: Mailbox,
}

impl LocalRoom {
    /// The actor's mailbox (for a store that takes records, and for tests).
    pub fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }
}

impl Room for LocalRoom {
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
        let hash = secret.map(|s| hash_secret(&s));
        Box::pin(self.mailbox.join(identity, hash, conn, req_id))
    }
    fn resume(&self, member_id: String, conn: ConnHandle) -> BoxFuture<'_, Result<(), Failure>> {
        Box::pin(self.mailbox.resume(member_id, conn))
    }
    fn op(&self, who: Who, req_id: Option<Value>, op: Op) -> BoxFuture<'_, Result<Done, Failure>> {
        Box::pin(self.mailbox.op(who, req_id, op))
    }
    fn tell(&self, who: Who, op: Op) -> BoxFuture<'_, Result<(), Failure>> {
        Box::pin(self.mailbox.tell(who, op))
    }
    fn disconnected(&self, member_id: String, conn_id: u64) -> BoxFuture<'_, ()> {
        Box::pin(self.mailbox.disconnected(member_id, conn_id))
    }
    fn snapshot(&self, who: Who) -> BoxFuture<'_, Result<Snapshot, Failure>> {
        Box::pin(self.mailbox.snapshot(who))
    }
}

/// Normalize a code typed by a person (case, spaces, dashes); `None` when it cannot be a code.
pub fn normalize_code(input: &str) -> Option<String> {
    let c: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    (c.len() == CODE_LEN && c.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(c)
}

/// A fresh random code from the OS-seeded CSPRNG (`rand::rng()`): 23^6 ≈ 148 million codes,
/// and five failed joins per minute per connection make guessing impractical.
pub fn random_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

struct Entry {
    instance: u64,
    room: Arc<LocalRoom>,
}

/// Rooms run in this process; with a [`RecordSink`] (see [`MemoryRooms::durable`]) each
/// room's record is also kept by a store, so the rooms outlive the process.
pub struct MemoryRooms {
    map: Arc<Mutex<HashMap<String, Entry>>>,
    params: RoomParams,
    max_rooms: usize,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
    next_instance: AtomicU64,
    sink: Option<Arc<dyn RecordSink>>,
}

impl MemoryRooms {
    /// An empty registry.
    pub fn new(
        params: RoomParams,
        max_rooms: usize,
        metrics: Arc<Metrics>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        MemoryRooms {
            map: Arc::new(Mutex::new(HashMap::new())),
            params,
            max_rooms,
            metrics,
            shutdown,
            next_instance: AtomicU64::new(1),
            sink: None,
        }
    }

    /// Hand every room's record to `sink` when it changes: the rooms survive a restart.
    pub fn durable(mut self, sink: Arc<dyn RecordSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The mailbox of room `code`, if it runs here (for a store that relays other instances'
    /// members to it: they arrive with their secret already hashed).
    pub fn mailbox(&self, code: &str) -> Option<Mailbox> {
        self.lock().get(code).map(|e| e.room.mailbox().clone())
    }

    /// Codes of the rooms running here.
    pub fn codes(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// The record of room `code` now, if it runs here.
    pub async fn record(&self, code: &str) -> Option<RoomRecord> {
        let room = self.lock().get(code).map(|e| e.room.clone())?;
        room.mailbox().record().await.ok()
    }

    /// Start a room from a stored record, under its own code; every seat waits for its
    /// resume from now. Refused when the code is taken (or the room limit reached).
    pub fn restore(&self, record: RoomRecord) -> Result<(), Failure> {
        let code = record.code.clone();
        self.open(Some(code), |_| record, |_| Ok(())).map(|_| ())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl MemoryRooms {
    /// Register a room under `code` (a fresh one when `None`), start its actor from
    /// `record(code)`. `first` queues the first command on the new mailbox before the code is
    /// visible to anybody else.
    fn open<T>(
        &self,
        code: Option<String>,
        record: impl FnOnce(String) -> RoomRecord,
        first: impl FnOnce(&Mailbox) -> Result<T, Failure>,
    ) -> Result<(Arc<LocalRoom>, T), Failure> {
        let (tx, rx) = mpsc::channel(MAILBOX);
        let mailbox = Mailbox::new(tx);
        let queued = first(&mailbox)?;
        let instance = self.next_instance.fetch_add(1, Ordering::Relaxed);
        let room = {
            let mut map = self.lock();
            if map.len() >= self.max_rooms {
                return Err(Failure::new(
                    ErrorCode::RateLimited,
                    "this server has reached its room limit; try later",
                ));
            }
            let code = match code {
                Some(c) if map.contains_key(&c) => {
                    return Err(Failure::new(
                        ErrorCode::Internal,
                        "room code already in use",
                    ))
                }
                Some(c) => c,
                None => {
                    let mut c = random_code();
                    while map.contains_key(&c) {
                        c = random_code();
                    }
                    c
                }
            };
            let room = Arc::new(LocalRoom {
                code: code.clone(),
                mailbox,
            });
            map.insert(
                code,
                Entry {
                    instance,
                    room: room.clone(),
                },
            );
            room
        };
        let map = self.map.clone();
        let c = room.code.clone();
        let on_close = Box::new(move || {
            let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
            if m.get(&c).is_some_and(|e| e.instance == instance) {
                m.remove(&c);
            }
        });
        let setup = RoomSetup {
            record: record(room.code.clone()),
            params: self.params.clone(),
            metrics: self.metrics.clone(),
            shutdown: self.shutdown.clone(),
            sink: self.sink.clone(),
        };
        tokio::spawn(run_room(setup, rx, on_close));
        Ok((room, queued))
    }
}

impl RoomStore for MemoryRooms {
    fn create(
        &self,
        settings: Settings,
        media: Option<Media>,
        creator: Identity,
        secret: Option<String>,
        conn: ConnHandle,
        req_id: Option<Value>,
    ) -> BoxFuture<'_, Result<(RoomHandle, String), Failure>> {
        // The creator's seat is the first command the room sees, queued before anybody else
        // can learn the code, so a room never exists without a seat.
        let opened = self.open(
            None,
            |code| RoomRecord::new(code, settings, media, now_ms()),
            |mb| mb.join_first(creator, secret.map(|s| hash_secret(&s)), conn, req_id),
        );
        Box::pin(async move {
            let (room, seated) = opened?;
            let member_id = seated.await?;
            Ok((room as RoomHandle, member_id))
        })
    }

    fn get<'a>(&'a self, code: &'a str) -> BoxFuture<'a, Option<RoomHandle>> {
        let room = self.lock().get(code).map(|e| e.room.clone() as RoomHandle);
        Box::pin(std::future::ready(room))
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn survives_restart(&self) -> bool {
        self.sink.is_some()
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        let fault = self.sink.as_ref().and_then(|s| s.fault());
        Box::pin(async move { fault.map_or(Ok(()), Err) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_unambiguous_alphabet() {
        for _ in 0..1000 {
            let c = random_code();
            assert_eq!(c.len(), CODE_LEN);
            assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{c}");
        }
        for bad in [b'0', b'O', b'1', b'I', b'L'] {
            assert!(!CODE_ALPHABET.contains(&bad));
        }
    }

    #[test]
    fn normalize() {
        assert_eq!(normalize_code(" acd-efg ").as_deref(), Some("ACDEFG"));
        assert_eq!(normalize_code("ACDEF"), None);
        assert_eq!(normalize_code("ACDEF0"), None);
    }
}
