//! Edge cases found in review: HEAD on the demo files, the seek lead cap, playback-rate
//! bounds, and a shutdown that must not wait for a hanging authentication backend.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test]
async fn head_on_demo_files_answers_headers_without_a_body() {
    let dir = std::env::temp_dir().join(format!("matinee-head-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("clip.mp4"), vec![7u8; 3000]).unwrap();
    let mut cfg = config();
    cfg.demo.enabled = true;
    cfg.demo.media_dir = Some(dir.clone());
    let server = start(cfg).await;
    let a = server.addr;

    let mut paths = vec!["/".to_string(), "/media/clip.mp4".to_string()];
    paths.extend(
        matinee_server::static_files::EMBEDDED
            .iter()
            .take(3)
            .map(|(p, _)| format!("/{p}")),
    );
    for path in &paths {
        let get = http(a, "GET", path, &[], b"").await;
        assert_eq!(get.status, 200, "GET {path}");
        let head = http(a, "HEAD", path, &[], b"").await;
        assert_eq!(head.status, 200, "HEAD {path}");
        assert!(head.body.is_empty(), "HEAD {path} sent a body");
        assert_eq!(
            head.header("content-length"),
            Some(get.body.len().to_string().as_str()),
            "HEAD {path} announces the GET length"
        );
        assert_eq!(head.header("content-type"), get.header("content-type"));
    }
    // HEAD of something that does not exist is still a 404, and other methods stay refused.
    assert_eq!(http(a, "HEAD", "/demo/nope.js", &[], b"").await.status, 404);
    assert_eq!(http(a, "PUT", "/", &[], b"x").await.status, 405);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_seek_lead_is_capped_at_two_seconds() {
    let server = start(config()).await;
    let mut a = client(&server, "Ann").await;
    let room = a
        .create(json!({"settings": {"control": "shared", "wait_for_all": false}}))
        .await;
    let code = room["code"].as_str().unwrap().to_string();
    let mut b = client(&server, "Bob").await;
    b.join(&code).await;
    a.send(json!({"type": "play", "position": 10.0})).await;
    recv_where(&mut b.ws, "state", |s| s["reason"] == "play").await;
    // Bob's player reports a 9 s seek latency (a slow transcode); his own next message is
    // a seek, so the room has taken the report when it schedules it.
    b.send(
        json!({"type": "status", "position": 10.0, "playing": true, "buffering": false,
        "rtt_ms": 0.0, "offset_ms": 0.0, "error_ms": 0.0, "seek_ms": 9000.0}),
    )
    .await;
    let before = now_ms();
    b.send(json!({"type": "seek", "position": 60.0})).await;
    let s = recv_where(&mut b.ws, "state", |s| s["reason"] == "seek").await;
    let received = now_ms();
    let at = f(&s["at"]);
    assert_eq!(s["playing"], true);
    assert!(
        at - before >= 1999.0,
        "the lead covers the reported latency up to the cap: {}",
        at - before
    );
    assert!(
        at - received <= 2000.0,
        "the whole seek lead is at most 2 s: {}",
        at - received
    );
}

#[tokio::test]
async fn rest_play_with_an_absurd_rate_is_refused() {
    let server = start(config()).await;
    let mut a = user(&server, "u1", "Ann").await;
    // Clients learn the accepted band up front.
    let limits = &a.welcome["limits"];
    assert_eq!(
        (f(&limits["min_rate"]), f(&limits["max_rate"])),
        (0.25, 4.0)
    );
    let code = a.create(json!({})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/rooms/{code}/commands");
    let auth = [("Authorization", "Bearer user:u1:Ann")];
    for rate in ["0", "0.1", "100", "1e308"] {
        let body = format!(r#"{{"type":"play","position":1,"rate":{rate}}}"#);
        let r = http(server.addr, "POST", &path, &auth, body.as_bytes()).await;
        assert_eq!(r.status, 400, "rate {rate}: {}", r.text());
        assert_eq!(r.json()["error"], "bad_request");
    }
    let r = http(
        server.addr,
        "POST",
        &path,
        &auth,
        br#"{"type":"play","position":1,"rate":2}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let s = a.recv_type("state").await;
    assert_eq!(
        (s["rate"].clone(), s["seq"].clone()),
        (json!(2.0), json!(2))
    );
}

/// Token `hang` never gets an answer; anything else is an anonymous guest.
struct Hanging;

impl matinee_auth::Authenticator for Hanging {
    fn authenticate<'a>(
        &'a self,
        creds: matinee_auth::Credentials<'a>,
    ) -> matinee_auth::BoxFuture<'a, Result<matinee_auth::Identity, matinee_auth::AuthError>> {
        Box::pin(async move {
            if creds.token == Some("hang") {
                std::future::pending::<()>().await;
            }
            Ok(matinee_auth::Identity {
                user_id: "anon:guest".into(),
                name: "Guest".into(),
                anonymous: true,
            })
        })
    }
    fn ready(&self) -> matinee_auth::BoxFuture<'_, bool> {
        Box::pin(async { true })
    }
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_hanging_authentication() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut cfg = config();
    // Long enough that waiting for the hanging hello would show.
    cfg.server.shutdown_timeout_ms = 8_000;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(matinee_server::run_with_authenticator(
        listener,
        cfg,
        Arc::new(Hanging),
        rx,
    ));
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    send(
        &mut ws,
        json!({"type": "hello", "protocol": 1, "token": "hang"}),
    )
    .await;
    // Let the hello reach the authenticator.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t0 = Instant::now();
    tx.send(()).unwrap();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("run returns")
        .unwrap()
        .unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        t0.elapsed()
    );
    assert_eq!(expect_close(&mut ws).await, Some(1001));
}

#[tokio::test]
async fn api_refusals_are_json() {
    let server = start(config()).await;
    let mut a = client(&server, "Ann").await;
    let code = a.create(json!({})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = format!("Bearer {}", a.secret());
    let auth = [("Authorization", auth.as_str())];
    let cmd = format!("/api/v1/rooms/{code}/commands");
    let cases: [(&str, String, Vec<u8>, u16, &str); 4] = [
        ("POST", cmd.clone(), vec![b' '; 10_000], 413, "too_large"),
        ("GET", cmd.clone(), vec![], 405, "bad_request"),
        (
            "DELETE",
            format!("/api/v1/rooms/{code}"),
            vec![],
            405,
            "bad_request",
        ),
        ("GET", "/api/v2/whatever".into(), vec![], 404, "bad_request"),
    ];
    for (method, path, body, status, error) in cases {
        let r = http(server.addr, method, &path, &auth, &body).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.text());
        assert_eq!(r.json()["error"], error, "{method} {path}");
        assert!(r.json()["message"].is_string());
    }
    // Outside /api nothing changes: the health check and unknown paths answer as before.
    assert_eq!(
        http(server.addr, "GET", "/healthz", &[], b"").await.text(),
        "ok"
    );
    assert_eq!(
        http(server.addr, "GET", "/nope", &[], b"").await.status,
        404
    );
    // Nothing reached the room.
    a.send(json!({"type": "pause", "position": 1.0})).await;
    assert_eq!(a.recv_type("state").await["seq"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_hundreds_of_clients_with_1001_in_time() {
    let mut cfg = config();
    cfg.server.shutdown_timeout_ms = 20_000; // the bound under test is ours, below
    let server = start(cfg).await;
    let mut clients = Vec::new();
    // Six full rooms of 50 and 100 clients that only said hello; none reads until the end,
    // so every close frame sits behind a peer that is not reading.
    for _ in 0..6 {
        let mut host = client(&server, "Host").await;
        let code = host.create(json!({})).await["code"]
            .as_str()
            .unwrap()
            .to_string();
        clients.push(host);
        for _ in 0..49 {
            let mut c = client(&server, "Guest").await;
            c.join(&code).await;
            clients.push(c);
        }
    }
    for _ in 0..100 {
        clients.push(client(&server, "Idle").await);
    }
    assert_eq!(metric(server.addr, "matinee_connections").await, 400.0);
    let t0 = Instant::now();
    server.stop().await.unwrap();
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    let mut codes = std::collections::HashMap::new();
    for c in &mut clients {
        let (_, code) = drain_until_close(&mut c.ws).await;
        *codes.entry(code).or_insert(0) += 1;
    }
    assert_eq!(codes.get(&Some(1001)), Some(&400), "close codes: {codes:?}");
}

#[tokio::test]
async fn requests_in_the_wrong_room_state_change_nothing() {
    let mut cfg = config();
    cfg.rooms.resume_window_ms = 60_000;
    let server = start(cfg).await;
    let mut a = client(&server, "Ann").await;
    let room = a.create(json!({})).await;
    let code = room["code"].as_str().unwrap().to_string();
    let a_id = room["you"].as_str().unwrap().to_string();
    let mut other = client(&server, "Oz").await;
    let other_code = other.create(json!({})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = client(&server, "Bob").await;
    let b_id = b.join(&code).await["you"].as_str().unwrap().to_string();

    // Already in a room: neither a second room nor a second seat.
    b.expect_error(json!({"type": "create_room", "id": 1}), "bad_request")
        .await;
    b.expect_error(
        json!({"type": "join_room", "code": other_code}),
        "bad_request",
    )
    .await;
    // Kicking a stranger, handing the role to a stranger: refused.
    a.expect_error(
        json!({"type": "kick", "member_id": "m000000000000"}),
        "bad_request",
    )
    .await;
    a.expect_error(
        json!({"type": "transfer_host", "member_id": "m000000000000"}),
        "bad_request",
    )
    .await;
    // Handing the role to oneself is a no-op that succeeds.
    a.send(json!({"type": "transfer_host", "member_id": a_id, "id": "self"}))
        .await;
    // Bob drops off (seat kept): the role cannot go to a member nobody can reach.
    drop(b);
    let m = recv_where(&mut a.ws, "members", |m| {
        m["list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == b_id.as_str() && e["connected"] == false)
    })
    .await;
    assert_eq!(m["host"], a_id.as_str());
    a.expect_error(
        json!({"type": "transfer_host", "member_id": b_id}),
        "bad_request",
    )
    .await;
    // The room is as it was: same host, Bob's seat still there, Oz's room untouched.
    let r = http(
        server.addr,
        "GET",
        &format!("/api/v1/rooms/{code}"),
        &[("Authorization", &format!("Bearer {}", a.secret()))],
        b"",
    )
    .await
    .json();
    assert_eq!(r["host"], a_id.as_str());
    let ids: Vec<&str> = r["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![a_id.as_str(), b_id.as_str()]);
    assert_eq!(r["state"]["seq"], 1);
    let o = http(
        server.addr,
        "GET",
        &format!("/api/v1/rooms/{other_code}"),
        &[("Authorization", &format!("Bearer {}", other.secret()))],
        b"",
    )
    .await
    .json();
    assert_eq!(o["members"].as_array().unwrap().len(), 1);
    // Out of the room, leave_room is refused and create works again.
    a.send(json!({"type": "leave_room"})).await;
    assert_eq!(a.recv_type("left").await["reason"], "left");
    a.expect_error(json!({"type": "leave_room"}), "forbidden")
        .await;
    a.create(json!({})).await;
}
