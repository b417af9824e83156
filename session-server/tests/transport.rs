//! The `/ws` transport: the server's own upgrade handshake, frames larger than the initial
//! read buffer, and the resident memory an idle connection costs the real binary.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const BIN: &str = env!("CARGO_BIN_EXE_matinee-server");

/// The sample key of RFC 6455 §1.3 and the answer the RFC gives for it.
const SAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const SAMPLE_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn upgrade_headers<'a>(version: &'a str, key: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", version),
        ("Sec-WebSocket-Key", key),
    ]
}

#[tokio::test]
async fn malformed_upgrades_are_refused_with_a_reason() {
    let server = start(config()).await;
    let a = server.addr;

    let r = http(a, "GET", "/ws", &[], b"").await;
    assert_eq!(r.status, 400, "a plain GET is not an upgrade: {}", r.text());
    assert!(r.text().contains("WebSocket upgrade"), "{}", r.text());

    let r = http(a, "GET", "/ws", &upgrade_headers("8", SAMPLE_KEY), b"").await;
    assert_eq!(r.status, 426, "{}", r.text());
    assert_eq!(r.header("sec-websocket-version"), Some("13"));

    for key in [
        "",
        "short",
        "dGhlIHNhbXBsZSBub25jZQ=!",
        "dGhlIHNhbXBsZSBub25jZQ==x",
    ] {
        let r = http(a, "GET", "/ws", &upgrade_headers("13", key), b"").await;
        assert_eq!(r.status, 400, "key {key:?}: {}", r.text());
        assert!(r.text().contains("Sec-WebSocket-Key"), "{}", r.text());
    }
    let mut no_key = upgrade_headers("13", SAMPLE_KEY);
    no_key.pop();
    assert_eq!(http(a, "GET", "/ws", &no_key, b"").await.status, 400);

    let r = http(a, "POST", "/ws", &upgrade_headers("13", SAMPLE_KEY), b"").await;
    assert_eq!(r.status, 405, "only GET upgrades: {}", r.text());

    // None of these took a connection slot or counted as a connection.
    assert_eq!(metric(a, "matinee_connections").await, 0.0);
    let _ok = client(&server, "Ann").await;
}

/// A hand-written handshake: the exact `101` answer, then the protocol over the same socket.
#[tokio::test]
async fn the_upgrade_answers_as_rfc_6455_says() {
    let server = start(config()).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    // Tokens in other cases and lists, as browsers and proxies send them.
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {SAMPLE_KEY}\r\n\r\n",
        server.addr
    );
    s.write_all(req.as_bytes()).await.unwrap();
    // Read the head byte by byte so that nothing after it is consumed here.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let b = tokio::time::timeout(WAIT, s.read_u8())
            .await
            .expect("answer in time")
            .expect("the server answers");
        head.push(b);
    }
    let head = String::from_utf8(head).unwrap();
    let mut lines = head.split("\r\n");
    assert!(lines.next().unwrap().starts_with("HTTP/1.1 101"), "{head}");
    let header = |name: &str| {
        head.split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    assert_eq!(
        header("sec-websocket-accept").as_deref(),
        Some(SAMPLE_ACCEPT)
    );
    assert_eq!(
        header("upgrade").map(|v| v.to_ascii_lowercase()).as_deref(),
        Some("websocket")
    );
    assert_eq!(
        header("connection")
            .map(|v| v.to_ascii_lowercase())
            .as_deref(),
        Some("upgrade")
    );

    let mut ws = WebSocketStream::from_raw_socket(s, Role::Client, None).await;
    ws.send(Message::text(
        json!({"type": "hello", "protocol": 1, "name": "Raw"}).to_string(),
    ))
    .await
    .unwrap();
    let welcome = next_json(&mut ws).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["user"]["name"], "Raw");
}

