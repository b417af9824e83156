//! Rooms shared through Redis (`store.backend = "redis"`): several instances, one authority
//! per room at a time.
//!
//! Every room runs on the instance that holds its lease in Redis (the authority), exactly as
//! a local room does; its record goes to Redis (coalesced, like the embedded store's files),
//! and each of its seats is indexed by the hash of its resume secret. Another instance takes a
//! room over only when nobody holds its lease: its authority stopped (a graceful stop releases
//! the leases at once) or died (the lease runs out after `store.redis.lease_ms`). A client of
//! the lost instance reconnects — to any instance — and presents its secret; that instance
//! finds the room by the seat index, waits for the lease to be free, restores the room from
//! its snapshot and resumes the seat.
//!
//! Members of one room meet on one instance: an instance asked to join or resume a room that
//! another *live* instance drives asks that one to hand the room over (a call on
//! `matinee_store::bus`): it writes the room's last record, releases the lease and closes its
//! members with 1001; they reconnect, and the room follows them. With a proxy that sends every
//! client to the same healthy instance (active/standby, `lb_policy first`) that only happens
//! when clients are moved, e.g. after a failover. What this does not do: keep one room's
//! members on *different* live instances in sync (relaying frames between instances); a
//! proxy that spreads one room's members over both would make the room move back and forth.
//!
//! Redis down: rooms already here keep running (their writes wait and are retried),
//! `/readyz` answers 503, new takeovers wait. Redis back (even empty, after a restart without
//! persistence): leases are taken again and every room is written again.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use matinee_auth::Identity;
use matinee_store::bus::{Bus, Incoming};
use matinee_store::{hash_secret, RedisStore};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::durable::{from_snapshot, to_snapshot, RestoredSeat};
use crate::error::Failure;
use crate::outbound::ConnHandle;
use crate::protocol::{ErrorCode, Media, Settings};
use crate::room::{RecordSink, RoomRecord};
use crate::rooms::{BoxFuture, MemoryRooms, RoomHandle, RoomStore};

enum Pending {
    Save(Box<RoomRecord>),
    Remove,
}

/// Where rooms hand their records: a map of the latest one per room, written to Redis by
/// [`RedisSink::run_writer`].
pub struct RedisSink {
    redis: Arc<RedisStore>,
    pending: Mutex<HashMap<String, Pending>>,
    wake: tokio::sync::Notify,
    interval: Duration,
    /// Seat hashes already indexed, per room (an index entry is written once per seat).
    indexed: Mutex<HashMap<String, HashSet<String>>>,
}

impl RedisSink {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Write what is pending; entries that could not be written stay for the next round.
    async fn flush(&self) -> bool {
        let batch: Vec<(String, Pending)> = self.lock().drain().collect();
        let mut ok = true;
        for (code, p) in batch {
            let done = match &p {
                Pending::Save(record) => self.write(record).await,
                Pending::Remove => {
                    self.indexed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&code);
                    self.redis.delete(&code).await.is_ok()
                }
            };
            if !done {
                ok = false;
                self.lock().entry(code).or_insert(p);
            }
        }
        ok
    }

    async fn write(&self, record: &RoomRecord) -> bool {
        let snap = to_snapshot(record);
        let saved = match self.redis.save(&snap).await {
            Ok(true) => true,
            // Not ours (a new room, or Redis lost the lease): take the lease if it is free.
            Ok(false) => match self.redis.acquire(&snap.code).await {
                Ok(true) => {
                    // A new room, or Redis lost our keys (it restarted empty): its seats
                    // must be indexed again too.
                    self.indexed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&snap.code);
                    matches!(self.redis.save(&snap).await, Ok(true))
                }
                Ok(false) => {
                    // Handed over (or a code clash): the other instance owns the room now.
                    tracing::debug!(room = %snap.code, "room state not written: another instance holds the room");
                    return true; // nothing to retry
                }
                Err(_) => false,
            },
            Err(_) => false,
        };
        if !saved {
            return false;
        }
        let fresh: Vec<String> = {
            let mut idx = self.indexed.lock().unwrap_or_else(|p| p.into_inner());
            let known = idx.entry(snap.code.clone()).or_default();
            snap.seats
                .iter()
                .filter_map(|s| s.secret_sha256.clone())
                .filter(|h| known.insert(h.clone()))
                .collect()
        };
        for h in fresh {
            if self.redis.index_seat(&h, &snap.code).await.is_err() {
                if let Some(k) = self
                    .indexed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_mut(&snap.code)
                {
                    k.remove(&h);
                }
                return false;
            }
        }
        true
    }

    /// The writer: at most every interval while there are changes, until `stop`; then a last
    /// flush (bounded: Redis may be down at shutdown).
    pub async fn run_writer<F: std::future::Future>(self: Arc<Self>, stop: F) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = &mut stop => break,
            }
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = &mut stop => break,
            }
            if !self.flush().await {
                // Redis is down or busy: try again after a pause, not in a tight loop.
                tokio::time::sleep(Duration::from_millis(500)).await;
                self.wake.notify_one();
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(3), self.flush()).await;
    }
}

