//! The one way anything reaches a connection: a bounded queue plus a kill switch.
//!
//! Rooms never wait for a connection. They `try_send` into its queue; when the queue is full
//! the connection is told to close with 4003 through the kill switch, which does not need
//! queue space. This keeps a slow reader from ever slowing a room.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::protocol::LeftReason;

/// An item in a connection's outbound queue.
#[derive(Debug)]
pub enum Outbound {
    /// A frame decided by a room at `decided` (for the fan-out latency histogram).
    Frame {
        /// Serialized message, shared by every member it goes to (cloning is a refcount bump,
        /// and the socket writes these very bytes: no copy per member).
        text: Utf8Bytes,
        /// `type` label for metrics.
        kind: &'static str,
        /// When the room decided to send it.
        decided: Instant,
    },
    /// The member no longer belongs to room `code` (left or kicked). The connection forgets the
    /// room if it still points at this seat, then sends `text` (a `left` message).
    Left {
        /// Room code.
        code: String,
        /// Member id in that room.
        member_id: String,
        /// Why.
        reason: LeftReason,
        /// Serialized `left` message.
        text: Utf8Bytes,
    },
}

/// Shared between a connection and whoever may need to close it.
#[derive(Debug, Default)]
pub struct KillSwitch {
    code: AtomicU32,
    notify: Notify,
}

impl KillSwitch {
    /// The close code requested, if any.
    pub fn code(&self) -> Option<u16> {
        match self.code.load(Ordering::Acquire) {
            0 => None,
            c => Some(c as u16),
        }
    }

    /// Wait until a close is requested.
    pub async fn wait(&self) -> u16 {
        loop {
            if let Some(c) = self.code() {
                return c;
            }
            self.notify.notified().await;
        }
    }

    /// Ask the connection to close with `code`; the first request wins.
    pub fn kill(&self, code: u16) {
        let _ = self
            .code
            .compare_exchange(0, code as u32, Ordering::AcqRel, Ordering::Acquire);
        // notify_one stores a permit, so a connection not waiting right now still sees it.
        self.notify.notify_one();
    }
}

/// What a room holds to reach one connection.
#[derive(Clone, Debug)]
pub struct ConnHandle {
    /// Unique per connection for the life of the process.
    pub conn_id: u64,
    tx: mpsc::Sender<Outbound>,
    kill: Arc<KillSwitch>,
}

/// Result of [`ConnHandle::send`].
#[derive(Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// Queued.
    Queued,
    /// The queue was full: the connection has been told to close with 4003.
    TooSlow,
    /// The connection is gone.
    Gone,
}

impl ConnHandle {
    /// A new handle and the receiving ends for the connection task.
    pub fn new(
        conn_id: u64,
        capacity: usize,
    ) -> (ConnHandle, mpsc::Receiver<Outbound>, Arc<KillSwitch>) {
        let (tx, rx) = mpsc::channel(capacity);
        let kill = Arc::new(KillSwitch::default());
        (
            ConnHandle {
                conn_id,
                tx,
                kill: kill.clone(),
            },
            rx,
            kill,
        )
    }

    /// Queue without waiting; a full queue closes the connection (4003).
    pub fn send(&self, item: Outbound) -> SendOutcome {
        match self.tx.try_send(item) {
            Ok(()) => SendOutcome::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kill.kill(crate::protocol::close::TOO_SLOW);
                SendOutcome::TooSlow
            }
            Err(mpsc::error::TrySendError::Closed(_)) => SendOutcome::Gone,
        }
    }

    /// Ask the connection to close with `code`.
    pub fn kill(&self, code: u16) {
        self.kill.kill(code);
    }
}
