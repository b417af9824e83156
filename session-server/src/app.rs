//! [`App`]: what the transports (WebSocket connections, HTTP routes) share.
//!
//! `server` builds one and hands it down; it lives here rather than in `server` so that the
//! transports do not import the module that wires them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{watch, Semaphore};

use matinee_auth::Authenticator;

use crate::config::Config;
use crate::durable::Restored;
use crate::error::Failure;
use crate::metrics::Metrics;
use crate::rooms::RoomStore;
use crate::sessions::{Session, Sessions};

/// Everything connections and routes share. Each field has a single owner of its state:
/// rooms own themselves, sessions and metrics guard their own maps.
pub struct App {
    /// Effective configuration.
    pub config: Config,
    /// Who may connect.
    pub auth: Arc<dyn Authenticator>,
    /// The rooms registry.
    pub rooms: Arc<dyn RoomStore>,
    /// Resume secrets → sessions.
    pub sessions: Sessions,
    /// Seats restored from the store at start, waiting for their clients.
    pub restored: Restored,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Becomes `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// Becomes `true` once, during a shutdown, the rooms have stopped, their last state is
    /// stored and (with Redis) their leases are released: only then are members told to
    /// reconnect (1001), so that wherever they resume, the room is free to be taken over.
    pub handed_over: watch::Receiver<bool>,
    /// One permit per open WebSocket (`server.max_connections`).
    pub permits: Arc<Semaphore>,
    conn_ids: AtomicU64,
}

impl App {
    /// Shared state over the given parts, with `max_connections` connection permits.
    pub fn new(
        config: Config,
        auth: Arc<dyn Authenticator>,
        rooms: Arc<dyn RoomStore>,
        metrics: Arc<Metrics>,
        shutdown: watch::Receiver<bool>,
        handed_over: watch::Receiver<bool>,
        max_connections: usize,
    ) -> App {
        App {
            config,
            auth,
            rooms,
            sessions: Sessions::default(),
            restored: Restored::default(),
            metrics,
            shutdown,
            handed_over,
            permits: Arc::new(Semaphore::new(max_connections)),
            conn_ids: AtomicU64::new(1),
        }
    }

    /// The session for `secret`: a live one, or one made now for a seat that this secret
    /// proves and that the store kept — restored at start (a client back after a restart),
    /// or taken over from an instance that died (shared store).
    /// `Err` when the store has the seat but cannot hand it over now (retry later).
    pub async fn session(&self, secret: &str) -> Result<Option<Session>, Failure> {
        if let Some(s) = self.sessions.get(secret) {
            return Ok(Some(s));
        }
        let seat = match self.restored.take(secret) {
            Some(seat) => seat,
            None => match self.rooms.seat_for(secret).await? {
                Some(seat) => seat,
                None => return Ok(None),
            },
        };
        Ok(Some(self.sessions.adopt(
            secret,
            seat.identity,
            (seat.code, seat.member_id),
        )))
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.conn_ids.fetch_add(1, Ordering::Relaxed)
    }
}
