//! A stand-in for Jellyfin on 127.0.0.1:0, for tests: serves the plugin's JWKS at
//! `/Matinee/Jwks` and `GET /Users/Me` with Jellyfin's real answer shapes (a `UserDto` with
//! `Id` and `Name` for a known token given as `Authorization: MediaBrowser Token="…"`, 401
//! otherwise), counts calls, and can be switched to answer slowly or with 500.
//!
//! Shared by the `matinee-auth` tests and the server's `auth_*` tests (included by path), so it
//! depends only on warp, tokio and serde_json.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use warp::http::StatusCode;
use warp::reply::Reply;
use warp::Filter;

/// How the fake answers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// Like a healthy Jellyfin.
    Normal,
    /// Waits this long before answering normally.
    Slow(Duration),
    /// 500 Internal Server Error on every request.
    Error500,
}

struct Shared {
    jwks: Mutex<serde_json::Value>,
    /// token → (user id, name)
    users: Mutex<HashMap<String, (String, String)>>,
    mode: Mutex<Mode>,
    jwks_calls: AtomicUsize,
    users_me_calls: AtomicUsize,
}

/// A running fake Jellyfin; stops when dropped.
pub struct FakeJellyfin {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`, for `jellyfin.url`.
    pub url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A `UserDto` as Jellyfin 10.10/10.11 returns it from `/Users/Me` (trimmed to the fields that
/// show its shape; Matinee reads only `Id` and `Name`).
fn user_dto(id: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "Name": name,
        "ServerId": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "Id": id,
        "HasPassword": true,
        "HasConfiguredPassword": true,
        "HasConfiguredEasyPassword": false,
        "EnableAutoLogin": false,
        "LastLoginDate": "2026-01-01T00:00:00.0000000Z",
        "LastActivityDate": "2026-01-01T00:00:00.0000000Z",
        "Configuration": {"PlayDefaultAudioTrack": true, "SubtitleMode": "Default"},
        "Policy": {"IsAdministrator": false, "IsDisabled": false, "EnableAllFolders": true}
    })
}

impl FakeJellyfin {
    /// Start serving `jwks` on a fresh loopback port.
    pub async fn start(jwks: serde_json::Value) -> FakeJellyfin {
        let shared = Arc::new(Shared {
            jwks: Mutex::new(jwks),
            users: Mutex::new(HashMap::new()),
            mode: Mutex::new(Mode::Normal),
            jwks_calls: AtomicUsize::new(0),
            users_me_calls: AtomicUsize::new(0),
        });

        let s = shared.clone();
        let jwks = warp::get()
            .and(warp::path!("Matinee" / "Jwks"))
            .then(move || {
                let s = s.clone();
                async move {
                    s.jwks_calls.fetch_add(1, Ordering::SeqCst);
                    if let Some(r) = apply_mode(&s).await {
                        return r;
                    }
                    let body = s.jwks.lock().unwrap().clone();
                    warp::reply::json(&body).into_response()
                }
            });

        let s = shared.clone();
        let me = warp::get()
            .and(warp::path!("Users" / "Me"))
            .and(warp::header::optional::<String>("authorization"))
            .then(move |auth: Option<String>| {
                let s = s.clone();
                async move {
                    s.users_me_calls.fetch_add(1, Ordering::SeqCst);
                    if let Some(r) = apply_mode(&s).await {
                        return r;
                    }
                    let token = auth
                        .as_deref()
                        .and_then(|h| h.strip_prefix("MediaBrowser Token=\""))
                        .and_then(|rest| rest.strip_suffix('"'));
                    let user = token.and_then(|t| s.users.lock().unwrap().get(t).cloned());
                    match user {
                        Some((id, name)) => {
                            warp::reply::json(&user_dto(&id, &name)).into_response()
                        }
                        None => StatusCode::UNAUTHORIZED.into_response(),
                    }
                }
            });

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Jellyfin");
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = warp::serve(jwks.or(me))
            .incoming(listener)
            .graceful(async move {
                let _ = stopped.await;
            });
        tokio::spawn(server.run());
        FakeJellyfin {
            addr,
            url: format!("http://{addr}"),
            shared,
            stop: Some(stop),
        }
    }

    /// Serve a different JWKS from now on (key rotation).
    pub fn set_jwks(&self, jwks: serde_json::Value) {
        *self.shared.jwks.lock().unwrap() = jwks;
    }

    /// Accept `token` for this user at `/Users/Me`.
    pub fn add_user(&self, token: &str, id: &str, name: &str) {
        self.shared
            .users
            .lock()
            .unwrap()
            .insert(token.into(), (id.into(), name.into()));
    }

    /// Forget a token (as if the user logged out).
    pub fn revoke(&self, token: &str) {
        self.shared.users.lock().unwrap().remove(token);
    }

    /// Switch how it answers.
    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// Requests to `/Matinee/Jwks` so far.
    pub fn jwks_calls(&self) -> usize {
        self.shared.jwks_calls.load(Ordering::SeqCst)
    }

    /// Requests to `/Users/Me` so far.
    pub fn users_me_calls(&self) -> usize {
        self.shared.users_me_calls.load(Ordering::SeqCst)
    }
}

async fn apply_mode(s: &Shared) -> Option<warp::reply::Response> {
    let mode = *s.mode.lock().unwrap();
    match mode {
        Mode::Normal => None,
        Mode::Slow(d) => {
            tokio::time::sleep(d).await;
            None
        }
        Mode::Error500 => Some(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
    }
}

impl Drop for FakeJellyfin {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A loopback URL where nothing listens (Jellyfin down).
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
