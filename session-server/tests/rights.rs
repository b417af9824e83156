//! Rights per member over real WebSockets: the host grants and takes back `playback` and
//! `media`, the server enforces them on both transports, bad grants change nothing and affect
//! nobody else, and a grant comes back with its seat after a reconnect.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

fn rights_of(members: &Value, id: &str) -> Option<Value> {
    members["list"]
        .as_array()?
        .iter()
        .find(|m| m["id"] == id)
        .map(|m| m["rights"].clone())
}

/// Ann hosts, Bob and Cy join (test users, so that REST works for them too).
async fn party(server: &Server) -> (Client, Client, Client, String, String, String) {
    let mut ann = user(server, "u1", "Ann").await;
    let room = ann.create(json!({"media": {"id": "film"}})).await;
    let code = room["code"].as_str().unwrap().to_string();
    assert_eq!(room["members"][0]["rights"], json!([]), "an added field");
    let mut bob = user(server, "u2", "Bob").await;
    let bob_id = bob.join(&code).await["you"].as_str().unwrap().to_string();
    let mut cy = user(server, "u3", "Cy").await;
    let cy_id = cy.join(&code).await["you"].as_str().unwrap().to_string();
    (ann, bob, cy, code, bob_id, cy_id)
}

#[tokio::test]
async fn a_granted_member_drives_playback_until_the_host_takes_it_back() {
    let server = start(config()).await;
    let (mut ann, mut bob, mut cy, code, bob_id, _) = party(&server).await;
    let cmd = format!("/api/v1/rooms/{code}/commands");
    let rest_play = |token: &'static str| {
        let cmd = cmd.clone();
        async move {
            http(
                server.addr,
                "POST",
                &cmd,
                &[("Authorization", &format!("Bearer {token}"))],
                br#"{"type":"play","position":42}"#,
            )
            .await
        }
    };

    // Without a grant Bob is refused on both transports.
    let e = bob
        .expect_error(
            json!({"type": "play", "position": 5.0, "id": "p1"}),
            "forbidden",
        )
        .await;
    assert_eq!(e["id"], "p1");
    assert_eq!(rest_play("user:u2:Bob").await.status, 403);

    // Ann grants playback: everyone sees it in `members`.
    ann.send(json!({"type": "set_rights", "member_id": bob_id, "rights": ["playback"]}))
        .await;
    let m = recv_where(&mut cy.ws, "members", |m| {
        rights_of(m, &bob_id) == Some(json!(["playback"]))
    })
    .await;
    assert_eq!(rights_of(&m, m["host"].as_str().unwrap()), Some(json!([])));
    bob.send(json!({"type": "seek", "position": 30.0})).await;
    let s = cy.recv_type("state").await;
    assert_eq!(
        (s["reason"].as_str(), s["by"].as_str()),
        (Some("seek"), Some(&*bob_id))
    );
    assert_eq!(rest_play("user:u2:Bob").await.status, 200);
    assert_eq!(cy.recv_type("state").await["position"], 42.0);
    // Playback is not the item.
    bob.expect_error(
        json!({"type": "set_media", "media": {"id": "other"}}),
        "forbidden",
    )
    .await;

    // Ann takes it back.
    ann.send(json!({"type": "set_rights", "member_id": bob_id, "rights": []}))
        .await;
    recv_where(&mut cy.ws, "members", |m| {
        rights_of(m, &bob_id) == Some(json!([]))
    })
    .await;
    bob.expect_error(json!({"type": "pause", "position": 1.0}), "forbidden")
        .await;
    assert_eq!(rest_play("user:u2:Bob").await.status, 403);
}

