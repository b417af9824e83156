//! A room's seats: who holds which, which connection holds it now, host migration and
//! seat expiry. Pure and generic over the connection type, so it is tested without tokio.

use std::time::{Duration, Instant};

use crate::error::Failure;
use crate::protocol::{ErrorCode, MemberInfo};

use super::members::StatusReport;
use super::record::SeatRecord;
use super::waiting::{Candidate, Stall};

/// What a seat needs to know of the connection holding it.
pub trait Endpoint {
    /// Unique per connection for the life of the process.
    fn conn_id(&self) -> u64;
}

/// Who is asking.
#[derive(Clone, Debug, PartialEq)]
pub enum Who {
    /// A member's live connection (WebSocket).
    Conn {
        /// Member id.
        member_id: String,
        /// The connection that must currently hold the seat.
        conn_id: u64,
    },
    /// A seat, proven by its resume secret (REST).
    Seat(String),
    /// An authenticated user (REST with a token): any seat of that user.
    User(String),
}

/// One seat and what the room knows of its member now.
#[derive(Debug)]
pub struct Seat<C> {
    /// The durable part.
    pub record: SeatRecord,
    /// The connection holding it, if any.
    pub conn: Option<C>,
    /// When its last connection ended (the seat is freed a resume window later).
    pub disconnected_at: Option<Instant>,
    /// The last status report (cleaned); `None` before the first.
    pub status: Option<StatusReport>,
    /// The waiting rule's bookkeeping.
    pub stall: Stall,
}

impl<C> Seat<C> {
    /// A seat just taken by `conn`.
    pub fn new(record: SeatRecord, conn: C) -> Self {
        Seat {
            record,
            conn: Some(conn),
            disconnected_at: None,
            status: None,
            stall: Stall::default(),
        }
    }

    /// A seat restored from a record: nobody holds it, its resume window starts at `now`.
    pub fn restored(record: SeatRecord, now: Instant) -> Self {
        Seat {
            record,
            conn: None,
            disconnected_at: Some(now),
            status: None,
            stall: Stall::default(),
        }
    }

    /// Member id.
    pub fn id(&self) -> &str {
        &self.record.member_id
    }

    /// Its entry in `members`.
    pub fn info(&self) -> MemberInfo {
        MemberInfo {
            id: self.record.member_id.clone(),
            name: self.record.name.clone(),
            user_id: self.record.user_id.clone(),
            rtt_ms: self.status.as_ref().map(|s| s.rtt_ms),
            error_ms: self.status.as_ref().map(|s| s.error_ms),
            buffering: self.buffering(),
            connected: self.conn.is_some(),
            rights: self.record.rights,
            ready: None,
        }
    }

    /// Its last reported `buffering`.
    pub fn buffering(&self) -> bool {
        self.status.as_ref().is_some_and(|s| s.buffering)
    }

    /// Its view for the waiting rule.
    pub fn candidate(&self) -> Candidate<'_> {
        Candidate {
            id: &self.record.member_id,
            connected: self.conn.is_some(),
            buffering: self.buffering(),
            stall: &self.stall,
        }
    }

    /// Its connection ended at `now`: the seat waits for a resume.
    pub fn detach(&mut self, now: Instant) -> Option<C> {
        self.disconnected_at = Some(now);
        self.conn.take()
    }
}

/// The seats of one room, in order of arrival, and the host among them.
#[derive(Debug)]
pub struct Seats<C> {
    list: Vec<Seat<C>>,
    host: String,
}

impl<C: Endpoint> Seats<C> {
    /// No seats; `host` as recorded (empty for a new room).
    pub fn new(host: String) -> Self {
        Seats {
            list: Vec::new(),
            host,
        }
    }

    /// Host member id.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether seat `idx` is the host's.
    pub fn is_host(&self, idx: usize) -> bool {
        self.list[idx].record.member_id == self.host
    }

    /// Hand the host role to `member_id` (which must hold a connected seat).
    pub fn transfer_host(&mut self, member_id: &str) -> Result<(), Failure> {
        let Some(t) = self.list.iter().find(|s| s.id() == member_id) else {
            return Err(Failure::new(ErrorCode::BadRequest, "no such member"));
        };
        if t.conn.is_none() {
            return Err(Failure::new(
                ErrorCode::BadRequest,
                "that member is not connected",
            ));
        }
        self.host = member_id.to_owned();
        Ok(())
    }

