//! Frames to and from one WebSocket peer, as the handshake (`handshake`) and the connection
//! loop (`connection`) both write them: a protocol message or a raw frame to the socket, with
//! its metrics, given up when the peer stops reading, the connection is killed or the server
//! shuts down; and why a connection ends ([`Stop`]).
//!
//! No protocol logic lives here: what to answer is decided above, how it reaches the socket
//! is decided here (as mini-redis keeps framing in `connection.rs`, apart from its commands).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::SinkExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use warp::hyper::upgrade::Upgraded;

use crate::app::App;
use crate::error::Failure;
use crate::outbound::KillSwitch;
use crate::protocol::{close, ErrorCode, ServerMsg};
use crate::shutdown::until_shutdown;

/// An upgraded `/ws` connection (see `routes::ws_upgrade`).
pub type WebSocket = WebSocketStream<hyper_util::rt::TokioIo<Upgraded>>;
/// The writing half of a connection's socket.
pub(crate) type Sink = SplitSink<WebSocket, Message>;
/// The reading half of a connection's socket.
pub(crate) type Stream = SplitStream<WebSocket>;

/// Why the loop ends.
pub(crate) enum Stop {
    /// Send this close code and reason, then end.
    Close(u16, &'static str),
    /// The peer is gone or too slow to write to: just end.
    Gone,
}

/// Writes to one connection's socket: what every write needs besides the socket itself (the
/// metrics, the dead-peer time, the connection's kill switch, the shutdown flag). Borrowed
/// for each write, so that a connection keeps no second copy of it.
#[derive(Clone, Copy)]
pub(crate) struct Writer<'a> {
    /// Metrics, limits and the shutdown flag.
    app: &'a App,
    /// The connection's kill switch (a write in progress is given up when it fires).
    kill: &'a KillSwitch,
}

impl<'a> Writer<'a> {
    /// A writer for the connection whose kill switch is `kill`.
    pub(crate) fn new(app: &'a App, kill: &'a KillSwitch) -> Self {
        Writer { app, kill }
    }

    /// Why reading failed, as the connection's end.
    pub(crate) fn read_error(&self, e: WsError) -> Stop {
        // A frame or message over the transport cap (`routes::ws_config`).
        if matches!(e, WsError::Capacity(_)) {
            self.app.metrics.error(ErrorCode::TooLarge.as_str());
            Stop::Close(close::TOO_LARGE, "frame too large")
        } else {
            Stop::Gone
        }
    }

    /// Write one frame, giving up when the peer does not take it within the dead-peer time,
    /// or when the connection is told to close meanwhile.
    pub(crate) async fn write(
        &self,
        sink: &mut Sink,
        msg: Message,
        kind: Option<&'static str>,
    ) -> Result<(), Stop> {
        let send = std::pin::pin!(async { sink.send(msg).await.map_err(|_| Stop::Gone) });
        guarded(self.app, self.kill, send).await?;
        if let Some(kind) = kind {
            self.app.metrics.msg_out(kind);
        }
        Ok(())
    }

    /// Write one protocol message (answering request `id`, if any).
    pub(crate) async fn send(
        &self,
        sink: &mut Sink,
        msg: &ServerMsg,
        id: Option<&Value>,
    ) -> Result<(), Stop> {
        if let ServerMsg::Error { code, .. } = msg {
            self.app.metrics.error(code.as_str());
        }
        self.write(sink, Message::text(msg.to_text(id)), Some(msg.kind()))
            .await
    }

    /// Write `error{code, message}`.
    pub(crate) async fn error(
        &self,
        sink: &mut Sink,
        code: ErrorCode,
        message: impl Into<String>,
        id: Option<&Value>,
    ) -> Result<(), Stop> {
        self.send(
            sink,
            &ServerMsg::Error {
                code,
                message: message.into(),
            },
            id,
        )
        .await
    }

    /// Write the `error` that a refusal means.
    pub(crate) async fn fail(
        &self,
        sink: &mut Sink,
        f: Failure,
        id: Option<&Value>,
    ) -> Result<(), Stop> {
        self.error(sink, f.code, f.message, id).await
    }
}

/// Run a socket write to its end. Most writes finish at once (the socket has room): then
/// nothing else is set up. One that has to wait is given up when the peer does not take it
/// within the dead-peer time, when the connection is told to close or on shutdown. Arming
/// those for every write cost a timer insert and removal and two notifier registrations
/// per batch, one of them on the notifier that every connection shares.
pub(crate) async fn guarded<F>(
    app: &App,
    kill: &KillSwitch,
    mut work: Pin<&mut F>,
) -> Result<(), Stop>
where
    F: Future<Output = Result<(), Stop>>,
{
    let first = std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await;
    if let Poll::Ready(r) = first {
        return r;
    }
    let dead_after = Duration::from_millis(app.config.limits.dead_after_ms);
    let mut shutdown = app.shutdown.clone();
    tokio::select! {
        r = work => r,
        code = kill.wait() => Err(Stop::Close(code, kill_reason(code))),
        _ = until_shutdown(&mut shutdown) => Err(Stop::Close(close::GOING_AWAY, "server shutting down")),
        _ = tokio::time::sleep(dead_after) => Err(Stop::Gone),
    }
}

/// The close reason sent with a kill switch's close code.
pub(crate) fn kill_reason(code: u16) -> &'static str {
    match code {
        close::TOO_SLOW => "too slow to read",
        close::NORMAL => "replaced by a newer connection",
        // A kill with 1001 comes from a shared room whose driving instance is gone, or a
        // relayed seat that was lost: this instance is up. (Shutdown closes on its own path.)
        close::GOING_AWAY => "reconnect: this instance no longer serves this room",
        _ => "closed by the server",
    }
}