impl RecordSink for RedisSink {
    fn save(&self, record: &RoomRecord) {
        self.lock()
            .insert(record.code.clone(), Pending::Save(Box::new(record.clone())));
        self.wake.notify_one();
    }
    fn closed(&self, code: &str) {
        self.lock().insert(code.to_owned(), Pending::Remove);
        self.wake.notify_one();
    }
}

/// Answer other instances' calls (each in its own task: a hand-over waits for a room).
async fn serve_calls(rooms: Weak<RedisRooms>, mut calls: mpsc::Receiver<Incoming>) {
    while let Some(m) = calls.recv().await {
        let Some(rooms) = rooms.upgrade() else { return };
        if let Incoming::Call { id, from, body } = m {
            tokio::spawn(async move {
                let ok = match body.get("handover").and_then(Value::as_str) {
                    Some(code) => rooms.hand_over(code).await,
                    None => false,
                };
                let _ = rooms.bus.answer(&from, id, json!({ "ok": ok })).await;
            });
        }
    }
}

/// The registry with Redis behind it.
pub struct RedisRooms {
    local: Arc<MemoryRooms>,
    redis: Arc<RedisStore>,
    /// Calls between instances: "hand room X over to me".
    bus: Arc<Bus>,
    sink: Arc<RedisSink>,
    up: AtomicBool,
    /// One takeover at a time (two clients of the same lost room arrive together).
    taking: tokio::sync::Mutex<()>,
}

impl RedisRooms {
    /// A registry over `redis`; `make_local` builds the in-process rooms with the sink.
    pub fn new(
        redis: Arc<RedisStore>,
        flush_interval: Duration,
        make_local: impl FnOnce(Arc<dyn RecordSink>) -> MemoryRooms,
    ) -> Arc<RedisRooms> {
        let sink = Arc::new(RedisSink {
            redis: redis.clone(),
            pending: Mutex::new(HashMap::new()),
            wake: tokio::sync::Notify::new(),
            interval: flush_interval,
            indexed: Mutex::new(HashMap::new()),
        });
        let local = Arc::new(make_local(sink.clone()));
        let (bus, calls) = Bus::start(redis.clone(), 256);
        let rooms = Arc::new(RedisRooms {
            local,
            redis,
            sink,
            bus,
            up: AtomicBool::new(true),
            taking: tokio::sync::Mutex::new(()),
        });
        tokio::spawn(serve_calls(Arc::downgrade(&rooms), calls));
        rooms
    }

    /// Another instance wants room `code` (its members now reach that instance): stop it
    /// here, write its last record, release the lease. Its members, closed with 1001,
    /// reconnect and resume there.
    async fn hand_over(&self, code: &str) -> bool {
        let Some(record) = self.local.evict(code).await else {
            return false;
        };
        let saved = matches!(self.redis.save(&to_snapshot(&record)).await, Ok(true));
        let _ = self.redis.release(code).await;
        saved
    }

    /// The sink (its writer is the caller's to run).
    pub fn sink(&self) -> Arc<RedisSink> {
        self.sink.clone()
    }

