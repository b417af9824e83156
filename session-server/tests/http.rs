//! HTTP side: health, readiness, metrics, the REST API, the origin check, demo files with
//! ranges, the media folder, and the binary itself (`--print-config`, listening line, SIGTERM).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = start(config()).await;
    let r = http(server.addr, "GET", "/healthz", &[], b"").await;
    assert_eq!((r.status, r.text()), (200, "ok".to_string()));
    assert_eq!(
        http(server.addr, "GET", "/readyz", &[], b"").await.status,
        200
    );

    let mut a = client(&server, "Ann").await;
    let code = a.create(json!({})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = client(&server, "Bob").await;
    b.join(&code).await;
    a.send(json!({"type": "play", "position": 0.0})).await;
    b.recv_type("state").await;
    a.expect_error(json!({"type": "nope"}), "bad_request").await;

    let m = http(server.addr, "GET", "/metrics", &[], b"").await;
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    let t = m.text();
    for line in [
        "matinee_connections 2",
        "matinee_rooms 1",
        "matinee_members 2",
        "matinee_messages_in_total{type=\"play\"} 1",
        "matinee_messages_in_total{type=\"unknown\"} 1",
        "matinee_messages_out_total{type=\"welcome\"} 2",
        "matinee_errors_total{code=\"bad_request\"} 1",
        "# TYPE matinee_fanout_latency_seconds histogram",
        "# TYPE matinee_auth_failures_total counter",
    ] {
        assert!(t.contains(line), "metrics lack {line:?}:\n{t}");
    }
    // Both members' copies of the `state` were written to their sockets.
    let states = r#"matinee_fanout_latency_seconds_count{type="state"}"#;
    assert!(metric(server.addr, states).await >= 2.0);
}

struct NotReady;

impl matinee_auth::Authenticator for NotReady {
    fn authenticate<'a>(
        &'a self,
        _: matinee_auth::Credentials<'a>,
    ) -> matinee_auth::BoxFuture<'a, Result<matinee_auth::Identity, matinee_auth::AuthError>> {
        Box::pin(async {
            Err(matinee_auth::AuthError::Unavailable {
                reason: "test_down",
            })
        })
    }
    fn ready(&self) -> matinee_auth::BoxFuture<'_, bool> {
        Box::pin(async { false })
    }
}

