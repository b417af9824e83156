//! Seats over time: resume, host migration, room deletion, dead peers, the waiting rule,
//! slow readers and graceful shutdown — over real WebSockets.

mod common;

use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

fn status(buffering: bool) -> Value {
    json!({"type": "status", "position": 1.0, "playing": true, "buffering": buffering,
           "rtt_ms": 10.0, "offset_ms": 0.0, "error_ms": 0.0})
}

fn member<'a>(members: &'a Value, id: &str) -> Option<&'a Value> {
    members["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
}

#[tokio::test]
async fn resume_keeps_seat_and_host_role() {
    let server = start(config()).await;
    let mut a = client(&server, "Ann").await;
    let room = a.create(json!({})).await;
    let (code, a_id) = (
        room["code"].as_str().unwrap().to_string(),
        room["you"].as_str().unwrap().to_string(),
    );
    let mut b = client(&server, "Bob").await;
    b.join(&code).await;
    let secret = a.secret();
    let session = a.welcome["session"].clone();

    drop(a); // abrupt: no close frame, no leave
    recv_where(&mut b.ws, "members", |m| {
        member(m, &a_id).is_some_and(|x| x["connected"] == false)
    })
    .await;

    let mut a2 = client_hello(
        &server,
        json!({"type": "hello", "protocol": 1, "resume": secret, "name": "ignored"}),
    )
    .await;
    assert_eq!(a2.welcome["resumed"], true);
    assert_eq!(a2.welcome["session"], session);
    assert_eq!(
        a2.welcome["user"]["name"], "Ann",
        "the seat's identity is kept"
    );
    let snap = a2.recv_type("room").await;
    assert_eq!(
        (
            snap["you"].as_str(),
            snap["host"].as_str(),
            snap["code"].as_str()
        ),
        (Some(&*a_id), Some(&*a_id), Some(&*code))
    );
    recv_where(&mut b.ws, "members", |m| {
        member(m, &a_id).is_some_and(|x| x["connected"] == true)
    })
    .await;
    // Still the host.
    a2.send(json!({"type": "play", "position": 3.0})).await;
    assert_eq!(b.recv_type("state").await["by"], a_id.as_str());
    // An unknown secret gives a fresh session.
    let c = client_hello(
        &server,
        json!({"type": "hello", "protocol": 1, "resume": "nope"}),
    )
    .await;
    assert_eq!(c.welcome["resumed"], false);
}