    /// Keep our leases (every third of the lease) and readiness, until `stop`. A lease that
    /// Redis lost (it restarted) is taken again and its room written again; one that another
    /// instance now holds is reported.
    pub async fn run_leases<F: std::future::Future>(self: Arc<Self>, stop: F) {
        tokio::pin!(stop);
        let every = self.redis.lease() / 3;
        loop {
            let up = self.redis.heartbeat().await.is_ok();
            if up != self.up.swap(up, Ordering::Relaxed) {
                if up {
                    tracing::info!("redis answers again");
                } else {
                    tracing::warn!("redis does not answer: rooms here go on, /readyz is 503");
                }
            }
            if up {
                for code in self.local.codes() {
                    match self.redis.renew(&code).await {
                        Ok(true) | Err(_) => {}
                        Ok(false) => match self.redis.acquire(&code).await {
                            Ok(true) => {
                                // Redis lost the lease, so maybe the snapshot and the seat
                                // index too: write them all again.
                                self.sink
                                    .indexed
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .remove(&code);
                                if let Some(r) = self.local.record(&code).await {
                                    self.sink.save(&r);
                                }
                            }
                            Ok(false) => tracing::error!(
                                room = %code,
                                "another instance holds this room's lease; two instances drive it"
                            ),
                            Err(_) => {}
                        },
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = &mut stop => break,
            }
        }
    }

    /// Give up every lease we hold (graceful stop: another instance may take over at once).
    pub async fn release_all(&self, codes: Vec<String>) {
        for code in codes {
            let _ = self.redis.release(&code).await;
        }
    }

    /// Codes of the rooms running here.
    pub fn local_codes(&self) -> Vec<String> {
        self.local.codes()
    }

    /// Make room `code` run here if nobody drives it, waiting up to a lease for an authority
    /// that stopped renewing. `Err` with `unavailable` while another live instance drives it.
    async fn take_over(&self, code: &str) -> Result<Option<RoomHandle>, Failure> {
        let _one = self.taking.lock().await;
        if let Some(r) = self.local.get(code).await {
            return Ok(Some(r));
        }
        let down = |e: matinee_store::redis_store::StoreError| {
            Failure::new(ErrorCode::Unavailable, format!("room store: {e}"))
        };
        if self.redis.load(code).await.map_err(down)?.is_none() {
            return Ok(None);
        }
        // A live instance drives it: ask it to hand the room over. Clients now reach this
        // instance (the proxy in front moved them), so the room follows them here.
        if let Some(owner) = self.redis.owner(code).await.map_err(down)? {
            if owner != self.redis.instance() && self.redis.alive(&owner).await.map_err(down)? {
                let asked = json!({ "handover": code });
                let answer = self.bus.call(&owner, asked, Duration::from_secs(3)).await;
                if !matches!(&answer, Ok(v) if v["ok"] == true) {
                    tracing::warn!(room = %code, %owner, "the instance driving the room did not hand it over");
                }
            }
        }
        // Wait out the lease of an authority that has stopped renewing (it died), polling. An
        // authority still marking itself alive half a lease later is not dead: it drives the
        // room, and the caller is told to retry (`unavailable`), never that the room is gone.
        let lease = self.redis.lease();
        let start = tokio::time::Instant::now();
        let elsewhere = || {
            Failure::new(
                ErrorCode::Unavailable,
                "this room is driven by another instance; retry",
            )
        };
        loop {
            if self.redis.acquire(code).await.map_err(down)? {
                break;
            }
            let waited = start.elapsed();
            if waited > lease / 2 + Duration::from_millis(300) {
                let owner = self.redis.owner(code).await.map_err(down)?;
                let alive = match &owner {
                    Some(o) => self.redis.alive(o).await.map_err(down)?,
                    None => false,
                };
                if alive || waited > lease + Duration::from_millis(500) {
                    return Err(elsewhere());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let snap = match self.redis.load(code).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                let _ = self.redis.release(code).await;
                return Ok(None);
            }
            Err(e) => {
                let _ = self.redis.release(code).await;
                return Err(down(e));
            }
        };
        let record = from_snapshot(snap).map_err(|e| Failure::new(ErrorCode::Internal, e))?;
        tracing::info!(room = %code, seats = record.seats.len(), "room taken over from redis");
        self.local.restore(record)?;
        Ok(self.local.get(code).await)
    }
}

impl RoomStore for RedisRooms {
    fn create(
        &self,
        settings: Settings,
        media: Option<Media>,
        creator: Identity,
        secret: Option<String>,
        conn: ConnHandle,
        req_id: Option<Value>,
    ) -> BoxFuture<'_, Result<(RoomHandle, String), Failure>> {
        // The room's first record (with the creator's seat) takes the lease and the code in
        // Redis through the sink; codes are random among 148 million, and a clash is
        // reported by the writer rather than silently shared.
        self.local
            .create(settings, media, creator, secret, conn, req_id)
    }

    fn get<'a>(&'a self, code: &'a str) -> BoxFuture<'a, Option<RoomHandle>> {
        Box::pin(async move {
            if let Some(r) = self.local.get(code).await {
                return Some(r);
            }
            self.take_over(code).await.ok().flatten()
        })
    }

    fn len(&self) -> usize {
        self.local.len()
    }

    fn survives_restart(&self) -> bool {
        true
    }

    fn ready(&self) -> BoxFuture<'_, bool> {
        Box::pin(async move { self.redis.ping().await.is_ok() })
    }

    fn seat_for<'a>(
        &'a self,
        secret: &'a str,
    ) -> BoxFuture<'a, Result<Option<RestoredSeat>, Failure>> {
        Box::pin(async move {
            let hash = hash_secret(secret);
            let Some(code) = self.redis.seat_room(&hash).await.ok().flatten() else {
                return Ok(None);
            };
            // A seat whose room cannot be had right now must not be given up: the error
            // (`unavailable`) makes the client retry with the same secret.
            if self.take_over(&code).await?.is_none() {
                return Ok(None);
            }
            let Some(record) = self.local.record(&code).await else {
                return Ok(None);
            };
            let Some(seat) = record
                .seats
                .iter()
                .find(|s| s.resume.as_deref() == Some(hash.as_str()))
            else {
                return Ok(None);
            };
            Ok(Some(RestoredSeat {
                code: code.clone(),
                member_id: seat.member_id.clone(),
                identity: Identity {
                    user_id: seat.user_id.clone(),
                    name: seat.name.clone(),
                    anonymous: seat.anonymous,
                },
            }))
        })
    }
}
