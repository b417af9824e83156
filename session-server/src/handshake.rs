//! The handshake of one WebSocket connection: its first frame must be `hello`, within
//! `limits.hello_timeout_ms`; the protocol version and the credentials are checked, and a
//! `resume` secret gives the connection its session and, when its room still has it, its
//! seat back. What the handshake settles ([`Greeted`]) goes to the connection loop
//! (`connection`), which answers `welcome` ([`welcome`]) and then serves the connection.
//! Writing to the socket is `socket`'s.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use matinee_auth::{AuthError, Credentials, Identity};

use crate::app::App;
use crate::clock::now_ms;
use crate::error::Failure;
use crate::outbound::ConnHandle;
use crate::protocol::{
    close, parse_client, ClientMsg, ErrorCode, ServerMsg, UserInfo, MAX_RATE, MIN_RATE,
    PROTOCOL_VERSION,
};
use crate::rooms::RoomHandle;
use crate::shutdown::until_shutdown;
use crate::socket::{Sink, Stop, Stream, Writer};

/// Longest wait for the authenticator before answering `unavailable`.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// The seat this connection holds.
pub(crate) struct Link {
    /// Its room.
    pub(crate) room: RoomHandle,
    /// The seat's member id in that room.
    pub(crate) member_id: String,
}

/// What a successful handshake settled.
pub(crate) struct Greeted {
    /// The session's resume secret (new, or the one presented).
    pub(crate) secret: String,
    /// The session's public id.
    pub(crate) session_id: String,
    /// Who is connected (the session's identity when resumed).
    pub(crate) identity: Identity,
    /// The seat resumed, if any.
    pub(crate) link: Option<Link>,
    /// Whether the session was resumed (`welcome.resumed`).
    pub(crate) resumed: bool,
    /// The hello's request id, echoed by `welcome`.
    pub(crate) id: Option<Value>,
}

/// Read and check `hello`; authenticate; take the session (and seat) a `resume` secret
/// proves, or open a new session. Refusals are answered here, before the close they cause.
pub(crate) async fn greet(
    app: &Arc<App>,
    conn_id: u64,
    handle: &ConnHandle,
    out: Writer<'_>,
    sink: &mut Sink,
    stream: &mut Stream,
) -> Result<Greeted, Stop> {
    let limits = &app.config.limits;
    let wait = Duration::from_millis(limits.hello_timeout_ms);
    let mut shutdown = app.shutdown.clone();
    let frame = tokio::select! {
        r = tokio::time::timeout(wait, stream.next()) => r,
        _ = until_shutdown(&mut shutdown) => return Err(Stop::Close(close::GOING_AWAY, "server shutting down")),
    };
    let text = match frame {
        Err(_) => {
            app.metrics.auth_failure("hello_timeout");
            // Its own text, so that a client (and the load bench) can tell a server too
            // busy to read the hello in time from a bad token; the close code is 4001.
            let message = format!(
                "hello_timeout: no hello within {} ms",
                limits.hello_timeout_ms
            );
            out.error(sink, ErrorCode::Unauthorized, message, None)
                .await?;
            return Err(Stop::Close(close::UNAUTHORIZED, "hello_timeout"));
        }
        Ok(None) => return Err(Stop::Gone),
        Ok(Some(Err(e))) => return Err(out.read_error(e)),
        Ok(Some(Ok(Message::Text(t)))) => t,
        Ok(Some(Ok(m))) if m.is_close() => return Err(Stop::Gone),
        Ok(Some(Ok(_))) => {
            app.metrics.msg_in("binary");
            out.error(
                sink,
                ErrorCode::BadRequest,
                "the first frame must be a hello text frame",
                None,
            )
            .await?;
            return Err(Stop::Close(close::PROTOCOL, "expected hello"));
        }
    };
    if text.len() > limits.max_frame_bytes {
        out.error(sink, ErrorCode::TooLarge, "frame too large", None)
            .await?;
        return Err(Stop::Close(close::TOO_LARGE, "frame too large"));
    }
    let parsed = parse_client(&text);
    app.metrics.msg_in(parsed.kind);
    let id = parsed.id.clone();
    let (protocol, token, resume, name, device) = match parsed.msg {
        Ok(ClientMsg::Hello {
            protocol,
            token,
            resume,
            name,
            client: _,
            device,
        }) => (protocol, token, resume, name, device),
        Ok(_) => {
            out.error(
                sink,
                ErrorCode::BadRequest,
                "the first message must be hello",
                id.as_ref(),
            )
            .await?;
            return Err(Stop::Close(close::PROTOCOL, "expected hello"));
        }
        Err(m) => {
            out.error(sink, ErrorCode::BadRequest, m, id.as_ref())
                .await?;
            return Err(Stop::Close(close::PROTOCOL, "expected hello"));
        }
    };
    if protocol != PROTOCOL_VERSION {
        out.error(
            sink,
            ErrorCode::UnsupportedProtocol,
            format!("this server speaks protocol {PROTOCOL_VERSION}"),
            id.as_ref(),
        )
        .await?;
        return Err(Stop::Close(close::PROTOCOL, "unsupported protocol"));
    }
    let creds = Credentials {
        token: token.as_deref(),
        name: name.as_deref(),
    };
    // A backend that hangs must not hold the connection (and its permit) past a shutdown,
    // which promises every client a 1001 within seconds.
    let auth = tokio::select! {
        r = tokio::time::timeout(AUTH_TIMEOUT, app.auth.authenticate(creds)) => {
            r.unwrap_or(Err(AuthError::Unavailable {
                reason: "auth_timeout",
            }))
        }
        _ = until_shutdown(&mut shutdown) => {
            return Err(Stop::Close(close::GOING_AWAY, "server shutting down"));
        }
    };
    let identity = match auth {
        Ok(identity) => with_device(identity, device.as_deref()),
        Err(e) => {
            app.metrics.auth_failure(e.reason());
            tracing::info!(conn = conn_id, reason = e.reason(), "hello refused");
            let code = match e {
                AuthError::Unauthorized { .. } => ErrorCode::Unauthorized,
                AuthError::Unavailable { .. } => ErrorCode::Unavailable,
            };
            out.error(
                sink,
                code,
                format!("authentication failed: {}", e.reason()),
                id.as_ref(),
            )
            .await?;
            // Both close with 4001: the connection cannot proceed without an identity;
            // `unavailable` tells the client that retrying later may work.
            return Err(Stop::Close(close::UNAUTHORIZED, e.reason()));
        }
    };
    let mut resumed = false;
    let mut link = None;
    // A live session, or a seat the store kept (after a restart, or from a dead instance).
    let found = match resume.as_deref() {
        Some(s) => match app.session(s).await {
            Ok(x) => x.map(|x| (s, x)),
            Err(f) => {
                // The seat exists but its room is not reachable right now: the client
                // keeps its secret and retries (as after `unavailable` from auth).
                out.fail(sink, f, id.as_ref()).await?;
                return Err(Stop::Close(close::UNAUTHORIZED, "room store unavailable"));
            }
        },
        None => None,
    };
    let (secret, session_id, identity) = match found {
        Some((secret, session)) => {
            // A seat belongs to a user: the secret must come with the same user, except for
            // an anonymous seat, which only the secret can prove. An anonymous hello never
            // takes over an authenticated user's seat.
            if !session.identity.anonymous && identity.user_id != session.identity.user_id {
                app.metrics.auth_failure("resume_other_user");
                out.error(
                    sink,
                    ErrorCode::Unauthorized,
                    "this session belongs to another user",
                    id.as_ref(),
                )
                .await?;
                return Err(Stop::Close(close::UNAUTHORIZED, "resume refused"));
            }
            app.sessions.attach(secret, handle.clone());
            if let Some((code, member_id)) = session.seat.clone() {
                match resume_seat(app, handle, &code, &member_id).await {
                    Ok(Some(room)) => {
                        link = Some(Link { room, member_id });
                        resumed = true;
                    }
                    Ok(None) => app.sessions.set_seat(secret, None),
                    Err(f) => {
                        out.fail(sink, f, id.as_ref()).await?;
                        return Err(Stop::Close(close::UNAUTHORIZED, "room unavailable"));
                    }
                }
            }
            (secret.to_owned(), session.session_id, session.identity)
        }
        None => {
            let (secret, session_id) = app.sessions.create(identity.clone(), handle.clone());
            (secret, session_id, identity)
        }
    };
    Ok(Greeted {
        secret,
        session_id,
        identity,
        link,
        resumed,
        id,
    })
}

