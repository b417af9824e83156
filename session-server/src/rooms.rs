//! The rooms registry: room code → handle of the task that owns the room.
//!
//! [`RoomStore`] is the narrow interface the rest of the server uses; [`MemoryRooms`] keeps
//! rooms in this process. A Redis-backed store can implement the same trait later.
//!
//! The map is behind a `std::sync::Mutex` because every critical section is a hash-map
//! operation: it is never held across `.await` and no other lock is ever taken inside it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use matinee_auth::Identity;
use rand::Rng;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

use crate::metrics::Metrics;
use crate::outbound::ConnHandle;
use crate::protocol::{ErrorCode, Media, Settings};
use crate::room::{run_room, Cmd, Failure, RoomParams, RoomSetup};

/// Room codes use this alphabet: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V look-alikes.
pub const CODE_ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTWXY34679";
/// Length of a room code.
pub const CODE_LEN: usize = 6;
/// Mailbox size of a room: commands beyond it wait (backpressure on the senders).
const MAILBOX: usize = 1024;

/// A room's mailbox.
#[derive(Clone, Debug)]
pub struct RoomHandle {
    /// Room code.
    pub code: String,
    /// Mailbox.
    pub tx: mpsc::Sender<Cmd>,
}

/// Where rooms live.
pub trait RoomStore: Send + Sync + 'static {
    /// Create a room with `creator` as its first member and host. Resolves to the creator's
    /// member id and the room handle once the room has taken the seat.
    fn create(
        &self,
        settings: Settings,
        media: Option<Media>,
        creator: Identity,
        conn: ConnHandle,
        req_id: Option<Value>,
    ) -> Result<(RoomHandle, oneshot::Receiver<Result<String, Failure>>), Failure>;
    /// Look a room up by its (normalized) code.
    fn get(&self, code: &str) -> Option<RoomHandle>;
    /// Number of live rooms.
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
    handle: RoomHandle,
}

/// In-memory rooms.
pub struct MemoryRooms {
    map: Arc<Mutex<HashMap<String, Entry>>>,
    params: RoomParams,
    max_rooms: usize,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
    next_instance: AtomicU64,
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
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl RoomStore for MemoryRooms {
    fn create(
        &self,
        settings: Settings,
        media: Option<Media>,
        creator: Identity,
        conn: ConnHandle,
        req_id: Option<Value>,
    ) -> Result<(RoomHandle, oneshot::Receiver<Result<String, Failure>>), Failure> {
        let (tx, rx) = mpsc::channel(MAILBOX);
        let (reply, reply_rx) = oneshot::channel();
        // The creator's seat is the first command the room sees, queued before anybody else
        // can learn the code, so a room never exists without a seat.
        tx.try_send(Cmd::Join {
            identity: creator,
            conn,
            req_id,
            reply,
        })
        .map_err(|_| Failure::new(ErrorCode::Internal, "could not queue the first seat"))?;
        let instance = self.next_instance.fetch_add(1, Ordering::Relaxed);
        let code = {
            let mut map = self.lock();
            if map.len() >= self.max_rooms {
                return Err(Failure::new(
                    ErrorCode::RateLimited,
                    "this server has reached its room limit; try later",
                ));
            }
            let mut code = random_code();
            while map.contains_key(&code) {
                code = random_code();
            }
            map.insert(
                code.clone(),
                Entry {
                    instance,
                    handle: RoomHandle {
                        code: code.clone(),
                        tx: tx.clone(),
                    },
                },
            );
            code
        };
        let map = self.map.clone();
        let c = code.clone();
        let on_close = Box::new(move || {
            let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
            if m.get(&c).is_some_and(|e| e.instance == instance) {
                m.remove(&c);
            }
        });
        let setup = RoomSetup {
            code: code.clone(),
            params: self.params.clone(),
            settings,
            media,
            metrics: self.metrics.clone(),
            shutdown: self.shutdown.clone(),
        };
        tokio::spawn(run_room(setup, rx, on_close));
        Ok((RoomHandle { code, tx }, reply_rx))
    }

    fn get(&self, code: &str) -> Option<RoomHandle> {
        self.lock().get(code).map(|e| e.handle.clone())
    }

    fn len(&self) -> usize {
        self.lock().len()
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
