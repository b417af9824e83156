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
//! Members of one room may be connected to different instances: an instance asked to join
//! or resume a room that another *live* instance drives reaches it through the relay
//! (`relay.rs`): the member's calls go to the authority and the room's frames come back over
//! the instances' bus (`matinee_store::bus`). "Live" means marked alive and listening on its
//! channel; otherwise the instance waits for the lease and takes the room over. Members here of
//! a room whose authority has gone are told to reconnect (1001) and resume like the others.
//!
//! Redis down: rooms already here keep running (their writes wait and are retried),
//! `/readyz` answers 503, new takeovers wait. Redis back (even empty, after a restart without
//! persistence): leases are taken again and every room is written again.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use matinee_auth::Identity;
use matinee_store::bus::{Bus, Incoming, InlinePush};
use matinee_store::{hash_secret, RedisStore};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::durable::{from_snapshot, to_snapshot, RestoredSeat};
use crate::error::Failure;
use crate::outbound::ConnHandle;
use crate::protocol::{ErrorCode, Media, Settings};
use crate::relay::{self, Deliveries, Proxies, RemoteRoom};
use crate::room::{RecordSink, RoomRecord};
use crate::rooms::{BoxFuture, MemoryRooms, RoomHandle, RoomStore};

/// Calls and relayed pushes from other instances waiting to be served (beyond it they are
/// dropped, and counted in the log): a few seconds of every relayed member's `status` when
/// this instance is starved of CPU.
const BUS_QUEUE: usize = 4096;

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
    /// A room not yet in Redis is waiting: end the interval's pause (or skip the next one;
    /// `Notify` keeps one permit). Until its first record is stored no other instance can
    /// find the room (a member joining through another instance gets `room_not_found`), so
    /// coalescing must not delay it.
    hurry: tokio::sync::Notify,
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
                _ = self.hurry.notified() => {}
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
        let new = !self
            .indexed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&record.code);
        self.lock()
            .insert(record.code.clone(), Pending::Save(Box::new(record.clone())));
        if new {
            self.hurry.notify_one();
        }
        self.wake.notify_one();
    }
    fn closed(&self, code: &str) {
        self.lock().insert(code.to_owned(), Pending::Remove);
        self.wake.notify_one();
    }
}

/// Serve what other instances send, in arrival order (a member's calls and pushes must reach
/// its room in the order it sent them): relayed calls for rooms driven here, and frames for
/// this instance's members of rooms driven elsewhere.
async fn serve_calls(rooms: Weak<RedisRooms>, mut calls: mpsc::Receiver<Incoming>) {
    while let Some(m) = calls.recv().await {
        let Some(rooms) = rooms.upgrade() else { return };
        match m {
            Incoming::Call { id, from, body } => {
                let answer = match body.get("relay") {
                    Some(call) => {
                        rooms.reclaim(call).await;
                        relay::serve(
                            &rooms.local,
                            &rooms.proxies,
                            &rooms.bus,
                            &from,
                            call.clone(),
                        )
                        .await
                    }
                    None => json!({ "err": { "code": "bad_request", "message": "unknown call" } }),
                };
                let _ = rooms.bus.answer(&from, id, answer).await;
            }
            Incoming::Push { from, body } => {
                // Only relayed pushes are queued (frames for members are delivered inline).
                if let Some(call) = body.get("relay") {
                    relay::serve(
                        &rooms.local,
                        &rooms.proxies,
                        &rooms.bus,
                        &from,
                        call.clone(),
                    )
                    .await;
                }
            }
        }
    }
}