/// The `welcome` that ends a successful handshake.
pub(crate) fn welcome(app: &App, g: &Greeted) -> ServerMsg {
    let user = UserInfo {
        id: g.identity.user_id.clone(),
        name: g.identity.name.clone(),
    };
    let l = &app.config.limits;
    ServerMsg::Welcome {
        protocol: PROTOCOL_VERSION,
        session: g.session_id.clone(),
        resume: g.secret.clone(),
        user,
        server_time: now_ms(),
        limits: crate::protocol::Limits {
            max_frame_bytes: l.max_frame_bytes,
            messages_per_second: l.messages_per_second,
            burst: l.burst,
            max_chat_chars: l.max_chat_chars,
            max_members: l.max_members,
            status_per_second: l.status_per_second,
            hello_timeout_ms: l.hello_timeout_ms,
            resume_window_ms: app.config.rooms.resume_window_ms,
            min_rate: MIN_RATE,
            max_rate: MAX_RATE,
            max_queue: l.max_queue,
        },
        resumed: g.resumed,
    }
}

/// The seat's room, resumed; `Ok(None)` when the seat or its room is gone. `Err` when the
/// room exists but cannot be reached now (`unavailable`: its instance or Redis): the seat
/// is kept for the client to retry.
async fn resume_seat(
    app: &App,
    handle: &ConnHandle,
    code: &str,
    member_id: &str,
) -> Result<Option<RoomHandle>, Failure> {
    let Some(room) = app.rooms.get(code).await else {
        return Ok(None);
    };
    match room.resume(member_id.to_owned(), handle.clone()).await {
        Ok(()) => Ok(Some(room)),
        Err(f) if f.code == ErrorCode::Unavailable => Err(f),
        Err(_) => Ok(None),
    }
}

/// A seat for one of the user's devices (a TV their browser drives) is named after the user
/// and the device, so that the others can tell it from the user's own seat. The user id stays
/// the user's: resume and ownership rules are the user's.
fn with_device(mut identity: Identity, device: Option<&str>) -> Identity {
    if let Some(device) = device.and_then(matinee_auth::clean_name) {
        identity.name = format!("{} — {device}", identity.name);
    }
    identity
}