    /// Number of seats.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The seats in order of arrival.
    pub fn iter(&self) -> std::slice::Iter<'_, Seat<C>> {
        self.list.iter()
    }

    /// Seat `idx`.
    pub fn get(&self, idx: usize) -> &Seat<C> {
        &self.list[idx]
    }

    /// Seat `idx`, to change.
    pub fn get_mut(&mut self, idx: usize) -> &mut Seat<C> {
        &mut self.list[idx]
    }

    /// Every seat, to change.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Seat<C>> {
        self.list.iter_mut()
    }

    /// The seat of `member_id`.
    pub fn position(&self, member_id: &str) -> Option<usize> {
        self.list.iter().position(|s| s.id() == member_id)
    }

    /// The seat of `member_id` if connection `conn_id` holds it now.
    pub fn held_by(&self, member_id: &str, conn_id: u64) -> Option<usize> {
        self.list.iter().position(|s| {
            s.id() == member_id && s.conn.as_ref().is_some_and(|c| c.conn_id() == conn_id)
        })
    }

    /// The seat `who` speaks for.
    pub fn resolve(&self, who: &Who) -> Result<usize, Failure> {
        let idx = match who {
            Who::Conn { member_id, conn_id } => self.held_by(member_id, *conn_id),
            Who::Seat(member_id) => self.position(member_id),
            // Prefer the host's seat when a user holds several.
            Who::User(user_id) => self
                .list
                .iter()
                .position(|s| s.id() == self.host && &s.record.user_id == user_id)
                .or_else(|| self.list.iter().position(|s| &s.record.user_id == user_id)),
        };
        idx.ok_or_else(|| Failure::new(ErrorCode::Forbidden, "not a member of this room"))
    }

    /// A member id no seat uses, drawn from `draw`.
    pub fn fresh_id(&self, mut draw: impl FnMut() -> String) -> String {
        let mut id = draw();
        while self.position(&id).is_some() {
            id = draw();
        }
        id
    }

    /// Add a seat (the first one is the host's); returns its index.
    pub fn add(&mut self, seat: Seat<C>) -> usize {
        if self.list.is_empty() {
            self.host = seat.id().to_owned();
        }
        self.list.push(seat);
        self.list.len() - 1
    }

    /// Add a seat restored from a record, keeping the recorded host.
    pub fn restore(&mut self, seat: Seat<C>) {
        self.list.push(seat);
    }

    /// Remove seat `idx`; the host role moves on when it was the host's.
    pub fn remove(&mut self, idx: usize) -> Seat<C> {
        let s = self.list.remove(idx);
        if s.id() == self.host {
            self.migrate_host();
        }
        s
    }

    /// The longest-present connected member becomes host (or the longest-present seat when
    /// nobody is connected, so that a resume gets the role back). Returns whether it moved.
    pub fn migrate_host(&mut self) -> bool {
        let next = self
            .list
            .iter()
            .find(|s| s.conn.is_some())
            .or_else(|| self.list.first());
        match next {
            Some(n) => {
                self.host = n.id().to_owned();
                true
            }
            None => false,
        }
    }

    /// When the host role is to move because the host's connection ended `grace` ago and
    /// another member is connected to take it (None while the host is connected or nobody
    /// else is). A reload resumes within the grace and keeps the role; a closed page does not.
    pub fn host_handover_at(&self, grace: Duration) -> Option<Instant> {
        let host = self.list.iter().find(|s| s.id() == self.host)?;
        let away = host.disconnected_at?;
        self.list
            .iter()
            .any(|s| s.conn.is_some())
            .then_some(away + grace)
    }

    /// The host role moves when `host_handover_at` has come by `now`; returns whether it moved.
    /// The old host's seat stays resumable for the resume window, without the role.
    pub fn hand_over_if_host_away(&mut self, grace: Duration, now: Instant) -> bool {
        match self.host_handover_at(grace) {
            Some(at) if at <= now => self.migrate_host(),
            _ => false,
        }
    }

    /// A seat whose resume window has passed at `now`.
    pub fn expired(&self, window: Duration, now: Instant) -> Option<usize> {
        self.list
            .iter()
            .position(|s| s.disconnected_at.is_some_and(|t| t + window <= now))
    }

    /// When the next seat's resume window ends.
    pub fn next_expiry(&self, window: Duration) -> Option<Instant> {
        self.list
            .iter()
            .filter_map(|s| s.disconnected_at)
            .min()
            .map(|t| t + window)
    }

    /// The highest one-way delay (half the RTT) that a connected member reports, ms.
    pub fn max_one_way_ms(&self) -> f64 {
        self.list
            .iter()
            .filter(|s| s.conn.is_some())
            .filter_map(|s| s.status.as_ref())
            .map(|s| s.rtt_ms / 2.0)
            .fold(0.0, f64::max)
    }

    /// The highest seek latency that a connected member reports, ms.
    pub fn max_seek_ms(&self) -> f64 {
        self.list
            .iter()
            .filter(|s| s.conn.is_some())
            .filter_map(|s| s.status.as_ref().and_then(|r| r.seek_ms))
            .fold(0.0, f64::max)
    }

    /// Every seat's entry in `members`, in order of arrival.
    pub fn infos(&self) -> Vec<MemberInfo> {
        self.list.iter().map(Seat::info).collect()
    }

    /// The durable part of every seat.
    pub fn records(&self) -> Vec<SeatRecord> {
        self.list.iter().map(|s| s.record.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Endpoint for u64 {
        fn conn_id(&self) -> u64 {
            *self
        }
    }

    fn seat(id: &str, user: &str, conn: u64) -> Seat<u64> {
        Seat::new(
            SeatRecord {
                member_id: id.into(),
                user_id: user.into(),
                name: user.into(),
                anonymous: false,
                resume: None,
                rights: Default::default(),
            },
            conn,
        )
    }

    #[test]
    fn the_first_seat_hosts_and_the_longest_present_connected_one_inherits() {
        let t0 = Instant::now();
        let mut s = Seats::new(String::new());
        s.add(seat("m1", "u1", 1));
        s.add(seat("m2", "u2", 2));
        s.add(seat("m3", "u3", 3));
        assert_eq!(s.host(), "m1");
        s.get_mut(1).detach(t0);
        s.remove(0);
        assert_eq!(s.host(), "m3", "m2 is not connected");
        s.get_mut(1).detach(t0);
        s.remove(1);
        assert_eq!(s.host(), "m2", "nobody connected: the longest-present seat");
        assert!(s.transfer_host("m2").is_err(), "not connected");
    }

    #[test]
    fn the_host_role_moves_a_grace_after_the_host_left_while_the_seat_stays() {
        let t0 = Instant::now();
        let grace = Duration::from_secs(5);
        let mut s = Seats::new(String::new());
        s.add(seat("m1", "u1", 1));
        s.add(seat("m2", "u2", 2));
        s.add(seat("m3", "u3", 3));
        assert_eq!(s.host_handover_at(grace), None, "the host is connected");
        s.get_mut(1).detach(t0);
        assert_eq!(
            s.host_handover_at(grace),
            None,
            "a guest left, not the host"
        );
        s.get_mut(0).detach(t0 + Duration::from_secs(1));
        assert_eq!(s.host_handover_at(grace), Some(t0 + Duration::from_secs(6)));
        assert!(!s.hand_over_if_host_away(grace, t0 + Duration::from_millis(5999)));
        assert_eq!(s.host(), "m1", "within the grace (a reload) the role waits");
        assert!(s.hand_over_if_host_away(grace, t0 + Duration::from_secs(6)));
        assert_eq!(s.host(), "m3", "the longest-present connected member");
        assert_eq!(
            s.position("m1"),
            Some(0),
            "the old host's seat is still resumable"
        );
        assert_eq!(s.host_handover_at(grace), None);
        // Nobody connected to take it: the role stays where it is.
        s.get_mut(2).detach(t0 + Duration::from_secs(7));
        assert_eq!(s.host_handover_at(grace), None);
        assert!(!s.hand_over_if_host_away(grace, t0 + Duration::from_secs(60)));
        assert_eq!(s.host(), "m3");
    }

    #[test]
    fn who_resolves_by_connection_seat_or_user_preferring_the_host() {
        let mut s = Seats::new(String::new());
        s.add(seat("m1", "u1", 1));
        s.add(seat("m2", "u2", 2));
        s.add(seat("m3", "u2", 3));
        let conn = |m: &str, c| Who::Conn {
            member_id: m.into(),
            conn_id: c,
        };
        assert_eq!(s.resolve(&conn("m2", 2)), Ok(1));
        assert_eq!(
            s.resolve(&conn("m2", 3)).unwrap_err().code,
            ErrorCode::Forbidden,
            "another connection does not speak for the seat"
        );
        assert_eq!(s.resolve(&Who::Seat("m3".into())), Ok(2));
        assert_eq!(s.resolve(&Who::User("u2".into())), Ok(1));
        s.transfer_host("m3").unwrap();
        assert_eq!(s.resolve(&Who::User("u2".into())), Ok(2));
        assert!(s.resolve(&Who::User("nobody".into())).is_err());
    }

    #[test]
    fn seats_expire_a_window_after_their_connection_ended() {
        let t0 = Instant::now();
        let w = Duration::from_secs(30);
        let mut s = Seats::new(String::new());
        s.add(seat("m1", "u1", 1));
        s.add(seat("m2", "u2", 2));
        assert_eq!(s.next_expiry(w), None);
        s.get_mut(1).detach(t0 + Duration::from_secs(1));
        assert_eq!(s.next_expiry(w), Some(t0 + Duration::from_secs(31)));
        assert_eq!(s.expired(w, t0 + Duration::from_secs(30)), None);
        assert_eq!(s.expired(w, t0 + Duration::from_secs(31)), Some(1));
        let mut n = 0;
        let id = s.fresh_id(|| {
            n += 1;
            if n < 3 { "m1" } else { "m9" }.to_string()
        });
        assert_eq!(id, "m9");
    }
}
