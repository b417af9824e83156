//! Churn: 200 clients join, leave, reconnect (with and without resume) and drop abruptly in
//! random order for 20 s. Afterwards the server still answers `ping`, and every room's member
//! list is exactly the set of connected members: no orphan seats, no orphan rooms, no deadlock.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serde_json::{json, Value};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

const CLIENTS: usize = 200;
const CHURN: Duration = Duration::from_secs(20);

/// What a client believes at the end: connected or not, and its seat.
#[derive(Debug, Default, Clone)]
struct Final {
    connected: bool,
    seat: Option<(String, String)>,
    secret: Option<String>,
}

struct Live {
    ws: Ws,
    /// Code of a join in flight, forgotten from the shared list if the room is gone.
    joining: Option<String>,
    secret: String,
    seat: Option<(String, String)>,
    host: bool,
    /// Set when the final barrier's pong arrives.
    barrier: bool,
}

/// Handle one server message, keeping track of the seat.
fn absorb(live: &mut Live, m: &Value, codes: &Mutex<Vec<String>>) {
    match m["type"].as_str() {
        Some("error") if m["code"] == "room_not_found" => {
            if let Some(code) = live.joining.take() {
                codes.lock().unwrap().retain(|c| *c != code);
            }
        }
        Some("room") => {
            live.seat = Some((
                m["code"].as_str().unwrap().into(),
                m["you"].as_str().unwrap().into(),
            ));
            live.host = m["host"] == m["you"];
        }
        Some("members") => {
            if let Some((_, me)) = &live.seat {
                live.host = m["host"] == me.as_str();
            }
        }
        Some("pong") if m["t0"] == "barrier" => live.barrier = true,
        Some("left") => {
            live.seat = None;
            live.host = false;
        }
        _ => {}
    }
}

/// Read whatever arrives for `d`; Err when the connection ended.
async fn pump(live: &mut Live, d: Duration, codes: &Mutex<Vec<String>>) -> Result<(), ()> {
    let deadline = Instant::now() + d;
    loop {
        match tokio::time::timeout_at(deadline, live.ws.next()).await {
            Err(_) => return Ok(()),
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                absorb(live, &v, codes);
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return Err(()),
            Ok(Some(Ok(_))) => {}
        }
    }
}

async fn connect_client(server_url: &str, resume: Option<String>, i: usize) -> Option<Live> {
    let (mut ws, _) = tokio_tungstenite::connect_async(server_url).await.ok()?;
    let mut hello = json!({"type": "hello", "protocol": 1, "name": format!("c{i}")});
    if let Some(r) = &resume {
        hello["resume"] = json!(r);
    }
    ws.send(Message::text(hello.to_string())).await.ok()?;
    let mut live = Live {
        ws,
        joining: None,
        barrier: false,
        secret: String::new(),
        seat: None,
        host: false,
    };
    loop {
        let m = tokio::time::timeout(WAIT, live.ws.next())
            .await
            .ok()??
            .ok()?;
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] == "welcome" {
                live.secret = v["resume"].as_str().unwrap().to_string();
                return Some(live);
            }
        }
    }
}