async fn next_json<S>(ws: &mut WebSocketStream<S>) -> Value
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("no error");
        if let Message::Text(t) = m {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// The read buffer starts small; frames several times its size, up to the protocol limit,
/// must still arrive whole, and small ones after them too.
#[tokio::test]
async fn frames_larger_than_the_read_buffer_arrive_whole() {
    let server = start(config()).await;
    let limit = config().limits.max_frame_bytes;
    let mut ws = connect(&server).await;
    // Unknown fields are ignored: padding makes the hello itself nearly as big as allowed.
    let mut hello = json!({"type": "hello", "protocol": 1, "name": "Big", "pad": ""});
    let overhead = hello.to_string().len();
    hello["pad"] = json!("x".repeat(limit - overhead));
    assert_eq!(hello.to_string().len(), limit);
    send(&mut ws, hello).await;
    assert_eq!(recv(&mut ws).await["type"], "welcome");
    for (i, size) in [limit, 100, 9000, limit, 10].into_iter().enumerate() {
        let mut ping = json!({"type": "ping", "t0": i, "pad": ""});
        let overhead = ping.to_string().len();
        ping["pad"] = json!("y".repeat(size.saturating_sub(overhead)));
        send(&mut ws, ping).await;
        let pong = recv(&mut ws).await;
        assert_eq!(pong["type"], "pong", "{pong}");
        assert_eq!(pong["t0"], i, "frame {i} of {size} bytes answered in order");
    }
    // Just over the limit is still refused as before.
    let mut ping = json!({"type": "ping", "t0": 9, "pad": ""});
    ping["pad"] = json!("z".repeat(limit));
    send(&mut ws, ping).await;
    assert_eq!(recv(&mut ws).await["code"], "too_large");
    assert_eq!(expect_close(&mut ws).await, Some(1009));
}

/// The real binary in its own process, so that its resident memory is its own.
struct Binary {
    child: Child,
    addr: SocketAddr,
}

impl Binary {
    fn start() -> Binary {
        let mut child = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0"])
            .env("MATINEE_AUTH__ALLOW_ANONYMOUS", "true")
            .env("MATINEE_STORE__BACKEND", "memory")
            .env("MATINEE_LOG__LEVEL", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("Matinee listening on http://")
            .unwrap_or_else(|| panic!("listening line, got {line:?}"))
            .parse()
            .unwrap();
        Binary { child, addr }
    }

    /// `VmRSS` of the server process, KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().strip_suffix("kB"))
            .and_then(|v| v.trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn hello_on(addr: SocketAddr, name: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("websocket connects");
    send(
        &mut ws,
        json!({"type": "hello", "protocol": 1, "name": name}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["type"], "welcome");
    ws
}

/// An idle connection that has said hello must cost little resident memory. With
/// tungstenite's default read buffer (128 KiB, zero-filled on the first read) it cost about
/// 140 KiB; the bound is a generous correctness bound, not a benchmark.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn idle_connections_keep_little_memory() {
    const N: usize = 300;
    const BOUND_KIB: f64 = 60.0;
    let server = Binary::start();
    // Warm up: runtime threads, allocator arenas and first-use tables are not per connection.
    let mut warm = Vec::new();
    for i in 0..20 {
        warm.push(hello_on(server.addr, &format!("warm{i}")).await);
    }
    let before = server.rss_kib();
    let mut conns = Vec::with_capacity(N);
    for i in 0..N {
        conns.push(hello_on(server.addr, &format!("idle{i}")).await);
    }
    // Every connection is still served: the last and the first answer a ping.
    for i in [N - 1, 0] {
        let ws = &mut conns[i];
        send(ws, json!({"type": "ping", "t0": 1})).await;
        assert_eq!(recv(ws).await["type"], "pong");
    }
    let after = server.rss_kib();
    let per_conn = after.saturating_sub(before) as f64 / N as f64;
    eprintln!(
        "server RSS {before} KiB -> {after} KiB for {N} idle connections: {per_conn:.1} KiB each"
    );
    assert!(
        per_conn < BOUND_KIB,
        "{per_conn:.1} KiB resident per idle connection (bound {BOUND_KIB} KiB)"
    );
    drop(warm);
}
