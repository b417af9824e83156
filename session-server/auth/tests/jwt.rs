//! JWTs verified against keys fetched from a real HTTP server standing in for Jellyfin.

mod support;

use std::sync::Arc;
use std::time::Duration;

use matinee_auth::{
    build, AuthConfig, AuthError, Authenticator, Credentials, Identity, JellyfinConfig,
};
use serde_json::json;
use support::fake_jellyfin::{closed_port_url, FakeJellyfin, Mode};
use support::mint::{self, ISS, KID1, SUB};

fn config(url: &str) -> (AuthConfig, JellyfinConfig) {
    let auth = AuthConfig::default();
    let jf = JellyfinConfig {
        url: Some(url.into()),
        server_id: Some(ISS.into()),
        timeout_ms: 2000,
        ..Default::default()
    };
    (auth, jf)
}

/// Build, and wait until the first JWKS fetch (started by the background refresh) is done,
/// so that call counts from here on are deltas caused by the test.
async fn ready_authenticator(
    auth: &AuthConfig,
    jf: &JellyfinConfig,
    fake: &FakeJellyfin,
) -> (Arc<dyn Authenticator>, usize) {
    let a = build(auth, jf).unwrap();
    assert!(a.ready().await, "JWKS should be fetchable");
    // Let the background task's first fetch finish (it may be the one `ready` waited for).
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(fake.jwks_calls() >= 1);
    let calls = fake.jwks_calls();
    (a, calls)
}

async fn auth_token(a: &dyn Authenticator, token: &str) -> Result<Identity, AuthError> {
    a.authenticate(Credentials {
        token: Some(token),
        name: Some("Mallory"),
    })
    .await
}

fn unauthorized(reason: &'static str) -> Result<Identity, AuthError> {
    Err(AuthError::Unauthorized { reason })
}

#[tokio::test]
async fn a_fresh_plugin_token_is_accepted() {
    let fake = FakeJellyfin::start(mint::jwks1()).await;
    let (auth, jf) = config(&fake.url);
    let (a, calls) = ready_authenticator(&auth, &jf, &fake).await;
    let token = mint::sign(&mint::key1(), Some(KID1), &mint::fresh_claims(SUB, "Alice"));
    let id = auth_token(&*a, &token).await.unwrap();
    assert_eq!(
        id,
        Identity {
            user_id: SUB.into(),
            name: "Alice".into(),
            anonymous: false
        }
    );
    // The key is cached by kid: more tokens, no more fetches.
    for _ in 0..5 {
        auth_token(&*a, &token).await.unwrap();
    }
    assert_eq!(fake.jwks_calls(), calls);
}

