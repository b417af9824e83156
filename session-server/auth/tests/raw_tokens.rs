//! Raw Jellyfin access tokens checked with `GET /Users/Me` on a real HTTP server standing in
//! for Jellyfin; the number of upstream calls shows what is cached.

mod support;

use std::sync::Arc;
use std::time::Duration;

use matinee_auth::{
    build, AuthConfig, AuthError, Authenticator, Credentials, Identity, JellyfinConfig,
};
use support::fake_jellyfin::{closed_port_url, FakeJellyfin, Mode};
use support::mint;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const USER_GUID: &str = "4F7C1A2B-9D3E-4F5A-8B6C-7D8E9F0A1B2C";
const USER_ID: &str = "4f7c1a2b9d3e4f5a8b6c7d8e9f0a1b2c";

fn build_for(
    url: &str,
    tweak: impl FnOnce(&mut AuthConfig, &mut JellyfinConfig),
) -> Arc<dyn Authenticator> {
    let mut auth = AuthConfig::default();
    let mut jf = JellyfinConfig {
        url: Some(url.into()),
        timeout_ms: 2000,
        ..Default::default()
    };
    tweak(&mut auth, &mut jf);
    build(&auth, &jf).unwrap()
}

async fn check(a: &dyn Authenticator, token: &str) -> Result<Identity, AuthError> {
    a.authenticate(Credentials {
        token: Some(token),
        name: None,
    })
    .await
}

async fn fake_with_alice() -> FakeJellyfin {
    let fake = FakeJellyfin::start(mint::jwks1()).await;
    fake.add_user(TOKEN, USER_GUID, "Alice");
    fake
}

#[tokio::test]
async fn a_valid_token_is_accepted_and_cached() {
    let fake = fake_with_alice().await;
    let a = build_for(&fake.url, |_, _| {});
    let id = check(&*a, TOKEN).await.unwrap();
    // The same user id form as in JWTs, whatever form Jellyfin writes its GUIDs in.
    assert_eq!(
        id,
        Identity {
            user_id: USER_ID.into(),
            name: "Alice".into(),
            anonymous: false
        }
    );
    for _ in 0..10 {
        assert_eq!(check(&*a, TOKEN).await.unwrap(), id);
    }
    assert_eq!(fake.users_me_calls(), 1, "answers are cached for 60 s");
}

