//! The Redis backend against a real `redis-server` on loopback: leases (one authority at a
//! time, handover after expiry), owner-only writes, relay channels, and Redis going away and
//! coming back.

mod support;

use std::time::{Duration, Instant};

use matinee_store::snapshot::{hash_secret, SeatSnap, SettingsSnap, StateSnap};
use matinee_store::{RedisConfig, RedisStore, RoomSnapshot, FORMAT};
use support::Redis;

fn cfg(redis: &Redis, id: &str, lease_ms: u64) -> RedisConfig {
    RedisConfig {
        url: redis.url(),
        key_prefix: "t:".into(),
        lease_ms,
        timeout_ms: 250,
        instance_id: Some(id.into()),
    }
}

fn snap(code: &str, revision: u64) -> RoomSnapshot {
    RoomSnapshot {
        format: FORMAT,
        code: code.into(),
        saved_at: 1.0e12,
        revision,
        settings: SettingsSnap {
            control: "host".into(),
            wait_for_all: true,
        },
        host: "m1".into(),
        seats: vec![SeatSnap {
            member_id: "m1".into(),
            secret_sha256: Some(hash_secret("x")),
            user_id: "u1".into(),
            name: "Ann".into(),
            anonymous: false,
            rights: vec!["media".into()],
        }],
        state: StateSnap {
            media: None,
            playing: false,
            position: 10.0,
            rate: 1.0,
            at: 1.0e12,
            seq: 7,
            reason: "pause".into(),
            by: None,
            waiting_for: None,
        },
        chat: vec![],
        queue: vec![matinee_store::snapshot::MediaSnap {
            id: "queued".into(),
            title: Some("Next".into()),
            duration: None,
        }],
    }
}