#[tokio::test]
async fn every_bad_token_is_refused_with_its_reason() {
    let fake = FakeJellyfin::start(mint::jwks1()).await;
    let (auth, jf) = config(&fake.url);
    let (a, _) = ready_authenticator(&auth, &jf, &fake).await;
    let k1 = mint::key1();
    let now = mint::now();
    let good = mint::fresh_claims(SUB, "Alice");
    let with = |k: &str, v: serde_json::Value| {
        let mut c = good.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let valid = mint::sign(&k1, Some(KID1), &good);
    let cases: Vec<(&str, String, &'static str)> = vec![
        (
            "expired beyond the 5 s leeway",
            mint::sign(&k1, Some(KID1), &with("exp", (now - 60).into())),
            "expired",
        ),
        (
            "not yet valid",
            mint::sign(&k1, Some(KID1), &with("nbf", (now + 120).into())),
            "not_yet_valid",
        ),
        (
            "wrong aud",
            mint::sign(&k1, Some(KID1), &with("aud", "jellyfin".into())),
            "bad_audience",
        ),
        (
            "aud list without matinee",
            mint::sign(&k1, Some(KID1), &with("aud", json!(["a", "b"]))),
            "bad_audience",
        ),
        (
            "wrong iss",
            mint::sign(&k1, Some(KID1), &with("iss", "someone-else".into())),
            "bad_issuer",
        ),
        (
            "missing iss",
            mint::sign(&k1, Some(KID1), &without("iss")),
            "missing_claim",
        ),
        (
            "missing sub",
            mint::sign(&k1, Some(KID1), &without("sub")),
            "missing_claim",
        ),
        (
            "empty sub",
            mint::sign(&k1, Some(KID1), &with("sub", "".into())),
            "missing_claim",
        ),
        (
            "missing name",
            mint::sign(&k1, Some(KID1), &without("name")),
            "missing_claim",
        ),
        (
            "missing exp",
            mint::sign(&k1, Some(KID1), &without("exp")),
            "missing_claim",
        ),
        ("no kid", mint::sign(&k1, None, &good), "no_kid"),
        (
            "wrong signature (other key)",
            mint::sign(&mint::key2(), Some(KID1), &good),
            "bad_signature",
        ),
        (
            "tampered payload",
            mint::tampered(&valid, &with("sub", "admin".into())),
            "bad_signature",
        ),
        (
            "alg none",
            mint::unsigned(&json!({"alg": "none", "kid": KID1}), &good, ""),
            "bad_alg",
        ),
        (
            "alg none, valid signature kept",
            mint::unsigned(
                &json!({"alg": "none", "kid": KID1}),
                &good,
                valid.rsplit('.').next().unwrap(),
            ),
            "bad_alg",
        ),
        (
            "HS256 signed with the public key",
            mint::hs256_with_public_key(&good),
            "bad_alg",
        ),
        (
            "RS512",
            {
                let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS512);
                h.kid = Some(KID1.into());
                jsonwebtoken::encode(&h, &good, &k1).unwrap()
            },
            "bad_alg",
        ),
        (
            "crit header",
            mint::unsigned(
                &json!({"alg": "RS256", "kid": KID1, "crit": ["exp"]}),
                &good,
                "AAAA",
            ),
            "malformed",
        ),
        ("garbage with JWT shape", "a.b.c".into(), "malformed"),
        (
            "header not JSON",
            format!("{}.e30.AAAA", mint::b64url(b"not json")),
            "malformed",
        ),
        (
            "100 KB",
            format!("{}.{}.{}", "a".repeat(50_000), "b".repeat(50_000), "c"),
            "too_long",
        ),
    ];
    for (what, token, reason) in cases {
        assert_eq!(
            auth_token(&*a, &token).await,
            unauthorized(reason),
            "{what}"
        );
    }
    // The same claims, properly signed, pass: the refusals above are about what was changed.
    assert!(auth_token(&*a, &valid).await.is_ok());
    let just_expired = mint::sign(&k1, Some(KID1), &with("exp", (now - 2).into()));
    assert!(
        auth_token(&*a, &just_expired).await.is_ok(),
        "2 s past exp is within the 5 s leeway"
    );
}

#[tokio::test]
async fn no_token_is_refused_unless_anonymous_is_allowed_and_a_bad_token_never_becomes_anonymous() {
    let fake = FakeJellyfin::start(mint::jwks1()).await;
    let (mut auth, jf) = config(&fake.url);
    let a = build(&auth, &jf).unwrap();
    for token in [None, Some(""), Some("   ")] {
        assert_eq!(
            a.authenticate(Credentials {
                token,
                name: Some("Bob")
            })
            .await,
            unauthorized("no_token")
        );
    }
    auth.allow_anonymous = true;
    let a = build(&auth, &jf).unwrap();
    let anon = a
        .authenticate(Credentials {
            token: None,
            name: Some("Bob"),
        })
        .await
        .unwrap();
    assert!(anon.anonymous && anon.user_id.starts_with("anon:") && anon.name == "Bob");
    let expired = mint::sign(
        &mint::key1(),
        Some(KID1),
        &json!({"sub": SUB, "name": "A", "aud": "matinee", "iss": ISS, "exp": 1}),
    );
    assert_eq!(auth_token(&*a, &expired).await, unauthorized("expired"));
    let valid = mint::sign(&mint::key1(), Some(KID1), &mint::fresh_claims(SUB, "Alice"));
    let id = auth_token(&*a, &valid).await.unwrap();
    assert!(!id.anonymous && id.user_id == SUB);
}

