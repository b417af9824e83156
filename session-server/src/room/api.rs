//! The room actor's command API: the commands its mailbox carries and [`Mailbox`], the typed
//! calls that send one and wait for the answer.
//!
//! Errors are those the transports have always shown: a room that has ended refuses with
//! `room_not_found`, a room that dropped a reply (it panicked) gives `internal`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use matinee_auth::Identity;

use crate::error::Failure;
use crate::outbound::ConnHandle;
use crate::protocol::{ErrorCode, Intent, MemberInfo, PlaybackState, Right, Settings};

pub use super::members::StatusReport;
pub use super::queue::Edit;
use super::record::RoomRecord;
pub use super::seats::Who;

/// Reply channel of a command.
pub type Reply<T> = oneshot::Sender<Result<T, Failure>>;

/// Member-scoped operations (serializable: the Redis relay carries them to a room's
/// authority instance).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Op {
    /// Give the seat up.
    Leave,
    /// Playback intent.
    Intent(Intent),
    /// Status report.
    Status(StatusReport),
    /// Chat line.
    Chat(String),
    /// Reaction.
    Reaction(String),
    /// Hand over the host role.
    TransferHost(String),
    /// Remove a member.
    Kick(String),
    /// Set a member's granted rights (the host only).
    SetRights {
        /// The member.
        member_id: String,
        /// Its rights from now on, as the client listed them (checked by the room).
        rights: Vec<Right>,
    },
    /// Ask everyone "ready?"; `true`: start playback when it ends by itself.
    ReadyCheck(bool),
    /// Answer the ready check.
    Ready(bool),
    /// Change the queue (whoever may change the item).
    Queue(Edit),
    /// The current item (this id) ended in the sender's player.
    Ended(String),
}

/// What an operation returns on success.
#[derive(Clone, Debug)]
pub enum Done {
    /// Nothing to add.
    Ok,
    /// The new playback state.
    State(PlaybackState),
}

/// Room snapshot (REST `GET /api/v1/rooms/{code}`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// Room code.
    pub code: String,
    /// Host member id.
    pub host: String,
    /// Settings.
    pub settings: Settings,
    /// Playback state.
    pub state: PlaybackState,
    /// Members, in order of arrival.
    pub members: Vec<MemberInfo>,
    /// The queue, next item first.
    #[serde(default)]
    pub queue: Vec<crate::protocol::Media>,
    /// Server time of the snapshot.
    pub server_time: f64,
    /// Expected position now, by the formula.
    pub position_now: f64,
}

/// Commands a room handles, in mailbox order.
pub enum Cmd {
    /// Take a new seat.
    Join {
        /// Authenticated identity.
        identity: Identity,
        /// The SHA-256 (hex) of the joining session's resume secret, kept in the seat's record
        /// (the registry hashes it: a secret never reaches a room, nor another instance).
        secret: Option<String>,
        /// The joining connection.
        conn: ConnHandle,
        /// Request id to echo in the `room` snapshot.
        req_id: Option<Value>,
        /// Member id on success.
        reply: Reply<String>,
    },
    /// Take an existing seat back.
    Resume {
        /// The seat.
        member_id: String,
        /// The new connection.
        conn: ConnHandle,
        /// Success when the seat still exists.
        reply: Reply<()>,
    },
    /// A connection holding a seat ended; the seat waits for a resume.
    Disconnected {
        /// The seat.
        member_id: String,
        /// The connection that ended.
        conn_id: u64,
    },
    /// A member-scoped operation.
    Op {
        /// Who asks.
        who: Who,
        /// Request id to echo in the caller's copy of the broadcast.
        req_id: Option<Value>,
        /// What.
        op: Op,
        /// Result; `None` for fire-and-forget (`status`).
        reply: Option<Reply<Done>>,
    },
    /// Snapshot for a member (REST).
    Snapshot {
        /// Who asks.
        who: Who,
        /// The snapshot.
        reply: Reply<Snapshot>,
    },
    /// The room's durable state, for a store to keep.
    Record {
        /// The record.
        reply: Reply<RoomRecord>,
    },
    /// Fault injection: the room task panics (tests only).
    #[cfg(test)]
    Panic,
}