#[tokio::test]
async fn a_seat_belongs_to_its_user() {
    let server = start(config()).await;
    let mut u1 = user(&server, "u1", "Uma").await;
    let code = u1.create(json!({})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = u1.secret();
    drop(u1);
    // Another user with the stolen secret is refused.
    let mut ws = connect(&server).await;
    send(
        &mut ws,
        json!({"type": "hello", "protocol": 1, "token": "user:u2:Eve", "resume": secret}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["code"], "unauthorized");
    assert_eq!(expect_close(&mut ws).await, Some(4001));
    // The same user gets the seat back.
    let mut again = client_hello(
        &server,
        json!({"type": "hello", "protocol": 1, "token": "user:u1:Uma", "resume": secret}),
    )
    .await;
    assert_eq!(again.welcome["resumed"], true);
    assert_eq!(again.recv_type("room").await["code"], code.as_str());
    // An anonymous hello does not take over an authenticated user's seat.
    let mut ws = connect(&server).await;
    send(
        &mut ws,
        json!({"type": "hello", "protocol": 1, "resume": secret}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["code"], "unauthorized");
    assert_eq!(expect_close(&mut ws).await, Some(4001));
    // A newer connection replaces an older one still holding the seat (close 1000).
    let mut newer = client_hello(
        &server,
        json!({"type": "hello", "protocol": 1, "token": "user:u1:Uma", "resume": secret}),
    )
    .await;
    assert_eq!(newer.welcome["resumed"], true);
    assert_eq!(newer.recv_type("room").await["code"], code.as_str());
    assert_eq!(expect_close(&mut again.ws).await, Some(1000));
}

#[tokio::test]
async fn host_migrates_to_the_longest_present_member_and_empty_rooms_go() {
    let mut cfg = config();
    cfg.rooms.resume_window_ms = 300;
    cfg.rooms.members_interval_ms = 50;
    let server = start(cfg).await;
    let mut a = client(&server, "Ann").await;
    let room = a.create(json!({})).await;
    let code = room["code"].as_str().unwrap().to_string();
    let a_id = room["you"].as_str().unwrap().to_string();
    let mut b = client(&server, "Bob").await;
    let b_id = b.join(&code).await["you"].as_str().unwrap().to_string();
    let mut c = client(&server, "Cy").await;
    c.join(&code).await;
    assert_eq!(metric(server.addr, "matinee_rooms").await, 1.0);

    drop(a);
    let m = recv_where(&mut c.ws, "members", |m| member(m, &a_id).is_none()).await;
    assert_eq!(m["host"], b_id.as_str(), "Bob joined before Cy");
    assert_eq!(m["list"].as_array().unwrap().len(), 2);
    b.send(json!({"type": "pause", "position": 1.0})).await;
    assert_eq!(c.recv_type("state").await["by"], b_id.as_str());

    // Clean close (no leave_room) keeps the seat for the window too, then frees it.
    b.ws.send(Message::Close(None)).await.unwrap();
    c.send(json!({"type": "leave_room"})).await;
    c.recv_type("left").await;
    eventually("the room is deleted", || async {
        metric(server.addr, "matinee_rooms").await == 0.0
    })
    .await;
    assert_eq!(metric(server.addr, "matinee_members").await, 0.0);
    c.expect_error(json!({"type": "join_room", "code": code}), "room_not_found")
        .await;
}

#[tokio::test]
async fn a_closed_host_page_hands_the_role_over_after_the_grace_and_a_reload_keeps_it() {
    let mut cfg = config();
    cfg.rooms.host_grace_ms = 400;
    cfg.rooms.members_interval_ms = 50;
    let server = start(cfg).await;
    let mut a = client(&server, "Ann").await;
    let room = a.create(json!({})).await;
    let code = room["code"].as_str().unwrap().to_string();
    let a_id = room["you"].as_str().unwrap().to_string();
    let a_secret = a.secret();
    let mut b = client(&server, "Bob").await;
    let b_id = b.join(&code).await["you"].as_str().unwrap().to_string();

    // Ann closes her page: the browser's close frame, 1001 "going away".
    a.ws.send(Message::Close(Some(tungstenite_close(1001))))
        .await
        .unwrap();
    recv_where(&mut b.ws, "members", |m| {
        member(m, &a_id).is_some_and(|x| x["connected"] == false)
    })
    .await;
    // Within the grace the role waits for a reload.
    b.expect_error(json!({"type": "pause", "position": 1.0}), "forbidden")
        .await;
    let m = recv_where(&mut b.ws, "members", |m| m["host"] == b_id.as_str()).await;
    assert_eq!(
        member(&m, &a_id).map(|x| x["connected"].clone()),
        Some(json!(false)),
        "Ann's seat is still kept for a resume"
    );
    b.send(json!({"type": "pause", "position": 1.0})).await;
    assert_eq!(b.recv_type("state").await["by"], b_id.as_str());

    // Ann comes back within the resume window: her seat, without the role.
    let mut a2 = client_hello(
        &server,
        json!({"type": "hello", "protocol": 1, "resume": a_secret}),
    )
    .await;
    assert_eq!(a2.welcome["resumed"], true);
    let snap = a2.recv_type("room").await;
    assert_eq!(
        (snap["you"].as_str(), snap["host"].as_str()),
        (Some(&*a_id), Some(&*b_id))
    );

    // Bob, now host, reloads: he is back before the grace ends and stays host.
    let b_secret = b.secret();
    b.ws.send(Message::Close(Some(tungstenite_close(1001))))
        .await
        .unwrap();
    let mut b2 = client_hello(
        &server,
        json!({"type": "hello", "protocol": 1, "resume": b_secret}),
    )
    .await;
    assert_eq!(b2.recv_type("room").await["host"], b_id.as_str());
    tokio::time::sleep(Duration::from_millis(800)).await;
    b2.send(json!({"type": "play", "position": 2.0})).await;
    assert_eq!(
        b2.recv_type("state").await["by"],
        b_id.as_str(),
        "still host after the grace"
    );
}

fn tungstenite_close(code: u16) -> tokio_tungstenite::tungstenite::protocol::CloseFrame {
    tokio_tungstenite::tungstenite::protocol::CloseFrame {
        code: code.into(),
        reason: "".into(),
    }
}

#[tokio::test]
async fn a_silent_peer_is_dropped() {
    let mut cfg = config();
    cfg.limits.ping_interval_ms = 200;
    cfg.limits.dead_after_ms = 1500;
    cfg.rooms.members_interval_ms = 50;
    let server = start(cfg).await;
    let mut a = client(&server, "Ann").await;
    let code = a.create(json!({})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = client(&server, "Bob").await;
    let b_id = b.join(&code).await["you"].as_str().unwrap().to_string();
    // Bob stops reading: tungstenite answers no pings, the server hears nothing.
    let b_ws = b.ws;
    // Ann keeps reading (and so answering pings) and sees Bob drop.
    recv_where(&mut a.ws, "members", |m| {
        member(m, &b_id).is_some_and(|x| x["connected"] == false)
    })
    .await;
    assert!(metric(server.addr, "matinee_closes_total{reason=\"dead_peer\"}").await >= 1.0);
    assert_eq!(
        metric(server.addr, "matinee_connections").await,
        1.0,
        "Ann, alive, is still connected"
    );
    drop(b_ws);
}

#[tokio::test]
async fn waiting_for_everyone_then_resume() {
    let mut cfg = config();
    cfg.rooms.buffering_grace_ms = 500;
    cfg.rooms.wait_cap_ms = 1500;
    cfg.limits.status_per_second = 100.0;
    let server = start(cfg).await;
    let mut a = client(&server, "Ann").await;
    let code = a.create(json!({"media": {"id": "m"}})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = client(&server, "Bob").await;
    let b_id = b.join(&code).await["you"].as_str().unwrap().to_string();
    a.send(json!({"type": "play", "position": 100.0})).await;
    let play = a.recv_type("state").await;

    // A short stall (< grace) changes nothing.
    b.send(status(true)).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    b.send(status(false)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    // A long one pauses everybody at the expected position.
    let t0 = now_ms();
    b.send(status(true)).await;
    let w = a.recv_type("state").await;
    let t1 = now_ms();
    assert_eq!(w["reason"], "waiting", "{w}");
    assert_eq!(w["playing"], false);
    assert_eq!(w["waiting_for"], json!([b_id]));
    assert_eq!(
        w["seq"],
        play["seq"].as_u64().unwrap() + 1,
        "the short stall did not trigger a wait"
    );
    assert!(
        f64_of(&w["at"]) >= t0 + 500.0 - 5.0,
        "not before the grace period"
    );
    let expected = 100.0 + (f64_of(&w["at"]) - f64_of(&play["at"])).max(0.0) / 1000.0;
    assert!(
        (f64_of(&w["position"]) - expected).abs() < 1e-6,
        "paused at the formula's position"
    );
    assert!(f64_of(&w["at"]) <= t1 + 1.0);

    // Everyone ready: a scheduled start from the same position.
    b.send(status(false)).await;
    let r = a.recv_type("state").await;
    assert_eq!(
        (
            r["reason"].clone(),
            r["playing"].clone(),
            r["position"].clone()
        ),
        (json!("resume"), json!(true), w["position"].clone())
    );
    assert!(f64_of(&r["at"]) > now_ms() - 50.0);
    assert!(r.get("waiting_for").is_none());

    // A member that never recovers is dropped from the wait after the cap.
    let t0 = now_ms();
    b.send(status(true)).await;
    assert_eq!(a.recv_type("state").await["reason"], "waiting");
    let r = a.recv_type("state").await;
    let waited = now_ms() - t0;
    assert_eq!(r["reason"], "resume");
    assert!(
        waited >= 1500.0,
        "resumed after the cap, not before ({waited} ms)"
    );
    // ... and does not stop the room again while it stays stuck.
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.send(json!({"type": "ping", "t0": 0})).await;
    loop {
        let m = a.recv().await;
        assert_ne!(
            m["type"], "state",
            "no new wait for a member already dropped from one: {m}"
        );
        if m["type"] == "pong" {
            break;
        }
    }

    // Leaving while waited for never leaves the room stuck.
    b.send(status(false)).await;
    let mut c = client(&server, "Cy").await;
    c.join(&code).await;
    c.send(status(true)).await;
    assert_eq!(a.recv_type("state").await["reason"], "waiting");
    drop(c);
    assert_eq!(a.recv_type("state").await["reason"], "resume");
}

fn f64_of(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[tokio::test]
async fn a_slow_reader_is_closed_with_4003_and_the_room_goes_on() {
    let mut cfg = config();
    cfg.limits.outbound_queue = 8;
    cfg.limits.max_frame_bytes = 50_000;
    cfg.limits.max_chat_chars = 40_000;
    cfg.limits.messages_per_second = 10_000.0;
    cfg.limits.burst = 10_000;
    let server = start(cfg).await;
    let mut a = client(&server, "Ann").await;
    let code = a.create(json!({})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = client(&server, "Bob").await;
    b.join(&code).await;
    // The slow reader has a tiny receive buffer and does not read.
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let stream = sock.connect(server.addr).await.unwrap();
    let (mut slow, _) = tokio_tungstenite::client_async(
        server.ws_url(),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();
    send(
        &mut slow,
        json!({"type": "hello", "protocol": 1, "name": "Slow"}),
    )
    .await;
    recv_type(&mut slow, "welcome").await;
    send(&mut slow, json!({"type": "join_room", "code": code})).await;
    let slow_id = recv_type(&mut slow, "room").await["you"]
        .as_str()
        .unwrap()
        .to_string();
    recv_where(&mut b.ws, "members", |m| {
        m["list"].as_array().unwrap().len() == 3
    })
    .await;

    // 8 MB of chat: more than the slow reader's socket buffers and queue hold.
    let n = 200;
    let text = "z".repeat(40_000);
    let sid = slow_id.clone();
    let count = |mut ws: Ws| {
        tokio::spawn(async move {
            let (mut got, mut saw_slow_drop) = (0, false);
            while got < n || !saw_slow_drop {
                let m = recv(&mut ws).await;
                if m["type"] == "chat" {
                    got += 1;
                } else if m["type"] == "members" {
                    saw_slow_drop |= member(&m, &sid).is_some_and(|x| x["connected"] == false);
                }
            }
            got
        })
    };
    use futures_util::StreamExt;
    let (mut a_tx, a_rx) = a.ws.split();
    let a_reader = tokio::spawn(async move {
        let mut a_rx = a_rx;
        let mut got = 0;
        while got < n {
            match tokio::time::timeout(WAIT, a_rx.next())
                .await
                .expect("Ann's copies arrive")
            {
                Some(Ok(Message::Text(t))) if t.as_str().contains("\"chat\"") => got += 1,
                Some(Ok(_)) => {}
                other => panic!("Ann's connection failed: {other:?}"),
            }
        }
        got
    });
    let b_reader = count(b.ws);
    for _ in 0..n {
        a_tx.send(Message::text(
            json!({"type": "chat", "text": text}).to_string(),
        ))
        .await
        .unwrap();
    }
    let got = tokio::time::timeout(Duration::from_secs(60), b_reader)
        .await
        .expect("Bob keeps up and sees the slow reader dropped")
        .unwrap();
    assert_eq!(got, n, "the fast reader received everything");
    assert_eq!(a_reader.await.unwrap(), n);
    // The slow reader, reading at last, finds part of its backlog and then close 4003.
    let (got, code) = drain_until_close(&mut slow).await;
    assert_eq!(code, Some(4003));
    assert!(got.len() < n, "the slow reader did not get everything");
    assert!(
        metric(
            server.addr,
            "matinee_closes_total{reason=\"too_slow_4003\"}"
        )
        .await
            >= 1.0
    );
}

#[tokio::test]
async fn graceful_shutdown_sends_1001_to_everyone() {
    let server = start(config()).await;
    let addr = server.addr;
    let mut a = client(&server, "Ann").await;
    let code = a.create(json!({})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = client(&server, "Bob").await;
    b.join(&code).await;
    let mut idle = connect(&server).await; // not even said hello yet
    let t0 = std::time::Instant::now();
    server.stop().await.unwrap();
    assert!(t0.elapsed() < Duration::from_secs(5));
    // Rooms live in memory: members learn that theirs is gone, then the close.
    for ws in [&mut a.ws, &mut b.ws] {
        let (msgs, code) = drain_until_close(ws).await;
        assert_eq!(msgs.last().map(|m| m["type"].clone()), Some(json!("left")));
        assert_eq!(msgs.last().unwrap()["reason"], "room_closed");
        assert_eq!(code, Some(1001));
    }
    assert_eq!(expect_close(&mut idle).await, Some(1001));
    // The listener is gone.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
