//! The Redis backend: the primitives that let several instances share rooms with one
//! authority per room at a time.
//!
//! Keys (all under `key_prefix`, default `matinee:`):
//! - `room:<CODE>` — the room's [`RoomSnapshot`] (JSON), written by its authority
//!   (coalesced like the local store), deleted when the room closes. Created with `NX`, so two
//!   instances never create the same code.
//! - `alive:<ID>` — set by instance `<ID>` for half a lease, renewed every sixth of one.
//! - `seat:<SHA-256 of a resume secret>` — the code of the room holding that seat, so a
//!   client whose instance died finds its room from any other instance.
//! - `lease:<CODE>` — the instance id of the room's authority, `SET NX PX lease_ms`, renewed
//!   every third of the lease by a script that extends it only if this instance still holds it
//!   ([`RENEW`]), and released by one that deletes it only then ([`RELEASE`]). An instance that
//!   dies stops renewing: after at most `lease_ms` another instance can take the lease and
//!   restore the room from `room:<CODE>`.
//!
//! Channels:
//! - `inst:<ID>` — what other instances send to instance `<ID>` ([`crate::bus`]): calls of
//!   members connected elsewhere to the rooms `<ID>` drives, and the frames of those rooms for
//!   members connected to `<ID>`.
//! - any other, through [`RedisStore::subscribe`] and [`RedisStore::publish`].
//!
//! Every command is bounded by `timeout_ms`; an error or a timeout is [`StoreError::Down`],
//! which the server turns into `/readyz` 503 while rooms it already drives go on locally.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use tokio::sync::{mpsc, watch};

use crate::config::RedisConfig;
use crate::snapshot::{decode, encode, DecodeError, RoomSnapshot};

/// Extend the lease only if we still hold it: `KEYS[1]` lease key, `ARGV[1]` instance id,
/// `ARGV[2]` lease in ms. Returns 1 when renewed, 0 when the lease is someone else's or gone.
/// A script because GET-then-PEXPIRE from the client could extend a lease that expired and
/// was taken by another instance in between.
pub const RENEW: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";

/// Delete the lease only if we hold it (`KEYS[1]`, `ARGV[1]` as in [`RENEW`]).
pub const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     return redis.call('DEL', KEYS[1]) else return 0 end";

/// Write the snapshot only while holding the lease: `KEYS[1]` lease, `KEYS[2]` room key,
/// `ARGV[1]` instance id, `ARGV[2]` snapshot. An instance whose lease lapsed (a long pause, a
/// partition) must not overwrite the state its successor now drives.
pub const SAVE_IF_OWNER: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     redis.call('SET', KEYS[2], ARGV[2]) return 1 else return 0 end";

/// Delete room and lease only while holding the lease (`KEYS` and `ARGV[1]` as in
/// [`SAVE_IF_OWNER`]).
pub const DELETE_IF_OWNER: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     redis.call('DEL', KEYS[2]) return redis.call('DEL', KEYS[1]) else return 0 end";

/// How long a seat's index entry lives (`seat:<SHA-256>` → code). Longer than any party; the
/// room it names may be gone by then, which the lookup tolerates.
const SEAT_INDEX_SECS: u64 = 86_400;

