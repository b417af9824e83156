//! Tokens never reach the logs: the real `matinee-server` binary, with trace logging, admits a
//! JWT user and a raw-token user, refuses a tampered JWT, and resumes a session; its whole
//! output is then searched for every token, the JWT's signature and the resume secret.

#[path = "../auth/tests/support/fake_jellyfin.rs"]
mod fake_jellyfin;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use fake_jellyfin::FakeJellyfin;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const RAW_TOKEN: &str = "5eb1a7f0c3d24e9b8a6f1c2d3e4f5a6b";
const STEP: Duration = Duration::from_secs(10);

fn testdata(name: &str) -> Value {
    let path = format!("{}/../testdata/jwt/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Send one hello; the first reply.
async fn hello(addr: &str, msg: Value) -> Value {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    ws.send(Message::text(msg.to_string())).await.unwrap();
    loop {
        match tokio::time::timeout(STEP, ws.next())
            .await
            .expect("server silent")
        {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(_)) => continue,
            other => panic!("no reply: {other:?}"),
        }
    }
}

#[tokio::test]
async fn tokens_signatures_and_resume_secrets_never_appear_in_debug_logs() {
    let tokens = testdata("tokens.json");
    let jwt = tokens["cases"]["valid"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let signature = jwt.rsplit('.').next().unwrap().to_string();
    let tampered = tokens["cases"]["bad_signature"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let tampered_sig = tampered.rsplit('.').next().unwrap().to_string();
    let user_id = tokens["cases"]["valid"]["user_id"]
        .as_str()
        .unwrap()
        .to_string();

    let jf = FakeJellyfin::start(testdata("jwks.json")).await;
    jf.add_user(RAW_TOKEN, "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", "Raw User");

    let mut child = Command::new(env!("CARGO_BIN_EXE_matinee-server"))
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "trace")
        .env("MATINEE_LOG__LEVEL", "trace")
        .env("MATINEE_STORE__BACKEND", "memory")
        .env("MATINEE_JELLYFIN__URL", &jf.url)
        .env(
            "MATINEE_JELLYFIN__SERVER_ID",
            tokens["iss"].as_str().unwrap(),
        )
        .env_remove("MATINEE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start matinee-server");
    let mut stderr = child.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("Matinee listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();

    let welcome = hello(&addr, json!({"type": "hello", "protocol": 1, "token": jwt})).await;
    assert_eq!(welcome["user"]["id"], user_id.as_str(), "{welcome}");
    let secret = welcome["resume"].as_str().unwrap().to_string();
    let raw = hello(
        &addr,
        json!({"type": "hello", "protocol": 1, "token": RAW_TOKEN}),
    )
    .await;
    assert_eq!(raw["type"], "welcome", "{raw}");
    let bad = hello(
        &addr,
        json!({"type": "hello", "protocol": 1, "token": tampered}),
    )
    .await;
    assert_eq!(bad["code"], "unauthorized", "{bad}");
    let bad_raw = hello(
        &addr,
        json!({"type": "hello", "protocol": 1, "token": "ffffffffffffffffffffffffffffffff"}),
    )
    .await;
    assert_eq!(bad_raw["code"], "unauthorized", "{bad_raw}");
    let resumed = hello(
        &addr,
        json!({"type": "hello", "protocol": 1, "token": jwt, "resume": secret}),
    )
    .await;
    assert_eq!(resumed["type"], "welcome", "{resumed}");

    // SIGTERM would be kinder, but std has no portable way; the logs are unbuffered lines.
    tokio::time::sleep(Duration::from_millis(200)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    let logs = format!("{first}{rest}{}", stderr_reader.join().unwrap());

    // The logs are real and at debug level: they name the authenticated user and the refusals.
    assert!(
        logs.contains(&user_id),
        "debug logs should name the authenticated user:\n{logs}"
    );
    assert!(
        logs.contains("bad_signature") && logs.contains("jellyfin_rejected"),
        "refusal reasons missing:\n{logs}"
    );
    for (what, secret) in [
        ("JWT", jwt.as_str()),
        ("JWT signature", signature.as_str()),
        ("tampered JWT", tampered.as_str()),
        ("tampered JWT's signature", tampered_sig.as_str()),
        ("raw Jellyfin token", RAW_TOKEN),
        ("refused raw token", "ffffffffffffffffffffffffffffffff"),
        ("resume secret", secret.as_str()),
    ] {
        assert!(!logs.contains(secret), "the {what} appears in the logs");
    }
}
