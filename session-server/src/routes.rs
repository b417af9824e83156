//! HTTP routes: `/ws` (origin check, connection permit, upgrade), health, metrics, the REST
//! API and, in demo mode, the embedded demo page and the media folder.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;
use warp::filters::BoxedFilter;
use warp::http::{header, HeaderMap, HeaderValue, StatusCode};
use warp::hyper::upgrade::OnUpgrade;
use warp::reply::Response;
use warp::{Filter, Reply};

use matinee_auth::{AuthError, Credentials};

use crate::app::App;
use crate::error::Failure;
use crate::protocol::{ErrorCode, Intent};
use crate::room::{Done, Op, Who};
use crate::rooms::{normalize_code, RoomHandle};
use crate::static_files;

/// Largest REST request body, bytes.
const MAX_REST_BODY: u64 = 4096;

/// Initial capacity of each WebSocket's read buffer, bytes. tungstenite's default (128 KiB) is
/// zero-filled on the first read, so every idle connection kept 128 KiB resident. Client frames
/// are small (a hello with a JWT is about 1 KiB, a status about 200 bytes); a bigger frame, up
/// to the transport cap below, makes the buffer grow for it, as tungstenite reserves a frame's
/// whole length once its header is read.
const WS_READ_BUFFER: usize = 2048;

/// The transport's settings for one WebSocket, with the protocol frame limit `max_frame`.
pub fn ws_config(max_frame: usize) -> WebSocketConfig {
    // The transport refuses frames far beyond the protocol limit outright (close 1009);
    // frames just over it are read and answered with `too_large` first.
    let hard_cap = (max_frame * 4).max(64 * 1024);
    WebSocketConfig::default()
        .read_buffer_size(WS_READ_BUFFER)
        .max_message_size(Some(hard_cap))
        .max_frame_size(Some(hard_cap))
}

/// Whether any comma-separated token of any `name` header equals `token`, ignoring ASCII
/// case: browsers send `Connection: keep-alive, Upgrade`.
fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// A well-formed `Sec-WebSocket-Key`: base64 of 16 bytes (RFC 6455 §4.1), 24 characters.
fn valid_ws_key(key: &[u8]) -> bool {
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// `GET /ws`: checks the handshake (RFC 6455 §4.2.1), the origin and the connection limit
/// before answering `101`, then serves the socket in its own task.
///
/// This replaces warp's `ws()` filter, which cannot set the read buffer size (see
/// [`WS_READ_BUFFER`]). It checks what that filter checks and answers `101` the same way;
/// a refusal says why (`426` with the supported version for a wrong `Sec-WebSocket-Version`).
fn ws_upgrade(headers: HeaderMap, on_upgrade: Option<OnUpgrade>, app: Arc<App>) -> Response {
    if !header_has_token(&headers, header::CONNECTION, "upgrade")
        || !header_has_token(&headers, header::UPGRADE, "websocket")
    {
        return text(
            StatusCode::BAD_REQUEST,
            "expected a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)\n",
        );
    }
    let version = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    if version != Some("13") {
        // RFC 6455 §4.4: name the versions this server speaks.
        let mut r = text(
            StatusCode::UPGRADE_REQUIRED,
            "unsupported WebSocket version; this server speaks 13\n",
        );
        r.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return r;
    }
    let Some(key) = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| k.as_bytes())
        .filter(|k| valid_ws_key(k))
    else {
        return text(
            StatusCode::BAD_REQUEST,
            "missing or malformed Sec-WebSocket-Key\n",
        );
    };
    // An `Origin` that is not text is refused, not taken for a missing one.
    let origin = match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(o)) => Ok(Some(o)),
        Some(Err(_)) => Err(()),
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let allowed = origin.is_ok_and(|o| origin_allowed(o, host, &app.config.server.allowed_origins));
    if !allowed {
        tracing::info!("websocket upgrade refused: origin not allowed");
        return text(StatusCode::FORBIDDEN, "origin not allowed\n");
    }
    // hyper offers an upgrade only on an HTTP/1.1 connection that can be taken over.
    let Some(on_upgrade) = on_upgrade else {
        return text(
            StatusCode::BAD_REQUEST,
            "this connection cannot be upgraded to a WebSocket\n",
        );
    };
    if *app.shutdown.borrow() {
        return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
    }
    let Ok(permit) = app.permits.clone().try_acquire_owned() else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "too many connections\n");
    };
    // Base64 is always a valid header value; were it ever not, answer no 101 at all.
    let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key)) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n");
    };
    let config = ws_config(app.config.limits.max_frame_bytes);
    // The upgrade completes once hyper has written the 101 below; if the client goes away
    // first, `on_upgrade` fails and the permit is released with the task.
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "websocket upgrade did not complete");
                return;
            }
        };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        crate::connection::serve(socket, app, permit).await;
    });
    let mut r = Response::default();
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    r
}

