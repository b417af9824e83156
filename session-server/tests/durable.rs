//! Rooms that survive: the real binary, restarted mid-film (SIGTERM, then `kill -9`), with the
//! embedded local store; every client comes back in the same seat, with the host role and
//! the state it had. And a corrupt state file: a clear log line, the file kept aside, a clean
//! start.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{drain_until_close, recv, recv_type, recv_where, send, Ws};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_matinee-server");
/// Flush interval of the store in these tests (the default, 250 ms).
const FLUSH_MS: u64 = 250;

/// The server binary on a loopback port with the local store in `dir`.
struct Proc {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn start(dir: &Path) -> Proc {
        let mut child = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0"])
            .env("MATINEE_AUTH__ALLOW_ANONYMOUS", "true")
            .env("MATINEE_STORE__BACKEND", "local")
            .env("MATINEE_STORE__DATA_DIR", dir)
            .env("MATINEE_STORE__FLUSH_INTERVAL_MS", FLUSH_MS.to_string())
            .env("MATINEE_LOG__LEVEL", "info")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("Matinee listening on http://")
            .unwrap_or_else(|| {
                panic!(
                    "listening line, got {line:?}; log: {:?}",
                    log.lock().unwrap()
                )
            })
            .parse()
            .unwrap();
        Proc { child, addr, log }
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    /// Wait for the process to exit; its status.
    async fn exited(&mut self) -> std::process::ExitStatus {
        let t0 = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(t0.elapsed() < Duration::from_secs(10), "the server exits");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "matinee-durable-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn ws(addr: SocketAddr) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("websocket connects")
        .0
}

/// A member of the party as the test sees it.
struct Member {
    name: String,
    ws: Ws,
    secret: String,
    id: String,
}

async fn hello(addr: SocketAddr, name: &str, resume: Option<&str>) -> (Ws, Value) {
    let mut w = ws(addr).await;
    let mut h = json!({"type": "hello", "protocol": 1, "name": name});
    if let Some(r) = resume {
        h["resume"] = json!(r);
    }
    send(&mut w, h).await;
    let welcome = recv(&mut w).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    (w, welcome)
}

/// Host + two guests in one room, a film playing from 600 s, a chat line.
async fn party(addr: SocketAddr) -> (Vec<Member>, String, Value) {
    let (mut w, welcome) = hello(addr, "Ann", None).await;
    send(
        &mut w,
        json!({"type": "create_room", "media": {"id": "film-1", "title": "Film"}}),
    )
    .await;
    let room = recv_type(&mut w, "room").await;
    let code = room["code"].as_str().unwrap().to_string();
    let mut members = vec![Member {
        name: "Ann".into(),
        secret: welcome["resume"].as_str().unwrap().into(),
        id: room["you"].as_str().unwrap().into(),
        ws: w,
    }];
    for name in ["Bob", "Cy"] {
        let (mut w, welcome) = hello(addr, name, None).await;
        send(&mut w, json!({"type": "join_room", "code": code})).await;
        let room = recv_type(&mut w, "room").await;
        members.push(Member {
            name: name.into(),
            secret: welcome["resume"].as_str().unwrap().into(),
            id: room["you"].as_str().unwrap().into(),
            ws: w,
        });
    }
    send(
        &mut members[0].ws,
        json!({"type": "play", "position": 600.0}),
    )
    .await;
    let mut state = Value::Null;
    for m in &mut members {
        state = recv_where(&mut m.ws, "state", |s| s["reason"] == "play").await;
    }
    send(
        &mut members[1].ws,
        json!({"type": "chat", "text": "popcorn?"}),
    )
    .await;
    for m in &mut members {
        recv_type(&mut m.ws, "chat").await;
    }
    (members, code, state)
}

/// Every member reconnects to `addr` with its secret; each must get its own seat back with
/// the host where it was and the state unchanged (so the formula gives the same position as
/// if no restart had happened). Returns the `room` snapshots.
async fn resume_all(
    addr: SocketAddr,
    members: &mut [Member],
    host: &str,
    state: &Value,
) -> Vec<Value> {
    let mut rooms = Vec::new();
    for m in members.iter_mut() {
        let (mut w, welcome) = hello(addr, &m.name, Some(&m.secret)).await;
        assert_eq!(welcome["resumed"], true, "{} resumed: {welcome}", m.name);
        let room = recv_type(&mut w, "room").await;
        assert_eq!(room["you"], m.id.as_str(), "{} is back in its seat", m.name);
        assert_eq!(room["host"], host, "the host keeps the role");
        for k in [
            "media", "playing", "position", "rate", "at", "seq", "reason", "by",
        ] {
            assert_eq!(room["state"][k], state[k], "state.{k} survives: {room}");
        }
        m.ws = w;
        if let Some(s) = welcome["resume"].as_str() {
            m.secret = s.into();
        }
        rooms.push(room);
    }
    rooms
}

/// After the resume the room is fully alive: the host's pause reaches everyone with the next
/// `seq`, and the chat works.
async fn room_still_works(members: &mut [Member], seq: u64) {
    send(
        &mut members[0].ws,
        json!({"type": "pause", "position": 700.0}),
    )
    .await;
    for m in members.iter_mut() {
        let s = recv_where(&mut m.ws, "state", |s| s["reason"] == "pause").await;
        assert_eq!(s["seq"], seq + 1, "{s}");
        assert_eq!(s["position"], 700.0);
    }
}

#[tokio::test]
async fn a_sigterm_restart_mid_film_keeps_every_seat_the_host_and_the_position() {
    let dir = tempdir("term");
    let mut p1 = Proc::start(&dir);
    let (mut members, code, state) = party(p1.addr).await;
    let host = members[0].id.clone();

    p1.signal("-TERM");
    // Everyone is told to reconnect (1001), never that the room closed.
    for m in members.iter_mut() {
        let (msgs, close) = drain_until_close(&mut m.ws).await;
        assert_eq!(close, Some(1001), "{}", m.name);
        assert!(
            msgs.iter().all(|v| v["type"] != "left"),
            "no `left` on a restart: {msgs:?}"
        );
    }
    assert!(p1.exited().await.success());
    assert!(dir.join("rooms").join(format!("{code}.json")).exists());

    let t0 = Instant::now();
    let p2 = Proc::start(&dir);
    let rooms = resume_all(p2.addr, &mut members, &host, &state).await;
    let took = t0.elapsed();
    eprintln!(
        "restart (SIGTERM) → {} members back in their seats: {:.0} ms (start of the new process to the last `room` snapshot)",
        members.len(),
        took.as_secs_f64() * 1000.0
    );
    // Every seat is there, and the chat tail came back with the room.
    let ids: Vec<&str> = rooms[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>()
    );
    room_still_works(&mut members, state["seq"].as_u64().unwrap()).await;
    drop(p2);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_kill_9_mid_film_loses_nothing_older_than_the_flush_interval() {
    let dir = tempdir("kill");
    let p1 = Proc::start(&dir);
    let (mut members, _code, mut state) = party(p1.addr).await;
    let host = members[0].id.clone();
    // A seek, then enough time for the writer to have flushed it.
    send(
        &mut members[0].ws,
        json!({"type": "seek", "position": 1200.0}),
    )
    .await;
    for m in members.iter_mut() {
        state = recv_where(&mut m.ws, "state", |s| s["reason"] == "seek").await;
    }
    tokio::time::sleep(Duration::from_millis(FLUSH_MS * 2 + 300)).await;
    drop(p1); // SIGKILL: no final snapshot, no close frames

    let p2 = Proc::start(&dir);
    let t0 = Instant::now();
    resume_all(p2.addr, &mut members, &host, &state).await;
    eprintln!(
        "restart (kill -9) → {} members back in their seats: {:.0} ms after the listening line",
        members.len(),
        t0.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(state["position"], 1200.0);
    room_still_works(&mut members, state["seq"].as_u64().unwrap()).await;
    let _ = std::fs::remove_dir_all(dir);
}

/// A grant is part of the room's durable state: written when it changes (a `kill -9` after the
/// flush interval keeps it), and enforced by the new process as by the old.
#[tokio::test]
async fn a_granted_right_survives_a_kill_9() {
    let dir = tempdir("rights");
    let p1 = Proc::start(&dir);
    let (mut members, _code, state) = party(p1.addr).await;
    let host = members[0].id.clone();
    let bob = members[1].id.clone();
    send(
        &mut members[0].ws,
        json!({"type": "set_rights", "member_id": bob, "rights": ["playback"]}),
    )
    .await;
    recv_where(&mut members[2].ws, "members", |m| {
        m["list"][1]["rights"] == json!(["playback"])
    })
    .await;
    // Only the grant changed (no `seq`): the store must still have written it.
    tokio::time::sleep(Duration::from_millis(FLUSH_MS * 2 + 300)).await;
    drop(p1);

    let p2 = Proc::start(&dir);
    let rooms = resume_all(p2.addr, &mut members, &host, &state).await;
    let rights: Vec<&Value> = rooms[2]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["rights"])
        .collect();
    assert_eq!(rights, [&json!([]), &json!(["playback"]), &json!([])]);
    send(
        &mut members[1].ws,
        json!({"type": "pause", "position": 650.0}),
    )
    .await;
    let s = recv_where(&mut members[2].ws, "state", |s| s["reason"] == "pause").await;
    assert_eq!(s["by"], bob.as_str());
    send(
        &mut members[2].ws,
        json!({"type": "pause", "position": 1.0}),
    )
    .await;
    assert_eq!(
        recv_type(&mut members[2].ws, "error").await["code"],
        "forbidden"
    );
    drop(p2);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn corrupt_and_incompatible_state_files_are_kept_aside_and_the_server_starts_clean() {
    let dir = tempdir("corrupt");
    let rooms = dir.join("rooms");
    std::fs::create_dir_all(&rooms).unwrap();
    std::fs::write(rooms.join("ACDEFG.json"), b"{\"format\":1,\"code\":\"ACD").unwrap();
    std::fs::write(
        rooms.join("HJKMNP.json"),
        br#"{"format":99,"code":"HJKMNP","future":"fields"}"#,
    )
    .unwrap();
    let p = Proc::start(&dir);
    // The server is up and serving.
    let (mut w, _) = hello(p.addr, "Ann", None).await;
    send(&mut w, json!({"type": "join_room", "code": "ACDEFG"})).await;
    assert_eq!(recv_type(&mut w, "error").await["code"], "room_not_found");
    send(&mut w, json!({"type": "create_room"})).await;
    recv_type(&mut w, "room").await;

    let log = p.log_text();
    for (file, why) in [("ACDEFG.json", "corrupt"), ("HJKMNP.json", "format 99")] {
        let line = log
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("a log line names {file}: {log}"));
        assert!(line.contains("room state not restored"), "{line}");
        assert!(line.contains(why), "{line}");
        assert!(
            line.contains("rejected"),
            "the line says where the file went: {line}"
        );
        assert!(!rooms.join(file).exists(), "{file} moved aside");
    }
    let kept: Vec<String> = std::fs::read_dir(rooms.join("rejected"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept.iter().any(|k| k.starts_with("HJKMNP.json.")));
    let _ = std::fs::remove_dir_all(dir);
}

/// The figure for docs/performance.md: many rooms, every member back after a restart. Prints
/// the time from SIGTERM to the last member's `room` snapshot on the new process, and from the
/// new process's start; asserts that every seat came back.
#[tokio::test]
async fn twenty_rooms_of_five_all_come_back_after_a_restart() {
    const ROOMS: usize = 20;
    let dir = tempdir("many");
    let mut p1 = Proc::start(&dir);
    let mut parties = Vec::new();
    for _ in 0..ROOMS {
        let (mut members, _code, state) = party(p1.addr).await;
        for name in ["Dee", "Eve"] {
            let (mut w, welcome) = hello(p1.addr, name, None).await;
            let code = _code.clone();
            send(&mut w, json!({"type": "join_room", "code": code})).await;
            let room = recv_type(&mut w, "room").await;
            members.push(Member {
                name: name.into(),
                secret: welcome["resume"].as_str().unwrap().into(),
                id: room["you"].as_str().unwrap().into(),
                ws: w,
            });
        }
        let host = members[0].id.clone();
        parties.push((members, host, state));
    }
    let t_term = Instant::now();
    p1.signal("-TERM");
    assert!(p1.exited().await.success());
    let t_start = Instant::now();
    let p2 = Proc::start(&dir);
    // Everyone reconnects at once, as clients do after a 1001.
    let addr = p2.addr;
    let tasks: Vec<_> = parties
        .into_iter()
        .map(|(mut members, host, state)| {
            tokio::spawn(async move {
                resume_all(addr, &mut members, &host, &state).await;
                members.len()
            })
        })
        .collect();
    let mut back = 0;
    for t in tasks {
        back += t.await.unwrap();
    }
    assert_eq!(back, ROOMS * 5);
    eprintln!(
        "restart of {ROOMS} rooms × 5 members: all {back} back in their seats {:.0} ms after SIGTERM, {:.0} ms after the new process started",
        t_term.elapsed().as_secs_f64() * 1000.0,
        t_start.elapsed().as_secs_f64() * 1000.0
    );
    let _ = std::fs::remove_dir_all(dir);
}
