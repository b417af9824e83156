//! Authentication through the whole server: a fake Jellyfin on loopback, the real session
//! server on 127.0.0.1:0 configured to use it, and real WebSocket clients.
//!
//! Tokens come from `testdata/jwt/tokens.json` (minted and checked by the `matinee-auth`
//! tests with the test keys; valid until 2100), so these tests need no JWT library.

#[path = "../auth/tests/support/fake_jellyfin.rs"]
mod fake_jellyfin;

use std::net::SocketAddr;
use std::time::Duration;

use fake_jellyfin::{closed_port_url, FakeJellyfin, Mode};
use futures_util::{SinkExt, StreamExt};
use matinee_server::Config;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

/// Generous: only a hung server makes a test wait this long.
const STEP: Duration = Duration::from_secs(10);

fn testdata(name: &str) -> Value {
    let path = format!("{}/../testdata/jwt/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

fn tokens() -> Value {
    testdata("tokens.json")
}

fn token(name: &str) -> String {
    tokens()["cases"][name]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token {name}"))
        .to_string()
}

const RAW_TOKEN: &str = "0123456789abcdef0123456789abcdef";

struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// The real server, pointed at `jellyfin_url`, with `jellyfin.server_id` = the tokens' `iss`.
async fn start_server(jellyfin_url: &str, tweak: impl FnOnce(&mut Config)) -> Server {
    let mut cfg = Config::default();
    cfg.store.backend = "memory".into(); // rooms are not what this test is about
    cfg.jellyfin.url = Some(jellyfin_url.to_string());
    cfg.jellyfin.server_id = Some(tokens()["iss"].as_str().unwrap().to_string());
    tweak(&mut cfg);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        if let Err(e) = matinee_server::run(listener, cfg, async move {
            let _ = stopped.await;
        })
        .await
        {
            panic!("server failed: {e}");
        }
    });
    Server {
        addr,
        stop: Some(stop),
    }
}

/// A fake Jellyfin serving the first test key, knowing one raw token.
async fn fake() -> FakeJellyfin {
    let fake = FakeJellyfin::start(testdata("jwks.json")).await;
    fake.add_user(
        RAW_TOKEN,
        "a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1",
        "Raw Alice",
    );
    fake
}