/// Whether a WebSocket upgrade from `origin` may proceed. No `Origin` (not a browser) is
/// allowed: a token is still required. Otherwise the origin must be listed, `*` must be
/// listed, or it must be the same origin as the request (`Origin` authority equal to `Host`).
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin else { return true };
    let origin = origin.trim().trim_end_matches('/');
    if allowed
        .iter()
        .any(|a| a == "*" || a.trim().trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let Some(host) = host else { return false };
    let host = host.trim();
    if authority.eq_ignore_ascii_case(host) {
        return true;
    }
    // `https://x` and `Host: x:443` are the same origin.
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    let strip = |s: &str| {
        s.strip_suffix(default_port)
            .unwrap_or(s)
            .to_ascii_lowercase()
    };
    strip(authority) == strip(host)
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut r = warp::reply::json(&json!({"error": code, "message": message})).into_response();
    *r.status_mut() = status;
    r
}

fn failure_response(f: &Failure) -> Response {
    let status = match f.code {
        ErrorCode::BadRequest | ErrorCode::UnsupportedProtocol => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::RoomNotFound => StatusCode::NOT_FOUND,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::RoomFull => StatusCode::CONFLICT,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    json_error(status, f.code.as_str(), &f.message)
}

/// Adds `Access-Control-Allow-Origin` for an origin that was already checked against the
/// allow-list (simple GETs only: no credentials, no preflight needed).
fn with_cors(mut r: Response, origin: Option<String>) -> Response {
    if let Some(v) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        r.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        r.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    r
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let mut r = Response::new(body.into().into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Every route of the server.
pub fn routes(app: Arc<App>) -> BoxedFilter<(Response,)> {
    let with_app = {
        let app = app.clone();
        warp::any().map(move || app.clone())
    };

    let ws = warp::path("ws")
        .and(warp::path::end())
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .and(warp::ext::optional::<OnUpgrade>())
        .and(with_app.clone())
        .map(ws_upgrade);

    // The plugin's "Test connection" button calls /healthz and /readyz from the Jellyfin
    // dashboard, another origin: answer with CORS headers for allowed origins only.
    let cors_origin = warp::header::optional::<String>("origin")
        .and(with_app.clone())
        .map(|origin: Option<String>, app: Arc<App>| {
            origin.filter(|o| origin_allowed(Some(o), None, &app.config.server.allowed_origins))
        });
    let healthz = warp::path("healthz")
        .and(warp::path::end())
        .and(warp::get())
        .and(cors_origin.clone())
        .map(|origin: Option<String>| with_cors(text(StatusCode::OK, "ok"), origin));
    let readyz = warp::path("readyz")
        .and(warp::path::end())
        .and(warp::get())
        .and(cors_origin)
        .and(with_app.clone())
        .then(|origin: Option<String>, app: Arc<App>| async move {
            let r = if !app.auth.ready().await {
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not ready: the authentication backend does not answer",
                )
            } else if let Err(why) = app.rooms.ready().await {
                text(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}"))
            } else {
                text(StatusCode::OK, "ready")
            };
            with_cors(r, origin)
        });
    let metrics = warp::path("metrics")
        .and(warp::path::end())
        .and(warp::get())
        .and(with_app.clone())
        .map(|app: Arc<App>| {
            let mut r = Response::new(app.metrics.render().into());
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            r
        });

    let room_get = warp::path!("v1" / "rooms" / String)
        .and(warp::get())
        .and(warp::header::optional::<String>("authorization"))
        .and(with_app.clone())
        .then(rest_get);
    let room_post = warp::path!("v1" / "rooms" / String / "commands")
        .and(warp::post())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::body::content_length_limit(MAX_REST_BODY))
        .and(warp::body::bytes())
        .and(with_app.clone())
        .then(rest_post);
    // Under `/api` every answer is JSON, refusals by the transport layer included (wrong
    // method, body too large, no length): REST clients parse `error` from every response.
    let api = warp::path("api").and(
        room_get
            .or(room_post)
            .unify()
            .recover(api_rejection)
            .unify(),
    );

    let mut all = ws
        .or(healthz)
        .unify()
        .or(readyz)
        .unify()
        .or(metrics)
        .unify()
        .or(api)
        .unify()
        .boxed();

    if app.config.demo.enabled {
        // HEAD as well as GET: players and link checkers probe files with HEAD (hyper sends
        // the headers of the GET answer without its body).
        let get_or_head = || warp::get().or(warp::head()).unify();
        let range = warp::header::optional::<String>("range");
        let index = warp::path::end()
            .and(get_or_head())
            .and(range)
            .map(|r: Option<String>| static_files::serve("demo/index.html", r.as_deref()));
        let demo = warp::path("demo")
            .and(get_or_head())
            .and(warp::path::tail())
            .and(range)
            .map(|tail: warp::path::Tail, r: Option<String>| {
                let mut p = format!("demo/{}", tail.as_str());
                if p.ends_with('/') {
                    p.push_str("index.html");
                }
                static_files::serve(&p, r.as_deref())
            });
        let src = warp::path("src")
            .and(get_or_head())
            .and(warp::path::tail())
            .and(range)
            .map(|tail: warp::path::Tail, r: Option<String>| {
                static_files::serve(&format!("src/{}", tail.as_str()), r.as_deref())
            });
        all = all
            .or(index)
            .unify()
            .or(demo)
            .unify()
            .or(src)
            .unify()
            .boxed();
    }
    if let Some(dir) = app.config.demo.media_dir.clone() {
        let media = warp::path("media")
            .and(warp::fs::dir(dir))
            .map(|f: warp::fs::File| {
                // Our table, not a guess: `.ts` is an MPEG transport stream here.
                let ty = static_files::content_type(&f.path().to_string_lossy());
                let mut r = f.into_response();
                if ty != "application/octet-stream" {
                    r.headers_mut()
                        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ty));
                }
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                r
            });
        all = all.or(media).unify().boxed();
    }
    all
}