/// A room's mailbox, with one typed call per command.
#[derive(Clone, Debug)]
pub struct Mailbox {
    tx: mpsc::Sender<Cmd>,
}

fn closed() -> Failure {
    Failure::new(ErrorCode::RoomNotFound, "the room has closed")
}

fn no_answer() -> Failure {
    Failure::new(ErrorCode::Internal, "the room did not answer")
}

fn no_room() -> Failure {
    Failure::new(ErrorCode::RoomNotFound, "no room has this code")
}

impl Mailbox {
    /// A mailbox over the sending half of the room task's channel.
    pub fn new(tx: mpsc::Sender<Cmd>) -> Self {
        Mailbox { tx }
    }

    /// Whether the room task has ended.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Send `cmd` and wait for its reply; `gone` when the room has ended, `dropped` when it
    /// dropped the reply.
    async fn call<T>(
        &self,
        make: impl FnOnce(Reply<T>) -> Cmd,
        gone: fn() -> Failure,
        dropped: fn() -> Failure,
    ) -> Result<T, Failure> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| gone())?;
        rx.await.unwrap_or_else(|_| Err(dropped()))
    }

    /// Queue a join without waiting for mailbox space (the first seat of a new room, queued
    /// before anybody can learn the code); the returned future resolves to the member id.
    pub fn join_first(
        &self,
        identity: Identity,
        secret: Option<String>,
        conn: ConnHandle,
        req_id: Option<Value>,
    ) -> Result<impl std::future::Future<Output = Result<String, Failure>>, Failure> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .try_send(Cmd::Join {
                identity,
                secret,
                conn,
                req_id,
                reply,
            })
            .map_err(|_| Failure::new(ErrorCode::Internal, "could not queue the first seat"))?;
        Ok(async move { rx.await.unwrap_or_else(|_| Err(no_answer())) })
    }

    /// Take a new seat; resolves to its member id.
    pub async fn join(
        &self,
        identity: Identity,
        secret: Option<String>,
        conn: ConnHandle,
        req_id: Option<Value>,
    ) -> Result<String, Failure> {
        let make = |reply| Cmd::Join {
            identity,
            secret,
            conn,
            req_id,
            reply,
        };
        self.call(make, no_room, no_room).await
    }

    /// Take seat `member_id` back with a new connection.
    pub async fn resume(&self, member_id: String, conn: ConnHandle) -> Result<(), Failure> {
        let make = |reply| Cmd::Resume {
            member_id,
            conn,
            reply,
        };
        self.call(make, closed, no_answer).await
    }

    /// A member-scoped operation, answered.
    pub async fn op(&self, who: Who, req_id: Option<Value>, op: Op) -> Result<Done, Failure> {
        let make = |reply| Cmd::Op {
            who,
            req_id,
            op,
            reply: Some(reply),
        };
        self.call(make, closed, no_answer).await
    }

    /// A member-scoped operation without an answer (`status`); fails only when the room has
    /// ended.
    pub async fn tell(&self, who: Who, op: Op) -> Result<(), Failure> {
        let cmd = Cmd::Op {
            who,
            req_id: None,
            op,
            reply: None,
        };
        self.tx.send(cmd).await.map_err(|_| closed())
    }

    /// Connection `conn_id` holding seat `member_id` has ended.
    pub async fn disconnected(&self, member_id: String, conn_id: u64) {
        // The room may be gone; then there is nothing to tell.
        let _ = self.tx.send(Cmd::Disconnected { member_id, conn_id }).await;
    }

    /// The room as `who` may see it.
    pub async fn snapshot(&self, who: Who) -> Result<Snapshot, Failure> {
        self.call(|reply| Cmd::Snapshot { who, reply }, closed, no_answer)
            .await
    }

    /// The room's durable state.
    pub async fn record(&self) -> Result<RoomRecord, Failure> {
        self.call(|reply| Cmd::Record { reply }, closed, no_answer)
            .await
    }
}