/// Why a Redis operation did not happen.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreError {
    /// Redis did not answer in time or the connection failed: retry later.
    Down(String),
    /// Redis answered with data that is not a room of this format.
    Bad(DecodeError),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Down(why) => write!(f, "redis unavailable: {why}"),
            StoreError::Bad(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// One connection manager (reconnecting by itself) and the key layout.
pub struct RedisStore {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    instance: String,
    lease: Duration,
    timeout: Duration,
}

impl RedisStore {
    /// Set up the client. Does not wait for Redis: a server may start while Redis is down
    /// (its `/readyz` says so) and connects when Redis comes back.
    pub fn new(cfg: &RedisConfig) -> Result<Arc<RedisStore>, String> {
        use redis::IntoConnectionInfo;
        // TCP_NODELAY: relayed frames, calls and lease renewals are small writes that must go
        // out at once; with Nagle on (the crate's default) one can wait for the ACK of the
        // previous one.
        let info = cfg
            .url
            .as_str()
            .into_connection_info()
            .map_err(|e| format!("store.redis.url: {e}"))?
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info).map_err(|e| format!("store.redis.url: {e}"))?;
        let timeout = Duration::from_millis(cfg.timeout_ms);
        let mgr = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            // Retries are ours (the next renewal, the next flush); the manager reconnects in
            // the background and fails fast meanwhile.
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = client
            .get_connection_manager_lazy(mgr)
            .map_err(|e| format!("store.redis: {e}"))?;
        let instance = cfg
            .instance_id
            .clone()
            .unwrap_or_else(|| format!("i{:016x}", rand::random::<u64>()));
        Ok(Arc::new(RedisStore {
            client,
            conn,
            prefix: cfg.key_prefix.clone(),
            instance,
            lease: Duration::from_millis(cfg.lease_ms),
            timeout,
        }))
    }

    /// This instance's id (in leases and in `inst:<ID>`).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The lease length.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    fn key(&self, kind: &str, code: &str) -> String {
        format!("{}{kind}:{code}", self.prefix)
    }

    /// A channel name under the prefix (`ch:<name>`), for [`RedisStore::subscribe`].
    pub fn channel(&self, name: &str) -> String {
        self.key("ch", name)
    }

    /// The channel instance `id` listens on ([`crate::bus`]).
    pub fn instance_channel(&self, id: &str) -> String {
        self.key("inst", id)
    }

    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(StoreError::Down(e.to_string())),
            Err(_) => Err(StoreError::Down("timeout".into())),
        }
    }

    /// Whether Redis answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        self.run(async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await
            .map(|_| ())
    }

    /// Register a new room: its snapshot under a code nobody uses, and its lease. `false`
    /// when the code is taken (pick another).
    pub async fn create(&self, snap: &RoomSnapshot) -> Result<bool, StoreError> {
        let mut c = self.conn.clone();
        let room = self.key("room", &snap.code);
        let bytes = encode(snap);
        let created: Option<String> = self
            .run(async {
                redis::cmd("SET")
                    .arg(&room)
                    .arg(bytes)
                    .arg("NX")
                    .query_async(&mut c)
                    .await
            })
            .await?;
        if created.is_none() {
            return Ok(false);
        }
        self.acquire(&snap.code).await
    }

    /// Take the room's lease if nobody holds it.
    pub async fn acquire(&self, code: &str) -> Result<bool, StoreError> {
        let mut c = self.conn.clone();
        let key = self.key("lease", code);
        let ms = self.lease.as_millis() as u64;
        let r: Option<String> = self
            .run(async {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&self.instance)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(r.is_some())
    }

    async fn script1(
        &self,
        script: &str,
        keys: &[String],
        args: &[String],
    ) -> Result<i64, StoreError> {
        let mut c = self.conn.clone();
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(script).arg(keys.len());
        for k in keys {
            cmd.arg(k);
        }
        for a in args {
            cmd.arg(a);
        }
        self.run(async move { cmd.query_async::<i64>(&mut c).await })
            .await
    }

    /// Extend our lease; `false` when it is no longer ours (stop driving the room).
    pub async fn renew(&self, code: &str) -> Result<bool, StoreError> {
        let ms = self.lease.as_millis().to_string();
        let n = self
            .script1(
                RENEW,
                &[self.key("lease", code)],
                &[self.instance.clone(), ms],
            )
            .await?;
        Ok(n == 1)
    }

    /// Give the lease up (graceful shutdown: another instance may take the room at once).
    pub async fn release(&self, code: &str) -> Result<bool, StoreError> {
        let n = self
            .script1(
                RELEASE,
                &[self.key("lease", code)],
                std::slice::from_ref(&self.instance),
            )
            .await?;
        Ok(n == 1)
    }

    /// Who drives the room, if anyone.
    pub async fn owner(&self, code: &str) -> Result<Option<String>, StoreError> {
        let mut c = self.conn.clone();
        let key = self.key("lease", code);
        self.run(async move { c.get::<_, Option<String>>(key).await })
            .await
    }

    /// Store the room's snapshot while we hold its lease; `false` when we do not.
    pub async fn save(&self, snap: &RoomSnapshot) -> Result<bool, StoreError> {
        let body = String::from_utf8(encode(snap)).expect("JSON is UTF-8");
        let keys = [self.key("lease", &snap.code), self.key("room", &snap.code)];
        let n = self
            .script1(SAVE_IF_OWNER, &keys, &[self.instance.clone(), body])
            .await?;
        Ok(n == 1)
    }

    /// The stored snapshot of a room.
    pub async fn load(&self, code: &str) -> Result<Option<RoomSnapshot>, StoreError> {
        let mut c = self.conn.clone();
        let key = self.key("room", code);
        let bytes: Option<Vec<u8>> = self.run(async move { c.get(key).await }).await?;
        match bytes {
            None => Ok(None),
            Some(b) => decode(&b).map(Some).map_err(StoreError::Bad),
        }
    }

    /// The room has closed: drop its snapshot and lease, if we hold the lease.
    pub async fn delete(&self, code: &str) -> Result<bool, StoreError> {
        let keys = [self.key("lease", code), self.key("room", code)];
        let n = self
            .script1(DELETE_IF_OWNER, &keys, std::slice::from_ref(&self.instance))
            .await?;
        Ok(n == 1)
    }

    /// Say this instance is alive, for half a lease (renewed every sixth of one): a dead
    /// instance's mark vanishes before its leases do, so another instance can tell "driven
    /// elsewhere" (answer at once) from "its authority died" (wait for the lease).
    pub async fn heartbeat(&self) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        let key = self.key("alive", &self.instance);
        let ms = (self.lease.as_millis() / 2) as u64;
        self.run(async move { c.pset_ex::<_, _, ()>(key, 1, ms).await })
            .await
    }

    /// Whether instance `id` has said it is alive within half a lease.
    pub async fn alive(&self, id: &str) -> Result<bool, StoreError> {
        let mut c = self.conn.clone();
        let key = self.key("alive", id);
        self.run(async move { c.exists::<_, bool>(key).await })
            .await
    }

    /// Remember that the seat whose secret hashes to `sha256` is in room `code`, for a day:
    /// a client that comes back to another instance (its own one died) presents only its
    /// secret, and this is how that instance finds the room to take over.
    pub async fn index_seat(&self, sha256: &str, code: &str) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        let key = self.key("seat", sha256);
        self.run(async move { c.set_ex::<_, _, ()>(key, code, SEAT_INDEX_SECS).await })
            .await
    }

    /// The room of the seat whose secret hashes to `sha256`, if indexed.
    pub async fn seat_room(&self, sha256: &str) -> Result<Option<String>, StoreError> {
        let mut c = self.conn.clone();
        let key = self.key("seat", sha256);
        self.run(async move { c.get::<_, Option<String>>(key).await })
            .await
    }

    /// Codes of every stored room (for an instance looking for rooms to take over). `SCAN`,
    /// not `KEYS`, so a large Redis is never blocked.
    pub async fn room_codes(&self) -> Result<Vec<String>, StoreError> {
        let mut c = self.conn.clone();
        let pattern = format!("{}room:*", self.prefix);
        let strip = format!("{}room:", self.prefix);
        self.run(async move {
            let mut out = Vec::new();
            let mut iter: redis::AsyncIter<String> = c.scan_match(pattern).await?;
            while let Some(k) = iter.next_item().await {
                out.push(k?);
            }
            Ok(out)
        })
        .await
        .map(|keys| {
            keys.into_iter()
                .filter_map(|k| k.strip_prefix(&strip).map(str::to_owned))
                .collect()
        })
    }

    /// Publish a payload; returns how many subscribers got it.
    pub async fn publish(&self, channel: &str, payload: &[u8]) -> Result<u64, StoreError> {
        let mut c = self.conn.clone();
        self.run(async move { c.publish::<_, _, u64>(channel, payload).await })
            .await
    }

    /// Subscribe to `channels`; messages arrive on the returned receiver as
    /// `(channel, payload)`. The subscription is kept by a task that reconnects (every
    /// `retry`) and subscribes again after Redis restarts; it ends when the receiver is
    /// dropped. Messages published while disconnected are lost (pub/sub keeps none): the
    /// authority's snapshot is what a member resumes from.
    pub fn subscribe(
        self: &Arc<Self>,
        channels: Vec<String>,
        capacity: usize,
        retry: Duration,
    ) -> mpsc::Receiver<(String, Vec<u8>)> {
        self.subscribe_watched(channels, capacity, retry).0
    }

    /// [`RedisStore::subscribe`], and whether the subscription is live right now (`true`
    /// once Redis has confirmed it, `false` while it reconnects): a publish made meanwhile
    /// reaches nobody, so whoever expects an answer on these channels waits for it.
    pub fn subscribe_watched(
        self: &Arc<Self>,
        channels: Vec<String>,
        capacity: usize,
        retry: Duration,
    ) -> (mpsc::Receiver<(String, Vec<u8>)>, watch::Receiver<bool>) {
        let (tx, rx) = mpsc::channel(capacity);
        let (live_tx, live_rx) = watch::channel(false);
        let client = self.client.clone();
        let timeout = self.timeout;
        tokio::spawn(async move {
            let mut dropped: u64 = 0;
            while !tx.is_closed() {
                let connected = async {
                    let mut ps = client.get_async_pubsub().await?;
                    for ch in &channels {
                        ps.subscribe(ch).await?;
                    }
                    Ok::<_, redis::RedisError>(ps)
                };
                let ps = match tokio::time::timeout(timeout, connected).await {
                    Ok(Ok(ps)) => ps,
                    _ => {
                        tokio::time::sleep(retry).await;
                        continue;
                    }
                };
                let mut stream = ps.into_on_message();
                live_tx.send_replace(true);
                loop {
                    tokio::select! {
                        m = stream.next() => match m {
                            Some(m) => {
                                let item = (m.get_channel_name().to_owned(), m.get_payload_bytes().to_vec());
                                // A full receiver drops the message rather than stall the
                                // subscription (bounded, like every queue here), but never
                                // silently: what was dropped is said, at 1, 2, 4, 8… drops.
                                match tx.try_send(item) {
                                    Ok(()) => {}
                                    Err(mpsc::error::TrySendError::Closed(_)) => return,
                                    Err(mpsc::error::TrySendError::Full(_)) => {
                                        dropped += 1;
                                        if dropped.is_power_of_two() {
                                            tracing::warn!(dropped, capacity, ?channels, "subscription queue full: messages from Redis dropped");
                                        }
                                    }
                                }
                            }
                            None => break, // connection lost: reconnect
                        },
                        _ = tx.closed() => return,
                    }
                }
                live_tx.send_replace(false);
                tokio::time::sleep(retry).await;
            }
        });
        (rx, live_rx)
    }
}
