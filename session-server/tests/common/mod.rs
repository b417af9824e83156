//! Shared helpers for the black-box tests: a real server on 127.0.0.1:0, a WebSocket client
//! speaking protocol v1, a minimal HTTP/1.1 client, and a test authenticator.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use matinee_auth::{AuthError, Authenticator, BoxFuture, Credentials, Identity};
use matinee_server::Config;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Generous bound for anything that should happen "now" on a busy machine.
pub const WAIT: Duration = Duration::from_secs(10);

/// Tokens: `user:<id>:<name>` → that user; `down` → backend unavailable; anything else is
/// refused. Without a token, anonymous access with the hello name (like demo mode).
pub struct TestAuth;

impl Authenticator for TestAuth {
    fn authenticate<'a>(
        &'a self,
        creds: Credentials<'a>,
    ) -> BoxFuture<'a, Result<Identity, AuthError>> {
        Box::pin(async move {
            match creds.token {
                None => Ok(Identity {
                    user_id: format!("anon:{}", rand_hex()),
                    name: creds.name.unwrap_or("Guest").to_string(),
                    anonymous: true,
                }),
                Some("down") => Err(AuthError::Unavailable {
                    reason: "test_backend_down",
                }),
                Some(t) => {
                    let parts: Vec<&str> = t.splitn(3, ':').collect();
                    match parts.as_slice() {
                        ["user", id, name] => Ok(Identity {
                            user_id: id.to_string(),
                            name: name.to_string(),
                            anonymous: false,
                        }),
                        _ => Err(AuthError::Unauthorized {
                            reason: "test_bad_token",
                        }),
                    }
                }
            }
        })
    }
}

fn rand_hex() -> String {
    use rand::Rng;
    format!("{:016x}", rand::rng().random::<u64>())
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
}

impl Server {
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Trigger shutdown and wait for `run` to return.
    pub async fn stop(mut self) -> Result<(), String> {
        let _ = self.shutdown.take().unwrap().send(());
        tokio::time::timeout(WAIT, self.task.take().unwrap())
            .await
            .expect("run returns")
            .expect("no panic")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Test configuration: defaults with anonymous access.
pub fn config() -> Config {
    Config::for_tests()
}

pub async fn start(config: Config) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(matinee_server::run_with_authenticator(
        listener,
        config,
        Arc::new(TestAuth),
        rx,
    ));
    Server {
        addr,
        shutdown: Some(tx),
        task: Some(task),
    }
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A protocol client.
pub struct Client {
    pub ws: Ws,
    pub welcome: Value,
}

pub async fn connect(server: &Server) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(server.ws_url())
        .await
        .expect("websocket connects");
    ws
}

/// Connect with extra request headers; returns the HTTP status on refusal.
pub async fn connect_with_headers(server: &Server, headers: &[(&str, &str)]) -> Result<Ws, u16> {
    let mut req = server.ws_url().into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("unexpected connect error: {e}"),
    }
}

pub async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.expect("send");
}

/// Next JSON message (pings and pongs skipped); panics on close or timeout.
pub async fn recv(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time");
        match m {
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(t.as_str()).expect("server sends JSON")
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Next message of `kind`, skipping others.
pub async fn recv_type(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let v = recv(ws).await;
        if v["type"] == kind {
            return v;
        }
    }
}

/// Next message of `kind` that satisfies `pred`, skipping others.
pub async fn recv_where(ws: &mut Ws, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let v = recv_type(ws, kind).await;
        if pred(&v) {
            return v;
        }
    }
}