/// `GET path` over plain HTTP/1.1; (status, body).
async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(STEP, s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

async fn wait_ready(addr: SocketAddr) {
    let deadline = tokio::time::Instant::now() + STEP;
    while http_get(addr, "/readyz").await.0 != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "server never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What a `hello` got: the JSON messages received, and the close code if the server closed.
struct Outcome {
    ws: Option<Ws>,
    msgs: Vec<Value>,
    close: Option<u16>,
}

impl Outcome {
    fn welcome(&self) -> &Value {
        let w = self
            .msgs
            .first()
            .unwrap_or_else(|| panic!("no reply; close {:?}", self.close));
        assert_eq!(w["type"], "welcome", "{w}");
        w
    }

    fn refused(&self, code: &str) {
        let e = self
            .msgs
            .first()
            .unwrap_or_else(|| panic!("no reply; close {:?}", self.close));
        assert_eq!(
            (e["type"].as_str(), e["code"].as_str()),
            (Some("error"), Some(code)),
            "{e}"
        );
        assert_eq!(self.close, Some(4001), "{e}");
    }
}

async fn connect(addr: SocketAddr) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("websocket upgrade")
        .0
}

/// Next JSON message, or the close code.
async fn next(ws: &mut Ws) -> Result<Value, Option<u16>> {
    loop {
        match tokio::time::timeout(STEP, ws.next())
            .await
            .expect("server silent")
        {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(None),
        }
    }
}

async fn hello(addr: SocketAddr, msg: Value) -> Outcome {
    let mut ws = connect(addr).await;
    ws.send(Message::text(msg.to_string())).await.unwrap();
    let mut msgs = Vec::new();
    match next(&mut ws).await {
        Ok(v) if v["type"] == "welcome" => {
            return Outcome {
                ws: Some(ws),
                msgs: vec![v],
                close: None,
            }
        }
        Ok(v) => msgs.push(v),
        Err(code) => {
            return Outcome {
                ws: None,
                msgs,
                close: code,
            }
        }
    }
    let close = loop {
        match next(&mut ws).await {
            Ok(v) => msgs.push(v),
            Err(code) => break code,
        }
    };
    Outcome {
        ws: None,
        msgs,
        close,
    }
}

async fn hello_with(addr: SocketAddr, token: &str) -> Outcome {
    hello(
        addr,
        json!({"type": "hello", "protocol": 1, "token": token}),
    )
    .await
}

#[tokio::test]
async fn plugin_tokens_are_accepted_and_every_bad_one_is_refused_with_4001() {
    let jf = fake().await;
    let server = start_server(&jf.url, |_| {}).await;
    wait_ready(server.addr).await;

    let cases = tokens();
    let mut refused = 0;
    for (name, case) in cases["cases"].as_object().unwrap() {
        let out = hello_with(server.addr, case["token"].as_str().unwrap()).await;
        // `key2` is not in the served JWKS (yet): refused like any unknown kid.
        let expect = if name == "key2" {
            "unknown_kid"
        } else {
            case["expect"].as_str().unwrap()
        };
        if expect == "ok" {
            let user = &out.welcome()["user"];
            assert_eq!(user["id"], case["user_id"], "{name}");
            assert_eq!(user["name"], case["name"], "{name}");
        } else {
            out.refused("unauthorized");
            refused += 1;
        }
    }
    assert!(refused >= 13);

    // Refusals are counted by reason; the labels are fixed words, never token material.
    let (_, metrics) = http_get(server.addr, "/metrics").await;
    for reason in [
        "expired",
        "not_yet_valid",
        "bad_audience",
        "bad_issuer",
        "unknown_kid",
        "bad_signature",
        "bad_alg",
        "missing_claim",
        "no_kid",
    ] {
        assert!(
            metrics.contains(&format!(
                "matinee_auth_failures_total{{reason=\"{reason}\"}}"
            )),
            "{reason} not counted:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn garbage_missing_and_oversized_tokens_are_refused() {
    let jf = fake().await;
    let server = start_server(&jf.url, |c| {
        // Let a 100 KB hello through the frame limit so that authentication itself refuses it.
        c.limits.max_frame_bytes = 256 * 1024;
    })
    .await;
    hello_with(server.addr, "garbage")
        .await
        .refused("unauthorized");
    hello_with(server.addr, &"x".repeat(100 * 1024))
        .await
        .refused("unauthorized");
    hello(server.addr, json!({"type": "hello", "protocol": 1}))
        .await
        .refused("unauthorized");
    hello(
        server.addr,
        json!({"type": "hello", "protocol": 1, "name": "Anon"}),
    )
    .await
    .refused("unauthorized");
    let (_, metrics) = http_get(server.addr, "/metrics").await;
    for reason in ["jellyfin_rejected", "too_long", "no_token"] {
        assert!(
            metrics.contains(&format!("reason=\"{reason}\"")),
            "{reason} not counted:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn raw_jellyfin_tokens_are_accepted_refused_and_cached() {
    let jf = fake().await;
    let server = start_server(&jf.url, |_| {}).await;
    for _ in 0..3 {
        let out = hello_with(server.addr, RAW_TOKEN).await;
        assert_eq!(
            out.welcome()["user"],
            json!({"id": "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1", "name": "Raw Alice"})
        );
    }
    assert_eq!(jf.users_me_calls(), 1, "one upstream call, then the cache");
    for _ in 0..3 {
        hello_with(server.addr, "ffffffffffffffffffffffffffffffff")
            .await
            .refused("unauthorized");
    }
    assert_eq!(jf.users_me_calls(), 2, "refusals are cached too");

    let off = start_server(&jf.url, |c| c.auth.jellyfin_tokens = false).await;
    hello_with(off.addr, RAW_TOKEN)
        .await
        .refused("unauthorized");
    assert_eq!(
        jf.users_me_calls(),
        2,
        "switched off: Jellyfin is not asked"
    );
}

#[tokio::test]
async fn a_rotated_key_is_accepted_without_restart() {
    let jf = fake().await;
    let server = start_server(&jf.url, |c| c.auth.jwks_min_refetch_secs = 1).await;
    wait_ready(server.addr).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    hello_with(server.addr, &token("key2"))
        .await
        .refused("unauthorized");

    jf.set_jwks(testdata("jwks-rotated.json"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    hello_with(server.addr, &token("key2")).await.welcome();
    hello_with(server.addr, &token("valid")).await.welcome();
}

#[tokio::test]
async fn jellyfin_down_slow_or_failing_gives_unavailable_and_readyz_says_so() {
    let down = start_server(&closed_port_url().await, |_| {}).await;
    hello_with(down.addr, &token("valid"))
        .await
        .refused("unavailable");
    hello_with(down.addr, RAW_TOKEN)
        .await
        .refused("unavailable");
    assert_eq!(http_get(down.addr, "/readyz").await.0, 503);
    assert_eq!(
        http_get(down.addr, "/healthz").await.0,
        200,
        "alive, just not ready"
    );

    let jf = fake().await;
    jf.set_mode(Mode::Error500);
    let failing = start_server(&jf.url, |c| c.auth.jwks_min_refetch_secs = 1).await;
    hello_with(failing.addr, &token("valid"))
        .await
        .refused("unavailable");
    hello_with(failing.addr, RAW_TOKEN)
        .await
        .refused("unavailable");
    assert_eq!(http_get(failing.addr, "/readyz").await.0, 503);

    jf.set_mode(Mode::Slow(Duration::from_secs(3)));
    let slow = start_server(&jf.url, |c| c.jellyfin.timeout_ms = 300).await;
    hello_with(slow.addr, RAW_TOKEN)
        .await
        .refused("unavailable");

    // Jellyfin back: the failing server recovers without restart.
    jf.set_mode(Mode::Normal);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    wait_ready(failing.addr).await;
    hello_with(failing.addr, &token("valid")).await.welcome();
}

/// Hello with a token and a resume secret.
async fn resume(addr: SocketAddr, token: Option<&str>, secret: &str) -> Outcome {
    let mut msg = json!({"type": "hello", "protocol": 1, "resume": secret, "name": "Mallory"});
    if let Some(t) = token {
        msg["token"] = t.into();
    }
    hello(addr, msg).await
}

/// Alice connects, creates a room, loses her connection; returns her resume secret.
async fn alice_drops_out(addr: SocketAddr) -> String {
    let mut alice = hello_with(addr, &token("valid")).await;
    let secret = alice.welcome()["resume"].as_str().unwrap().to_string();
    let mut ws = alice.ws.take().unwrap();
    ws.send(Message::text(
        json!({"type": "create_room", "id": 1}).to_string(),
    ))
    .await
    .unwrap();
    let room = next(&mut ws).await.unwrap();
    assert_eq!(room["type"], "room", "{room}");
    drop(ws); // connection lost; the seat waits for a resume
    secret
}

#[tokio::test]
async fn resume_needs_the_secret_and_a_token_of_the_same_user() {
    let jf = fake().await;
    let server = start_server(&jf.url, |_| {}).await;
    let secret = alice_drops_out(server.addr).await;
    // Bob holds a valid token, and Alice's secret: not enough.
    resume(server.addr, Some(&token("valid_bob")), &secret)
        .await
        .refused("unauthorized");
    // The secret alone: not enough either.
    resume(server.addr, None, &secret)
        .await
        .refused("unauthorized");
    // Alice with her own token gets her seat back.
    let back = resume(server.addr, Some(&token("valid")), &secret).await;
    assert_eq!(
        back.welcome()["user"]["id"],
        tokens()["cases"]["valid"]["user_id"]
    );
    assert_eq!(back.welcome()["resumed"], true);
}

#[tokio::test]
async fn where_anonymous_access_is_allowed_a_users_seat_still_needs_their_token() {
    let jf = fake().await;
    let server = start_server(&jf.url, |c| c.auth.allow_anonymous = true).await;
    let secret = alice_drops_out(server.addr).await;
    resume(server.addr, Some(&token("valid_bob")), &secret)
        .await
        .refused("unauthorized");
    // A token-less hello is anonymous here; an anonymous caller must not take over the seat
    // of an authenticated user with the secret alone (the server must compare identities
    // whenever the session's identity is not anonymous).
    let out = resume(server.addr, None, &secret).await;
    assert!(
        out.msgs.first().is_some_and(|m| m["type"] == "error"),
        "an anonymous hello took over Jellyfin user Alice's seat with the resume secret alone: {:?}",
        out.msgs
    );
    out.refused("unauthorized");
    let back = resume(server.addr, Some(&token("valid")), &secret).await;
    assert_eq!(back.welcome()["resumed"], true);
}
