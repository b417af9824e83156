//! What one `hello` costs the authenticator: a valid JWT (key cached), a forged one refused
//! at the header, a forged one refused at the signature, and a raw token answered from the
//! cache. Prints microseconds per check; no thresholds (a number to watch, not a test).
//!
//! `cargo bench -p matinee-auth --bench verify [-- ITERATIONS]`

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use matinee_auth::{build, AuthConfig, Authenticator, Credentials, JellyfinConfig};
use support::fake_jellyfin::FakeJellyfin;
use support::mint::{self, ISS, KID1, SUB};

async fn per_check(a: &dyn Authenticator, token: &str, iterations: u32, expect_ok: bool) -> f64 {
    let start = Instant::now();
    for _ in 0..iterations {
        let r = a
            .authenticate(Credentials {
                token: Some(token),
                name: None,
            })
            .await;
        assert_eq!(r.is_ok(), expect_ok, "{r:?}");
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let iterations: u32 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2000);
    let fake = FakeJellyfin::start(mint::jwks1()).await;
    fake.add_user("0123456789abcdef0123456789abcdef", SUB, "Alice");
    let jf = JellyfinConfig {
        url: Some(fake.url.clone()),
        server_id: Some(ISS.into()),
        ..Default::default()
    };
    let a = build(&AuthConfig::default(), &jf).unwrap();
    assert!(a.ready().await);

    let claims = mint::fresh_claims(SUB, "Alice");
    let valid = mint::sign(&mint::key1(), Some(KID1), &claims);
    let hs256 = mint::hs256_with_public_key(&claims);
    let forged = mint::sign(&mint::key2(), Some(KID1), &claims);
    // Warm the caches.
    a.authenticate(Credentials {
        token: Some("0123456789abcdef0123456789abcdef"),
        name: None,
    })
    .await
    .unwrap();

    println!("matinee-auth verify bench, {iterations} checks each, one thread");
    println!(
        "valid JWT (RS256 verify)        {:8.1} µs/check",
        per_check(&*a, &valid, iterations, true).await
    );
    println!(
        "HS256 forgery (refused at alg)  {:8.1} µs/check",
        per_check(&*a, &hs256, iterations, false).await
    );
    println!(
        "forged RS256 (bad signature)    {:8.1} µs/check",
        per_check(&*a, &forged, iterations, false).await
    );
    println!(
        "raw token, cached               {:8.1} µs/check",
        per_check(&*a, "0123456789abcdef0123456789abcdef", iterations, true).await
    );
    println!(
        "upstream calls: /Matinee/Jwks {}, /Users/Me {}",
        fake.jwks_calls(),
        fake.users_me_calls()
    );
}