#[tokio::test]
async fn one_authority_per_room_and_handover_after_the_lease() {
    let redis = Redis::start();
    let a = RedisStore::new(&cfg(&redis, "a", 600)).unwrap();
    let b = RedisStore::new(&cfg(&redis, "b", 600)).unwrap();
    a.ping().await.unwrap();

    assert!(a.create(&snap("ACDEFG", 1)).await.unwrap());
    assert!(
        !b.create(&snap("ACDEFG", 1)).await.unwrap(),
        "a code in use is never created twice"
    );
    assert_eq!(a.owner("ACDEFG").await.unwrap().as_deref(), Some("a"));
    assert!(!b.acquire("ACDEFG").await.unwrap());
    assert!(
        !b.renew("ACDEFG").await.unwrap(),
        "b cannot extend a's lease"
    );
    assert!(
        !b.save(&snap("ACDEFG", 99)).await.unwrap(),
        "nor write its room"
    );
    assert!(a.save(&snap("ACDEFG", 2)).await.unwrap());
    let loaded = b.load("ACDEFG").await.unwrap().unwrap();
    assert_eq!(loaded.revision, 2);
    assert_eq!(
        loaded.seats[0].rights,
        ["media"],
        "a seat's granted rights are stored with it"
    );
    assert_eq!(
        loaded.queue[0].id, "queued",
        "the queue is stored with the room"
    );

    // Renewals keep the lease past its length.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(a.renew("ACDEFG").await.unwrap());
    }
    assert!(!b.acquire("ACDEFG").await.unwrap());

    // a stops renewing (it died): within one lease, b takes the room over from the snapshot.
    let t0 = Instant::now();
    while !b.acquire("ACDEFG").await.unwrap() {
        assert!(t0.elapsed() < Duration::from_secs(3), "lease never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(b.load("ACDEFG").await.unwrap().unwrap().revision, 2);
    // The old authority, back from a pause, can no longer write or renew.
    assert!(!a.renew("ACDEFG").await.unwrap());
    assert!(!a.save(&snap("ACDEFG", 3)).await.unwrap());
    assert!(!a.delete("ACDEFG").await.unwrap());
    assert_eq!(b.load("ACDEFG").await.unwrap().unwrap().revision, 2);

    // Graceful release hands over at once.
    assert!(b.release("ACDEFG").await.unwrap());
    assert!(a.acquire("ACDEFG").await.unwrap());
    assert_eq!(a.room_codes().await.unwrap(), vec!["ACDEFG".to_string()]);
    assert!(a.delete("ACDEFG").await.unwrap());
    assert!(a.load("ACDEFG").await.unwrap().is_none());
    assert!(a.owner("ACDEFG").await.unwrap().is_none());
}

#[tokio::test]
async fn a_bad_stored_room_is_reported_not_loaded() {
    let redis = Redis::start();
    let a = RedisStore::new(&cfg(&redis, "a", 1000)).unwrap();
    a.publish("unused", b"x").await.unwrap();
    // Written behind our back with another format.
    let mut v = serde_json::to_value(snap("ACDEFG", 1)).unwrap();
    v["format"] = 99.into();
    let c = redis::Client::open(redis.url()).unwrap();
    let mut conn = c.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg("t:room:ACDEFG")
        .arg(serde_json::to_vec(&v).unwrap())
        .query_async(&mut conn)
        .await
        .unwrap();
    let e = a.load("ACDEFG").await.unwrap_err();
    assert!(e.to_string().contains("format 99"), "{e}");
}

#[tokio::test]
async fn relays_reach_subscribers_and_survive_a_redis_restart() {
    let mut redis = Redis::start();
    let port = redis.port;
    let a = RedisStore::new(&cfg(&redis, "a", 1000)).unwrap();
    let b = RedisStore::new(&cfg(&redis, "b", 1000)).unwrap();
    let ch = a.channel("ACDEFG");
    assert_eq!(ch, "t:ch:ACDEFG");
    let mut rx = b.subscribe(vec![ch.clone()], 16, Duration::from_millis(100));
    // Wait until the subscription is live (publish counts receivers).
    let t0 = Instant::now();
    while a.publish(&ch, b"probe").await.unwrap() == 0 {
        assert!(t0.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (got_ch, payload) = recv(&mut rx).await;
    assert_eq!(
        (got_ch.as_str(), payload.as_slice()),
        (ch.as_str(), b"probe".as_slice())
    );

    // Redis goes away: commands fail fast (bounded by timeout_ms), they never hang.
    redis.stop();
    let t0 = Instant::now();
    assert!(a.ping().await.is_err());
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert!(a.renew("ACDEFG").await.is_err());

    // It comes back on the same port: commands work again, the subscription is renewed.
    let _redis2 = Redis::start_on(port);
    let t0 = Instant::now();
    while a.ping().await.is_err() {
        assert!(t0.elapsed() < Duration::from_secs(10), "no recovery");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t0 = Instant::now();
    while a.publish(&ch, b"after").await.unwrap_or(0) == 0 {
        assert!(t0.elapsed() < Duration::from_secs(10), "no resubscription");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    loop {
        let (_, p) = recv(&mut rx).await;
        if p == b"after" {
            break;
        }
    }
}

#[tokio::test]
async fn a_subscriber_that_does_not_read_loses_messages_but_not_its_subscription() {
    let redis = Redis::start();
    let a = RedisStore::new(&cfg(&redis, "a", 1000)).unwrap();
    let b = RedisStore::new(&cfg(&redis, "b", 1000)).unwrap();
    let ch = a.channel("BCDEFG");
    let mut rx = b.subscribe(vec![ch.clone()], 2, Duration::from_millis(100));
    let t0 = Instant::now();
    while a.publish(&ch, b"probe").await.unwrap() == 0 {
        assert!(t0.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Nobody reads: the queue (2) fills, the rest is dropped, the publisher never waits.
    for i in 0..20u8 {
        a.publish(&ch, &[i]).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut kept = Vec::new();
    while let Ok(m) = rx.try_recv() {
        kept.push(m.1);
    }
    assert!(kept.len() <= 2, "bounded: {} queued", kept.len());
    // The subscription is still live: the next message arrives.
    a.publish(&ch, b"after").await.unwrap();
    loop {
        let (_, p) = recv(&mut rx).await;
        if p == b"after" {
            break;
        }
    }
}

async fn recv(rx: &mut tokio::sync::mpsc::Receiver<(String, Vec<u8>)>) -> (String, Vec<u8>) {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a message in time")
        .expect("subscription open")
}

#[tokio::test]
async fn calls_get_their_answers_pushes_arrive_in_order_and_a_dead_instance_is_known() {
    use matinee_store::bus::{Bus, BusError, Incoming};
    use serde_json::json;
    let redis = Redis::start();
    let a = RedisStore::new(&cfg(&redis, "a", 1000)).unwrap();
    let b = RedisStore::new(&cfg(&redis, "b", 1000)).unwrap();
    let (bus_a, mut in_a) = Bus::start(a.clone(), 64);
    let (bus_b, mut in_b) = Bus::start(b.clone(), 64);
    // Wait until both listen (a push to an instance nobody listens for fails).
    let t0 = Instant::now();
    while bus_a.push("b", json!("probe")).await.is_err()
        || bus_b.push("a", json!("probe")).await.is_err()
    {
        assert!(t0.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // b answers every call with the doubled number it was given.
    let server = tokio::spawn(async move {
        while let Some(m) = in_b.recv().await {
            if let Incoming::Call { id, from, body } = m {
                let n = body["n"].as_i64().unwrap();
                bus_b.answer(&from, id, json!({"n": n * 2})).await.unwrap();
            }
        }
    });
    let calls = (0..20).map(|n| {
        let bus = bus_a.clone();
        async move { bus.call("b", json!({"n": n}), Duration::from_secs(5)).await }
    });
    let answers = futures_util::future::join_all(calls).await;
    for (n, a) in answers.into_iter().enumerate() {
        assert_eq!(
            a.unwrap()["n"],
            (n * 2) as i64,
            "each call gets its own answer"
        );
    }
    assert_eq!(bus_a.pending(), 0);

    // Pushes arrive in the order they were sent.
    let (bus_c, _in_c) = Bus::start(RedisStore::new(&cfg(&redis, "c", 1000)).unwrap(), 64);
    let t0 = Instant::now();
    while bus_c.push("a", json!("probe")).await.is_err() {
        assert!(t0.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for i in 0..50 {
        bus_c.push("a", json!({"i": i})).await.unwrap();
    }
    let mut got = Vec::new();
    while got.len() < 50 {
        match tokio::time::timeout(Duration::from_secs(5), in_a.recv())
            .await
            .unwrap()
            .unwrap()
        {
            Incoming::Push { from, body } if from == "c" && body.get("i").is_some() => {
                got.push(body["i"].as_i64().unwrap())
            }
            _ => {}
        }
    }
    assert_eq!(got, (0..50).collect::<Vec<_>>());

    // An instance nobody listens for is known at once, not after a timeout.
    let t0 = Instant::now();
    let e = bus_a
        .call("gone", json!({}), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(e, BusError::NoSuchInstance);
    assert!(t0.elapsed() < Duration::from_secs(2));
    // b stops listening (it died): calls to it fail the same way.
    server.abort();
    drop(b);
    let t0 = Instant::now();
    loop {
        match bus_a
            .call("b", json!({"n": 1}), Duration::from_millis(300))
            .await
        {
            Err(BusError::NoSuchInstance) => break,
            _ => assert!(
                t0.elapsed() < Duration::from_secs(5),
                "b still seen as listening"
            ),
        }
    }
}

/// Pushes taken inline are handed over as they arrive, even while the queue of calls is full
/// and nobody serves it; what the full queue drops is counted, not lost silently.
#[tokio::test]
async fn inline_pushes_pass_a_full_queue_and_drops_are_counted() {
    use matinee_store::bus::Bus;
    use serde_json::json;
    use std::sync::{Arc, Mutex};
    let redis = Redis::start();
    let a = RedisStore::new(&cfg(&redis, "a", 1000)).unwrap();
    let b = RedisStore::new(&cfg(&redis, "b", 1000)).unwrap();
    let (bus_a, _in_a) = Bus::start(a, 64);
    let taken = Arc::new(Mutex::new(Vec::new()));
    let sink = taken.clone();
    // b takes the pushes marked `frame` itself; the rest go to a queue of 4 nobody reads.
    let (bus_b, _in_b) = Bus::start_with(
        b,
        4,
        Box::new(move |_from, body| {
            if body.get("frame").is_some() {
                sink.lock().unwrap().push(body["frame"].as_i64().unwrap());
                None
            } else {
                Some(body)
            }
        }),
    );
    let t0 = Instant::now();
    while bus_a.push("b", json!({"queued": 0})).await.is_err() {
        assert!(t0.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for i in 0..20 {
        bus_a.push("b", json!({"queued": i})).await.unwrap();
        bus_a.push("b", json!({"frame": i})).await.unwrap();
    }
    let t0 = Instant::now();
    while taken.lock().unwrap().len() < 20 || bus_b.dropped() < 17 {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "taken {:?}, dropped {}",
            taken.lock().unwrap(),
            bus_b.dropped()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(*taken.lock().unwrap(), (0..20).collect::<Vec<i64>>());
    // 21 queued pushes (the probes that got through included) into a queue of 4.
    assert!(bus_b.dropped() >= 17, "dropped {}", bus_b.dropped());
}