#[tokio::test]
async fn an_unknown_kid_causes_one_refetch_at_most_every_10_s() {
    let fake = FakeJellyfin::start(mint::jwks1()).await;
    let (auth, jf) = config(&fake.url);
    assert_eq!(auth.jwks_min_refetch_secs, 10);
    let (a, calls) = ready_authenticator(&auth, &jf, &fake).await;
    let claims = mint::fresh_claims(SUB, "Alice");
    // The first fetch happened just now, so the unknown kid is refused without refetching.
    let t = mint::sign(&mint::key1(), Some("made-up-1"), &claims);
    assert_eq!(auth_token(&*a, &t).await, unauthorized("unknown_kid"));
    assert_eq!(fake.jwks_calls(), calls);
    // A burst of strangers with made-up kids, all at once: still no fetch.
    let tokens: Vec<String> = (0..20)
        .map(|i| mint::sign(&mint::key1(), Some(&format!("kid-{i}")), &claims))
        .collect();
    let results = futures_join(tokens.iter().map(|t| auth_token(&*a, t))).await;
    assert!(results.iter().all(|r| *r == unauthorized("unknown_kid")));
    assert_eq!(fake.jwks_calls(), calls);
}

#[tokio::test]
async fn an_unknown_kid_refetches_once_when_the_window_allows() {
    let fake = FakeJellyfin::start(mint::jwks1()).await;
    let (mut auth, jf) = config(&fake.url);
    auth.jwks_min_refetch_secs = 1;
    let (a, calls) = ready_authenticator(&auth, &jf, &fake).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let claims = mint::fresh_claims(SUB, "Alice");
    let tokens: Vec<String> = (0..10)
        .map(|i| mint::sign(&mint::key1(), Some(&format!("kid-{i}")), &claims))
        .collect();
    let results = futures_join(tokens.iter().map(|t| auth_token(&*a, t))).await;
    assert!(
        results.iter().all(|r| *r == unauthorized("unknown_kid")),
        "{results:?}"
    );
    assert_eq!(
        fake.jwks_calls(),
        calls + 1,
        "ten concurrent unknown kids, one refetch"
    );
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_without_restart_and_a_removed_key_is_dropped() {
    let fake = FakeJellyfin::start(mint::jwks1()).await;
    let (mut auth, jf) = config(&fake.url);
    auth.jwks_min_refetch_secs = 1;
    auth.jwks_refresh_secs = 1;
    let (a, _) = ready_authenticator(&auth, &jf, &fake).await;
    let claims = mint::fresh_claims(SUB, "Alice");
    let old = mint::sign(&mint::key1(), Some(KID1), &claims);
    let new = mint::sign(&mint::key2(), Some(&mint::kid2()), &claims);
    assert!(auth_token(&*a, &old).await.is_ok());

    // The plugin rotates: both keys published. The new kid is fetched on first use.
    fake.set_jwks(mint::jwks_both());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(auth_token(&*a, &new).await.unwrap().user_id, SUB);
    assert!(auth_token(&*a, &old).await.is_ok());

    // The old key is withdrawn: the periodic refresh drops it.
    fake.set_jwks(json!({"keys": [mint::public_jwk(&mint::key2())]}));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        match auth_token(&*a, &old).await {
            Err(AuthError::Unauthorized {
                reason: "unknown_kid",
            }) => break,
            Ok(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            other => panic!("old key still accepted after the refresh window: {other:?}"),
        }
    }
    assert!(auth_token(&*a, &new).await.is_ok());
}

#[tokio::test]
async fn jellyfin_down_means_unavailable_and_not_ready() {
    let (auth, jf) = config(&closed_port_url().await);
    let a = build(&auth, &jf).unwrap();
    let token = mint::sign(&mint::key1(), Some(KID1), &mint::fresh_claims(SUB, "Alice"));
    assert!(matches!(
        auth_token(&*a, &token).await,
        Err(AuthError::Unavailable { .. })
    ));
    assert!(!a.ready().await);
}

#[tokio::test]
async fn jellyfin_500_or_too_slow_means_unavailable_and_recovery_means_ready() {
    let fake = FakeJellyfin::start(mint::jwks1()).await;
    fake.set_mode(Mode::Error500);
    let (mut auth, mut jf) = config(&fake.url);
    auth.jwks_min_refetch_secs = 1;
    jf.timeout_ms = 300;
    let a = build(&auth, &jf).unwrap();
    let token = mint::sign(&mint::key1(), Some(KID1), &mint::fresh_claims(SUB, "Alice"));
    let r = auth_token(&*a, &token).await;
    assert!(
        matches!(
            r,
            Err(AuthError::Unavailable {
                reason: "jellyfin_5xx" | "jwks_unavailable"
            })
        ),
        "{r:?}"
    );
    assert!(!a.ready().await);

    fake.set_mode(Mode::Slow(Duration::from_secs(3)));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = auth_token(&*a, &token).await;
    // `jwks_unavailable` when the background retry timed out just before this request.
    assert!(
        matches!(
            r,
            Err(AuthError::Unavailable {
                reason: "jellyfin_timeout" | "jwks_unavailable"
            })
        ),
        "{r:?}"
    );

    fake.set_mode(Mode::Normal);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(a.ready().await, "ready again once Jellyfin answers");
    assert!(auth_token(&*a, &token).await.is_ok());
}

#[tokio::test]
async fn cached_keys_keep_working_while_jellyfin_is_away() {
    let fake = FakeJellyfin::start(mint::jwks1()).await;
    let (auth, jf) = config(&fake.url);
    let (a, _) = ready_authenticator(&auth, &jf, &fake).await;
    fake.set_mode(Mode::Error500);
    let token = mint::sign(&mint::key1(), Some(KID1), &mint::fresh_claims(SUB, "Alice"));
    assert!(auth_token(&*a, &token).await.is_ok());
}

#[tokio::test]
async fn iss_is_checked_only_when_a_server_id_is_configured() {
    let fake = FakeJellyfin::start(mint::jwks1()).await;
    let (auth, mut jf) = config(&fake.url);
    jf.server_id = None;
    let (a, _) = ready_authenticator(&auth, &jf, &fake).await;
    let mut claims = mint::fresh_claims(SUB, "Alice");
    claims["iss"] = "another-server".into();
    let token = mint::sign(&mint::key1(), Some(KID1), &claims);
    assert!(auth_token(&*a, &token).await.is_ok());
}

#[tokio::test]
async fn a_pem_file_replaces_the_jwks_fetch() {
    let auth = AuthConfig {
        jwks_file: Some(mint::testdata_path("test-key.pub.pem")),
        ..Default::default()
    };
    let jf = JellyfinConfig {
        server_id: Some(ISS.into()),
        ..Default::default()
    };
    let a = build(&auth, &jf).unwrap();
    assert!(a.ready().await);
    let token = mint::sign(&mint::key1(), Some(KID1), &mint::fresh_claims(SUB, "Alice"));
    assert!(auth_token(&*a, &token).await.is_ok());
    let other = mint::sign(
        &mint::key2(),
        Some(&mint::kid2()),
        &mint::fresh_claims(SUB, "Alice"),
    );
    assert_eq!(auth_token(&*a, &other).await, unauthorized("unknown_kid"));
    // No jellyfin.url: raw tokens cannot be checked.
    assert_eq!(
        auth_token(&*a, "0123456789abcdef0123456789abcdef").await,
        unauthorized("raw_tokens_disabled")
    );
}

/// Run futures concurrently on the current task (no extra dependency).
async fn futures_join<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futs.map(Box::pin).collect();
    let mut out = Vec::with_capacity(handles.len());
    let mut pending: Vec<Option<std::pin::Pin<Box<F>>>> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(results.into_iter().map(Option::unwrap));
    out
}