/// A refusal under `/api` as a JSON error with the matching status.
async fn api_rejection(r: warp::Rejection) -> Result<Response, std::convert::Infallible> {
    let (status, code, message) = if r.is_not_found() {
        (StatusCode::NOT_FOUND, "bad_request", "no such API endpoint")
    } else if r.find::<warp::reject::PayloadTooLarge>().is_some() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the request body is too large",
        )
    } else if r.find::<warp::reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            "bad_request",
            "a Content-Length is required",
        )
    } else if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "bad_request",
            "method not allowed here",
        )
    } else {
        (StatusCode::BAD_REQUEST, "bad_request", "invalid request")
    };
    Ok(json_error(status, code, message))
}

/// Who a REST caller is in room `code`: a member's resume secret, or a token naming a member.
async fn rest_caller(
    app: &App,
    code: &str,
    auth: Option<String>,
) -> Result<(RoomHandle, Who), Response> {
    let Some(bearer) = auth
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|b| !b.is_empty())
    else {
        return Err(json_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an Authorization: Bearer token is required",
        ));
    };
    let room = match normalize_code(code) {
        Some(c) => app.rooms.get(&c).await,
        None => None,
    };
    let Some(room) = room else {
        return Err(json_error(
            StatusCode::NOT_FOUND,
            "room_not_found",
            "no room has this code",
        ));
    };
    if let Some(session) = app.sessions.get(bearer) {
        return match session.seat {
            Some((c, member)) if c == room.code() => Ok((room, Who::Seat(member))),
            _ => Err(json_error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "not a member of this room",
            )),
        };
    }
    match app
        .auth
        .authenticate(Credentials {
            token: Some(bearer),
            name: None,
        })
        .await
    {
        // An anonymous identity proves nothing about the bearer.
        Ok(id) if id.anonymous => {
            app.metrics.auth_failure("rest_unknown_token");
            Err(json_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "unknown token",
            ))
        }
        Ok(id) => Ok((room, Who::User(id.user_id))),
        Err(e) => {
            app.metrics.auth_failure(e.reason());
            Err(match e {
                AuthError::Unauthorized { reason } => {
                    json_error(StatusCode::UNAUTHORIZED, "unauthorized", reason)
                }
                AuthError::Unavailable { reason } => {
                    json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", reason)
                }
            })
        }
    }
}