#[tokio::test]
async fn readyz_reports_the_authenticator() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(matinee_server::run_with_authenticator(
        listener,
        config(),
        std::sync::Arc::new(NotReady),
        rx,
    ));
    assert_eq!(http(addr, "GET", "/readyz", &[], b"").await.status, 503);
    assert_eq!(
        http(addr, "GET", "/healthz", &[], b"").await.status,
        200,
        "alive, though not ready"
    );
    tx.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn rest_snapshot_and_commands() {
    let server = start(config()).await;
    let addr = server.addr;
    let mut host = user(&server, "u1", "Uma").await;
    let code = host.create(json!({"media": {"id": "film"}})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut guest = user(&server, "u2", "Gus").await;
    guest.join(&code).await;
    let path = format!("/api/v1/rooms/{code}");
    let cmd = format!("/api/v1/rooms/{code}/commands");
    let bearer = |t: &str| format!("Bearer {t}");

    // Who may look.
    assert_eq!(http(addr, "GET", &path, &[], b"").await.status, 401);
    let r = http(
        addr,
        "GET",
        &path,
        &[("Authorization", &bearer("forged"))],
        b"",
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (401, json!("unauthorized"))
    );
    assert_eq!(
        http(
            addr,
            "GET",
            &path,
            &[("Authorization", &bearer("down"))],
            b""
        )
        .await
        .status,
        503
    );
    assert_eq!(
        http(
            addr,
            "GET",
            &path,
            &[("Authorization", &bearer("user:u3:Out"))],
            b""
        )
        .await
        .status,
        403
    );
    assert_eq!(
        http(
            addr,
            "GET",
            "/api/v1/rooms/WXYWXY",
            &[("Authorization", &bearer(&guest.secret()))],
            b""
        )
        .await
        .status,
        404
    );
    let outsider = client(&server, "Out").await;
    assert_eq!(
        http(
            addr,
            "GET",
            &path,
            &[("Authorization", &bearer(&outsider.secret()))],
            b""
        )
        .await
        .status,
        403
    );

    // A member by token, or by its resume secret.
    for t in ["user:u2:Gus".to_string(), guest.secret()] {
        let r = http(addr, "GET", &path, &[("Authorization", &bearer(&t))], b"").await;
        assert_eq!(r.status, 200, "{}", r.text());
        let s = r.json();
        assert_eq!(s["code"], code.as_str());
        assert_eq!(s["state"]["media"]["id"], "film");
        assert_eq!(s["members"].as_array().unwrap().len(), 2);
        assert!(s["position_now"].is_number());
    }

    // Commands: the guest may not, the host may (by token or secret).
    let play = json!({"type": "play", "position": 12.0}).to_string();
    let r = http(
        addr,
        "POST",
        &cmd,
        &[
            ("Authorization", &bearer("user:u2:Gus")),
            ("Content-Type", "application/json"),
        ],
        play.as_bytes(),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (403, json!("forbidden"))
    );
    let r = http(
        addr,
        "POST",
        &cmd,
        &[("Authorization", &bearer("user:u1:Uma"))],
        play.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["state"]["position"], 12.0);
    let s = guest.recv_type("state").await;
    assert_eq!(
        (
            s["playing"].clone(),
            s["position"].clone(),
            s["reason"].clone()
        ),
        (json!(true), json!(12.0), json!("play"))
    );
    let pause = json!({"type": "pause", "position": 13.0}).to_string();
    let r = http(
        addr,
        "POST",
        &cmd,
        &[("Authorization", &bearer(&host.secret()))],
        pause.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(guest.recv_type("state").await["reason"], "pause");
    let seek = json!({"type": "seek", "position": 60.0}).to_string();
    assert_eq!(
        http(
            addr,
            "POST",
            &cmd,
            &[("Authorization", &bearer(&host.secret()))],
            seek.as_bytes()
        )
        .await
        .status,
        200
    );
    assert_eq!(guest.recv_type("state").await["position"], 60.0);
    // Bad bodies change nothing.
    for body in [
        &b"{"[..],
        br#"{"type":"kick","member_id":"x"}"#,
        br#"{"type":"seek","position":-5}"#,
    ] {
        let r = http(
            addr,
            "POST",
            &cmd,
            &[("Authorization", &bearer(&host.secret()))],
            body,
        )
        .await;
        assert_eq!(
            (r.status, r.json()["error"].clone()),
            (400, json!("bad_request")),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let big = vec![b' '; 10_000];
    assert_eq!(
        http(
            addr,
            "POST",
            &cmd,
            &[("Authorization", &bearer(&host.secret()))],
            &big
        )
        .await
        .status,
        413
    );
    let r = http(
        addr,
        "GET",
        &path,
        &[("Authorization", &bearer(&host.secret()))],
        b"",
    )
    .await;
    assert_eq!(
        r.json()["state"]["seq"],
        4,
        "play, pause, seek: three changes after the first state"
    );
}

#[tokio::test]
async fn origin_check_before_upgrade() {
    let mut cfg = config();
    cfg.server.allowed_origins = vec!["https://jf.example".into()];
    let server = start(cfg).await;
    assert!(
        connect_with_headers(&server, &[("Origin", "https://jf.example")])
            .await
            .is_ok()
    );
    assert_eq!(
        connect_with_headers(&server, &[("Origin", "https://evil.example")])
            .await
            .err(),
        Some(403)
    );
    let same = format!("http://{}", server.addr);
    assert!(
        connect_with_headers(&server, &[("Origin", &same)])
            .await
            .is_ok(),
        "same origin is allowed"
    );
    assert!(
        connect_with_headers(&server, &[]).await.is_ok(),
        "no Origin: not a browser, allowed"
    );

    let mut cfg = config();
    cfg.server.allowed_origins = vec!["*".into()];
    let server = start(cfg).await;
    assert!(
        connect_with_headers(&server, &[("Origin", "https://evil.example")])
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn health_endpoints_answer_cors_for_allowed_origins_only() {
    let mut cfg = config();
    cfg.server.allowed_origins = vec!["https://jf.example".into()];
    let server = start(cfg).await;
    for path in ["/healthz", "/readyz"] {
        let ok = http(
            server.addr,
            "GET",
            path,
            &[("Origin", "https://jf.example")],
            b"",
        )
        .await;
        assert_eq!(ok.status, 200, "{path}");
        assert_eq!(
            ok.header("access-control-allow-origin"),
            Some("https://jf.example"),
            "{path}"
        );
        let foreign = http(
            server.addr,
            "GET",
            path,
            &[("Origin", "https://evil.example")],
            b"",
        )
        .await;
        assert_eq!(foreign.status, 200, "{path}: still answers, without CORS");
        assert_eq!(
            foreign.header("access-control-allow-origin"),
            None,
            "{path}"
        );
    }
}

#[tokio::test]
async fn demo_files_with_ranges_and_the_media_folder() {
    // Off by default.
    let server = start(config()).await;
    assert_eq!(http(server.addr, "GET", "/", &[], b"").await.status, 404);
    assert_eq!(
        http(server.addr, "GET", "/media/x", &[], b"").await.status,
        404
    );

    let dir = std::env::temp_dir().join(format!("matinee-media-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("hls")).unwrap();
    let seg: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("hls/seg0.ts"), &seg).unwrap();
    std::fs::write(dir.join("hls/index.m3u8"), "#EXTM3U\n").unwrap();
    let mut cfg = config();
    cfg.demo.enabled = true;
    cfg.demo.media_dir = Some(dir.clone());
    let server = start(cfg).await;
    let a = server.addr;

    let page = http(a, "GET", "/", &[], b"").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert!(page.text().to_lowercase().contains("<html") || page.text().contains("<!doctype"));
    // Ranges on embedded files.
    let len = page.body.len();
    let r = http(a, "GET", "/", &[("Range", "bytes=0-9")], b"").await;
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 0-9/{len}").as_str())
    );
    assert_eq!(r.body, page.body[..10]);
    let r = http(a, "GET", "/", &[("Range", "bytes=-5")], b"").await;
    assert_eq!((r.status, r.body.as_slice()), (206, &page.body[len - 5..]));
    assert_eq!(
        http(a, "GET", "/", &[("Range", &format!("bytes={len}-"))], b"")
            .await
            .status,
        416
    );
    // Every embedded file is served with its type; nothing else is.
    for (path, bytes) in matinee_server::static_files::EMBEDDED {
        let r = http(a, "GET", &format!("/{path}"), &[], b"").await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body, *bytes, "{path}");
        assert_eq!(
            r.header("content-type"),
            Some(matinee_server::static_files::content_type(path))
        );
    }
    for bad in [
        "/demo/../Cargo.toml",
        "/src/../../Cargo.toml",
        "/demo/nope.js",
        "/src/%2e%2e/Cargo.toml",
    ] {
        assert_eq!(http(a, "GET", bad, &[], b"").await.status, 404, "{bad}");
    }
    // The media folder, from disk, with ranges, without escaping it.
    let r = http(
        a,
        "GET",
        "/media/hls/seg0.ts",
        &[("Range", "bytes=100-199")],
        b"",
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, seg[100..200]);
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(r.header("content-type"), Some("video/mp2t"));
    assert_eq!(
        http(a, "GET", "/media/hls/index.m3u8", &[], b"")
            .await
            .text(),
        "#EXTM3U\n"
    );
    assert_eq!(
        http(a, "GET", "/media/../Cargo.toml", &[], b"")
            .await
            .status,
        404
    );
    assert_eq!(
        http(a, "GET", "/media/%2e%2e/%2e%2e/etc/passwd", &[], b"")
            .await
            .status,
        404
    );
    let _ = std::fs::remove_dir_all(dir);
}

const BIN: &str = env!("CARGO_BIN_EXE_matinee-server");

#[test]
fn print_config_layers_and_masks() {
    let dir = std::env::temp_dir().join(format!("matinee-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("matinee.toml");
    std::fs::write(
        &file,
        "[limits]\nmax_members = 9\nburst = 11\n[log]\nlevel = \"debug\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--print-config", "--config"])
        .arg(&file)
        .env(
            "MATINEE_SERVER__ALLOWED_ORIGINS",
            "https://a.example,https://b.example",
        )
        .env("MATINEE_LIMITS__BURST", "12")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(
        t.contains("allowed_origins = [\"https://a.example\", \"https://b.example\"]"),
        "{t}"
    );
    assert!(t.contains("max_members = 9"), "file beats defaults: {t}");
    assert!(t.contains("burst = 12"), "environment beats the file: {t}");
    assert!(t.contains("level = \"debug\""));
    assert!(t.contains("allow_anonymous = false"));
    for section in [
        "[server]",
        "[limits]",
        "[rooms]",
        "[demo]",
        "[log]",
        "[auth]",
        "[jellyfin]",
    ] {
        assert!(t.contains(section), "{section} missing: {t}");
    }

    let out = Command::new(BIN)
        .args(["--print-config", "--demo"])
        .env("MATINEE_CONFIG", &file)
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(t.contains("listen = \"127.0.0.1:3000\""), "{t}");
    assert!(t.contains("allow_anonymous = true") && t.contains("enabled = true"));
    assert!(
        t.contains("max_members = 9"),
        "MATINEE_CONFIG names the file"
    );
    let out = Command::new(BIN)
        .args(["--print-config", "--demo", "--listen", "0.0.0.0:8080"])
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("listen = \"0.0.0.0:8080\""));

    // Bad configuration: a clear message and a non-zero exit, nothing printed on stdout.
    let out = Command::new(BIN)
        .args(["--print-config"])
        .env("MATINEE_LIMITS__MAX_MEMBERS", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_members"));
    let out = Command::new(BIN).args(["--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("--print-config")
    );
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("matinee-server "));
    // Outside demo mode, with no way to authenticate, the server refuses to start.
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("MATINEE_AUTH__ALLOW_ANONYMOUS")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "no listening line before a failed start"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_binary_prints_its_address_and_stops_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["--demo", "--listen", "127.0.0.1:0"])
        .env("MATINEE_LOG__FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .strip_prefix("Matinee listening on http://")
        .expect("listening line")
        .to_string();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!("Demo page: http://{addr}/")
    );
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    assert_ne!(addr.port(), 0, "the actual bound port is printed");
    assert_eq!(http(addr, "GET", "/healthz", &[], b"").await.text(), "ok");
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    send(
        &mut ws,
        json!({"type": "hello", "protocol": 1, "name": "Ann"}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["type"], "welcome");

    let t0 = std::time::Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert_eq!(expect_close(&mut ws).await, Some(1001));
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "exits within 5 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success());
    // JSON logs on stderr; stdout held only the two lines.
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let first_log = err.lines().next().expect("some log output");
    assert!(
        serde_json::from_str::<serde_json::Value>(first_log).is_ok(),
        "JSON log line: {first_log}"
    );
    assert!(lines.next().is_none());
}
