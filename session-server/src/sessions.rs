//! Sessions: resume secret → who the session is and which seat it holds.
//!
//! A session lives while a connection holds it, and for the resume window after that. The map
//! is behind a `std::sync::Mutex`: every critical section is a hash-map operation, never held
//! across `.await`, never together with another lock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use matinee_auth::Identity;
use rand::Rng;
use tokio::time::Instant;

use crate::outbound::ConnHandle;

/// One session.
#[derive(Clone, Debug)]
pub struct Session {
    /// Public session id (`welcome.session`).
    pub session_id: String,
    /// Who it is.
    pub identity: Identity,
    /// The seat it holds: room code and member id.
    pub seat: Option<(String, String)>,
    /// The connection holding it now.
    pub conn: Option<ConnHandle>,
    /// When the last connection ended.
    pub detached_at: Option<Instant>,
}

/// All sessions.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

/// 128 random bits as hex.
pub fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session for `identity` held by `conn`; returns (secret, session id).
    pub fn create(&self, identity: Identity, conn: ConnHandle) -> (String, String) {
        let secret = random_hex(32);
        let session_id = random_hex(8);
        self.lock().insert(
            secret.clone(),
            Session {
                session_id: session_id.clone(),
                identity,
                seat: None,
                conn: Some(conn),
                detached_at: None,
            },
        );
        (secret, session_id)
    }

    /// Take in a seat restored from the store, for the client that just proved it with
    /// `secret`: a session with a fresh id, detached (the caller attaches its connection next),
    /// holding `seat` = (room code, member id).
    pub fn adopt(&self, secret: &str, identity: Identity, seat: (String, String)) -> Session {
        let session = Session {
            session_id: random_hex(8),
            identity,
            seat: Some(seat),
            conn: None,
            detached_at: Some(Instant::now()),
        };
        self.lock().insert(secret.to_owned(), session.clone());
        session
    }

    /// Look a session up without changing it.
    pub fn get(&self, secret: &str) -> Option<Session> {
        self.lock().get(secret).cloned()
    }

    /// Attach a new connection to an existing session; returns the session as it was. A
    /// connection still attached is told to close (1000): one session, one connection.
    pub fn attach(&self, secret: &str, conn: ConnHandle) -> Option<Session> {
        let mut map = self.lock();
        let s = map.get_mut(secret)?;
        let before = s.clone();
        if let Some(old) = s.conn.replace(conn) {
            old.kill(crate::protocol::close::NORMAL);
        }
        s.detached_at = None;
        Some(before)
    }

    /// Record the seat a session holds (or `None` after leaving).
    pub fn set_seat(&self, secret: &str, seat: Option<(String, String)>) {
        if let Some(s) = self.lock().get_mut(secret) {
            s.seat = seat;
        }
    }

    /// Clear the seat only if it is still `(code, member)` (a kick may race a new join).
    pub fn clear_seat_if(&self, secret: &str, code: &str, member: &str) {
        if let Some(s) = self.lock().get_mut(secret) {
            if s.seat
                .as_ref()
                .is_some_and(|(c, m)| c == code && m == member)
            {
                s.seat = None;
            }
        }
    }

    /// The connection `conn_id` ended. A session without a seat has nothing to resume and is
    /// forgotten at once; one with a seat is kept for the resume window.
    pub fn detach(&self, secret: &str, conn_id: u64) {
        let mut map = self.lock();
        let Some(s) = map.get_mut(secret) else { return };
        if s.conn.as_ref().map(|c| c.conn_id) != Some(conn_id) {
            return;
        }
        if s.seat.is_none() {
            map.remove(secret);
        } else {
            s.conn = None;
            s.detached_at = Some(Instant::now());
        }
    }

    /// Forget sessions detached for longer than `window`.
    pub fn sweep(&self, window: Duration) {
        let now = Instant::now();
        self.lock()
            .retain(|_, s| s.detached_at.is_none_or(|t| t + window > now));
    }

    /// Number of sessions (for tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Identity {
        Identity {
            user_id: "u".into(),
            name: "n".into(),
            anonymous: false,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn seatless_sessions_go_at_once_seated_ones_after_the_window() {
        let s = Sessions::default();
        let (a, _) = s.create(id(), conn(1));
        let (b, _) = s.create(id(), conn(2));
        s.set_seat(&b, Some(("ACDEFG".into(), "m1".into())));
        s.detach(&a, 1);
        s.detach(&b, 2);
        assert!(s.get(&a).is_none());
        assert!(s.get(&b).is_some());
        tokio::time::advance(Duration::from_secs(29)).await;
        s.sweep(Duration::from_secs(30));
        assert!(s.get(&b).is_some());
        tokio::time::advance(Duration::from_secs(2)).await;
        s.sweep(Duration::from_secs(30));
        assert!(s.get(&b).is_none());
    }

    fn conn(id: u64) -> ConnHandle {
        ConnHandle::new(id, 1).0
    }

    #[test]
    fn a_newer_connection_replaces_the_older_and_stale_detach_is_ignored() {
        let s = Sessions::default();
        let (c1, _rx, kill1) = ConnHandle::new(1, 1);
        let (a, _) = s.create(id(), c1);
        s.attach(&a, conn(2));
        assert_eq!(kill1.code(), Some(crate::protocol::close::NORMAL));
        s.detach(&a, 1);
        assert_eq!(s.get(&a).unwrap().conn.unwrap().conn_id, 2);
    }
}