#[tokio::test]
async fn malformed_oversized_and_unauthorized_grants_change_nothing() {
    let server = start(config()).await;
    let (mut ann, mut bob, mut cy, _code, bob_id, cy_id) = party(&server).await;
    // Let the joins' `members` go out first.
    recv_where(&mut cy.ws, "members", |m| {
        m["list"].as_array().unwrap().len() == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    while tokio::time::timeout(Duration::from_millis(50), cy.recv())
        .await
        .is_ok()
    {}

    let bad = [
        (
            json!({"type": "set_rights", "member_id": bob_id}),
            "bad_request",
        ),
        (
            json!({"type": "set_rights", "rights": ["playback"]}),
            "bad_request",
        ),
        (
            json!({"type": "set_rights", "member_id": bob_id, "rights": "playback"}),
            "bad_request",
        ),
        (
            json!({"type": "set_rights", "member_id": bob_id, "rights": ["teleport"]}),
            "bad_request",
        ),
        (
            json!({"type": "set_rights", "member_id": bob_id, "rights": [1]}),
            "bad_request",
        ),
        (
            json!({"type": "set_rights", "member_id": bob_id, "rights": ["media", "media"]}),
            "bad_request",
        ),
        (
            json!({"type": "set_rights", "member_id": bob_id, "rights": vec!["media"; 200]}),
            "too_large",
        ),
        (
            json!({"type": "set_rights", "member_id": "x".repeat(5000), "rights": ["media"]}),
            "bad_request",
        ),
        (
            json!({"type": "set_rights", "member_id": 7, "rights": ["media"]}),
            "bad_request",
        ),
    ];
    for (msg, code) in bad {
        let e = ann.expect_error(msg.clone(), code).await;
        assert!(!e["message"].as_str().unwrap().is_empty(), "{msg}: {e}");
    }
    // Not the host: refused, even for oneself.
    bob.expect_error(
        json!({"type": "set_rights", "member_id": bob_id, "rights": ["playback"]}),
        "forbidden",
    )
    .await;
    cy.expect_error(
        json!({"type": "set_rights", "member_id": bob_id, "rights": ["media"]}),
        "forbidden",
    )
    .await;
    // Nothing changed: no `members`, no `state`, for longer than the `members` throttle...
    expect_silence(&mut cy.ws, Duration::from_millis(800)).await;
    // ... and Bob still may not play.
    bob.expect_error(json!({"type": "play", "position": 1.0}), "forbidden")
        .await;

    // A flood of grants from the host: the rate limit answers the excess, the room announces
    // at most one `members` per throttle interval, and the last accepted grant is what holds.
    let t0 = Instant::now();
    for i in 0..60 {
        let rights = if i % 2 == 0 {
            json!(["media"])
        } else {
            json!(["playback"])
        };
        ann.send(json!({"type": "set_rights", "member_id": cy_id, "rights": rights, "id": i}))
            .await;
    }
    let mut refused = std::collections::HashSet::new();
    while let Ok(v) = tokio::time::timeout(Duration::from_millis(700), ann.recv()).await {
        if v["type"] == "error" {
            assert_eq!(v["code"], "rate_limited", "{v}");
            refused.insert(v["id"].as_u64().unwrap());
        }
    }
    let limited = refused.len();
    assert!(limited > 0, "the flood was not rate-limited");
    // Collect what Bob saw during the flood and after it settled.
    let mut members_seen = 0;
    let mut last = Value::Null;
    while let Ok(v) = tokio::time::timeout(Duration::from_millis(1200), bob.recv()).await {
        assert_ne!(v["type"], "state", "a grant changed playback: {v}");
        assert_ne!(v["type"], "error", "the flood reached another member: {v}");
        if v["type"] == "members" {
            members_seen += 1;
            last = v;
        }
    }
    let elapsed = t0.elapsed().as_millis() as usize;
    assert!(
        members_seen <= 2 + elapsed / 500,
        "{members_seen} `members` in {elapsed} ms"
    );
    let last_accepted = (0..60u64).rev().find(|i| !refused.contains(i)).unwrap();
    let want = if last_accepted % 2 == 0 {
        json!(["media"])
    } else {
        json!(["playback"])
    };
    assert_eq!(rights_of(&last, &cy_id), Some(want), "{last}");
}

#[tokio::test]
async fn a_grant_comes_back_with_its_seat_after_a_reconnect() {
    let server = start(config()).await;
    let (mut ann, bob, mut cy, _code, bob_id, _) = party(&server).await;
    ann.send(json!({"type": "set_rights", "member_id": bob_id, "rights": ["media", "playback"]}))
        .await;
    recv_where(&mut cy.ws, "members", |m| {
        rights_of(m, &bob_id) == Some(json!(["playback", "media"]))
    })
    .await;
    let secret = bob.secret();
    drop(bob); // abrupt
    recv_where(&mut cy.ws, "members", |m| {
        m["list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == bob_id.as_str() && x["connected"] == false)
    })
    .await;
    let mut bob = client_hello(
        &server,
        json!({"type": "hello", "protocol": 1, "token": "user:u2:Bob", "resume": secret}),
    )
    .await;
    let room = bob.recv_type("room").await;
    let me = room["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == bob_id.as_str())
        .unwrap();
    assert_eq!(me["rights"], json!(["playback", "media"]));
    bob.send(json!({"type": "set_media", "media": {"id": "ep2"}}))
        .await;
    assert_eq!(cy.recv_type("state").await["media"]["id"], "ep2");
}