/// The registry with Redis behind it.
pub struct RedisRooms {
    local: Arc<MemoryRooms>,
    redis: Arc<RedisStore>,
    /// Calls and frames between instances (`relay`).
    bus: Arc<Bus>,
    /// This instance's members of rooms driven elsewhere.
    deliveries: Arc<Deliveries>,
    /// Other instances' members of rooms driven here.
    proxies: Arc<Proxies>,
    sink: Arc<RedisSink>,
    up: AtomicBool,
    /// One takeover at a time (two clients of the same lost room arrive together).
    taking: tokio::sync::Mutex<()>,
    /// Rooms whose authority has looked gone since the instant given, while Redis had lost
    /// the room (`check_remote_rooms`): after half a lease their members here resume.
    suspects: Mutex<HashMap<String, Instant>>,
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
            hurry: tokio::sync::Notify::new(),
            indexed: Mutex::new(HashMap::new()),
        });
        let local = Arc::new(make_local(sink.clone()));
        let deliveries = Arc::new(Deliveries::default());
        // Frames for this instance's members are handed to their connections as they arrive
        // (each connection's queue is bounded, its overflow closes that connection): queued
        // with the relayed calls, they waited behind calls and were dropped when the calls
        // filled the queue, leaving members on a state they never received.
        let to_members = deliveries.clone();
        let inline: InlinePush = Box::new(move |_from, body| {
            if body.get("relay").is_some() {
                return Some(body); // a call's push, served in order with its calls
            }
            to_members.deliver(body);
            None
        });
        let (bus, calls) = Bus::start_with(redis.clone(), BUS_QUEUE, inline);
        let rooms = Arc::new(RedisRooms {
            local,
            redis,
            sink,
            bus,
            deliveries,
            proxies: Arc::new(Proxies::default()),
            up: AtomicBool::new(true),
            taking: tokio::sync::Mutex::new(()),
            suspects: Mutex::new(HashMap::new()),
        });
        tokio::spawn(serve_calls(Arc::downgrade(&rooms), calls));
        rooms
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
        // The alive mark on its own clock, not after the leases' work (one round trip per
        // room, slower under load): a mark that lapsed while this instance was busy renewing
        // would make the others take it for dead.
        let beat = tokio::spawn(self.clone().run_heartbeat());
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = &mut stop => break,
            }
            let up = self.up.load(Ordering::Relaxed);
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
            if up {
                self.check_remote_rooms().await;
            }
        }
        beat.abort();
    }

    /// Mark this instance alive every sixth of a lease (the mark lasts half a lease: two
    /// beats may be late or lost before it lapses), and keep `up` (readiness) current.
    async fn run_heartbeat(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.redis.lease() / 6);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let up = self.redis.heartbeat().await.is_ok();
            if up != self.up.swap(up, Ordering::Relaxed) {
                if up {
                    tracing::info!("redis answers again");
                } else {
                    tracing::warn!("redis does not answer: rooms here go on, /readyz is 503");
                }
            }
        }
    }

    /// Members here of rooms driven elsewhere: when that authority has stopped (it no longer
    /// holds the lease, or it neither marks itself alive nor listens on its channel), tell
    /// them to reconnect (1001). They resume at once, and the room is taken over (here, or
    /// wherever they land). A lapsed mark alone proves nothing: a busy instance renews it
    /// late, and its members would be sent away from a room that is still running.
    ///
    /// A room with no lease holder whose record Redis does not have either is one that Redis
    /// lost (it restarted empty): its authority takes the lease again and writes the room
    /// within a third of a lease, and its members here must stay (sending them away was a
    /// needless reconnect for every relayed member). Only an authority that has been neither
    /// marked alive nor listening for half a lease is taken to be gone then (after an empty
    /// restart it listens again within a fraction of a second and marks itself alive within
    /// a sixth of a lease).
    async fn check_remote_rooms(&self) {
        let mut suspects =
            std::mem::take(&mut *self.suspects.lock().unwrap_or_else(|p| p.into_inner()));
        let mut still = HashMap::new();
        for (code, (authority, conns)) in self.deliveries.by_room() {
            let owner = self.redis.owner(&code).await;
            let live = |o: String| async move {
                self.redis.alive(&o).await.unwrap_or(true)
                    || !matches!(
                        self.bus.push(&o, json!({ "probe": true })).await,
                        Err(matinee_store::bus::BusError::NoSuchInstance)
                    )
            };
            let alive = match owner {
                Ok(Some(o)) if o != self.redis.instance() => live(o).await,
                Ok(Some(_)) => false,
                Ok(None) => match self.redis.load(&code).await {
                    // Released (a graceful stop) or lapsed (a death): the room waits for a
                    // taker, and its members here should resume.
                    Ok(Some(_)) => false,
                    Ok(None) => {
                        let alive = live(authority).await;
                        let since = suspects.remove(&code).unwrap_or_else(Instant::now);
                        if !alive && since.elapsed() < self.redis.lease() / 2 {
                            still.insert(code.clone(), since);
                            continue; // another look at the next checks
                        }
                        alive
                    }
                    Err(_) => true,
                },
                Err(_) => true, // Redis trouble: nothing to conclude
            };
            if !alive {
                tracing::info!(room = %code, members = conns.len(), "the instance driving the room is gone; its members here reconnect");
                self.deliveries.drop_room(&code);
                for c in conns {
                    c.kill(crate::protocol::close::GOING_AWAY);
                }
            }
        }
        *self.suspects.lock().unwrap_or_else(|p| p.into_inner()) = still;
    }

    /// A relayed call for a room that is not here but whose lease Redis says is ours: this
    /// instance was restarted (same id) before its old lease ran out, and another instance,
    /// seeing it live and listening, relays to it. Restore the room from its record now, so
    /// that the call is served instead of refused (`unavailable`) until the lease runs out.
    /// Only when no takeover is in progress (this runs in the loop that serves every call).
    async fn reclaim(&self, call: &Value) {
        let Some(code) = call.get("code").and_then(Value::as_str) else {
            return;
        };
        if self.local.mailbox(code).is_some() {
            return;
        }
        let Ok(_one) = self.taking.try_lock() else {
            return;
        };
        if !matches!(self.redis.renew(code).await, Ok(true)) {
            return;
        }
        let record = match self.redis.load(code).await {
            Ok(Some(snap)) => from_snapshot(snap).ok(),
            _ => None,
        };
        match record {
            Some(record) => {
                tracing::info!(room = %code, "room taken back from redis (this instance restarted)");
                if let Err(f) = self.local.restore(record) {
                    tracing::error!(room = %code, error = %f.message, "room not restored");
                }
            }
            None => {
                let _ = self.redis.release(code).await;
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

    /// Room `code` as this instance reaches it: the local room, the relay to a live authority
    /// elsewhere, or — when nobody drives it — the room taken over from its stored record,
    /// after waiting up to a lease for an authority that stopped renewing. `Ok(None)`: no such
    /// room; `Err` (`unavailable`): it exists but cannot be had now (Redis down, or an
    /// authority that still marks itself alive without listening).
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
        // A live instance drives it: reach the room there, through the relay. Its alive
        // mark outlives it by up to half a lease, so "live" also means listening on its
        // channel now (a publish reports the listeners).
        if let Some(owner) = self.redis.owner(code).await.map_err(down)? {
            if owner != self.redis.instance()
                && self.redis.alive(&owner).await.map_err(down)?
                && self
                    .bus
                    .push(&owner, json!({ "probe": true }))
                    .await
                    .is_ok()
            {
                let remote = RemoteRoom::new(
                    code.to_owned(),
                    owner,
                    self.bus.clone(),
                    self.deliveries.clone(),
                );
                return Ok(Some(Arc::new(remote) as RoomHandle));
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
            // Free, or held under our own id by this instance's previous life (restarted
            // before its lease ran out): ours at once, rather than after the lease.
            if self.redis.acquire(code).await.map_err(down)?
                || self.redis.renew(code).await.map_err(down)?
            {
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
        // Redis through the sink; codes are random among 148 million, and a clash with a live
        // room is logged by the lease keeper, not resolved.
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

    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        // Not ready while our channel is not subscribed: relayed calls would go unanswered.
        Box::pin(async move {
            if self.bus.listening() && self.redis.ping().await.is_ok() {
                Ok(())
            } else {
                Err("the room store (redis) does not answer".into())
            }
        })
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
            // The seat as the room here has it, or as stored (the room runs elsewhere; a
            // seat is indexed only once its room's record holding it was stored).
            let seats = match self.local.record(&code).await {
                Some(r) => r.seats,
                None => match self.redis.load(&code).await {
                    Ok(Some(snap)) => from_snapshot(snap).map(|r| r.seats).unwrap_or_default(),
                    _ => Vec::new(),
                },
            };
            let Some(seat) = seats
                .into_iter()
                .find(|s| s.resume.as_deref() == Some(hash.as_str()))
            else {
                return Ok(None);
            };
            Ok(Some(RestoredSeat {
                code: code.clone(),
                member_id: seat.member_id,
                identity: Identity {
                    user_id: seat.user_id,
                    name: seat.name,
                    anonymous: seat.anonymous,
                },
            }))
        })
    }
}