async fn rest_get(code: String, auth: Option<String>, app: Arc<App>) -> Response {
    let (room, who) = match rest_caller(&app, &code, auth).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match room.snapshot(who).await {
        Ok(snap) => warp::reply::json(&snap).into_response(),
        Err(f) => failure_response(&f),
    }
}

/// Body of `POST /api/v1/rooms/{code}/commands`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RestCommand {
    Play {
        position: f64,
        #[serde(default)]
        rate: Option<f64>,
    },
    Pause {
        position: f64,
    },
    Seek {
        position: f64,
    },
}

async fn rest_post(
    code: String,
    auth: Option<String>,
    body: warp::hyper::body::Bytes,
    app: Arc<App>,
) -> Response {
    let (room, who) = match rest_caller(&app, &code, auth).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let cmd: RestCommand = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                &format!("invalid command: {e}"),
            )
        }
    };
    let intent = match cmd {
        RestCommand::Play { position, rate } => Intent::Play { position, rate },
        RestCommand::Pause { position } => Intent::Pause { position },
        RestCommand::Seek { position } => Intent::Seek { position },
    };
    match room.op(who, None, Op::Intent(intent)).await {
        Ok(Done::State(s)) => warp::reply::json(&json!({"ok": true, "state": s})).into_response(),
        Ok(Done::Ok) => warp::reply::json(&json!({"ok": true})).into_response(),
        Err(f) => failure_response(&f),
    }
}

#[cfg(test)]
mod tests {
    use super::origin_allowed;

    #[test]
    fn origins() {
        let list = vec!["https://jf.example.com".to_string()];
        assert!(origin_allowed(None, Some("x:1"), &list));
        assert!(origin_allowed(
            Some("https://jf.example.com"),
            Some("matinee:3000"),
            &list
        ));
        assert!(origin_allowed(
            Some("https://JF.example.com/"),
            Some("matinee:3000"),
            &list
        ));
        assert!(!origin_allowed(
            Some("https://evil.example"),
            Some("matinee:3000"),
            &list
        ));
        assert!(origin_allowed(
            Some("http://127.0.0.1:3000"),
            Some("127.0.0.1:3000"),
            &[]
        ));
        assert!(origin_allowed(
            Some("https://m.example"),
            Some("m.example:443"),
            &[]
        ));
        assert!(origin_allowed(
            Some("https://m.example:443"),
            Some("m.example"),
            &[]
        ));
        assert!(!origin_allowed(
            Some("http://127.0.0.1:3001"),
            Some("127.0.0.1:3000"),
            &[]
        ));
        assert!(!origin_allowed(Some("null"), Some("127.0.0.1:3000"), &[]));
        assert!(origin_allowed(
            Some("https://any.where"),
            Some("h"),
            &["*".to_string()]
        ));
    }
}