#[tokio::test]
async fn a_refused_token_is_unauthorized_and_cached_briefly() {
    let fake = fake_with_alice().await;
    let a = build_for(&fake.url, |auth, _| auth.token_negative_cache_secs = 1);
    let bad = "ffffffffffffffffffffffffffffffff";
    for _ in 0..5 {
        assert_eq!(
            check(&*a, bad).await,
            Err(AuthError::Unauthorized {
                reason: "jellyfin_rejected"
            })
        );
    }
    assert_eq!(fake.users_me_calls(), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(check(&*a, bad).await.is_err());
    assert_eq!(
        fake.users_me_calls(),
        2,
        "asked again once the negative entry expired"
    );
    // Garbage that is not a JWT goes the same way.
    assert_eq!(
        check(&*a, "garbage").await,
        Err(AuthError::Unauthorized {
            reason: "jellyfin_rejected"
        })
    );
}

#[tokio::test]
async fn a_revoked_token_stops_working_when_its_cache_entry_expires() {
    let fake = fake_with_alice().await;
    let a = build_for(&fake.url, |auth, _| auth.token_cache_secs = 1);
    assert!(check(&*a, TOKEN).await.is_ok());
    fake.revoke(TOKEN);
    assert!(check(&*a, TOKEN).await.is_ok(), "still cached");
    assert_eq!(fake.users_me_calls(), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        check(&*a, TOKEN).await,
        Err(AuthError::Unauthorized {
            reason: "jellyfin_rejected"
        })
    );
    assert_eq!(fake.users_me_calls(), 2);
}

#[tokio::test]
async fn slow_5xx_or_down_jellyfin_is_unavailable_and_not_cached() {
    let fake = fake_with_alice().await;
    let a = build_for(&fake.url, |_, jf| jf.timeout_ms = 300);

    fake.set_mode(Mode::Slow(Duration::from_secs(3)));
    assert_eq!(
        check(&*a, TOKEN).await,
        Err(AuthError::Unavailable {
            reason: "jellyfin_timeout"
        })
    );
    fake.set_mode(Mode::Error500);
    assert_eq!(
        check(&*a, TOKEN).await,
        Err(AuthError::Unavailable {
            reason: "jellyfin_5xx"
        })
    );
    let before = fake.users_me_calls();
    fake.set_mode(Mode::Normal);
    assert_eq!(
        check(&*a, TOKEN).await.unwrap().user_id,
        USER_ID,
        "failures are not cached"
    );
    assert_eq!(fake.users_me_calls(), before + 1);

    let down = build_for(&closed_port_url().await, |_, _| {});
    assert_eq!(
        check(&*down, TOKEN).await,
        Err(AuthError::Unavailable {
            reason: "jellyfin_unreachable"
        })
    );
}

#[tokio::test]
async fn the_raw_token_path_can_be_switched_off() {
    let fake = fake_with_alice().await;
    let a = build_for(&fake.url, |auth, _| auth.jellyfin_tokens = false);
    assert_eq!(
        check(&*a, TOKEN).await,
        Err(AuthError::Unauthorized {
            reason: "raw_tokens_disabled"
        })
    );
    assert_eq!(fake.users_me_calls(), 0);
}

#[tokio::test]
async fn tokens_that_could_bend_the_header_never_reach_jellyfin() {
    let fake = fake_with_alice().await;
    let a = build_for(&fake.url, |_, _| {});
    for bad in [
        format!("{TOKEN}\", Client=\"x"),
        format!("{TOKEN}\r\nX-Evil: 1"),
        format!("{TOKEN} x"),
        "é".into(),
    ] {
        assert_eq!(
            check(&*a, &bad).await,
            Err(AuthError::Unauthorized {
                reason: "malformed"
            }),
            "{bad:?}"
        );
    }
    assert_eq!(
        check(&*a, &"a".repeat(100_000)).await,
        Err(AuthError::Unauthorized { reason: "too_long" })
    );
    assert_eq!(fake.users_me_calls(), 0);
}

#[tokio::test]
async fn different_tokens_of_different_users_are_kept_apart() {
    let fake = fake_with_alice().await;
    fake.add_user(
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0",
        "Bob",
    );
    let a = build_for(&fake.url, |_, _| {});
    assert_eq!(check(&*a, TOKEN).await.unwrap().name, "Alice");
    assert_eq!(
        check(&*a, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
            .await
            .unwrap()
            .name,
        "Bob"
    );
    assert_eq!(check(&*a, TOKEN).await.unwrap().name, "Alice");
    assert_eq!(fake.users_me_calls(), 2);
}

#[tokio::test]
async fn checks_in_flight_are_bounded() {
    let fake = fake_with_alice().await;
    fake.set_mode(Mode::Slow(Duration::from_secs(5)));
    let a = build_for(&fake.url, |auth, jf| {
        auth.max_concurrent_checks = 2;
        jf.timeout_ms = 2000;
    });
    // Five strangers at once, each with a different made-up token: two reach Jellyfin (and
    // time out there after 2 s), three give up waiting for a slot after 1 s.
    let tokens: Vec<String> = (0..5).map(|i| format!("{i:032x}")).collect();
    let handles: Vec<_> = tokens
        .into_iter()
        .map(|t| {
            let a = a.clone();
            tokio::spawn(async move { check(&*a, &t).await })
        })
        .collect();
    let mut reasons = Vec::new();
    for h in handles {
        match h.await.unwrap() {
            Err(AuthError::Unavailable { reason }) => reasons.push(reason),
            other => panic!("{other:?}"),
        }
    }
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "jellyfin_busy",
            "jellyfin_busy",
            "jellyfin_busy",
            "jellyfin_timeout",
            "jellyfin_timeout"
        ]
    );
    assert_eq!(fake.users_me_calls(), 2);
}
