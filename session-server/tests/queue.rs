//! The queue over real WebSockets: the host queues, the end of an item moves everyone on to
//! the next one at 0 together (a client that ignores `queue` messages follows from `state`
//! alone), bad queue messages are refused with nothing changed for anyone, and the queue
//! survives a host migration and a server restart with the embedded store.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn ids(queue: &Value) -> Vec<String> {
    queue
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

/// Wait out the `members` that joins cause, then drop whatever is queued for `c`.
async fn settle(c: &mut Client) {
    tokio::time::sleep(Duration::from_millis(600)).await;
    while tokio::time::timeout(Duration::from_millis(50), c.recv())
        .await
        .is_ok()
    {}
}

/// Everything `c` receives within `d`, by type.
async fn received(c: &mut Client, d: Duration) -> Vec<Value> {
    let mut got = Vec::new();
    let end = tokio::time::Instant::now() + d;
    while let Ok(v) = tokio::time::timeout_at(end, c.recv()).await {
        got.push(v);
    }
    got
}

fn status(position: f64, buffering: bool) -> Value {
    json!({"type": "status", "position": position, "playing": false, "buffering": buffering,
           "rtt_ms": 2.0, "offset_ms": 0.0, "error_ms": 0.0})
}

#[tokio::test]
async fn at_the_end_everyone_moves_on_to_the_queued_item_and_starts_at_0_together() {
    let server = start(config()).await;
    let mut ann = user(&server, "u1", "Ann").await;
    let room = ann
        .create(json!({"media": {"id": "ep1", "title": "Episode 1", "duration": 100.0}}))
        .await;
    assert_eq!(room["queue"], json!([]), "an added field, empty at first");
    let code = room["code"].as_str().unwrap().to_string();
    // Bob stands for a v1 client: it reads `state` only and ignores every `queue` message.
    let mut bob = user(&server, "u2", "Bob").await;
    bob.join(&code).await;

    ann.send(json!({"type": "queue_add", "id": "q1",
                    "media": {"id": "ep2", "title": "Episode 2", "duration": 90.0}}))
        .await;
    let q = ann.recv_type("queue").await;
    assert_eq!(
        (q["id"].as_str(), q["change"].as_str()),
        (Some("q1"), Some("add"))
    );
    assert_eq!(
        q["items"],
        json!([{"id": "ep2", "title": "Episode 2", "duration": 90.0}])
    );
    assert_eq!(q["by"], room["you"]);

    ann.send(json!({"type": "play", "position": 0.0})).await;
    ann.send(json!({"type": "seek", "position": 99.5})).await;
    for c in [&mut ann, &mut bob] {
        assert_eq!(c.recv_type("state").await["reason"], "play");
        assert_eq!(c.recv_type("state").await["reason"], "seek");
    }
    // The host's player reaches the end.
    ann.send(json!({"type": "ended", "media_id": "ep1"})).await;
    let q = ann.recv_type("queue").await;
    assert_eq!(
        (q["change"].as_str(), q["by"].is_null()),
        (Some("next"), true)
    );
    assert_eq!(q["items"], json!([]));
    for c in [&mut ann, &mut bob] {
        let s = c.recv_type("state").await;
        assert_eq!(s["media"]["id"], "ep2");
        assert_eq!(
            (s["reason"].as_str(), s["cause"].as_str(), s["by"].is_null()),
            (Some("media"), Some("queue"), true)
        );
        assert_eq!(
            (s["playing"].as_bool(), s["position"].as_f64()),
            (Some(false), Some(0.0))
        );
    }
    // Both players load the new item and hold at 0: the room starts it, scheduled.
    ann.send(status(0.0, false)).await;
    bob.send(status(0.0, true)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    bob.send(status(0.0, false)).await;
    for c in [&mut ann, &mut bob] {
        let s = c.recv_type("state").await;
        assert_eq!(
            (
                s["reason"].as_str(),
                s["cause"].as_str(),
                s["playing"].as_bool()
            ),
            (Some("play"), Some("queue"), Some(true))
        );
        assert_eq!(s["media"]["id"], "ep2");
        assert_eq!(s["position"], 0.0);
        assert!(
            s["at"].as_f64().unwrap() > now_ms() - 50.0,
            "a scheduled start"
        );
    }
}

#[tokio::test]
async fn malformed_oversized_flooded_and_unauthorized_queue_messages_change_nothing() {
    let server = start(config()).await;
    let mut ann = user(&server, "u1", "Ann").await;
    let room = ann.create(json!({"media": {"id": "film"}})).await;
    let code = room["code"].as_str().unwrap().to_string();
    let mut bob = user(&server, "u2", "Bob").await;
    bob.join(&code).await;
    let mut cy = user(&server, "u3", "Cy").await;
    cy.join(&code).await;
    ann.send(json!({"type": "queue_add", "media": {"id": "a"}}))
        .await;
    ann.send(json!({"type": "queue_add", "media": {"id": "b"}}))
        .await;
    settle(&mut ann).await;
    settle(&mut bob).await;

    let long = "x".repeat(129);
    let bad = [
        (json!({"type": "queue_add"}), "bad_request"),
        (json!({"type": "queue_add", "media": "a"}), "bad_request"),
        (
            json!({"type": "queue_add", "media": {"id": ""}}),
            "bad_request",
        ),
        (
            json!({"type": "queue_add", "media": {"id": "c", "duration": -5}}),
            "bad_request",
        ),
        (
            json!({"type": "queue_add", "media": {"id": "a"}}),
            "bad_request",
        ),
        (
            json!({"type": "queue_add", "media": {"id": "c"}, "index": -1}),
            "bad_request",
        ),
        (
            json!({"type": "queue_add", "media": {"id": "c"}, "index": 3}),
            "bad_request",
        ),
        (
            json!({"type": "queue_add", "media": {"id": "c"}, "index": "0"}),
            "bad_request",
        ),
        (
            json!({"type": "queue_add", "media": {"id": long}}),
            "too_large",
        ),
        (
            json!({"type": "queue_add", "media": {"id": "c", "title": "t".repeat(301)}}),
            "too_large",
        ),
        (json!({"type": "queue_remove"}), "bad_request"),
        (
            json!({"type": "queue_remove", "media_id": "zz"}),
            "bad_request",
        ),
        (
            json!({"type": "queue_move", "media_id": "a"}),
            "bad_request",
        ),
        (
            json!({"type": "queue_move", "media_id": "a", "index": 2}),
            "bad_request",
        ),
        (
            json!({"type": "queue_move", "media_id": "zz", "index": 0}),
            "bad_request",
        ),
        (json!({"type": "ended"}), "bad_request"),
        (
            json!({"type": "ended", "media_id": "film", "id": "x".repeat(65)}),
            "bad_request",
        ),
    ];
    for (i, (mut msg, code)) in bad.into_iter().enumerate() {
        if msg.get("id").is_none() {
            msg["id"] = json!(format!("b{i}"));
        }
        ann.expect_error(msg, code).await;
    }
    // A member without the `media` right may not touch the queue, nor end the item.
    for msg in [
        json!({"type": "queue_add", "media": {"id": "c"}}),
        json!({"type": "queue_remove", "media_id": "a"}),
        json!({"type": "queue_move", "media_id": "b", "index": 0}),
        json!({"type": "queue_clear"}),
        json!({"type": "ended", "media_id": "film"}),
    ] {
        bob.expect_error(msg, "forbidden").await;
    }
    // A frame over the limit closes that connection only (1009).
    cy.send(json!({"type": "queue_add", "media": {"id": "c", "title": "t".repeat(20_000)}}))
        .await;
    assert_eq!(expect_close(&mut cy.ws).await, Some(1009));
    // Nobody else heard of any of it: no `queue`, no `state`, no `error`.
    for v in received(&mut bob, Duration::from_millis(300)).await {
        assert!(
            !["queue", "state", "error"].contains(&v["type"].as_str().unwrap()),
            "{v}"
        );
    }

    // A flood: beyond the burst some are refused as `rate_limited`, and exactly the accepted
    // ones changed the queue (each `queue` answer echoes its request id).
    let n = 60;
    for i in 0..n {
        ann.send(
            json!({"type": "queue_add", "id": format!("f{i}"), "media": {"id": format!("f{i}")}}),
        )
        .await;
    }
    let (mut ok, mut limited, mut last) = (0, 0, Value::Null);
    for v in received(&mut ann, Duration::from_millis(1500)).await {
        match (v["type"].as_str(), v["id"].as_str()) {
            (Some("queue"), Some(id)) if id.starts_with('f') => {
                ok += 1;
                last = v;
            }
            (Some("error"), Some(id)) if id.starts_with('f') => {
                assert_eq!(v["code"], "rate_limited", "{v}");
                limited += 1;
            }
            _ => {}
        }
    }
    assert_eq!(ok + limited, n, "every message answered");
    assert!(limited > 0, "a flood is limited");
    let items = ids(&last["items"]);
    assert_eq!(items.len(), 2 + ok, "only the accepted ones were queued");
    assert_eq!(&items[..2], ["a", "b"], "the earlier queue is untouched");
}

#[tokio::test]
async fn the_queue_survives_a_host_migration_and_a_restart() {
    let dir = std::env::temp_dir().join(format!(
        "matinee-queue-{}-{}",
        std::process::id(),
        now_ms() as u64
    ));
    let local = |dir: &std::path::Path| {
        let mut cfg = config();
        cfg.store.backend = "local".into();
        cfg.store.data_dir = Some(dir.to_path_buf());
        cfg
    };
    let server = start(local(&dir)).await;
    let mut ann = client(&server, "Ann").await;
    let room = ann.create(json!({"media": {"id": "ep1"}})).await;
    let code = room["code"].as_str().unwrap().to_string();
    let mut bob = client(&server, "Bob").await;
    let bob_id = bob.join(&code).await["you"].as_str().unwrap().to_string();
    for id in ["ep2", "ep3", "ep4"] {
        ann.send(json!({"type": "queue_add", "media": {"id": id, "title": id}}))
            .await;
    }
    recv_where(&mut bob.ws, "queue", |q| {
        q["items"].as_array().unwrap().len() == 3
    })
    .await;
    // The host leaves: Bob is host, and the queue is his to change.
    ann.send(json!({"type": "leave_room"})).await;
    recv_where(&mut bob.ws, "members", |m| m["host"] == bob_id.as_str()).await;
    bob.send(json!({"type": "queue_move", "media_id": "ep4", "index": 0}))
        .await;
    let q = bob.recv_type("queue").await;
    assert_eq!(ids(&q["items"]), ["ep4", "ep2", "ep3"]);

    // The server restarts on the same data directory; Bob resumes his seat.
    let secret = bob.secret();
    drop(bob);
    tokio::time::sleep(Duration::from_millis(400)).await; // past the flush interval
    server.stop().await.unwrap();
    let server = start(local(&dir)).await;
    let mut bob = client_hello(
        &server,
        json!({"type": "hello", "protocol": 1, "name": "Bob", "resume": secret}),
    )
    .await;
    assert_eq!(bob.welcome["resumed"], true, "{}", bob.welcome);
    let room = bob.recv_type("room").await;
    assert_eq!(room["host"], bob_id.as_str());
    assert_eq!(ids(&room["queue"]), ["ep4", "ep2", "ep3"]);
    assert_eq!(room["queue"][0]["title"], "ep4");
    bob.send(json!({"type": "queue_remove", "media_id": "ep2"}))
        .await;
    assert_eq!(ids(&bob.recv_type("queue").await["items"]), ["ep4", "ep3"]);
    server.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