async fn churn_client(
    i: usize,
    url: String,
    codes: Arc<Mutex<Vec<String>>>,
    end: Instant,
) -> Final {
    let mut old_secret: Option<String> = None;
    let mut live: Option<Live> = None;
    while Instant::now() < end {
        let r: f64 = rand::rng().random();
        let Some(l) = live.as_mut() else {
            // Reconnect, half the time resuming the previous session.
            let resume = if rand::rng().random_bool(0.5) {
                old_secret.clone()
            } else {
                None
            };
            live = connect_client(&url, resume, i).await;
            if let Some(l) = live.as_mut() {
                let _ = pump(l, Duration::from_millis(50), &codes).await;
            }
            continue;
        };
        let sent = match (&l.seat, r) {
            (None, r) if r < 0.05 => {
                l.ws.send(Message::text(json!({"type": "create_room"}).to_string()))
                    .await
            }
            (None, _) => {
                let code = {
                    let c = codes.lock().unwrap();
                    if c.is_empty() {
                        None
                    } else {
                        Some(c[rand::rng().random_range(0..c.len())].clone())
                    }
                };
                match code {
                    Some(code) => {
                        l.ws.send(Message::text(
                            json!({"type": "join_room", "code": code}).to_string(),
                        ))
                        .await
                    }
                    None => {
                        l.ws.send(Message::text(json!({"type": "create_room"}).to_string()))
                            .await
                    }
                }
            }
            (Some(_), r) if r < 0.08 => {
                l.ws.send(Message::text(json!({"type": "leave_room"}).to_string()))
                    .await
            }
            (Some(_), r) if r < 0.16 => {
                // Abrupt disconnect: the seat waits for a resume.
                old_secret = Some(l.secret.clone());
                live = None;
                continue;
            }
            (Some(_), r) if r < 0.20 => {
                // Clean close without leaving.
                old_secret = Some(l.secret.clone());
                let _ = l.ws.close(None).await;
                live = None;
                continue;
            }
            (Some(_), r) if r < 0.5 => {
                let s = json!({"type": "status", "position": 1.0, "playing": true, "buffering": rand::rng().random_bool(0.1),
                               "rtt_ms": 5.0, "offset_ms": 0.0, "error_ms": 1.0});
                l.ws.send(Message::text(s.to_string())).await
            }
            (Some(_), r) if r < 0.6 && l.host => {
                l.ws.send(Message::text(
                    json!({"type": "play", "position": r * 100.0}).to_string(),
                ))
                .await
            }
            (Some(_), r) if r < 0.65 => {
                l.ws.send(Message::text(
                    json!({"type": "chat", "text": "hi"}).to_string(),
                ))
                .await
            }
            _ => {
                l.ws.send(Message::text(json!({"type": "ping", "t0": 1}).to_string()))
                    .await
            }
        };
        if sent.is_err() {
            live = None;
            continue;
        }
        let wait = Duration::from_millis(rand::rng().random_range(150..700));
        if pump(l, wait, &codes).await.is_err() {
            live = None;
            continue;
        }
        if let Some((code, _)) = &l.seat {
            let mut c = codes.lock().unwrap();
            if !c.contains(code) {
                c.push(code.clone());
            }
        }
    }
    // A fifth of the clients end with an abrupt drop: their seats must expire.
    if rand::rng().random_bool(0.2) {
        live = None;
    }
    // Settle: answers to the last requests arrive, then report and keep the connection open.
    let fin = match live.as_mut() {
        Some(l) => {
            // Requests sent before the barrier are handled before its pong is written; their
            // replies may sit in the outbound queue a moment longer, hence the quiet time after.
            let mut ok =
                l.ws.send(Message::text(
                    json!({"type": "ping", "t0": "barrier"}).to_string(),
                ))
                .await
                .is_ok();
            let deadline = Instant::now() + WAIT;
            while ok && !l.barrier && Instant::now() < deadline {
                ok = pump(l, Duration::from_millis(50), &codes).await.is_ok();
            }
            assert!(!ok || l.barrier, "the server answers the barrier ping");
            ok = ok && pump(l, Duration::from_millis(500), &codes).await.is_ok();
            Final {
                connected: ok,
                seat: if ok { l.seat.clone() } else { None },
                secret: Some(l.secret.clone()),
            }
        }
        None => Final::default(),
    };
    // Hold the connection (reading, so pings are answered) until the checks are done.
    if let Some(mut l) = live {
        tokio::spawn(async move {
            while pump(&mut l, Duration::from_secs(60), &codes).await.is_ok() {}
        });
    }
    fin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_leaves_no_orphans_and_no_deadlock() {
    let mut cfg = config();
    // Short resume window so dropped seats expire before the check.
    cfg.rooms.resume_window_ms = 1000;
    let server = start(cfg).await;
    let url = server.ws_url();
    let codes = Arc::new(Mutex::new(Vec::new()));
    let end = Instant::now() + CHURN;
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(churn_client(i, url.clone(), codes.clone(), end)))
        .collect();
    let mut finals = Vec::new();
    for t in tasks {
        finals.push(t.await.unwrap());
    }
    // Let seats of dropped connections pass their resume window.
    tokio::time::sleep(Duration::from_millis(2000)).await;

    // Still alive: a fresh client gets a pong.
    let mut probe = client(&server, "probe").await;
    probe.send(json!({"type": "ping", "t0": 42})).await;
    assert_eq!(probe.recv_type("pong").await["t0"], 42);

    let connected = finals.iter().filter(|f| f.connected).count();
    let mut rooms: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut witness: HashMap<String, String> = HashMap::new();
    for f in &finals {
        if let Some((code, member)) = &f.seat {
            rooms
                .entry(code.clone())
                .or_default()
                .insert(member.clone());
            witness.insert(code.clone(), f.secret.clone().unwrap());
        }
    }
    let seated: usize = rooms.values().map(|s| s.len()).sum();
    eprintln!(
        "churn: {connected} connected, {seated} seated in {} rooms; {} codes ever",
        rooms.len(),
        codes.lock().unwrap().len()
    );
    assert!(
        seated > 20,
        "the churn kept a good number of seats ({seated})"
    );

    // Every room's member list is exactly its connected members.
    for (code, expected) in &rooms {
        let r = http(
            server.addr,
            "GET",
            &format!("/api/v1/rooms/{code}"),
            &[("Authorization", &format!("Bearer {}", witness[code]))],
            b"",
        )
        .await;
        assert_eq!(r.status, 200, "room {code}: {}", r.text());
        let snap = r.json();
        let got: BTreeSet<String> = snap["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(&got, expected, "room {code} members");
        assert!(
            snap["members"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["connected"] == true),
            "room {code}: {snap}"
        );
        assert!(
            expected.contains(snap["host"].as_str().unwrap()),
            "room {code} has a present host"
        );
    }
    // No orphan rooms, seats or connections on the server side.
    assert_eq!(
        metric(server.addr, "matinee_rooms").await as usize,
        rooms.len(),
        "no orphan rooms"
    );
    assert_eq!(
        metric(server.addr, "matinee_members").await as usize,
        seated,
        "no orphan seats"
    );
    assert_eq!(
        metric(server.addr, "matinee_connections").await as usize,
        connected + 1,
        "connections (+ probe)"
    );
}
