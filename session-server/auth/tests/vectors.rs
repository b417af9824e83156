//! The cross-language JWT vector (`testdata/jwt/vector.json`, which the plugin's C# issuer
//! reproduces byte for byte) and the committed token set (`testdata/jwt/tokens.json`, used by
//! the session server's end-to-end tests).

mod support;

use matinee_auth::{build, AuthConfig, AuthError, Credentials, JellyfinConfig};
use support::mint::{self, ISS, KID1, SUB};

fn file_config(jwks_file: &str) -> (AuthConfig, JellyfinConfig) {
    let auth = AuthConfig {
        jwks_file: Some(mint::testdata_path(jwks_file)),
        ..Default::default()
    };
    let jf = JellyfinConfig {
        server_id: Some(ISS.into()),
        ..Default::default()
    };
    (auth, jf)
}

#[tokio::test]
async fn the_cross_language_vector_is_accepted() {
    let (auth, jf) = file_config("jwks.json");
    let a = build(&auth, &jf).unwrap();
    let v = mint::vector();
    let id = a
        .authenticate(Credentials {
            token: v["token"].as_str(),
            name: Some("ignored"),
        })
        .await
        .unwrap();
    assert_eq!(id.user_id, SUB);
    assert_eq!(id.name, "Test User");
    assert!(!id.anonymous);
}

#[test]
fn the_vector_signature_is_what_the_test_key_makes_of_its_bytes() {
    // Guards the vector itself: header and payload bytes, signed with test-key.pem through
    // jsonwebtoken, give exactly the committed token.
    let v = mint::vector();
    let message = format!(
        "{}.{}",
        mint::b64url(v["header_json"].as_str().unwrap().as_bytes()),
        mint::b64url(v["payload_json"].as_str().unwrap().as_bytes())
    );
    let sig = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &mint::key1(),
        jsonwebtoken::Algorithm::RS256,
    )
    .unwrap();
    assert_eq!(format!("{message}.{sig}"), v["token"].as_str().unwrap());
    assert_eq!(v["kid"], KID1);
    assert_eq!(
        mint::public_jwk(&mint::key1())["kid"],
        KID1,
        "kid is the RFC 7638 thumbprint"
    );
}

#[test]
fn committed_tokens_are_what_the_rust_tests_mint() {
    let cases = mint::fixed_cases();
    let rotated = mint::jwks_both();
    if std::env::var_os("MATINEE_BLESS").is_some() {
        let write = |name: &str, v: &serde_json::Value| {
            std::fs::write(
                mint::testdata_path(name),
                serde_json::to_string_pretty(v).unwrap() + "\n",
            )
            .unwrap();
        };
        write("tokens.json", &cases);
        write("jwks-rotated.json", &rotated);
    }
    let committed: serde_json::Value =
        serde_json::from_str(&mint::testdata("tokens.json")).unwrap();
    assert_eq!(
        committed, cases,
        "tokens.json is stale; regenerate with MATINEE_BLESS=1"
    );
    let committed: serde_json::Value =
        serde_json::from_str(&mint::testdata("jwks-rotated.json")).unwrap();
    assert_eq!(
        committed, rotated,
        "jwks-rotated.json is stale; regenerate with MATINEE_BLESS=1"
    );
}

/// Every committed case gets its expected outcome; `key2` only once its key is known.
#[tokio::test]
async fn committed_tokens_get_their_expected_outcome() {
    let cases: serde_json::Value = serde_json::from_str(&mint::testdata("tokens.json")).unwrap();
    let cases = cases["cases"].as_object().unwrap();
    assert!(cases.len() >= 15);
    for (jwks, key2_expect) in [("jwks.json", "unknown_kid"), ("jwks-rotated.json", "ok")] {
        let (auth, jf) = file_config(jwks);
        let a = build(&auth, &jf).unwrap();
        for (name, case) in cases {
            let expect = if name == "key2" {
                key2_expect
            } else {
                case["expect"].as_str().unwrap()
            };
            let got = a
                .authenticate(Credentials {
                    token: case["token"].as_str(),
                    name: None,
                })
                .await;
            match (expect, got) {
                ("ok", Ok(id)) => {
                    assert_eq!(id.user_id, case["user_id"].as_str().unwrap(), "{name}");
                    assert_eq!(id.name, case["name"].as_str().unwrap(), "{name}");
                }
                (reason, Err(AuthError::Unauthorized { reason: got })) => {
                    assert_eq!(got, reason, "{name} with {jwks}")
                }
                (want, got) => panic!("{name} with {jwks}: want {want}, got {got:?}"),
            }
        }
    }
}
