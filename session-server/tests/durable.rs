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

use common::{drain_until_close, http, recv, recv_type, recv_where, send, Ws};
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

/// The server's environment with the local store in `dir`.
fn store_env(cmd: &mut Command, dir: &Path) {
    cmd.env("MATINEE_AUTH__ALLOW_ANONYMOUS", "true")
        .env("MATINEE_STORE__BACKEND", "local")
        .env("MATINEE_STORE__DATA_DIR", dir)
        .env("MATINEE_STORE__FLUSH_INTERVAL_MS", FLUSH_MS.to_string())
        .env("MATINEE_LOG__LEVEL", "info")
        .env_remove("RUST_LOG");
}

impl Proc {
    fn start(dir: &Path) -> Proc {
        let mut cmd = Command::new(BIN);
        cmd.args(["--listen", "127.0.0.1:0"]);
        store_env(&mut cmd, dir);
        Proc::spawn(cmd)
    }

    /// Run `cmd` (the server, or a wrapper that runs it) and read its listening line.
    fn spawn(mut cmd: Command) -> Proc {
        let mut child = cmd
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

    // The log is read by another thread, which may lag behind the listening line (stdout).
    for file in ["ACDEFG.json", "HJKMNP.json"] {
        assert!(p.logged(file).await, "{}", p.log_text());
    }
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
    // The store itself works: ready.
    assert_eq!(readyz(p.addr).await, (200, "ready".to_string()));
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

// Disk faults under a running server: the data directory turns read-only, fills up, is
// removed; a second server is pointed at it. Each time the rooms go on in memory, the admin
// gets one clear log line and `/readyz` says why, the files already written stay as they were,
// and writing resumes once the disk is back.

async fn readyz(addr: SocketAddr) -> (u16, String) {
    let r = http(addr, "GET", "/readyz", &[], b"").await;
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

/// Wait until `/readyz` answers `status`; its text.
async fn readyz_becomes(addr: SocketAddr, status: u16) -> String {
    let t0 = Instant::now();
    loop {
        let (s, body) = readyz(addr).await;
        if s == status {
            return body;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "/readyz stayed {s}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Fails, never skips, where the tools for a private mount namespace are missing.
fn namespaces_available() {
    let works = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(
        works("unshare", &["-rm", "true"]) && works("nsenter", &["--version"]),
        "the disk-fault tests need `unshare -rm` and `nsenter` (util-linux) with user \
         namespaces enabled, to give the server a read-only or full data directory of its own"
    );
}

/// The server in a private mount namespace (`unshare -rm`), after `setup` ran there.
fn start_in_namespace(dir: &Path, setup: &str) -> Proc {
    namespaces_available();
    let mut cmd = Command::new("unshare");
    let script = format!("{setup} && exec \"$@\"");
    cmd.args([
        "-rm",
        "sh",
        "-c",
        &script,
        "sh",
        BIN,
        "--listen",
        "127.0.0.1:0",
    ]);
    store_env(&mut cmd, dir);
    Proc::spawn(cmd)
}

impl Proc {
    /// Whether the log shows `needle` within 5 s.
    async fn logged(&self, needle: &str) -> bool {
        common::logged(&self.log, needle).await
    }

    /// Run `script` in the server's mount namespace.
    fn in_namespace(&self, script: &str) {
        let pid = self.child.id().to_string();
        let ok = Command::new("nsenter")
            .args(["-t", &pid, "-m", "sh", "-c", script])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "nsenter: {script}");
    }

    /// `path` as the server sees it (through its mount namespace).
    fn seen(&self, path: &Path) -> PathBuf {
        let inside = path.strip_prefix("/").unwrap();
        PathBuf::from(format!("/proc/{}/root", self.child.id())).join(inside)
    }
}

/// The room's file as the server sees it: its bytes, which must be a whole room record.
fn room_file(p: &Proc, dir: &Path, code: &str) -> Option<(Vec<u8>, Value)> {
    let bytes = std::fs::read(p.seen(&dir.join("rooms").join(format!("{code}.json")))).ok()?;
    let v: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("the file of room {code} is corrupt ({e})"));
    Some((bytes, v))
}

/// Wait until the room's file holds `seq` (and the party's chat line).
async fn room_written(p: &Proc, dir: &Path, code: &str, seq: u64) -> Vec<u8> {
    let t0 = Instant::now();
    loop {
        if let Some((bytes, v)) = room_file(p, dir, code) {
            if v["state"]["seq"] == seq && v["chat"].as_array().is_some_and(|c| c.len() == 1) {
                return bytes;
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "room {code} never written with seq {seq}: {:?}",
            room_file(p, dir, code).map(|f| f.1)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The whole story of one disk fault: a party written to disk; the disk breaks; the host
/// pauses (the room goes on in memory); the admin sees a log line and `/readyz` 503 with the
/// reason; the file on disk is still the last one written; the disk comes back; writes
/// resume and `/readyz` is 200 again.
async fn a_disk_fault_is_survived(
    p: &Proc,
    dir: &Path,
    break_disk: &dyn Fn(),
    fix_disk: &dyn Fn(),
) {
    let (mut members, code, state) = party(p.addr).await;
    let seq = state["seq"].as_u64().unwrap();
    let before = room_written(p, dir, &code, seq).await;
    assert_eq!(readyz(p.addr).await.0, 200);

    break_disk();
    room_still_works(&mut members, seq).await;
    let why = readyz_becomes(p.addr, 503).await;
    assert!(
        why.contains("room state cannot be written") && why.contains("rooms go on in memory"),
        "{why}"
    );
    assert!(p.logged("room state cannot be written").await);
    let log = p.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("room state cannot be written"))
        .unwrap_or_else(|| panic!("a log line says so: {log}"));
    assert!(line.contains("ERROR"), "{line}");
    assert_eq!(
        room_file(p, dir, &code).map(|f| f.0),
        Some(before),
        "the file already written is untouched"
    );
    // The fault is logged once, not at every retry.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        p.log_text().matches("room state cannot be written").count(),
        1
    );

    fix_disk();
    readyz_becomes(p.addr, 200).await;
    room_written(p, dir, &code, seq + 1).await;
    assert!(
        p.logged("room state is written again").await,
        "{}",
        p.log_text()
    );
    let tmp = p.seen(&dir.join("rooms").join(format!("{code}.json.tmp")));
    assert!(!tmp.exists(), "no temp file is left behind");
}

#[tokio::test]
async fn a_data_directory_turned_read_only_keeps_rooms_in_memory_and_recovers() {
    let dir = tempdir("readonly");
    // As root (CI), a mode bit stops no write: a read-only bind mount does.
    let p = start_in_namespace(&dir, "true");
    let d = dir.display().to_string();
    a_disk_fault_is_survived(
        &p,
        &dir,
        &|| {
            p.in_namespace(&format!(
                "mount --bind '{d}' '{d}' && mount -o remount,bind,ro '{d}'"
            ))
        },
        &|| p.in_namespace(&format!("umount '{d}'")),
    )
    .await;
    drop(p);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_full_disk_keeps_rooms_in_memory_and_recovers() {
    let dir = tempdir("full");
    // The data directory is a 256 KiB tmpfs of the server's own.
    let d = dir.display().to_string();
    let p = start_in_namespace(&dir, &format!("mount -t tmpfs -o size=256k tmpfs '{d}'"));
    let filler = p.seen(&dir.join("filler"));
    a_disk_fault_is_survived(
        &p,
        &dir,
        &|| {
            use std::io::Write;
            let mut f = std::fs::File::create(&filler).unwrap();
            let block = [0u8; 4096];
            while f.write_all(&block).is_ok() {}
        },
        &|| std::fs::remove_file(&filler).unwrap(),
    )
    .await;
    drop(p);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_data_directory_removed_while_running_is_made_again_with_every_room() {
    let dir = tempdir("removed");
    let p = Proc::start(&dir);
    let (mut members, code, state) = party(p.addr).await;
    let seq = state["seq"].as_u64().unwrap();
    // A second room that will not change again: it must be written again too.
    let (mut zed, _) = hello(p.addr, "Zed", None).await;
    send(&mut zed, json!({"type": "create_room"})).await;
    let other = recv_type(&mut zed, "room").await["code"]
        .as_str()
        .unwrap()
        .to_string();
    room_written(&p, &dir, &code, seq).await;
    let other_file = dir.join("rooms").join(format!("{other}.json"));
    let written = |what: &'static str| {
        let f = other_file.clone();
        async move {
            let t0 = Instant::now();
            while !f.exists() {
                assert!(t0.elapsed() < Duration::from_secs(10), "{what}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    written("the second room is written").await;

    std::fs::remove_dir_all(&dir).unwrap();
    room_still_works(&mut members, seq).await;
    room_written(&p, &dir, &code, seq + 1).await;
    // In the same batch, right after the room that changed.
    written("the unchanged room is written again").await;
    assert!(
        p.logged("the rooms folder was missing (removed while running)")
            .await,
        "{}",
        p.log_text()
    );
    assert_eq!(readyz(p.addr).await.0, 200);
    drop(p);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_second_server_on_the_same_data_directory_refuses_to_start() {
    let dir = tempdir("twice");
    let first = Proc::start(&dir);
    let (mut members, code, state) = party(first.addr).await;
    let seq = state["seq"].as_u64().unwrap();
    let before = room_written(&first, &dir, &code, seq).await;

    let mut cmd = Command::new(BIN);
    cmd.args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    store_env(&mut cmd, &dir);
    let mut second = cmd.spawn().unwrap();
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = second.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(10) {
            let _ = second.kill();
            panic!("the second server did not refuse to start");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let out = second.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!status.success());
    assert!(
        err.contains("another matinee-server uses this data directory"),
        "{err}"
    );
    // The first goes on, its file as it wrote it.
    assert_eq!(room_file(&first, &dir, &code).map(|f| f.0), Some(before));
    room_still_works(&mut members, seq).await;
    room_written(&first, &dir, &code, seq + 1).await;
    assert_eq!(readyz(first.addr).await.0, 200);

    // Once the first has stopped, a server starts there and has the room.
    first.signal("-TERM");
    let mut first = first;
    first.exited().await;
    let again = Proc::start(&dir);
    assert!(again.logged("restored=1").await, "{}", again.log_text());
    let (mut w, welcome) = hello(again.addr, "Ann", Some(&members[0].secret)).await;
    assert_eq!(welcome["resumed"], true, "{welcome}");
    assert_eq!(recv_type(&mut w, "room").await["code"], code.as_str());
    drop(again);
    let _ = std::fs::remove_dir_all(dir);
}