/// Read until the server closes; returns the close code (None if the TCP stream just ended).
pub async fn expect_close(ws: &mut Ws) -> Option<u16> {
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("close in time");
        match m {
            Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

/// Read until the server closes, collecting the text messages on the way.
pub async fn drain_until_close(ws: &mut Ws) -> (Vec<Value>, Option<u16>) {
    let (got, frame) = drain_until_close_frame(ws).await;
    (got, frame.map(|(code, _)| code))
}

/// [`drain_until_close`], with the close frame's reason.
pub async fn drain_until_close_frame(ws: &mut Ws) -> (Vec<Value>, Option<(u16, String)>) {
    let mut got = Vec::new();
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("close in time");
        match m {
            Some(Ok(Message::Text(t))) => got.push(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(f))) => {
                return (got, f.map(|f| (u16::from(f.code), f.reason.to_string())))
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return (got, None),
        }
    }
}

/// Assert that nothing but pings arrives for `d`.
pub async fn expect_silence(ws: &mut Ws, d: Duration) {
    let deadline = tokio::time::Instant::now() + d;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(other) => panic!("expected silence, got {other:?}"),
        }
    }
}

/// Connect and say hello anonymously with a name.
pub async fn client(server: &Server, name: &str) -> Client {
    client_hello(
        server,
        json!({"type": "hello", "protocol": 1, "name": name}),
    )
    .await
}

/// Connect and say hello as a (non-anonymous) test user.
pub async fn user(server: &Server, id: &str, name: &str) -> Client {
    client_hello(
        server,
        json!({"type": "hello", "protocol": 1, "token": format!("user:{id}:{name}")}),
    )
    .await
}

pub async fn client_hello(server: &Server, hello: Value) -> Client {
    let mut ws = connect(server).await;
    send(&mut ws, hello).await;
    let welcome = recv(&mut ws).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    Client { ws, welcome }
}

impl Client {
    pub async fn send(&mut self, v: Value) {
        send(&mut self.ws, v).await
    }
    pub async fn recv(&mut self) -> Value {
        recv(&mut self.ws).await
    }
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        recv_type(&mut self.ws, kind).await
    }
    pub fn secret(&self) -> String {
        self.welcome["resume"].as_str().unwrap().to_string()
    }
    /// Create a room; returns the `room` snapshot.
    pub async fn create(&mut self, extra: Value) -> Value {
        let mut msg = json!({"type": "create_room"});
        if let (Value::Object(m), Value::Object(e)) = (&mut msg, extra) {
            m.extend(e);
        }
        self.send(msg).await;
        let room = self.recv_type("room").await;
        assert_eq!(room["you"], room["host"]);
        room
    }
    /// Join a room; returns the `room` snapshot.
    pub async fn join(&mut self, code: &str) -> Value {
        self.send(json!({"type": "join_room", "code": code})).await;
        let room = self.recv().await;
        assert_eq!(room["type"], "room", "{room}");
        room
    }
    /// Send a request and expect an error with this code; returns it.
    pub async fn expect_error(&mut self, msg: Value, code: &str) -> Value {
        self.send(msg).await;
        let e = self.recv_type("error").await;
        assert_eq!(e["code"], code, "{e}");
        e
    }
}

/// A minimal HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("JSON body ({e}): {}", self.text()))
    }
}

/// One request over a fresh connection (`Connection: close`, body read to EOF).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut buf))
        .await
        .expect("response in time")
        .unwrap();
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let mut body = buf[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(nl) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..nl]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = &b[nl + 2 + n + 2..];
    }
}

/// The value of an unlabeled or labeled metric line, e.g. `matinee_rooms` or
/// `matinee_errors_total{code="room_full"}`.
pub async fn metric(addr: SocketAddr, name: &str) -> f64 {
    let text = http(addr, "GET", "/metrics", &[], b"").await.text();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|r| r.strip_prefix(' '))
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0.0)
}

/// Poll `f` until it returns true or WAIT passes.
pub async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Whether the lines of a server's log (read by another thread, which may lag behind what
/// the server has already done) show `needle` within 5 s.
pub async fn logged(log: &std::sync::Mutex<Vec<String>>, needle: &str) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if log.lock().unwrap().iter().any(|l| l.contains(needle)) {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Server time now, ms since the epoch (same clock as the server: same machine).
pub fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}
