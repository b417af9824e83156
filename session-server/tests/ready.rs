//! The lobby's ready check over real WebSockets: asked, answered, shown in `members`, ended by
//! everyone being ready (and the room started), and bad or unauthorized requests refused with
//! nothing changed. (The 30 s cap is timed by the room-actor tests, with paused time.)

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test]
async fn the_lobby_starts_when_everyone_said_ready() {
    let server = start(config()).await;
    let mut ann = client(&server, "Ann").await;
    let room = ann.create(json!({"media": {"id": "film"}})).await;
    let code = room["code"].as_str().unwrap().to_string();
    let ann_id = room["you"].as_str().unwrap().to_string();
    let mut bob = client(&server, "Bob").await;
    let bob_id = bob.join(&code).await["you"].as_str().unwrap().to_string();
    let mut cy = client(&server, "Cy").await;
    cy.join(&code).await;

    // Bad requests first: nothing starts, nobody else hears of them.
    bob.expect_error(json!({"type": "ready_check", "start": true}), "forbidden")
        .await;
    bob.expect_error(json!({"type": "ready", "ready": true}), "bad_request")
        .await;
    bob.expect_error(json!({"type": "ready"}), "bad_request")
        .await;
    ann.expect_error(
        json!({"type": "ready_check", "start": "yes"}),
        "bad_request",
    )
    .await;
    ann.expect_error(json!({"type": "ready", "ready": "yes"}), "bad_request")
        .await;

    ann.send(json!({"type": "ready_check", "start": true, "id": "rc"}))
        .await;
    let mine = ann.recv_type("ready_check").await;
    assert_eq!(mine["id"], "rc", "the asker's copy echoes the id");
    let c = cy.recv_type("ready_check").await;
    assert_eq!(
        (c["by"].as_str(), c["start"].as_bool()),
        (Some(&*ann_id), Some(true))
    );
    assert!(c["until"].as_f64().unwrap() > 0.0);

    bob.send(json!({"type": "ready", "ready": true})).await;
    let m = recv_where(&mut cy.ws, "members", |m| {
        m["list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == bob_id.as_str() && x["ready"] == true)
    })
    .await;
    assert_eq!(m["list"][0]["ready"], true, "the asker is ready");
    assert!(
        m["list"][2].get("ready").is_none(),
        "Cy has not answered: {m}"
    );
    expect_no_state(&mut bob, Duration::from_millis(300)).await;

    cy.send(json!({"type": "ready", "ready": true})).await;
    let r = bob.recv_type("ready_result").await;
    assert_eq!(r["result"], "all_ready");
    assert_eq!(r["no_answer"], json!([]));
    let s = bob.recv_type("state").await;
    assert_eq!(
        (s["reason"].as_str(), s["playing"].as_bool()),
        (Some("play"), Some(true))
    );
    assert_eq!(s["by"], ann_id.as_str());
    assert_eq!(cy.recv_type("state").await["seq"], s["seq"]);
}

/// Nothing but non-`state` messages for `d`.
async fn expect_no_state(c: &mut Client, d: Duration) {
    let deadline = tokio::time::Instant::now() + d;
    while let Ok(v) = tokio::time::timeout_at(deadline, c.recv()).await {
        assert_ne!(v["type"], "state", "{v}");
    }
}

#[tokio::test]
async fn a_flood_of_answers_is_rate_limited_and_reaches_nobody_else() {
    let server = start(config()).await;
    let mut ann = client(&server, "Ann").await;
    let code = ann.create(json!({})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bob = client(&server, "Bob").await;
    let bob_id = bob.join(&code).await["you"].as_str().unwrap().to_string();
    let mut cy = client(&server, "Cy").await;
    cy.join(&code).await;
    ann.send(json!({"type": "ready_check", "start": true}))
        .await;
    cy.recv_type("ready_check").await;
    for i in 0..60 {
        bob.send(json!({"type": "ready", "ready": i % 2 == 1, "id": i}))
            .await;
    }
    let mut limited = 0;
    while let Ok(v) = tokio::time::timeout(Duration::from_millis(700), bob.recv()).await {
        if v["type"] == "error" {
            assert_eq!(v["code"], "rate_limited", "{v}");
            limited += 1;
        }
    }
    assert!(limited > 0, "the flood was not rate-limited");
    // Cy saw no error and no start: Cy has not answered, so the check goes on.
    while let Ok(v) = tokio::time::timeout(Duration::from_millis(300), cy.recv()).await {
        assert!(
            !["error", "state", "ready_result"].contains(&v["type"].as_str().unwrap()),
            "{v}"
        );
    }
    // The room is unharmed: once Bob's bucket refilled, his yes and Cy's start the room.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    bob.send(json!({"type": "ready", "ready": true})).await;
    cy.send(json!({"type": "ready", "ready": true})).await;
    let r = cy.recv_type("ready_result").await;
    assert_eq!(r["result"], "all_ready", "{r}");
    assert!(r["ready"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x == bob_id.as_str()));
    assert_eq!(cy.recv_type("state").await["reason"], "play");
}
